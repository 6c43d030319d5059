//! Security of member authentication (TESTING.md "Security probes": COSE with another key,
//! altered payload, wrong alg, missing created_at, unknown msg.type): each request is refused
//! with CCF's answer, and nothing changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use ciborium::Value;
use cloister_crypto::cose::Sign1;
use cloister_gov::{authenticate_member, tables};
use cloister_types::ApiError;
use proptest::prelude::*;
use support::*;

const PROPOSAL0: &[u8] = include_bytes!("data/proposal_member0.cose");
const PROPOSAL1: &[u8] = include_bytes!("data/proposal_member1.cose");

/// Authenticates `body` for a proposal (Active members) against a service where only member 0
/// is known, and checks that the attempt wrote nothing.
fn refuse(body: &[u8], content_type: Option<&str>) -> ApiError {
    let mut h = Harness::new(1);
    let mut tx = h.store.begin();
    let error = authenticate_member(&mut tx, content_type, body, "proposal", true).unwrap_err();
    assert!(!tx.has_writes());
    // And the same body, submitted in full, creates nothing.
    if content_type == cose() {
        assert!(h.create_body(body, &vector_root()).is_err());
    }
    assert_eq!(count(&h.store, tables::PROPOSALS), 0);
    assert_eq!(count(&h.store, tables::COSE_RECENT_PROPOSALS), 0);
    error
}

fn cose() -> Option<&'static str> {
    Some("application/cose")
}

#[test]
fn signer_who_is_not_a_member_is_refused() {
    let error = refuse(PROPOSAL1, cose());
    assert_eq!(auth_reason(&error), "Signer is not a known member");
    assert_eq!(
        error.details[0].auth_policy.as_deref(),
        Some("active_member_cose_sign1")
    );
}

