//! The proposal lifecycle (spec/ccf-api.md §3 "Lifecycle", §1.2 error table) with a small
//! deterministic constitution (`MajorityEngine`: a proposal passes when yes votes exceed half
//! the Active members, as CCF's default constitution decides).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use cloister_gov::{
    Failure, NodeAction, ProposalOutcome, ProposalState, get_ballot, get_proposal,
    get_proposal_actions, list_proposals, proposal_list_json, tables,
};
use support::*;

const PROPOSAL: &str = r#"{"actions":[{"name":"set_marker"}]}"#;

fn id_of(outcome: Result<ProposalOutcome, cloister_types::ApiError>) -> String {
    proposal_of(outcome).proposal_id
}

fn yes_votes(members: &[&str]) -> BTreeMap<cloister_types::MemberId, bool> {
    members.iter().map(|m| (m.parse().unwrap(), true)).collect()
}

#[test]
fn proposal_is_accepted_once_a_majority_of_active_members_vote_yes() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    assert_eq!(info(&h.store, &id).unwrap().state, ProposalState::Open);

    let view = proposal_of(h.ballot(0, &id, YES));
    assert_eq!(
        (view.proposal_state, view.ballot_count),
        (ProposalState::Open, 1)
    );
    assert_eq!(view.final_votes, None);
    assert!(h.store.get(MARKER, id.as_bytes()).is_none());

    let view = proposal_of(h.ballot(1, &id, YES));
    assert_eq!(view.proposal_state, ProposalState::Accepted);
    assert_eq!(view.final_votes, Some(yes_votes(&[MEMBER0, MEMBER1])));
    assert_eq!(view.vote_failures, Some(BTreeMap::new()));
    // apply ran once, its write is in the committed state and its action reached the node.
    assert_eq!(h.engine.applied, vec![id.clone()]);
    assert_eq!(
        h.store.get(MARKER, id.as_bytes()).unwrap(),
        PROPOSAL.as_bytes()
    );
    assert_eq!(h.actions, vec![NodeAction::TriggerSnapshot]);
    // The stored record is the one the API shows.
    let stored = info(&h.store, &id).unwrap();
    assert_eq!(
        stored.view(&cloister_gov::ProposalId::from_path(&id).unwrap()),
        view
    );
}

#[test]
fn every_ballot_is_re_run_at_each_resolve() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    assert_eq!((h.engine.ballots_run, h.engine.resolves_run), (0, 1));
    proposal_of(h.ballot(0, &id, YES));
    proposal_of(h.ballot(1, &id, NO));
    proposal_of(h.ballot(2, &id, NO));
    // 1 + 2 + 3 ballot runs, one resolve per request.
    assert_eq!((h.engine.ballots_run, h.engine.resolves_run), (6, 4));
    assert_eq!(info(&h.store, &id).unwrap().state, ProposalState::Open);
}

#[test]
fn a_sole_active_member_passes_a_proposal_with_its_own_ballot() {
    let mut h = Harness::new(1);
    let id = id_of(h.create(0, PROPOSAL));
    assert_eq!(
        proposal_of(h.ballot(0, &id, YES)).proposal_state,
        ProposalState::Accepted
    );
}

#[test]
fn a_throwing_ballot_is_a_vote_failure_not_a_vote() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    proposal_of(h.ballot(0, &id, THROWS));
    proposal_of(h.ballot(1, &id, YES));
    let view = proposal_of(h.ballot(2, &id, YES));
    assert_eq!(view.proposal_state, ProposalState::Accepted);
    assert_eq!(view.final_votes, Some(yes_votes(&[MEMBER1, MEMBER2])));
    let failure = Failure {
        reason: "Error: ballot threw".into(),
        trace: None,
    };
    assert_eq!(
        view.vote_failures,
        Some(BTreeMap::from([(MEMBER0.parse().unwrap(), failure)]))
    );
}

#[test]
fn a_rejected_proposal_is_not_applied() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, r#"{"actions":[],"x":"resolve_rejects"}"#));
    let view = proposal_of(h.ballot(1, &id, NO));
    assert_eq!(view.proposal_state, ProposalState::Rejected);
    assert!(h.engine.applied.is_empty());
    assert!(h.actions.is_empty());
    // And it takes no more ballots.
    let error = h.ballot(2, &id, YES).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "ProposalNotOpen",
            format!(
                "Proposal {id} is currently in state Rejected - only Open proposals can receive votes"
            )
            .as_str()
        )
    );
}

