//! Governance requests signed by CCF's own client tool (`ccf_cose_sign1`, tests/data/README.md)
//! with member keys of a real CCF service: they decode, authenticate, and drive a proposal,
//! a ballot, a withdrawal and an ack.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_gov::{GovRequest, ProposalId, ProposalState, tables};
use support::*;

const PROPOSAL0: &[u8] = include_bytes!("data/proposal_member0.cose");
const PROPOSAL1: &[u8] = include_bytes!("data/proposal_member1.cose");
const BALLOT0: &[u8] = include_bytes!("data/ballot_member0.cose");
const WITHDRAWAL0: &[u8] = include_bytes!("data/withdrawal_member0.cose");
const ACK0: &[u8] = include_bytes!("data/ack_member0.cose");
const STATE_DIGEST0: &[u8] = include_bytes!("data/state_digest_member0.cose");

/// From tests/data/vectors.txt, computed with Python's hashlib over the CCF-signed bytes.
const PROPOSAL0_SIGNATURE_SHA256: &str =
    "4321fea36df8ad10f5bef7f8b21a9e12fc49f15daed3e7267b5c79ea1080febc";
const PROPOSAL0_ID: &str = "9c6bc07ced8fa18012a2200d4170818545ac0ea26c55245ff4417b02df5aa6b5";

#[test]
fn ccf_signed_proposal_decodes_to_ccfs_header_fields() {
    let request = GovRequest::parse(PROPOSAL0).unwrap();
    assert_eq!(request.alg, -35); // member0's key is P-384
    assert_eq!(request.kid, MEMBER0.as_bytes());
    assert_eq!(request.msg_type.as_deref(), Some("proposal"));
    assert_eq!(request.created_at, 1_735_689_600); // 2025-01-01T00:00:00Z
    assert_eq!(request.proposal_id, None);
    assert_eq!(
        request.payload,
        br#"{"actions":[{"name":"set_marker","args":{"value":"one"}}]}"#
    );
    assert_eq!(
        request.signature_digest().to_hex(),
        PROPOSAL0_SIGNATURE_SHA256
    );
    assert_eq!(request.envelope, PROPOSAL0);
}

#[test]
fn proposal_id_of_the_ccf_signed_proposal_matches_hashlib() {
    let request = GovRequest::parse(PROPOSAL0).unwrap();
    let id = ProposalId::derive(&vector_root(), &request.signature);
    assert_eq!(id.as_str(), PROPOSAL0_ID);
}

#[test]
fn ballot_and_withdrawal_carry_the_signed_proposal_id() {
    for body in [BALLOT0, WITHDRAWAL0] {
        let request = GovRequest::parse(body).unwrap();
        assert_eq!(request.proposal_id.as_deref(), Some(PROPOSAL0_ID));
    }
    assert!(GovRequest::parse(STATE_DIGEST0).unwrap().payload.is_empty());
}

#[test]
fn every_ccf_signed_request_authenticates_as_member0() {
    let mut store = store();
    add_member(&mut store, 0, "Active");
    let mut tx = store.begin();
    for (body, msg_type) in [
        (PROPOSAL0, "proposal"),
        (BALLOT0, "ballot"),
        (WITHDRAWAL0, "withdrawal"),
        (ACK0, "ack"),
        (STATE_DIGEST0, "state_digest"),
    ] {
        for require_active in [true, false] {
            let member = auth(&mut tx, body, msg_type, require_active);
            assert_eq!(member.member_id.as_str(), MEMBER0, "{msg_type}");
        }
    }
    // Authentication only reads.
    assert!(!tx.has_writes());
}

#[test]
fn a_request_of_a_member_not_in_the_store_is_refused() {
    let mut store = store();
    add_member(&mut store, 0, "Active");
    let mut tx = store.begin();
    let error = cloister_gov::authenticate_member(
        &mut tx,
        Some("application/cose"),
        PROPOSAL1,
        "proposal",
        true,
    )
    .unwrap_err();
    assert_eq!(auth_reason(&error), "Signer is not a known member");
}

#[test]
fn ccf_signed_proposal_and_ballot_reach_acceptance() {
    let mut h = Harness::new(1);
    let view = proposal_of(h.create_body(PROPOSAL0, &vector_root()));
    assert_eq!(view.proposal_id, PROPOSAL0_ID);
    assert_eq!(view.proposal_state, ProposalState::Open);
    assert_eq!(view.proposer_id.as_str(), MEMBER0);
    assert_eq!(
        h.store
            .get(tables::PROPOSALS, PROPOSAL0_ID.as_bytes())
            .unwrap(),
        GovRequest::parse(PROPOSAL0).unwrap().payload
    );
    let replay_key = format!("1735689600:{PROPOSAL0_SIGNATURE_SHA256}");
    assert_eq!(
        h.store
            .get(tables::COSE_RECENT_PROPOSALS, replay_key.as_bytes())
            .unwrap(),
        format!("\"{PROPOSAL0_ID}\"").into_bytes()
    );

    let view = proposal_of(h.ballot_signed(BALLOT0, PROPOSAL0_ID, MEMBER0));
    assert_eq!(view.proposal_state, ProposalState::Accepted);
    assert_eq!(view.ballot_count, 1);
    assert_eq!(h.engine.applied, vec![PROPOSAL0_ID.to_owned()]);
    assert!(h.store.get(MARKER, PROPOSAL0_ID.as_bytes()).is_some());
    assert_eq!(
        h.store
            .get(tables::COSE_HISTORY, MEMBER0.as_bytes())
            .unwrap(),
        format!("\"{}\"", BASE64.encode(BALLOT0)).into_bytes()
    );
}