#[test]
fn altered_payload_fails_signature_verification() {
    let mut message = Sign1::parse(PROPOSAL0).unwrap();
    message.payload =
        Some(br#"{"actions":[{"name":"set_marker","args":{"value":"two"}}]}"#.to_vec());
    let error = refuse(&message.encode().unwrap(), cose());
    assert_eq!(auth_reason(&error), "Failed to validate COSE Sign1");
}

#[test]
fn signature_by_another_key_under_a_members_kid_is_refused() {
    // Member 1's key signs a request that names member 0.
    let mut header = ccf_header(-35, 0, "proposal");
    header[1].1 = Value::Bytes(MEMBER0.as_bytes().to_vec());
    let body = signed_with_header(1, header, br#"{"actions":[]}"#);
    assert_eq!(
        auth_reason(&refuse(&body, cose())),
        "Failed to validate COSE Sign1"
    );
}

#[test]
fn es256_header_on_a_p384_member_key_is_refused() {
    let body = signed_with_header(0, ccf_header(-7, 0, "proposal"), br#"{"actions":[]}"#);
    assert_eq!(
        auth_reason(&refuse(&body, cose())),
        "Failed to validate COSE Sign1"
    );
    // The same request with the right alg passes: only alg made the difference.
    let good = signed_with_header(0, ccf_header(-35, 0, "proposal"), br#"{"actions":[]}"#);
    let h = Harness::new(1);
    auth(&mut h.store.begin(), &good, "proposal", true);
}

#[test]
fn non_ecdsa_algorithms_are_unsupported() {
    for alg in [-257, -8, 1] {
        let body = signed_with_header(0, ccf_header(alg, 0, "proposal"), b"{}");
        assert_eq!(
            auth_reason(&refuse(&body, cose())),
            format!("Unsupported algorithm: {alg}")
        );
    }
}

#[test]
fn missing_created_at_is_ccfs_decode_error() {
    let mut header = ccf_header(-35, 0, "proposal");
    header.pop();
    let error = refuse(&signed_with_header(0, header, b"{}"), cose());
    assert_eq!(
        parts(&error),
        (
            500,
            "InternalError",
            "Missing created_at in protected header"
        )
    );
    assert!(error.details.is_empty());
}

#[test]
fn unknown_or_missing_msg_type_is_refused() {
    let error = refuse(&signed(0, "bogus", 1, None, b"{}"), cose());
    assert_eq!(
        auth_reason(&error),
        "Found ccf.gov.msg.type set to bogus, expected ccf.gov.msg.type to be proposal"
    );
    // A valid type for another endpoint is just as wrong.
    let error = refuse(&signed(0, "ballot", 1, None, b"{}"), cose());
    assert_eq!(
        auth_reason(&error),
        "Found ccf.gov.msg.type set to ballot, expected ccf.gov.msg.type to be proposal"
    );
    let mut header = ccf_header(-35, 0, "proposal");
    header.remove(2);
    let error = refuse(&signed_with_header(0, header, b"{}"), cose());
    assert_eq!(
        auth_reason(&error),
        "Missing ccf.gov.msg.type, expected ccf.gov.msg.type to be proposal"
    );
}

#[test]
fn content_type_must_be_exactly_application_cose() {
    assert_eq!(
        auth_reason(&refuse(PROPOSAL0, None)),
        "Missing content-type header"
    );
    for other in [
        "application/json",
        "application/cose; charset=utf-8",
        "APPLICATION/COSE",
    ] {
        assert_eq!(
            auth_reason(&refuse(PROPOSAL0, Some(other))),
            "Content type is not set to application/cose"
        );
    }
}

#[test]
fn accepted_member_may_ack_but_not_propose() {
    let mut store = store();
    add_member(&mut store, 0, "Accepted");
    let mut tx = store.begin();
    let error = authenticate_member(&mut tx, cose(), PROPOSAL0, "proposal", true).unwrap_err();
    assert_eq!(auth_reason(&error), "Signer is not an ACTIVE member");
    // The any-member policy (acks, state digests) admits it.
    assert_eq!(
        auth(&mut tx, PROPOSAL0, "proposal", false)
            .member_id
            .as_str(),
        MEMBER0
    );
    // And names itself in its refusals.
    let error = authenticate_member(&mut tx, cose(), PROPOSAL1, "proposal", false).unwrap_err();
    assert_eq!(
        error.details[0].auth_policy.as_deref(),
        Some("member_cose_sign1")
    );
    assert!(!tx.has_writes());
}

#[test]
fn member_without_info_is_not_active() {
    let mut store = store();
    let mut tx = store.begin();
    tx.put(tables::MEMBERS_CERTS, MEMBER0, CERTS[0]);
    commit(&mut store, tx);
    let error =
        authenticate_member(&mut store.begin(), cose(), PROPOSAL0, "proposal", true).unwrap_err();
    assert_eq!(auth_reason(&error), "Signer is not an ACTIVE member");
}

#[test]
fn a_stored_certificate_that_is_not_one_is_an_internal_error() {
    let mut store = store();
    let mut tx = store.begin();
    tx.put(tables::MEMBERS_CERTS, MEMBER0, "not a certificate");
    commit(&mut store, tx);
    let error =
        authenticate_member(&mut store.begin(), cose(), PROPOSAL0, "proposal", true).unwrap_err();
    assert_eq!((error.status, error.code.as_str()), (500, "InternalError"));
}

#[test]
fn untagged_envelope_is_ccfs_decode_error() {
    let error = refuse(&PROPOSAL0[1..], cose());
    assert_eq!(
        parts(&error),
        (500, "InternalError", "COSE_Sign1 is not tagged")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// No single-byte change to a valid request yields a request that authenticates with a
    /// different payload or header, and nothing panics.
    #[test]
    fn mutated_requests_never_authenticate_as_something_else(at: usize, byte: u8) {
        let mut store = store();
        add_member(&mut store, 0, "Active");
        let mut body = PROPOSAL0.to_vec();
        let at = at % body.len();
        body[at] = byte;
        let mut tx = store.begin();
        if let Ok(member) = authenticate_member(&mut tx, cose(), &body, "proposal", true) {
            let original = cloister_gov::GovRequest::parse(PROPOSAL0).unwrap();
            prop_assert_eq!(member.request.payload, original.payload);
            prop_assert_eq!(member.request.created_at, original.created_at);
            prop_assert_eq!(member.request.kid, original.kid);
        }
    }

    #[test]
    fn random_bodies_never_authenticate(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut store = store();
        add_member(&mut store, 0, "Active");
        prop_assert!(authenticate_member(&mut store.begin(), cose(), &body, "proposal", true).is_err());
    }
}