#[test]
fn apply_failure_fails_the_proposal_and_discards_the_transaction() {
    let mut h = Harness::new(1);
    let id = id_of(h.create(0, r#"{"actions":[],"x":"apply_throws"}"#));
    let error = discarded(h.ballot(0, &id, YES));
    assert_eq!(
        parts(&error),
        (
            500,
            "InternalError",
            "Failed to apply(): Error: apply threw\nTrace: at apply"
        )
    );
    // The transaction had writes (apply's marker, the ballot) and was dropped: the committed
    // state still has the proposal Open without the ballot, and no node action was kept.
    assert!(h.dropped_tx_had_writes);
    assert!(h.store.get(MARKER, id.as_bytes()).is_none());
    let stored = info(&h.store, &id).unwrap();
    assert_eq!(
        (stored.state, stored.ballots.len()),
        (ProposalState::Open, 0)
    );
    assert!(h.actions.is_empty());
}

#[test]
fn resolve_failure_at_creation_is_discarded_with_its_reason() {
    let mut h = Harness::new(1);
    let error = discarded(h.create(0, r#"{"actions":[],"x":"resolve_throws"}"#));
    assert_eq!(
        error.message,
        "Failed to resolve(): Error: resolve threw\nTrace: at resolve"
    );
    assert_eq!(count(&h.store, tables::PROPOSALS), 0);
    assert_eq!(count(&h.store, tables::COSE_RECENT_PROPOSALS), 0);
}

#[test]
fn resolve_must_return_open_accepted_or_rejected() {
    let mut h = Harness::new(1);
    let error = discarded(h.create(0, r#"{"actions":[],"x":"resolve_bogus"}"#));
    assert_eq!(
        error.message,
        "resolve() returned invalid status value: \"Maybe\"\nTrace: N/A"
    );
}

#[test]
fn a_completed_proposal_purges_the_older_completed_ones_but_not_open_ones() {
    let mut h = Harness::new(1);
    let first = id_of(h.create(0, PROPOSAL));
    proposal_of(h.ballot(0, &first, YES));
    let open = id_of(h.create(0, r#"{"actions":[],"x":"stays open"}"#));
    let second = id_of(h.create(0, r#"{"actions":[],"x":"second"}"#));
    assert!(info(&h.store, &first).is_some()); // retained until another completes
    proposal_of(h.ballot(0, &second, YES));
    assert!(info(&h.store, &first).is_none());
    assert!(h.store.get(tables::PROPOSALS, first.as_bytes()).is_none());
    assert_eq!(info(&h.store, &open).unwrap().state, ProposalState::Open);
    assert_eq!(
        info(&h.store, &second).unwrap().state,
        ProposalState::Accepted
    );
    // Listing shows the open one and the latest completed one.
    let listed: Vec<String> = list_proposals(&mut h.store.begin())
        .unwrap()
        .into_iter()
        .map(|v| v.proposal_id)
        .collect();
    let mut expected = vec![open, second];
    expected.sort();
    assert_eq!(listed, expected);
}

#[test]
fn withdrawal_is_for_the_proposer_only_and_only_while_open() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    let error = h.withdraw(1, &id).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            403,
            "AuthorizationFailed",
            format!(
                "Proposal {id} can only be withdrawn by proposer {MEMBER0}, not caller {MEMBER1}."
            )
            .as_str()
        )
    );
    assert!(!h.dropped_tx_had_writes);

    let view = proposal_of(h.withdraw(0, &id));
    assert_eq!(view.proposal_state, ProposalState::Withdrawn);
    // Again: the same answer, nothing written.
    let version = h.store.current_version();
    assert_eq!(proposal_of(h.withdraw(0, &id)), view);
    assert_eq!(h.store.current_version(), version);
    // A withdrawn proposal takes no ballots.
    assert_eq!(h.ballot(0, &id, YES).unwrap_err().code, "ProposalNotOpen");
}

#[test]
fn withdrawing_an_unknown_proposal_is_no_content() {
    let mut h = Harness::new(1);
    let unknown = "ab".repeat(32);
    assert_eq!(h.withdraw(0, &unknown), Ok(ProposalOutcome::NoContent));
}

#[test]
fn an_accepted_proposal_cannot_be_withdrawn() {
    let mut h = Harness::new(1);
    let id = id_of(h.create(0, PROPOSAL));
    proposal_of(h.ballot(0, &id, YES));
    let error = h.withdraw(0, &id).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "ProposalNotOpen",
            format!("Proposal {id} is currently in state Accepted and cannot be withdrawn.")
                .as_str()
        )
    );
}

#[test]
fn a_different_second_ballot_is_refused_and_an_identical_one_is_idempotent() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    let first = proposal_of(h.ballot(1, &id, NO));
    let error = h.ballot(1, &id, YES).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "VoteAlreadyExists",
            format!("Different ballot already submitted by {MEMBER1} for {id}.").as_str()
        )
    );
    assert!(!h.dropped_tx_had_writes);
    let version = h.store.current_version();
    let runs = h.engine.ballots_run;
    assert_eq!(proposal_of(h.ballot(1, &id, NO)), first);
    // Nothing written, nothing re-run.
    assert_eq!(h.store.current_version(), version);
    assert_eq!(h.engine.ballots_run, runs);
}

#[test]
fn ballot_ids_must_match_the_path() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    let body = serde_json::to_vec(&serde_json::json!({ "ballot": YES })).unwrap();
    let error = h.ballot_body(1, &id, MEMBER2, &body).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "InvalidResourceName",
            "Authenticated member id does not match URL"
        )
    );
    let signed_for_other = signed(1, "ballot", 5, Some(&"cd".repeat(32)), &body);
    let error = h
        .ballot_signed(&signed_for_other, &id, MEMBER1)
        .unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "InvalidResourceName",
            "Authenticated proposal id does not match URL"
        )
    );
    let error = h.ballot_body(1, "nothex", MEMBER1, &body).unwrap_err();
    assert_eq!(
        error.message,
        "'nothex' is not a valid hex-encoded proposal ID"
    );
    assert!(info(&h.store, &id).unwrap().ballots.is_empty());
}

