//! The resolve step shared by proposal creation and ballot submission (spec/ccf-api.md §3
//! "Lifecycle" 2–4; CCF's `resolve_proposal`), and the small writes every governance request
//! makes.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_kv::Tx;
use cloister_types::{ApiError, MemberId};

use crate::engine::{ConstitutionEngine, GovHost, NodeAction};
use crate::error::{GovError, internal_error};
use crate::ids::ProposalId;
use crate::kv_json::{decode, get_json, put_json};
use crate::records::{Failure, ProposalInfo, ProposalState, ProposalView};
use crate::tables;

/// What the caller does after a create, ballot or withdrawal that was not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ProposalOutcome {
    /// Answer 200 with this proposal (`ProposalView::to_json`) and commit the transaction;
    /// then carry out the `NodeAction`s collected during it.
    Proposal(ProposalView),
    /// Answer 204 without a body (withdrawal of an unknown proposal). Nothing was written.
    NoContent,
    /// The proposal reached `Failed` during this request (resolve or apply threw, or resolve
    /// returned something other than Open/Accepted/Rejected). Answer this 500 and DISCARD the
    /// transaction: apply may have stopped halfway (spec §3 "Lifecycle" 4). No `NodeAction`
    /// was added.
    Discard(ApiError),
}

/// What the resolve step needs besides the transaction.
pub(crate) struct Governance<'a> {
    /// Runs ballots and the constitution.
    pub(crate) engine: &'a mut dyn ConstitutionEngine,
    /// The node's services for `apply`.
    pub(crate) host: &'a mut dyn GovHost,
    /// Receives the actions of a successful `apply`.
    pub(crate) actions_out: &'a mut Vec<NodeAction>,
}

/// Re-runs every ballot, calls `resolve`, stores the result, and when the proposal leaves Open
/// purges the other completed proposals, records the final votes and, if Accepted, applies
/// it. `info` ends as stored.
pub(crate) fn resolve_proposal(
    tx: &mut Tx,
    gov: &mut Governance<'_>,
    proposal_id: &ProposalId,
    proposal: &str,
    info: &mut ProposalInfo,
    constitution: &str,
) -> Result<(), GovError> {
    let (votes, vote_failures) = run_ballots(tx, gov, proposal, info);
    let vote_list: Vec<(String, bool)> = votes
        .iter()
        .map(|(member, vote)| (member.as_str().to_owned(), *vote))
        .collect();
    let resolved = gov.engine.resolve(
        tx,
        constitution,
        proposal,
        info.proposer_id.as_str(),
        &vote_list,
        proposal_id.as_str(),
    );
    match resolved {
        Ok(state) => match state.as_str() {
            "Open" => info.state = ProposalState::Open,
            "Accepted" => info.state = ProposalState::Accepted,
            "Rejected" => info.state = ProposalState::Rejected,
            // Withdrawn and Dropped are reached elsewhere, never returned by resolve().
            other => fail(
                info,
                format!("resolve() returned invalid status value: \"{other}\""),
                None,
            ),
        },
        Err(failure) => fail(
            info,
            format!("Failed to resolve(): {}", failure.reason),
            failure.trace,
        ),
    }
    put_info(tx, proposal_id, info)?;
    if info.state == ProposalState::Open {
        return Ok(());
    }
    remove_other_completed_proposals(tx, proposal_id)?;
    info.final_votes = Some(votes);
    info.vote_failures = Some(vote_failures);
    put_info(tx, proposal_id, info)?;
    if info.state == ProposalState::Accepted {
        apply(tx, gov, proposal_id, proposal, info, constitution)?;
    }
    Ok(())
}

/// The answer to a create or ballot after the resolve step.
pub(crate) fn outcome_after_resolve(
    proposal_id: &ProposalId,
    info: &ProposalInfo,
) -> ProposalOutcome {
    match (&info.state, &info.failure) {
        (ProposalState::Failed, failure) => {
            let message = failure
                .as_ref()
                .map_or_else(|| "N/A".to_owned(), Failure::to_message);
            ProposalOutcome::Discard(internal_error(message))
        }
        _ => ProposalOutcome::Proposal(info.view(proposal_id)),
    }
}

