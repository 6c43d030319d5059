//! CCF's `jwt` authentication policy (`JwtAuthnPolicy`, spec/ccf-api.md §3 policies table):
//! `Authorization: Bearer <header>.<payload>.<signature>`; the header's `kid` names the keys in
//! `jwt.public_signing_keys_metadata_v2` (kid → `[{public_key, issuer, constraint?}]`); each key
//! is tried in turn: signature (RS256 or ES256), then `nbf`/`exp` against the node's clock, then
//! the key's optional issuer constraint. The first key that passes names the `key_issuer`.
//! Messages are CCF's, the last failure's when every key fails.

use base64::Engine as _;
use cloister_crypto::jwk::b64url_decode;
use cloister_crypto::{JwsAlg, verify_jws};
use cloister_kv::Tx;
use serde_json::Value;

use crate::rpc::request::Request;

/// kid → `[{public_key: b64 DER SPKI, issuer, constraint?}]`.
pub(crate) const JWT_KEYS: &str = "public:ccf.gov.jwt.public_signing_keys_metadata_v2";
/// What CCF sends with a 401 when the JWT policy is the one that answers.
pub const WWW_AUTHENTICATE_JWT: &str =
    "Bearer realm=\"JWT bearer token access\", error=\"invalid_token\"";

/// An accepted token: the issuer its key was registered under, and the decoded JSON parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtIdentity {
    pub key_issuer: String,
    pub header: Value,
    pub payload: Value,
}

/// A parsed, not yet verified token.
struct Token<'a> {
    header: Value,
    payload: Value,
    alg: JwsAlg,
    kid: String,
    exp: u64,
    nbf: Option<u64>,
    iss: String,
    tid: Option<String>,
    signed: &'a str,
    signature: Vec<u8>,
}

/// Runs the policy; the error is CCF's reason.
pub fn authenticate_jwt(
    request: &Request,
    tx: &mut Tx,
    now_unix: i64,
) -> Result<JwtIdentity, String> {
    let value = request
        .header("authorization")
        .ok_or("Missing authorization header")?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or("Authorization header only contains one field")?;
    if scheme != "Bearer" {
        return Err("Authorization header does not have Bearer scheme".to_owned());
    }
    let token = parse_token(token)?;
    let keys = signing_keys(tx, &token.kid);
    if keys.is_empty() {
        return Err(format!("JWT signing key not found for kid {}", token.kid));
    }
    // CCF compares against an unsigned clock; a clock before 1970 is taken as 0.
    let now = u64::try_from(now_unix).unwrap_or(0);
    let mut reason = String::new();
    for key in keys {
        let Some(der) = key
            .get("public_key")
            .and_then(Value::as_str)
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        else {
            reason = "Signature verification failed".to_owned();
            continue;
        };
        if verify_jws(token.alg, &der, token.signed.as_bytes(), &token.signature).is_err() {
            reason = "Signature verification failed".to_owned();
            continue;
        }
        let constraint = key.get("constraint").and_then(Value::as_str);
        if let Some(nbf) = token.nbf.filter(|nbf| now < *nbf) {
            reason = format!("Current time {now} is before token's Not Before (nbf) claim {nbf}");
        } else if now > token.exp {
            reason = format!(
                "Current time {now} is after token's Expiration Time (exp) claim {}",
                token.exp
            );
        } else if let Some(constraint) =
            constraint.filter(|c| !issuer_matches(&token.iss, token.tid.as_deref(), c))
        {
            reason = format!(
                "Kid {} failed issuer constraint validation {constraint}",
                token.kid
            );
        } else {
            return Ok(JwtIdentity {
                key_issuer: key
                    .get("issuer")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                header: token.header,
                payload: token.payload,
            });
        }
    }
    Err(reason)
}

/// The stored keys for `kid` (none when absent or unreadable).
fn signing_keys(tx: &mut Tx, kid: &str) -> Vec<Value> {
    tx.get(JWT_KEYS, kid.as_bytes())
        .and_then(|raw| serde_json::from_slice::<Value>(&raw).ok())
        .and_then(|keys| keys.as_array().cloned())
        .unwrap_or_default()
}

