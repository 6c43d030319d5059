//! `POST /gov/members/proposals:create` and `POST …/proposals/{proposalId}:withdraw`
//! (spec/ccf-api.md §1.2, §3; CCF's `src/node/gov/handlers/proposals.h`).
//!
//! Every refusal (`Err`) happens before this module writes anything; the caller must not commit
//! after one all the same (CCF applies a handler's writes only on 2xx).

use cloister_crypto::Sha256Hash;
use cloister_kv::Tx;
use cloister_types::ApiError;

use crate::cose_request::created_at_text;
use crate::engine::{ConstitutionEngine, GovHost, NodeAction};
use crate::error::{bad_request, codes, forbidden, internal_error};
use crate::ids::ProposalId;
use crate::lifecycle::{
    Governance, ProposalOutcome, constitution, get_info, outcome_after_resolve, put_info,
    record_cose_history, remove_other_completed_proposals, resolve_proposal,
};
use crate::member_auth::AuthenticatedMember;
use crate::records::{ProposalInfo, ProposalState};
use crate::replay::{admit_submission, replay_key};
use crate::tables;

/// Creates a proposal from an authenticated `proposal` request (Active member), then resolves
/// it at once, so that it can pass with no ballots. `root_at_read_version` is the Merkle root
/// at the transaction's read version (`None` → 500 "Proposal failed to bind to state.").
///
/// Refusals, in CCF's order: 500 no constitution; 500 "Failed to execute validation: …";
/// 400 `ProposalFailedToValidate`; 500 "Proposal ID collision."; 400 `InvalidCreatedAt`;
/// 400 `ProposalReplay`; 400 `ProposalCreatedTooLongAgo`.
pub fn create_proposal(
    tx: &mut Tx,
    engine: &mut dyn ConstitutionEngine,
    host: &mut dyn GovHost,
    actions_out: &mut Vec<NodeAction>,
    member: &AuthenticatedMember,
    root_at_read_version: Option<&Sha256Hash>,
) -> Result<ProposalOutcome, ApiError> {
    let request = &member.request;
    let root =
        root_at_read_version.ok_or_else(|| internal_error("Proposal failed to bind to state."))?;
    let proposal_id = ProposalId::derive(root, &request.signature);
    let constitution = constitution(tx)?
        .ok_or_else(|| internal_error("No constitution is set - proposals cannot be evaluated"))?;
    let proposal = request.payload_text();
    validate(tx, engine, &constitution, &proposal)?;
    // A read of the new id: identical creations in flight at the same version conflict, and
    // an id that exists already can only be a hash collision.
    if tx
        .get(tables::PROPOSALS, proposal_id.as_str().as_bytes())
        .is_some()
    {
        return Err(internal_error("Proposal ID collision."));
    }
    let created_at = created_at_text(request.created_at)?;
    let key = replay_key(&created_at, &request.signature_digest());
    admit_submission(tx, &key, &proposal_id)?;

    tx.put(
        tables::PROPOSALS,
        proposal_id.as_str().as_bytes(),
        request.payload.clone(),
    );
    let mut info = ProposalInfo::open(member.member_id.clone());
    put_info(tx, &proposal_id, &info)?;
    record_cose_history(tx, &member.member_id, &request.envelope)?;
    let mut gov = Governance {
        engine,
        host,
        actions_out,
    };
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

/// Withdraws a proposal for its proposer, from an authenticated `withdrawal` request whose
/// signed `ccf.gov.msg.proposal_id` must be `path_proposal_id`.
///
/// Answers 204 (`NoContent`) for an unknown proposal (idempotent), and the proposal, now
/// Withdrawn, otherwise; withdrawing a Withdrawn proposal again writes nothing. Refusals: 400
/// `InvalidResourceName` (bad or mismatched id); 403 `AuthorizationFailed` (not the proposer);
/// 400 `ProposalNotOpen` (neither Open nor Withdrawn).
pub fn withdraw_proposal(
    tx: &mut Tx,
    member: &AuthenticatedMember,
    path_proposal_id: &str,
) -> Result<ProposalOutcome, ApiError> {
    let proposal_id = signed_proposal_id(member, path_proposal_id)?;
    let Some(mut info) = get_info(tx, &proposal_id)? else {
        return Ok(ProposalOutcome::NoContent);
    };
    if member.member_id != info.proposer_id {
        return Err(forbidden(format!(
            "Proposal {proposal_id} can only be withdrawn by proposer {}, not caller {}.",
            info.proposer_id, member.member_id
        )));
    }
    match info.state {
        ProposalState::Open => {
            info.state = ProposalState::Withdrawn;
            put_info(tx, &proposal_id, &info)?;
            remove_other_completed_proposals(tx, &proposal_id)?;
            record_cose_history(tx, &member.member_id, &member.request.envelope)?;
        }
        ProposalState::Withdrawn => {}
        state => {
            return Err(bad_request(
                codes::PROPOSAL_NOT_OPEN,
                format!(
                    "Proposal {proposal_id} is currently in state {state} and cannot be withdrawn."
                ),
            ));
        }
    }
    Ok(ProposalOutcome::Proposal(info.view(&proposal_id)))
}

/// The `{proposalId}` of the path, which the request must have signed as
/// `ccf.gov.msg.proposal_id`.
pub(crate) fn signed_proposal_id(
    member: &AuthenticatedMember,
    path_proposal_id: &str,
) -> Result<ProposalId, ApiError> {
    let proposal_id = ProposalId::from_path(path_proposal_id)?;
    if member.request.proposal_id.as_deref() != Some(proposal_id.as_str()) {
        return Err(bad_request(
            codes::INVALID_RESOURCE_NAME,
            "Authenticated proposal id does not match URL",
        ));
    }
    Ok(proposal_id)
}

/// Runs the constitution's `validate` (GOV_RO).
fn validate(
    tx: &mut Tx,
    engine: &mut dyn ConstitutionEngine,
    constitution: &str,
    proposal: &str,
) -> Result<(), ApiError> {
    match engine.validate(tx, constitution, proposal) {
        Err(failure) => Err(internal_error(format!(
            "Failed to execute validation: {} {}",
            failure.reason,
            failure.trace.unwrap_or_default()
        ))),
        Ok(validation) if !validation.valid => Err(bad_request(
            codes::PROPOSAL_FAILED_TO_VALIDATE,
            format!("Proposal failed to validate: {}", validation.description),
        )),
        Ok(_) => Ok(()),
    }
}
