//! Member authentication of governance requests: CCF's `MemberCOSESign1AuthnPolicy` and
//! `ActiveMemberCOSESign1AuthnPolicy` (spec/ccf-api.md §3 "Verification").
//!
//! The checks run in CCF's order: content type, envelope decode (a 500, not a 401), `alg` is
//! ECDSA, `kid` names a member certificate, the signature verifies with that certificate's key,
//! `ccf.gov.msg.type` is the one the endpoint expects, and (for the active policy) the member is
//! Active.

use cloister_crypto::{Certificate, CryptoError, EcPublicKey};
use cloister_kv::Tx;
use cloister_types::{ApiError, ErrorDetail, MemberId};
use serde::Deserialize;

use crate::cose_request::{COSE_CONTENT_TYPE, GovRequest};
use crate::error::{GovError, codes};
use crate::kv_json::get_json;
use crate::tables;

/// Scheme name of the policy that admits any member (Accepted or Active).
pub const MEMBER_COSE_SIGN1: &str = "member_cose_sign1";
/// Scheme name of the policy that admits Active members only.
pub const ACTIVE_MEMBER_COSE_SIGN1: &str = "active_member_cose_sign1";
/// The `www-authenticate` value CCF sends with a 401 from these policies.
pub const WWW_AUTHENTICATE_COSE_SIGN1: &str = "COSE-SIGN1 realm=\"Signed request access\"";

/// COSE `alg` values CCF accepts: ES256, ES384, ES512.
const ECDSA_ALGS: [i64; 3] = [-7, -35, -36];

/// A governance request whose signature verified with a member's certificate. Only
/// [`authenticate_member`] makes one (`non_exhaustive` keeps other crates from building one
/// by hand), so an entry point that takes it knows the signature was checked.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AuthenticatedMember {
    /// The signer (the request's `kid`).
    pub member_id: MemberId,
    /// The decoded request; its `payload` is the signed body.
    pub request: GovRequest,
}

/// Authenticates `body` as a member request of type `expected_msg_type` (`proposal`,
/// `ballot`, `withdrawal`, `ack`, `state_digest`, `recovery_share`). With `require_active`,
/// only Active members pass (the policy every proposal, ballot, withdrawal and recovery-share
/// endpoint uses; acks and state digests take any member, which is how a member becomes
/// Active).
///
/// Errors: 401 `InvalidAuthenticationInfo` "Invalid authentication credentials." with one
/// detail naming the policy and the reason (send `WWW_AUTHENTICATE_COSE_SIGN1` with it); 500
/// `InternalError` with CCF's decode message for a malformed envelope.
pub fn authenticate_member(
    tx: &mut Tx,
    content_type: Option<&str>,
    body: &[u8],
    expected_msg_type: &str,
    require_active: bool,
) -> Result<AuthenticatedMember, ApiError> {
    authenticate(
        tx,
        content_type,
        body,
        Some(expected_msg_type),
        require_active,
    )
}

/// CCF's shared `member_cose_sign1_auth_policy`, as application endpoints use it: any member
/// (Accepted or Active), no `ccf.gov.msg.type` expected. The envelope still needs `alg`, `kid`
/// and `ccf.gov.msg.created_at`; errors as for [`authenticate_member`].
pub fn authenticate_member_any_type(
    tx: &mut Tx,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<AuthenticatedMember, ApiError> {
    authenticate(tx, content_type, body, None, false)
}

fn authenticate(
    tx: &mut Tx,
    content_type: Option<&str>,
    body: &[u8],
    expected_msg_type: Option<&str>,
    require_active: bool,
) -> Result<AuthenticatedMember, ApiError> {
    let policy = if require_active {
        ACTIVE_MEMBER_COSE_SIGN1
    } else {
        MEMBER_COSE_SIGN1
    };
    let refuse = |reason: String| unauthenticated(policy, reason);
    match content_type {
        None => return Err(refuse("Missing content-type header".into())),
        Some(value) if value != COSE_CONTENT_TYPE => {
            return Err(refuse(format!(
                "Content type is not set to {COSE_CONTENT_TYPE}"
            )));
        }
        Some(_) => {}
    }
    let request = GovRequest::parse(body)?;
    if !ECDSA_ALGS.contains(&request.alg) {
        return Err(refuse(format!("Unsupported algorithm: {}", request.alg)));
    }
    let Some(cert_pem) = tx.get(tables::MEMBERS_CERTS, &request.kid) else {
        return Err(refuse("Signer is not a known member".into()));
    };
    let (member_id, key) = member_key(&request.kid, &cert_pem)?;
    if request.verify(&key).is_err() {
        return Err(refuse("Failed to validate COSE Sign1".into()));
    }
    if let Some(expected) = expected_msg_type {
        check_msg_type(request.msg_type.as_deref(), expected).map_err(refuse)?;
    }
    if require_active && !is_active_member(tx, &member_id)? {
        return Err(refuse("Signer is not an ACTIVE member".into()));
    }
    Ok(AuthenticatedMember { member_id, request })
}

/// Whether `members.info[member].status` is `Active`.
pub fn is_active_member(tx: &mut Tx, member: &MemberId) -> Result<bool, GovError> {
    #[derive(Deserialize)]
    struct Status {
        status: String,
    }
    let info: Option<Status> = get_json(tx, tables::MEMBERS_INFO, member.as_str().as_bytes())?;
    Ok(info.is_some_and(|info| info.status == "Active"))
}

/// The 401 CCF answers when the (single) policy of a governance endpoint refuses.
fn unauthenticated(policy: &str, reason: String) -> ApiError {
    ApiError::new(
        401,
        codes::INVALID_AUTHENTICATION_INFO,
        "Invalid authentication credentials.",
    )
    .with_details(vec![ErrorDetail {
        auth_policy: Some(policy.to_owned()),
        code: codes::INVALID_AUTHENTICATION_INFO.to_owned(),
        message: reason,
    }])
}

fn check_msg_type(found: Option<&str>, expected: &str) -> Result<(), String> {
    match found {
        None => Err(format!(
            "Missing ccf.gov.msg.type, expected ccf.gov.msg.type to be {expected}"
        )),
        Some(found) if found != expected => Err(format!(
            "Found ccf.gov.msg.type set to {found}, expected ccf.gov.msg.type to be {expected}"
        )),
        Some(_) => Ok(()),
    }
}

/// The member id (the kid, which `members.certs` is keyed by) and the certificate's key. A
/// stored certificate that cannot be used is broken state: CCF throws there (a 500).
fn member_key(kid: &[u8], cert_pem: &[u8]) -> Result<(MemberId, EcPublicKey), GovError> {
    let unusable = |reason: String| GovError::UnusableMemberCertificate {
        member: String::from_utf8_lossy(kid).into_owned(),
        reason,
    };
    let member_id = std::str::from_utf8(kid)
        .ok()
        .and_then(|text| text.parse::<MemberId>().ok())
        .ok_or_else(|| unusable("the key is not a member id".into()))?;
    let pem = std::str::from_utf8(cert_pem).map_err(|e| unusable(e.to_string()))?;
    let key = Certificate::from_pem(pem)
        .and_then(|cert| cert.public_key())
        .map_err(|e: CryptoError| unusable(e.to_string()))?;
    Ok((member_id, key))
}
