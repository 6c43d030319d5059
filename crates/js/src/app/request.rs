//! The `request` argument of a handler (spec/ccf-js.md §2.2, §2.3): a fresh plain object per
//! call with the request's data, `body.{text,json,arrayBuffer}()` and the caller's identity.

use std::collections::BTreeMap;

use rquickjs::{Array, ArrayBuffer, Ctx, Function, Object, Value};
use serde_json::Value as Json;

/// One HTTP request to a JavaScript endpoint, as the node parsed and routed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as received, `/app` prefix included if the client sent it, not decoded.
    pub path: String,
    /// The raw query string, without `?`; the handler sees it percent-decoded.
    pub query: String,
    /// The matched template with the `/app` prefix, e.g. `/app/log/{id}` (even when the client
    /// omitted the prefix).
    pub route: String,
    /// Header names as received (they are lower-cased for the handler).
    pub headers: Vec<(String, String)>,
    /// Template parameter → matched segment, not percent-decoded (as CCF passes them).
    pub params: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Who called, as the endpoint's authentication policies established it (spec/ccf-js.md §2.3).
/// `id`s are lower-case hex SHA-256 of the DER certificate; `data` is the `user_data` or
/// `member_data` JSON (`null` if unset); certificates are PEM.
#[derive(Debug, Clone, PartialEq)]
pub enum JsCaller {
    /// The endpoint has no policies: `request.caller` is `null`.
    Unauthenticated,
    /// `{policy: "no_auth"}`.
    NoAuth,
    UserCert {
        id: String,
        data: Json,
        cert: String,
    },
    MemberCert {
        id: String,
        data: Json,
        cert: String,
    },
    /// Any TLS client certificate, registered or not.
    AnyCert { cert: String },
    Jwt {
        /// The issuer the key was registered under with `set_jwt_issuer`.
        key_issuer: String,
        header: Json,
        payload: Json,
    },
    UserCoseSign1 {
        id: String,
        data: Json,
        cert: String,
        /// The COSE payload (`caller.cose.content`, an ArrayBuffer).
        content: Vec<u8>,
    },
    /// Same shape as `UserCoseSign1`, `data` being `member_data` (ccf-app's
    /// `MemberCOSESign1AuthnIdentity`).
    MemberCoseSign1 {
        id: String,
        data: Json,
        cert: String,
        content: Vec<u8>,
    },
    /// Every sub-identity of an `all_of` policy, in the policy's order.
    AllOf(Vec<JsCaller>),
}

impl JsCaller {
    /// CCF's name of the policy that accepted the caller.
    pub fn policy_name(&self) -> &'static str {
        match self {
            JsCaller::Unauthenticated => "",
            JsCaller::NoAuth => "no_auth",
            JsCaller::UserCert { .. } => "user_cert",
            JsCaller::MemberCert { .. } => "member_cert",
            JsCaller::AnyCert { .. } => "any_cert",
            JsCaller::Jwt { .. } => "jwt",
            JsCaller::UserCoseSign1 { .. } => "user_cose_sign1",
            JsCaller::MemberCoseSign1 { .. } => "member_cose_sign1",
            JsCaller::AllOf(_) => "all_of",
        }
    }
}

/// The request object handed to the handler.
pub(crate) fn request_object<'js>(
    ctx: &Ctx<'js>,
    request: &JsRequest,
    caller: &JsCaller,
) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    let headers = Object::new(ctx.clone())?;
    let mut hostname = None;
    for (name, value) in &request.headers {
        let name = name.to_ascii_lowercase();
        if name == "host" {
            hostname = Some(value.clone());
        }
        headers.set(name, value.as_str())?;
    }
    object.set("headers", headers)?;
    let params = Object::new(ctx.clone())?;
    for (name, value) in &request.params {
        params.set(name.as_str(), value.as_str())?;
    }
    object.set("params", params)?;
    let query = decode_query(&request.query);
    let url = if query.is_empty() {
        request.path.clone()
    } else {
        format!("{}?{query}", request.path)
    };
    object.set("query", query)?;
    object.set("path", request.path.as_str())?;
    object.set("url", url)?;
    object.set("route", request.route.as_str())?;
    object.set("method", request.method.as_str())?;
    // `null`, not undefined, without a Host header.
    match hostname {
        Some(host) => object.set("hostname", host)?,
        None => object.set("hostname", Value::new_null(ctx.clone()))?,
    }
    object.set("body", body_object(ctx, &request.body)?)?;
    object.set("caller", caller_value(ctx, caller)?)?;
    Ok(object)
}

