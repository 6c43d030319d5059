//! Member state digests and acks (spec/ccf-api.md §1.2 "state-digests", §3 "Ack flow"; CCF's
//! `src/node/gov/handlers/acks.h`). A member added by governance is Accepted; it becomes Active
//! by signing the Merkle root the service shows it (`:update`, then `:ack`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_crypto::Sha256Hash;
use cloister_kv::Tx;
use cloister_types::{ApiError, MemberId};
use serde::{Deserialize, Serialize};

use crate::error::{GovError, bad_request, codes, forbidden, internal_error, not_found};
use crate::kv_json::{get_json, put_json};
use crate::member_auth::AuthenticatedMember;
use crate::records::MemberAck;
use crate::tables;

/// `{memberId, stateDigest}`, the body of the state-digest endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateDigest {
    pub member_id: String,
    pub state_digest: String,
}

impl StateDigest {
    /// The JSON response body.
    pub fn to_json(&self) -> Vec<u8> {
        // Two strings always serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// What a successful ack (204) means for the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckOutcome {
    /// The member was Accepted and is now Active.
    pub newly_active: bool,
    /// The member is newly active, takes part in recovery (has an encryption key) and the
    /// service is Open: the node must issue new recovery shares in this transaction, as CCF's
    /// `shuffle_recovery_shares` does.
    pub reissue_recovery_shares: bool,
}

/// `GET /gov/members/state-digests/{memberId}`: the digest the member is to ack.
pub fn get_state_digest(tx: &mut Tx, path_member_id: &str) -> Result<StateDigest, ApiError> {
    let ack = member_ack(tx, path_member_id)?.ok_or_else(|| {
        not_found(
            codes::RESOURCE_NOT_FOUND,
            format!("No ACK record exists for member {path_member_id}."),
        )
    })?;
    Ok(StateDigest {
        member_id: path_member_id.to_owned(),
        state_digest: ack.state_digest,
    })
}

/// `POST …/state-digests/{memberId}:update` (any member, `state_digest`): sets the member's
/// digest to `latest_root`, the Merkle root of the latest signature (`None` before the first
/// signature → 500).
pub fn update_state_digest(
    tx: &mut Tx,
    member: &AuthenticatedMember,
    path_member_id: &str,
    latest_root: Option<&Sha256Hash>,
) -> Result<StateDigest, ApiError> {
    check_path_member(member, path_member_id)?;
    let mut ack = member_ack(tx, path_member_id)?.unwrap_or_default();
    let root = latest_root
        .ok_or_else(|| internal_error("Service has no signatures to ack yet - try again soon."))?;
    ack.state_digest = root.to_hex();
    put_json(tx, tables::MEMBERS_ACKS, path_member_id.as_bytes(), &ack)?;
    Ok(StateDigest {
        member_id: member.member_id.as_str().to_owned(),
        state_digest: ack.state_digest,
    })
}

/// `POST …/state-digests/{memberId}:ack` (any member, `ack`, body `{"stateDigest": hex}`):
/// checks the digest, keeps the envelope as the member's ack and makes the member Active.
/// Answer 204 on success.
pub fn ack(
    tx: &mut Tx,
    member: &AuthenticatedMember,
    path_member_id: &str,
) -> Result<AckOutcome, ApiError> {
    check_path_member(member, path_member_id)?;
    let mut ack = member_ack(tx, path_member_id)?
        .ok_or_else(|| forbidden(format!("No ACK record exists for member {path_member_id}.")))?;
    let signed_digest = signed_state_digest(&member.request.payload)?;
    if signed_digest != ack.state_digest {
        return Err(bad_request(
            codes::STATE_DIGEST_MISMATCH,
            format!(
                "Submitted state digest is not valid.\nExpected\n {}\nReceived\n {}",
                ack.state_digest, signed_digest
            ),
        ));
    }
    let (info, newly_active) = activated_info(tx, &member.member_id)?;
    let reissue_recovery_shares = newly_active && reissues_shares(tx, &member.member_id)?;

    ack.signed_req = None;
    ack.cose_sign1_req = Some(BASE64.encode(&member.request.envelope));
    put_json(tx, tables::MEMBERS_ACKS, path_member_id.as_bytes(), &ack)?;
    put_json(
        tx,
        tables::MEMBERS_INFO,
        member.member_id.as_str().as_bytes(),
        &info,
    )?;
    Ok(AckOutcome {
        newly_active,
        reissue_recovery_shares,
    })
}

/// 400 `InvalidAuthenticationInfo` unless the path names the signer.
fn check_path_member(member: &AuthenticatedMember, path_member_id: &str) -> Result<(), ApiError> {
    if path_member_id == member.member_id.as_str() {
        return Ok(());
    }
    Err(bad_request(
        codes::INVALID_AUTHENTICATION_INFO,
        format!(
            "Member ID from path parameter ({path_member_id}) does not match member ID from \
             body signature ({}).",
            member.member_id
        ),
    ))
}

fn member_ack(tx: &mut Tx, member_id: &str) -> Result<Option<MemberAck>, GovError> {
    get_json(tx, tables::MEMBERS_ACKS, member_id.as_bytes())
}

fn signed_state_digest(payload: &[u8]) -> Result<String, ApiError> {
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|body| body.get("stateDigest")?.as_str().map(str::to_owned))
        .ok_or_else(|| {
            bad_request(
                codes::INVALID_INPUT,
                "Signed request body is not a JSON object containing required string field \
                 \"stateDigest\"",
            )
        })
}

/// `members.info[member]` with status Active (other fields kept as found), and whether it was
/// not Active before.
fn activated_info(
    tx: &mut Tx,
    member: &MemberId,
) -> Result<(serde_json::Map<String, serde_json::Value>, bool), ApiError> {
    let info: Option<serde_json::Map<String, serde_json::Value>> =
        get_json(tx, tables::MEMBERS_INFO, member.as_str().as_bytes())?;
    let mut info = info.ok_or_else(|| {
        internal_error(format!(
            "Error activating member: Member {member} cannot be activated as they do not exist"
        ))
    })?;
    let was_active = info.get("status").and_then(|s| s.as_str()) == Some("Active");
    info.insert("status".into(), "Active".into());
    Ok((info, !was_active))
}

/// Whether a newly active member means new recovery shares: it has an encryption key and the
/// service is Open.
fn reissues_shares(tx: &mut Tx, member: &MemberId) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct ServiceStatus {
        status: String,
    }
    let key = member.as_str().as_bytes();
    if tx
        .get(tables::MEMBERS_ENCRYPTION_PUBLIC_KEYS, key)
        .is_none()
    {
        return Ok(false);
    }
    let service: Option<ServiceStatus> =
        get_json(tx, tables::SERVICE_INFO, &tables::SINGLETON_KEY)?;
    let service = service.ok_or_else(|| internal_error("No service currently available."))?;
    Ok(service.status == "Open")
}
