//! CCF's `user_cose_sign1` authentication policy (`UserCOSESign1AuthnPolicy`, spec/ccf-api.md
//! §3 policies table): the body is a COSE_Sign1 (`content-type: application/cose`) whose
//! protected `kid` is a registered user's id and whose signature verifies with that user's
//! certificate key; `ccf.msg.type` (text) and `ccf.msg.created_at` (integer) are optional. The
//! signed payload is what the handler receives as `caller.cose.content`.

use cloister_crypto::cose::{HEADER_KID, Label, Sign1, Value};
use cloister_crypto::{Certificate, EcPublicKey};
use cloister_kv::Tx;
use cloister_types::UserId;

use crate::rpc::request::Request;

const USERS_CERTS: &str = "public:ccf.gov.users.certs";
const COSE_CONTENT_TYPE: &str = "application/cose";
/// COSE `alg` values CCF accepts: ES256, ES384, ES512.
const ECDSA_ALGS: [i64; 3] = [-7, -35, -36];
/// What CCF sends with a 401 when a COSE policy is the one that answers.
pub const WWW_AUTHENTICATE_COSE: &str = "COSE-SIGN1 realm=\"Signed request access\"";

/// A request signed by a registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCoseIdentity {
    pub id: UserId,
    /// The registered certificate, PEM as stored.
    pub cert_pem: String,
    /// The signed payload.
    pub content: Vec<u8>,
}

/// Runs the policy; the error is CCF's reason.
pub fn authenticate_user_cose(request: &Request, tx: &mut Tx) -> Result<UserCoseIdentity, String> {
    match request.header("content-type") {
        None => return Err("Missing content-type header".to_owned()),
        Some(value) if value != COSE_CONTENT_TYPE => {
            return Err(format!("Content type is not set to {COSE_CONTENT_TYPE}"));
        }
        Some(_) => {}
    }
    let sign1 =
        Sign1::parse(&request.body).map_err(|_| "Failed to decode COSE_Sign1".to_owned())?;
    check_optional_headers(&sign1)?;
    let alg = sign1.alg().ok_or("Missing algorithm in protected header")?;
    let kid = match sign1.protected_get(&Label::Int(HEADER_KID)) {
        Some(Value::Bytes(kid)) => kid.clone(),
        Some(_) => return Err("Failed to decode protected header".to_owned()),
        None => return Err("Missing kid in protected header".to_owned()),
    };
    if !ECDSA_ALGS.contains(&alg) {
        return Err(format!("Unsupported algorithm: {alg}"));
    }
    let Some(pem) = tx.get(USERS_CERTS, &kid) else {
        return Err("Signer is not a known user".to_owned());
    };
    let cert_pem = String::from_utf8_lossy(&pem).into_owned();
    let id = std::str::from_utf8(&kid)
        .ok()
        .and_then(|text| text.parse::<UserId>().ok())
        .ok_or("Signer is not a known user")?;
    let key: EcPublicKey = Certificate::from_pem(&cert_pem)
        .and_then(|cert| cert.public_key())
        .map_err(|_| "Failed to validate COSE Sign1".to_owned())?;
    if sign1.verify(&key, None).is_err() {
        return Err("Failed to validate COSE Sign1".to_owned());
    }
    Ok(UserCoseIdentity {
        id,
        cert_pem,
        content: sign1.payload.clone().unwrap_or_default(),
    })
}

/// `ccf.msg.type` must be text and `ccf.msg.created_at` a positive integer when present.
fn check_optional_headers(sign1: &Sign1) -> Result<(), String> {
    match sign1.protected_get(&Label::Text("ccf.msg.type".to_owned())) {
        None | Some(Value::Text(_)) => {}
        Some(_) => return Err("Failed to decode protected header".to_owned()),
    }
    match sign1.protected_get(&Label::Text("ccf.msg.created_at".to_owned())) {
        None => Ok(()),
        Some(Value::Integer(i)) if i128::from(*i) >= 0 => Ok(()),
        Some(Value::Integer(_)) => Err("Header parameter created_at must be positive".to_owned()),
        Some(_) => Err("Failed to decode protected header".to_owned()),
    }
}