/// `body.text()`, `body.json()`, `body.arrayBuffer()`: own functions that ignore `this`, each
/// call a fresh value.
fn body_object<'js>(ctx: &Ctx<'js>, body: &[u8]) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    // QuickJS decodes leniently: invalid UTF-8 does not throw.
    let text = String::from_utf8_lossy(body).into_owned();
    let for_text = text.clone();
    object.set(
        "text",
        Function::new(ctx.clone(), move || for_text.clone())?,
    )?;
    object.set(
        "json",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            ctx.json_parse(text.clone())
        })?,
    )?;
    let bytes = body.to_vec();
    object.set(
        "arrayBuffer",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| {
            ArrayBuffer::new_copy(ctx, &bytes)
        })?,
    )?;
    Ok(object)
}

/// `request.caller`: `null`, or an object with `policy` and the identity's fields.
fn caller_value<'js>(ctx: &Ctx<'js>, caller: &JsCaller) -> rquickjs::Result<Value<'js>> {
    let object = Object::new(ctx.clone())?;
    match caller {
        JsCaller::Unauthenticated => return Ok(Value::new_null(ctx.clone())),
        JsCaller::NoAuth => {}
        JsCaller::UserCert { id, data, cert } | JsCaller::MemberCert { id, data, cert } => {
            set_identity(ctx, &object, id, data, cert)?;
        }
        JsCaller::AnyCert { cert } => object.set("cert", cert.as_str())?,
        JsCaller::Jwt {
            key_issuer,
            header,
            payload,
        } => {
            let jwt = Object::new(ctx.clone())?;
            jwt.set("keyIssuer", key_issuer.as_str())?;
            jwt.set("header", json_value(ctx, header)?)?;
            jwt.set("payload", json_value(ctx, payload)?)?;
            object.set("jwt", jwt)?;
        }
        JsCaller::UserCoseSign1 {
            id,
            data,
            cert,
            content,
        }
        | JsCaller::MemberCoseSign1 {
            id,
            data,
            cert,
            content,
        } => {
            set_identity(ctx, &object, id, data, cert)?;
            let cose = Object::new(ctx.clone())?;
            cose.set("content", ArrayBuffer::new_copy(ctx.clone(), content)?)?;
            object.set("cose", cose)?;
        }
        JsCaller::AllOf(parts) => {
            // `{policy: [names…], <name>: <sub-identity>, …}`.
            let names = Array::new(ctx.clone())?;
            for (i, part) in parts.iter().enumerate() {
                names.set(i, part.policy_name())?;
                object.set(part.policy_name(), caller_value(ctx, part)?)?;
            }
            object.set("policy", names)?;
            return Ok(object.into_value());
        }
    }
    object.set("policy", caller.policy_name())?;
    Ok(object.into_value())
}

fn set_identity<'js>(
    ctx: &Ctx<'js>,
    object: &Object<'js>,
    id: &str,
    data: &Json,
    cert: &str,
) -> rquickjs::Result<()> {
    object.set("id", id)?;
    object.set("data", json_value(ctx, data)?)?;
    object.set("cert", cert)?;
    Ok(())
}

fn json_value<'js>(ctx: &Ctx<'js>, json: &Json) -> rquickjs::Result<Value<'js>> {
    ctx.json_parse(json.to_string())
}

/// The query as CCF hands it to JavaScript: `%xx` decoded and `+` as a space, over the whole
/// string (spec/ccf-js.md §2.2). Invalid escapes are kept; bytes that are not UTF-8 become
/// U+FFFD.
pub(crate) fn decode_query(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3).and_then(hex_byte) {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    // from_str_radix alone would take a sign ("%+4").
    if !pair.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn query_is_percent_decoded_with_plus_as_space() {
        assert_eq!(
            decode_query("id=42&msg=hello+world%21"),
            "id=42&msg=hello world!"
        );
        assert_eq!(decode_query("a=%zz&b=%4"), "a=%zz&b=%4");
        assert_eq!(decode_query("%+4"), "% 4");
        assert_eq!(decode_query("name=%C3%A9"), "name=é");
    }

    #[test]
    fn policy_names_are_ccf_names() {
        assert_eq!(JsCaller::NoAuth.policy_name(), "no_auth");
        assert_eq!(
            JsCaller::AnyCert {
                cert: String::new()
            }
            .policy_name(),
            "any_cert"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn text_without_escapes_decodes_to_itself(text in "[a-zA-Z0-9=&._~-]{0,40}") {
            prop_assert_eq!(decode_query(&text), text);
        }

        #[test]
        fn any_query_decodes_without_panicking(text in ".{0,40}") {
            let _ = decode_query(&text);
        }
    }
}
