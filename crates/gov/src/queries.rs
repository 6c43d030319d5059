//! The unauthenticated reads of proposals and ballots (spec/ccf-api.md §1.2): `GET
//! /gov/members/proposals[/{proposalId}[/actions | /ballots/{memberId}]]`.

use cloister_kv::Tx;
use cloister_types::ApiError;

use crate::error::{codes, not_found};
use crate::ids::{ProposalId, member_id_from_path};
use crate::kv_json::decode;
use crate::lifecycle::get_info;
use crate::records::{ProposalInfo, ProposalView};
use crate::tables;

/// One proposal, or 404 `ProposalNotFound` "Could not find proposal <id>.".
pub fn get_proposal(tx: &mut Tx, path_proposal_id: &str) -> Result<ProposalView, ApiError> {
    let proposal_id = ProposalId::from_path(path_proposal_id)?;
    let info = get_info(tx, &proposal_id)?.ok_or_else(|| {
        not_found(
            codes::PROPOSAL_NOT_FOUND,
            format!("Could not find proposal {proposal_id}."),
        )
    })?;
    Ok(info.view(&proposal_id))
}

/// Every proposal in `proposals_info` (open ones and the last completed one), in id order.
pub fn list_proposals(tx: &mut Tx) -> Result<Vec<ProposalView>, ApiError> {
    let mut views = Vec::new();
    for (key, value) in tx.iter(tables::PROPOSALS_INFO) {
        let info: ProposalInfo = decode(tables::PROPOSALS_INFO, &key, &value)?;
        let id = ProposalId::from_path(&String::from_utf8_lossy(&key))?;
        views.push(info.view(&id));
    }
    Ok(views)
}

/// `{"value": [proposal, …]}`, the body of the list endpoint.
pub fn proposal_list_json(views: &[ProposalView]) -> Vec<u8> {
    // Proposal views always serialise.
    serde_json::to_vec(&serde_json::json!({ "value": views })).unwrap_or_default()
}

/// The proposal exactly as it was signed, or 404 `ProposalNotFound`.
pub fn get_proposal_actions(tx: &mut Tx, path_proposal_id: &str) -> Result<Vec<u8>, ApiError> {
    let proposal_id = ProposalId::from_path(path_proposal_id)?;
    tx.get(tables::PROPOSALS, proposal_id.as_str().as_bytes())
        .ok_or_else(|| {
            not_found(
                codes::PROPOSAL_NOT_FOUND,
                format!("Could not find proposal {proposal_id}."),
            )
        })
}

/// A member's ballot source (serve as `text/javascript`), or 404 `ProposalNotFound` /
/// `VoteNotFound`.
pub fn get_ballot(
    tx: &mut Tx,
    path_proposal_id: &str,
    path_member_id: &str,
) -> Result<String, ApiError> {
    let proposal_id = ProposalId::from_path(path_proposal_id)?;
    let member_id = member_id_from_path(path_member_id)?;
    let info = get_info(tx, &proposal_id)?.ok_or_else(|| {
        not_found(
            codes::PROPOSAL_NOT_FOUND,
            format!("Proposal {proposal_id} does not exist."),
        )
    })?;
    info.ballots
        .into_iter()
        .find(|(member, _)| member.as_str() == member_id)
        .map(|(_, ballot)| ballot)
        .ok_or_else(|| {
            not_found(
                codes::VOTE_NOT_FOUND,
                format!("Member {member_id} has not voted for proposal {proposal_id}."),
            )
        })
}