/// CCF's `parse_token`: three dot-separated base64url parts; JSON objects; `alg` RS256/ES256
/// and `kid` in the header; `exp` and `iss` in the payload (`nbf`, `tid` optional).
fn parse_token(token: &str) -> Result<Token<'_>, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts[..] else {
        return Err("Malformed JWT: must contain exactly 3 parts".to_owned());
    };
    let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
    let json = |part: &str| -> Result<Value, String> {
        let raw = b64url_decode(part)
            .map_err(|e| format!("JWT header or payload is not valid JSON: {e}"))?;
        serde_json::from_slice(&raw)
            .map_err(|e| format!("JWT header or payload is not valid JSON: {e}"))
    };
    let (header, payload) = (json(header_b64)?, json(payload_b64)?);
    if !header.is_object() || !payload.is_object() {
        return Err("JWT header or payload is not an object".to_owned());
    }
    let schema = |why: &str| format!("JWT header does not follow schema: {why}");
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| schema("missing alg"))?;
    let alg = JwsAlg::from_name(alg).ok_or_else(|| schema(&format!("unsupported alg {alg}")))?;
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| schema("missing kid"))?
        .to_owned();
    let missing = |field: &str| format!("JWT payload is missing required field: {field}");
    let exp = payload
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or_else(|| missing("exp"))?;
    let iss = payload
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("iss"))?
        .to_owned();
    let nbf = payload.get("nbf").and_then(Value::as_u64);
    let tid = payload
        .get("tid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let signature = b64url_decode(signature_b64).map_err(|e| format!("Malformed JWT: {e}"))?;
    Ok(Token {
        header,
        payload,
        alg,
        kid,
        exp,
        nbf,
        iss,
        tid,
        signed,
        signature,
    })
}

const ENTRA_HOST: &str = "login.microsoftonline.com";
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// CCF's `validate_issuer`: outside Microsoft Entra, `iss` must equal the constraint and carry
/// no `tid`; for Entra, `{tenantid}` in the constraint becomes `tid`, and `tid` must be the
/// first path segment of `iss`.
fn issuer_matches(iss: &str, tid: Option<&str>, constraint: &str) -> bool {
    if url_host(constraint) != ENTRA_HOST {
        return iss == constraint && tid.is_none();
    }
    let constraint = match tid {
        Some(tid) => constraint.replacen(TENANT_PLACEHOLDER, tid, 1),
        None => constraint.to_owned(),
    };
    if iss != constraint {
        return false;
    }
    let tenant = url_path(iss).split('/').find(|s| !s.is_empty());
    matches!((tenant, tid), (Some(tenant), Some(tid)) if tenant == tid)
}

fn url_after_scheme(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

fn url_host(url: &str) -> &str {
    let rest = url_after_scheme(url);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host.split(':').next().unwrap_or(host)
}

fn url_path(url: &str) -> &str {
    let rest = url_after_scheme(url);
    let start = rest.find('/').unwrap_or(rest.len());
    let path = &rest[start..];
    let end = path.find(['?', '#']).unwrap_or(path.len());
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_constraints_follow_ccf() {
        assert!(issuer_matches(
            "https://a.example",
            None,
            "https://a.example"
        ));
        assert!(!issuer_matches(
            "https://b.example",
            None,
            "https://a.example"
        ));
        assert!(!issuer_matches(
            "https://a.example",
            Some("t"),
            "https://a.example"
        ));
        let multi = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(issuer_matches(
            "https://login.microsoftonline.com/t1/v2.0",
            Some("t1"),
            multi
        ));
        assert!(!issuer_matches(
            "https://login.microsoftonline.com/t1/v2.0",
            Some("t2"),
            multi
        ));
    }

    #[test]
    fn malformed_tokens_get_ccf_reasons() {
        let e = |t: &str| parse_token(t).err().unwrap();
        assert_eq!(e("a.b"), "Malformed JWT: must contain exactly 3 parts");
        assert_eq!(e("a.b.c.d"), "Malformed JWT: must contain exactly 3 parts");
        assert!(e("bm8.bm8.c").starts_with("JWT header or payload is not valid JSON"));
    }
}