/// Deletes every proposal other than `keep` that is not Open, so that only the latest completed
/// one is retained (spec §3 "Lifecycle" 3).
pub(crate) fn remove_other_completed_proposals(
    tx: &mut Tx,
    keep: &ProposalId,
) -> Result<(), GovError> {
    let mut completed = Vec::new();
    for (key, value) in tx.iter(tables::PROPOSALS_INFO) {
        let info: ProposalInfo = decode(tables::PROPOSALS_INFO, &key, &value)?;
        if key != keep.as_str().as_bytes() && info.state != ProposalState::Open {
            completed.push(key);
        }
    }
    for key in completed {
        tx.remove(tables::PROPOSALS, key.clone());
        tx.remove(tables::PROPOSALS_INFO, key);
    }
    Ok(())
}

/// `cose_history[member]` = the envelope (base64 in a JSON string, as CCF stores byte vectors).
pub(crate) fn record_cose_history(
    tx: &mut Tx,
    member: &MemberId,
    envelope: &[u8],
) -> Result<(), GovError> {
    put_json(
        tx,
        tables::COSE_HISTORY,
        member.as_str().as_bytes(),
        &BASE64.encode(envelope),
    )
}

/// The constitution's source, if one is set.
pub(crate) fn constitution(tx: &mut Tx) -> Result<Option<String>, GovError> {
    get_json(tx, tables::CONSTITUTION, &tables::SINGLETON_KEY)
}

/// `proposals_info[id]`, if present.
pub(crate) fn get_info(tx: &mut Tx, id: &ProposalId) -> Result<Option<ProposalInfo>, GovError> {
    get_json(tx, tables::PROPOSALS_INFO, id.as_str().as_bytes())
}

pub(crate) fn put_info(tx: &mut Tx, id: &ProposalId, info: &ProposalInfo) -> Result<(), GovError> {
    put_json(tx, tables::PROPOSALS_INFO, id.as_str().as_bytes(), info)
}

type Votes = BTreeMap<MemberId, bool>;
type VoteFailures = BTreeMap<MemberId, Failure>;

/// Every stored ballot, run again against the current state: only a JS `true` is a yes, and a
/// ballot that throws is recorded as a failure instead of a vote.
fn run_ballots(
    tx: &mut Tx,
    gov: &mut Governance<'_>,
    proposal: &str,
    info: &ProposalInfo,
) -> (Votes, VoteFailures) {
    let mut votes = BTreeMap::new();
    let mut failures = BTreeMap::new();
    for (member, ballot) in &info.ballots {
        match gov
            .engine
            .vote(tx, ballot, proposal, info.proposer_id.as_str())
        {
            Ok(vote) => {
                votes.insert(member.clone(), vote);
            }
            Err(failure) => {
                failures.insert(member.clone(), Failure::from(failure));
            }
        }
    }
    (votes, failures)
}

/// Runs `apply`. Its actions reach `actions_out` only if it succeeds: after a failure the
/// transaction is discarded, and so must be what the constitution asked for.
fn apply(
    tx: &mut Tx,
    gov: &mut Governance<'_>,
    proposal_id: &ProposalId,
    proposal: &str,
    info: &mut ProposalInfo,
    constitution: &str,
) -> Result<(), GovError> {
    let mut actions = Vec::new();
    let applied = gov.engine.apply(
        tx,
        constitution,
        proposal,
        proposal_id.as_str(),
        &mut *gov.host,
        &mut actions,
    );
    match applied {
        Ok(()) => {
            gov.actions_out.extend(actions);
            Ok(())
        }
        Err(failure) => {
            fail(
                info,
                format!("Failed to apply(): {}", failure.reason),
                failure.trace,
            );
            put_info(tx, proposal_id, info)
        }
    }
}

fn fail(info: &mut ProposalInfo, reason: String, trace: Option<String>) {
    info.state = ProposalState::Failed;
    info.failure = Some(Failure { reason, trace });
}
