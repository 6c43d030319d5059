//! State digests and acks (spec/ccf-api.md §1.2 "state-digests", §3 "Ack flow"): a member is
//! shown the latest signed root, signs it back, and becomes Active.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use cloister_crypto::Sha256Hash;
use cloister_gov::{AckOutcome, ack, get_state_digest, tables, update_state_digest};
use cloister_kv::Store;
use support::*;

fn root() -> Sha256Hash {
    Sha256Hash([0xab; 32])
}

fn ack_body(n: usize, digest: &str) -> Vec<u8> {
    signed(
        n,
        "ack",
        1,
        None,
        format!(r#"{{"stateDigest":"{digest}"}}"#).as_bytes(),
    )
}

/// Member `n` asks for the latest root as its digest; committed.
fn update(store: &mut Store, n: usize) {
    let mut tx = store.begin();
    let member = auth(
        &mut tx,
        &signed(n, "state_digest", 1, None, b""),
        "state_digest",
        false,
    );
    update_state_digest(&mut tx, &member, IDS[n], Some(&root())).unwrap();
    commit(store, tx);
}

/// Member `n` acks `digest`; committed on success.
fn try_ack(
    store: &mut Store,
    n: usize,
    digest: &str,
) -> Result<AckOutcome, cloister_types::ApiError> {
    let mut tx = store.begin();
    let member = auth(&mut tx, &ack_body(n, digest), "ack", false);
    let outcome = ack(&mut tx, &member, IDS[n]);
    if outcome.is_ok() {
        commit(store, tx);
    } else {
        assert!(!tx.has_writes());
    }
    outcome
}

fn member_info(store: &Store, n: usize) -> serde_json::Value {
    serde_json::from_slice(&store.get(tables::MEMBERS_INFO, IDS[n].as_bytes()).unwrap()).unwrap()
}

#[test]
fn update_then_ack_makes_an_accepted_member_active() {
    let mut store = store();
    add_member(&mut store, 1, "Accepted");
    update(&mut store, 1);
    let shown = get_state_digest(&mut store.begin(), MEMBER1).unwrap();
    assert_eq!(shown.state_digest, root().to_hex());
    assert_eq!(
        String::from_utf8(shown.to_json()).unwrap(),
        format!(
            r#"{{"memberId":"{MEMBER1}","stateDigest":"{}"}}"#,
            root().to_hex()
        )
    );
    let outcome = try_ack(&mut store, 1, &root().to_hex()).unwrap();
    assert_eq!(
        outcome,
        AckOutcome {
            newly_active: true,
            reissue_recovery_shares: false
        }
    );
    assert_eq!(member_info(&store, 1)["status"], "Active");
    // Acking again is allowed, and no longer "newly" active.
    assert!(
        !try_ack(&mut store, 1, &root().to_hex())
            .unwrap()
            .newly_active
    );
}

#[test]
fn ack_of_another_digest_is_a_mismatch() {
    let mut store = store();
    add_member(&mut store, 1, "Accepted");
    update(&mut store, 1);
    let error = try_ack(&mut store, 1, "00").unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "StateDigestMismatch",
            format!(
                "Submitted state digest is not valid.\nExpected\n {}\nReceived\n 00",
                root().to_hex()
            )
            .as_str()
        )
    );
    assert_eq!(member_info(&store, 1)["status"], "Accepted");
}

#[test]
fn ack_needs_an_ack_record_a_digest_field_and_the_signers_path() {
    let mut store = store();
    add_member(&mut store, 1, "Accepted");
    let mut tx = store.begin();
    tx.remove(tables::MEMBERS_ACKS, MEMBER1);
    commit(&mut store, tx);
    let error = try_ack(&mut store, 1, "").unwrap_err();
    assert_eq!(
        parts(&error),
        (
            403,
            "AuthorizationFailed",
            format!("No ACK record exists for member {MEMBER1}.").as_str()
        )
    );

    add_member(&mut store, 2, "Accepted");
    let mut tx = store.begin();
    let member = auth(&mut tx, &signed(2, "ack", 1, None, b"{}"), "ack", false);
    assert_eq!(
        parts(&ack(&mut tx, &member, MEMBER2).unwrap_err()),
        (
            400,
            "InvalidInput",
            "Signed request body is not a JSON object containing required string field \"stateDigest\""
        )
    );
    let error = ack(&mut tx, &member, MEMBER1).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            400,
            "InvalidAuthenticationInfo",
            format!(
                "Member ID from path parameter ({MEMBER1}) does not match member ID from body \
                 signature ({MEMBER2})."
            )
            .as_str()
        )
    );
    assert!(!tx.has_writes());
}

