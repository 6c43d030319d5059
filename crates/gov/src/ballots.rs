//! `POST /gov/members/proposals/{proposalId}/ballots/{memberId}:submit` (spec/ccf-api.md §1.2,
//! §3): store the member's ballot, then re-resolve the proposal with every ballot.

use cloister_kv::Tx;
use cloister_types::ApiError;

use crate::engine::{ConstitutionEngine, GovHost, NodeAction};
use crate::error::{bad_request, codes, internal_error, not_found};
use crate::ids::member_id_from_path;
use crate::lifecycle::{
    Governance, ProposalOutcome, constitution, get_info, outcome_after_resolve,
    record_cose_history, resolve_proposal,
};
use crate::member_auth::AuthenticatedMember;
use crate::proposals::signed_proposal_id;
use crate::records::ProposalState;
use crate::tables;

/// Submits the ballot of an authenticated `ballot` request (Active member; signed
/// `ccf.gov.msg.proposal_id` = `path_proposal_id`; signer = `path_member_id`). The signed body
/// is `{"ballot": "<JS module exporting vote>"}`.
///
/// Re-submitting the identical ballot answers the proposal again and writes nothing.
/// Refusals, in CCF's order: 400 `InvalidResourceName` (bad or mismatched ids); 404
/// `ProposalNotFound`; 400 `ProposalNotOpen`; 400 `InvalidInput` (no string "ballot"); 500 no
/// constitution; 400 `VoteAlreadyExists` (a different ballot from this member).
pub fn submit_ballot(
    tx: &mut Tx,
    engine: &mut dyn ConstitutionEngine,
    host: &mut dyn GovHost,
    actions_out: &mut Vec<NodeAction>,
    member: &AuthenticatedMember,
    path_proposal_id: &str,
    path_member_id: &str,
) -> Result<ProposalOutcome, ApiError> {
    let proposal_id = signed_proposal_id(member, path_proposal_id)?;
    if member_id_from_path(path_member_id)? != member.member_id.as_str() {
        return Err(bad_request(
            codes::INVALID_RESOURCE_NAME,
            "Authenticated member id does not match URL",
        ));
    }
    let not_found_error = || {
        not_found(
            codes::PROPOSAL_NOT_FOUND,
            format!("Could not find proposal {proposal_id}."),
        )
    };
    let mut info = get_info(tx, &proposal_id)?.ok_or_else(not_found_error)?;
    if info.state != ProposalState::Open {
        return Err(bad_request(
            codes::PROPOSAL_NOT_OPEN,
            format!(
                "Proposal {proposal_id} is currently in state {} - only Open proposals can \
                 receive votes",
                info.state
            ),
        ));
    }
    let proposal = tx
        .get(tables::PROPOSALS, proposal_id.as_str().as_bytes())
        .ok_or_else(not_found_error)?;
    let ballot = ballot_of(&member.request.payload)?;
    let constitution = constitution(tx)?
        .ok_or_else(|| internal_error("No constitution is set - ballots cannot be evaluated"))?;
    match info.ballots.get(&member.member_id) {
        Some(existing) if *existing == ballot => {
            return Ok(ProposalOutcome::Proposal(info.view(&proposal_id)));
        }
        Some(_) => {
            return Err(bad_request(
                codes::VOTE_ALREADY_EXISTS,
                format!(
                    "Different ballot already submitted by {} for {proposal_id}.",
                    member.member_id
                ),
            ));
        }
        None => {}
    }

    info.ballots.insert(member.member_id.clone(), ballot);
    record_cose_history(tx, &member.member_id, &member.request.envelope)?;
    let mut gov = Governance {
        engine,
        host,
        actions_out,
    };
    let proposal = String::from_utf8_lossy(&proposal).into_owned();
    resolve_proposal(
        tx,
        &mut gov,
        &proposal_id,
        &proposal,
        &mut info,
        &constitution,
    )?;
    Ok(outcome_after_resolve(&proposal_id, &info))
}

/// The `ballot` string of the signed body.
fn ballot_of(payload: &[u8]) -> Result<String, ApiError> {
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|body| body.get("ballot")?.as_str().map(str::to_owned))
        .ok_or_else(|| {
            bad_request(
                codes::INVALID_INPUT,
                "Signed request body is not a JSON object containing required string field \
                 \"ballot\"",
            )
        })
}
