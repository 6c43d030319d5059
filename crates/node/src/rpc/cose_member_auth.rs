//! CCF's `member_cose_sign1` authentication policy on application (JS) endpoints
//! (`MemberCOSESign1AuthnPolicy` as the shared `member_cose_sign1_auth_policy`, spec/ccf-api.md
//! §3): the body is a governance-style COSE_Sign1 whose `kid` is a member id (Accepted or
//! Active) and whose signature verifies with that member's certificate. Unlike
//! `user_cose_sign1`, the headers are the governance ones: `ccf.gov.msg.created_at` is required
//! and a malformed envelope is CCF's 500 with the decode message, not a 401; no
//! `ccf.gov.msg.type` is expected. The checks are governance's own
//! (`cloister_gov::authenticate_member_any_type`), not a second copy.

use cloister_kv::Tx;
use cloister_types::{ApiError, MemberId};

use crate::rpc::auth::Refusal;
use crate::rpc::request::Request;
use crate::tables::MEMBERS_CERTS;

/// A request signed by a registered member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberCoseIdentity {
    pub id: MemberId,
    /// The registered certificate, PEM as stored.
    pub cert_pem: String,
    /// The signed payload.
    pub content: Vec<u8>,
}

/// Runs the policy: a 401 from governance becomes this policy's reason; anything else (a
/// malformed envelope, an unusable stored certificate) ends the request as it does in CCF.
pub(crate) fn authenticate_member_cose(
    request: &Request,
    tx: &mut Tx,
) -> Result<MemberCoseIdentity, Refusal> {
    let member = cloister_gov::authenticate_member_any_type(
        tx,
        request.header("content-type"),
        &request.body,
    )
    .map_err(refusal)?;
    let id = member.member_id;
    // Governance just read this certificate to verify the signature.
    let cert_pem = tx
        .get(MEMBERS_CERTS, id.as_str().as_bytes())
        .map(|pem| String::from_utf8_lossy(&pem).into_owned())
        .unwrap_or_default();
    Ok(MemberCoseIdentity {
        id,
        cert_pem,
        content: member.request.payload,
    })
}

fn refusal(error: ApiError) -> Refusal {
    match error.details.first() {
        Some(detail) if error.status == 401 => Refusal::Reason(detail.message.clone()),
        _ => Refusal::Fatal(error),
    }
}
