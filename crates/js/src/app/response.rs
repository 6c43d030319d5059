//! A handler's return value as an HTTP response, the way CCF's `do_execute_request` reads it
//! (spec/ccf-js.md §2.4): body first (its type picks the content type), then headers (which may
//! override it), then the status code.

use cloister_crypto::Sha256Hash;
use rquickjs::convert::Coerced;
use rquickjs::{Ctx, Error, Function, Object, Type, Value};

use crate::error::JsError;
use crate::globals::bytes_from_latin1;

/// What a JavaScript endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsResponse {
    pub status: u16,
    /// Lower-case names, each at most once, in the order first set.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the handler's writes were applied to the transaction: 2xx, unless the handler
    /// called `ccf.rpc.setApplyWrites` (spec/ccf-js.md §4.1). When false the node discards the
    /// transaction (no commit, no `x-ms-ccf-transaction-id`).
    pub apply_writes: bool,
    /// `ccf.rpc.setClaimsDigest(…)`: bound into the transaction's Merkle leaf.
    pub claims_digest: Option<Sha256Hash>,
    /// `ccf.host.triggerSubprocess(…)` calls of this request, in order, for the node's host
    /// (CCF sends them whether or not the transaction commits). Empty for a failed call.
    pub launches: Vec<HostLaunch>,
}

/// One `ccf.host.triggerSubprocess(args[, stdin])` (spec/ccf-js.md §3.8): a process the
/// untrusted host is asked to launch, fire and forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostLaunch {
    /// The program and its arguments (non-empty).
    pub args: Vec<String>,
    /// Bytes for the process's stdin, when the call passed an ArrayBuffer.
    pub stdin: Option<Vec<u8>>,
}

impl HostLaunch {
    /// Bytes the launch carries (arguments and stdin), for the per-request bound.
    pub fn byte_len(&self) -> usize {
        self.args.iter().map(String::len).sum::<usize>() + self.stdin.as_ref().map_or(0, Vec::len)
    }
}

impl JsResponse {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(super) fn from_parts(
        parts: ResponseParts,
        apply_override: Option<bool>,
        claims_digest: Option<Sha256Hash>,
        launches: Vec<HostLaunch>,
    ) -> JsResponse {
        // 2xx applies; anything else, 3xx included, discards (spec/ccf-js.md §4.1).
        let apply_writes = apply_override.unwrap_or((200..300).contains(&parts.status));
        JsResponse {
            status: parts.status,
            headers: parts.headers,
            body: parts.body,
            apply_writes,
            claims_digest,
            launches,
        }
    }
}

/// The response read from the return value, before the commit decision.
#[derive(Debug)]
pub(crate) struct ResponseParts {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

const TEXT: &str = "text/plain";
const JSON: &str = "application/json";
const BYTES: &str = "application/octet-stream";

/// Reads `returned`. A value that is not a response gives CCF's text (`Ok(Err(…))`); an
/// exception thrown on the way (a throwing getter, say) propagates.
pub(crate) fn read_response<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    returned: &Value<'js>,
) -> rquickjs::Result<Result<ResponseParts, JsError>> {
    let Some(object) = returned.as_object() else {
        return Ok(Err(invalid("not an object")));
    };
    let mut headers = Vec::new();
    let mut body = Vec::new();
    let body_value: Value = object.get("body")?;
    if !body_value.is_undefined() {
        let (content_type, bytes) = match body_of(ctx, natives, body_value)? {
            Ok(converted) => converted,
            Err(error) => return Ok(Err(error)),
        };
        headers.push(("content-type".to_owned(), content_type.to_owned()));
        body = bytes;
    }
    let headers_value: Value = object.get("headers")?;
    if let Some(set) = headers_value.as_object() {
        for entry in set.props::<String, Coerced<String>>() {
            let (name, Coerced(value)) = entry?;
            set_header(&mut headers, name.to_ascii_lowercase(), value);
        }
    }
    let status = match status_of(&object.get("statusCode")?) {
        Some(status) => status,
        None => return Ok(Err(invalid("status code type"))),
    };
    Ok(Ok(ResponseParts {
        status,
        headers,
        body,
    }))
}

/// Content type and bytes of a body: bytes of an ArrayBuffer or TypedArray, UTF-8 of a string,
/// JSON of anything else.
fn body_of<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    body: Value<'js>,
) -> rquickjs::Result<Result<(&'static str, Vec<u8>), JsError>> {
    if let Some(text) = body.as_string() {
        return Ok(Ok((TEXT, up_to_nul(text.to_string()?.into_bytes()))));
    }
    let body_bytes: Function = natives.get("bodyBytes")?;
    let bytes: Value = body_bytes.call((body.clone(),))?;
    if let Some(latin1) = bytes.as_string() {
        return Ok(Ok((BYTES, bytes_from_latin1(ctx, &latin1.to_string()?)?)));
    }
    match ctx.json_stringify(body) {
        Ok(Some(json)) => Ok(Ok((JSON, json.to_string()?.into_bytes()))),
        // A function or undefined-like value: CCF's C-string conversion prints "undefined".
        Ok(None) => Ok(Ok((JSON, b"undefined".to_vec()))),
        Err(Error::Exception) => {
            // The thrown value is reported through CCF's text, not as the handler's exception.
            let _ = ctx.catch();
            Ok(Err(invalid("error during JSON conversion of body")))
        }
        Err(other) => Err(other),
    }
}

/// The status code: 200 when absent or null. CCF wants an integer-tagged value; a float that
/// holds an integer is accepted too (QuickJS builds may tag the same number differently). Codes
/// outside 100..=999 cannot go on an HTTP status line.
fn status_of(value: &Value<'_>) -> Option<u16> {
    let number = match value.type_of() {
        Type::Undefined | Type::Null | Type::Uninitialized => return Some(200),
        Type::Int => f64::from(value.as_int()?),
        Type::Float => value.as_float()?,
        _ => return None,
    };
    if number.fract() != 0.0 || !(100.0..=999.0).contains(&number) {
        return None;
    }
    // In range and integral: the cast is exact.
    Some(number as u16)
}

/// Sets `name`, replacing an earlier value (the handler's headers override the body's
/// content type).
fn set_header(headers: &mut Vec<(String, String)>, name: String, value: String) {
    match headers.iter_mut().find(|(key, _)| *key == name) {
        Some(entry) => entry.1 = value,
        None => headers.push((name, value)),
    }
}

/// A string body goes out through a C string in CCF: text after an embedded U+0000 is lost.
fn up_to_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    if let Some(end) = bytes.iter().position(|&b| b == 0) {
        bytes.truncate(end);
    }
    bytes
}

fn invalid(what: &str) -> JsError {
    JsError::InvalidResponse(format!("Invalid endpoint function return value ({what})."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_set_later_replace_earlier_ones() {
        let mut headers = vec![("content-type".to_owned(), JSON.to_owned())];
        set_header(&mut headers, "content-type".into(), "text/csv".into());
        set_header(&mut headers, "x-a".into(), "1".into());
        assert_eq!(
            headers,
            vec![
                ("content-type".to_owned(), "text/csv".to_owned()),
                ("x-a".to_owned(), "1".to_owned())
            ]
        );
    }

    #[test]
    fn string_bodies_stop_at_the_first_nul() {
        assert_eq!(up_to_nul(b"ab\0cd".to_vec()), b"ab");
        assert_eq!(up_to_nul(b"abc".to_vec()), b"abc");
    }

    #[test]
    fn invalid_texts_are_ccf_texts() {
        assert_eq!(
            invalid("not an object").to_string(),
            "Invalid endpoint function return value (not an object)."
        );
    }
}
