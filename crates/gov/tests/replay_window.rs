//! The replay window of proposal submissions (spec/ccf-api.md §3): a signed proposal is
//! admitted once; one signed before the median of the window is too old; the window keeps the
//! configured number of keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::ops::Bound;

use cloister_crypto::sha256;
use cloister_gov::{GovRequest, ProposalOutcome, tables};
use support::*;

const PROPOSAL: &str = r#"{"actions":[]}"#;

/// Member 0 proposes, signed at `created_at`, against a fresh root.
fn propose_at(
    h: &mut Harness,
    created_at: u64,
) -> Result<ProposalOutcome, cloister_types::ApiError> {
    let body = signed(0, "proposal", created_at, None, PROPOSAL.as_bytes());
    let root = h.next_root();
    h.create_body(&body, &root)
}

fn window_keys(h: &Harness) -> Vec<String> {
    h.store
        .begin()
        .range(
            tables::COSE_RECENT_PROPOSALS,
            Bound::Unbounded,
            Bound::Unbounded,
            usize::MAX,
        )
        .into_iter()
        .map(|(k, _)| String::from_utf8(k).unwrap())
        .collect()
}

fn set_window_size(h: &mut Harness, size: u64) {
    let mut tx = h.store.begin();
    tx.put(
        tables::SERVICE_CONFIG,
        tables::SINGLETON_KEY,
        format!(r#"{{"consensus":"CFT","recent_cose_proposals_window_size":{size},"recovery_threshold":1}}"#),
    );
    commit(&mut h.store, tx);
}

#[test]
fn the_same_signed_proposal_twice_is_a_replay() {
    // Three Active members: the proposals stay Open.
    let mut h = Harness::new(3);
    let body = signed(0, "proposal", 1_800_000_000, None, PROPOSAL.as_bytes());
    let root = h.next_root();
    let first = proposal_of(h.create_body(&body, &root));
    // Later, at another root (the state moved on), the same bytes come again.
    let root = h.next_root();
    let error = h.create_body(&body, &root).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "ProposalReplay",
            format!(
                "Proposal submission replay, already exists as proposal {}",
                first.proposal_id
            )
            .as_str()
        )
    );
    assert!(!h.dropped_tx_had_writes);
    assert_eq!(count(&h.store, tables::PROPOSALS), 1);
}

#[test]
fn the_same_signed_proposal_at_the_same_root_is_an_id_collision() {
    let mut h = Harness::new(3);
    let body = signed(0, "proposal", 1_800_000_000, None, PROPOSAL.as_bytes());
    proposal_of(h.create_body(&body, &vector_root()));
    let error = h.create_body(&body, &vector_root()).unwrap_err();
    assert_eq!(
        parts(&error),
        (500, "InternalError", "Proposal ID collision.")
    );
}

#[test]
fn window_key_is_padded_created_at_and_signature_digest_with_the_id_as_value() {
    let mut h = Harness::new(3);
    let body = signed(0, "proposal", 42, None, PROPOSAL.as_bytes());
    let view = proposal_of(h.create_body(&body, &vector_root()));
    let request = GovRequest::parse(&body).unwrap();
    let key = format!("0000000042:{}", sha256(&request.signature).to_hex());
    assert_eq!(window_keys(&h), vec![key.clone()]);
    assert_eq!(
        h.store
            .get(tables::COSE_RECENT_PROPOSALS, key.as_bytes())
            .unwrap(),
        format!("\"{}\"", view.proposal_id).into_bytes()
    );
}

#[test]
fn a_proposal_signed_before_the_median_is_too_old() {
    let mut h = Harness::new(3);
    for created_at in [100, 200, 300, 400] {
        proposal_of(propose_at(&mut h, created_at));
    }
    // Sorted keys 100, 200, 300, 400: the median (index 2) is 300.
    let error = propose_at(&mut h, 299).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "ProposalCreatedTooLongAgo",
            "Proposal created too long ago, created_at must be greater than 0000000300"
        )
    );
    assert!(!h.dropped_tx_had_writes);
    assert_eq!(window_keys(&h).len(), 4);
    // Equal to the median is not below it; newer than the newest is fine.
    proposal_of(propose_at(&mut h, 300));
    proposal_of(propose_at(&mut h, 500));
}

#[test]
fn created_at_beyond_ten_digits_is_refused_before_the_window() {
    let mut h = Harness::new(3);
    let error = propose_at(&mut h, 10_000_000_000).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "InvalidCreatedAt",
            "Header parameter created_at value is too large"
        )
    );
    assert!(!h.dropped_tx_had_writes);
    proposal_of(propose_at(&mut h, 9_999_999_999));
}

#[test]
fn the_window_keeps_the_configured_number_of_newest_keys() {
    let mut h = Harness::new(3);
    set_window_size(&mut h, 3);
    for created_at in 1..=5 {
        proposal_of(propose_at(&mut h, created_at));
    }
    let stamps: Vec<String> = window_keys(&h).iter().map(|k| k[..10].to_owned()).collect();
    assert_eq!(stamps, ["0000000003", "0000000004", "0000000005"]);
    // An evicted request can come back only if it is not older than the median.
    assert_eq!(
        propose_at(&mut h, 2).unwrap_err().code,
        "ProposalCreatedTooLongAgo"
    );
}

#[test]
fn a_window_of_one_keeps_only_the_last_key() {
    let mut h = Harness::new(3);
    set_window_size(&mut h, 1);
    for created_at in [10, 20, 30] {
        proposal_of(propose_at(&mut h, created_at));
    }
    assert_eq!(window_keys(&h).len(), 1);
    assert!(window_keys(&h)[0].starts_with("0000000030:"));
}

#[test]
fn the_default_window_is_one_hundred() {
    let mut h = Harness::new(3);
    for created_at in 1..=101 {
        proposal_of(propose_at(&mut h, created_at));
    }
    let keys = window_keys(&h);
    assert_eq!(keys.len(), 100);
    assert!(keys[0].starts_with("0000000002:"));
}