#[test]
fn ccf_signed_withdrawal_withdraws_the_proposal() {
    let mut h = Harness::new(2);
    proposal_of(h.create_body(PROPOSAL0, &vector_root()));
    let view = proposal_of(h.withdraw_signed(WITHDRAWAL0, PROPOSAL0_ID));
    assert_eq!(view.proposal_state, ProposalState::Withdrawn);
    assert_eq!(
        info(&h.store, PROPOSAL0_ID).unwrap().state,
        ProposalState::Withdrawn
    );
}

#[test]
fn ccf_signed_state_digest_and_ack_activate_an_accepted_member() {
    let mut store = store();
    add_member(&mut store, 0, "Accepted");
    let mut tx = store.begin();
    let member = auth(&mut tx, STATE_DIGEST0, "state_digest", false);
    let digest =
        cloister_gov::update_state_digest(&mut tx, &member, MEMBER0, Some(&vector_root())).unwrap();
    assert_eq!(digest.member_id, MEMBER0);
    assert_eq!(digest.state_digest, vector_root().to_hex());
    commit(&mut store, tx);

    let mut tx = store.begin();
    let member = auth(&mut tx, ACK0, "ack", false);
    let outcome = cloister_gov::ack(&mut tx, &member, MEMBER0).unwrap();
    assert!(outcome.newly_active);
    assert!(!outcome.reissue_recovery_shares); // no encryption key
    commit(&mut store, tx);
    assert_eq!(
        store.get(tables::MEMBERS_INFO, MEMBER0.as_bytes()).unwrap(),
        br#"{"status":"Active"}"#
    );
    let ack: serde_json::Value =
        serde_json::from_slice(&store.get(tables::MEMBERS_ACKS, MEMBER0.as_bytes()).unwrap())
            .unwrap();
    assert_eq!(ack["cose_sign1_req"], BASE64.encode(ACK0));
    assert_eq!(ack["state_digest"], vector_root().to_hex());
}

/// Envelopes a real CCF node stored in testdata/ccf6/eol_service (extracted with CCF's
/// `ccf.ledger`, tests/data/README.md): `cose_history` at seqnos 99 and 100, and
/// `members.acks[member0].cose_sign1_req` at seqno 171.
const EOL_PROPOSAL_MEMBER2: &[u8] = include_bytes!("data/eol_seqno99_proposal_member2.cose");
const EOL_BALLOT_MEMBER1: &[u8] = include_bytes!("data/eol_seqno100_ballot_member1.cose");
const EOL_ACK_MEMBER0: &[u8] = include_bytes!("data/eol_seqno171_ack_member0.cose");
/// The `cose_recent_proposals` key CCF wrote at seqno 99, and its value.
const EOL_REPLAY_KEY: &str =
    "1739809435:0aff5f3e46eb704f38753b0d358b85ab0dbde78440cf7bc0cff669d53d4ee1e7";
const EOL_PROPOSAL_ID: &str = "272b37dbdc54785b8508b055bba11741113a52796566b361b9e90a550b0fd696";
/// `members.acks[member0].state_digest` when member0 acked at seqno 171.
const EOL_ACKED_DIGEST: &str = "61e7ef601c7f9a2e0f617a7263d12f07fe2f8840f6fe2f25d0d7c6ac45853287";

#[test]
fn envelopes_stored_by_a_real_ccf_node_authenticate_as_their_members() {
    let mut store = store();
    for n in 0..3 {
        add_member(&mut store, n, "Active");
    }
    let mut tx = store.begin();
    let proposal = auth(&mut tx, EOL_PROPOSAL_MEMBER2, "proposal", true);
    assert_eq!(proposal.member_id.as_str(), MEMBER2);
    let ballot = auth(&mut tx, EOL_BALLOT_MEMBER1, "ballot", true);
    assert_eq!(ballot.member_id.as_str(), MEMBER1);
    assert_eq!(ballot.request.proposal_id.as_deref(), Some(EOL_PROPOSAL_ID));
    let ack = auth(&mut tx, EOL_ACK_MEMBER0, "ack", false);
    assert_eq!(ack.member_id.as_str(), MEMBER0);
}

#[test]
fn replay_key_of_a_real_proposal_is_the_one_ccf_wrote() {
    let request = GovRequest::parse(EOL_PROPOSAL_MEMBER2).unwrap();
    let created_at = cloister_gov::created_at_text(request.created_at).unwrap();
    assert_eq!(
        cloister_gov::replay_key(&created_at, &request.signature_digest()),
        EOL_REPLAY_KEY
    );
}

#[test]
fn acking_with_a_real_envelope_stores_the_record_ccf_stored() {
    let mut store = store();
    add_member(&mut store, 0, "Accepted");
    let mut tx = store.begin();
    tx.put(
        tables::MEMBERS_ACKS,
        MEMBER0,
        format!(r#"{{"state_digest":"{EOL_ACKED_DIGEST}"}}"#),
    );
    commit(&mut store, tx);
    let mut tx = store.begin();
    let member = auth(&mut tx, EOL_ACK_MEMBER0, "ack", false);
    cloister_gov::ack(&mut tx, &member, MEMBER0).unwrap();
    commit(&mut store, tx);
    // members.acks[member0] at seqno 171 of eol_service, as CCF wrote it.
    assert_eq!(
        String::from_utf8(store.get(tables::MEMBERS_ACKS, MEMBER0.as_bytes()).unwrap()).unwrap(),
        format!(
            r#"{{"cose_sign1_req":"{}","state_digest":"{EOL_ACKED_DIGEST}"}}"#,
            BASE64.encode(EOL_ACK_MEMBER0)
        )
    );
}