#[test]
fn ballot_for_an_unknown_proposal_is_not_found() {
    let mut h = Harness::new(1);
    let unknown = "ef".repeat(32);
    let error = h.ballot(0, &unknown, YES).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            404,
            "ProposalNotFound",
            format!("Could not find proposal {unknown}.").as_str()
        )
    );
}

#[test]
fn ballot_body_must_hold_a_string_ballot() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    for body in [&b"not json"[..], br#"{"ballot":1}"#, br#"["ballot"]"#, b""] {
        let error = h.ballot_body(1, &id, MEMBER1, body).unwrap_err();
        assert_eq!(
            parts(&error),
            (
                400,
                "InvalidInput",
                "Signed request body is not a JSON object containing required string field \"ballot\""
            )
        );
    }
}

#[test]
fn proposals_that_fail_validation_are_refused() {
    let mut h = Harness::new(1);
    let error = h.create(0, r#"{"no":"actions"}"#).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "ProposalFailedToValidate",
            "Proposal failed to validate: no actions"
        )
    );
    assert!(!h.dropped_tx_had_writes);
    let error = h
        .create(0, r#"{"actions":[],"x":"validate_throws"}"#)
        .unwrap_err();
    assert_eq!(
        parts(&error),
        (
            500,
            "InternalError",
            "Failed to execute validation: TypeError: boom at validate"
        )
    );
    assert_eq!(count(&h.store, tables::PROPOSALS), 0);
}

#[test]
fn creation_needs_a_constitution_and_a_root() {
    let mut store = store();
    add_member(&mut store, 0, "Active");
    let mut h = Harness::new(0);
    h.store = store;
    let error = h.create(0, PROPOSAL).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            500,
            "InternalError",
            "No constitution is set - proposals cannot be evaluated"
        )
    );

    let mut h = Harness::new(1);
    let body = signed(0, "proposal", 1, None, PROPOSAL.as_bytes());
    let mut tx = h.store.begin();
    let member = auth(&mut tx, &body, "proposal", true);
    let error = cloister_gov::create_proposal(
        &mut tx,
        &mut h.engine,
        &mut h.host,
        &mut Vec::new(),
        &member,
        None,
    )
    .unwrap_err();
    assert_eq!(
        parts(&error),
        (500, "InternalError", "Proposal failed to bind to state.")
    );
}

#[test]
fn every_request_leaves_its_envelope_in_cose_history() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    let after_create = h
        .store
        .get(tables::COSE_HISTORY, MEMBER0.as_bytes())
        .unwrap();
    proposal_of(h.ballot(0, &id, NO));
    let after_ballot = h
        .store
        .get(tables::COSE_HISTORY, MEMBER0.as_bytes())
        .unwrap();
    assert_ne!(after_create, after_ballot);
    proposal_of(h.withdraw(0, &id));
    assert_ne!(
        h.store
            .get(tables::COSE_HISTORY, MEMBER0.as_bytes())
            .unwrap(),
        after_ballot
    );
}

#[test]
fn reads_show_proposals_actions_and_ballots() {
    let mut h = Harness::new(3);
    let id = id_of(h.create(0, PROPOSAL));
    proposal_of(h.ballot(1, &id, YES));
    let mut tx = h.store.begin();
    assert_eq!(get_proposal(&mut tx, &id).unwrap().ballot_count, 1);
    assert_eq!(
        get_proposal_actions(&mut tx, &id).unwrap(),
        PROPOSAL.as_bytes()
    );
    assert_eq!(get_ballot(&mut tx, &id, MEMBER1).unwrap(), YES);
    let views = list_proposals(&mut tx).unwrap();
    let body: serde_json::Value = serde_json::from_slice(&proposal_list_json(&views)).unwrap();
    assert_eq!(body["value"][0]["proposalId"], id);

    let unknown = "01".repeat(32);
    assert_eq!(
        parts(&get_proposal(&mut tx, &unknown).unwrap_err()),
        (
            404,
            "ProposalNotFound",
            format!("Could not find proposal {unknown}.").as_str()
        )
    );
    assert_eq!(
        get_proposal_actions(&mut tx, &unknown).unwrap_err().code,
        "ProposalNotFound"
    );
    assert_eq!(
        parts(&get_ballot(&mut tx, &unknown, MEMBER1).unwrap_err()),
        (
            404,
            "ProposalNotFound",
            format!("Proposal {unknown} does not exist.").as_str()
        )
    );
    assert_eq!(
        parts(&get_ballot(&mut tx, &id, MEMBER2).unwrap_err()),
        (
            404,
            "VoteNotFound",
            format!("Member {MEMBER2} has not voted for proposal {id}.").as_str()
        )
    );
    assert_eq!(
        get_proposal(&mut tx, "short").unwrap_err().code,
        "InvalidResourceName"
    );
}