#[test]
fn ack_keeps_member_data_and_drops_the_legacy_signed_request() {
    let mut store = store();
    add_member(&mut store, 1, "Accepted");
    let mut tx = store.begin();
    tx.put(
        tables::MEMBERS_INFO,
        MEMBER1,
        r#"{"member_data":{"name":"m1"},"recovery_role":"Participant","status":"Accepted"}"#,
    );
    tx.put(
        tables::MEMBERS_ACKS,
        MEMBER1,
        r#"{"signed_req":{"md":"NONE"},"state_digest":"aa"}"#,
    );
    commit(&mut store, tx);
    try_ack(&mut store, 1, "aa").unwrap();
    assert_eq!(
        store.get(tables::MEMBERS_INFO, MEMBER1.as_bytes()).unwrap(),
        br#"{"member_data":{"name":"m1"},"recovery_role":"Participant","status":"Active"}"#
    );
    let stored: serde_json::Value =
        serde_json::from_slice(&store.get(tables::MEMBERS_ACKS, MEMBER1.as_bytes()).unwrap())
            .unwrap();
    assert!(stored.get("signed_req").is_none());
    assert_eq!(stored["state_digest"], "aa");
    assert!(stored["cose_sign1_req"].is_string());
}

#[test]
fn a_newly_active_recovery_member_of_an_open_service_needs_new_shares() {
    for (service_status, expected) in [("Open", true), ("Opening", false)] {
        let mut store = store();
        add_member(&mut store, 1, "Accepted");
        let mut tx = store.begin();
        tx.put(tables::MEMBERS_ENCRYPTION_PUBLIC_KEYS, MEMBER1, "RSA PEM");
        tx.put(
            tables::SERVICE_INFO,
            tables::SINGLETON_KEY,
            format!(r#"{{"cert":"","status":"{service_status}"}}"#),
        );
        commit(&mut store, tx);
        let outcome = try_ack(&mut store, 1, "").unwrap();
        assert_eq!(
            outcome.reissue_recovery_shares, expected,
            "{service_status}"
        );
    }
}

#[test]
fn update_needs_a_signature_and_the_signers_path() {
    let mut store = store();
    add_member(&mut store, 1, "Accepted");
    let mut tx = store.begin();
    let member = auth(
        &mut tx,
        &signed(1, "state_digest", 1, None, b""),
        "state_digest",
        false,
    );
    assert_eq!(
        parts(&update_state_digest(&mut tx, &member, MEMBER1, None).unwrap_err()),
        (
            500,
            "InternalError",
            "Service has no signatures to ack yet - try again soon."
        )
    );
    assert_eq!(
        update_state_digest(&mut tx, &member, MEMBER0, Some(&root()))
            .unwrap_err()
            .code,
        "InvalidAuthenticationInfo"
    );
    assert!(!tx.has_writes());
}

#[test]
fn state_digest_of_a_member_without_ack_record_is_not_found() {
    let error = get_state_digest(&mut store().begin(), MEMBER1).unwrap_err();
    assert_eq!(
        parts(&error),
        (
            404,
            "ResourceNotFound",
            format!("No ACK record exists for member {MEMBER1}.").as_str()
        )
    );
}

#[test]
fn ack_of_a_member_without_info_is_an_internal_error() {
    let mut store = store();
    add_member(&mut store, 1, "Accepted");
    let mut tx = store.begin();
    tx.remove(tables::MEMBERS_INFO, MEMBER1);
    commit(&mut store, tx);
    let error = try_ack(&mut store, 1, "").unwrap_err();
    assert_eq!(
        parts(&error),
        (
            500,
            "InternalError",
            format!(
                "Error activating member: Member {MEMBER1} cannot be activated as they do not exist"
            )
            .as_str()
        )
    );
}
