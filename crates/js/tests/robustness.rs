//! No input makes the engine panic, and bytes cross between JavaScript and the store unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use cloister_gov::ConstitutionEngine;
use cloister_js::{DEFAULT_CONSTITUTION, QuickJsConstitution};
use common::*;
use proptest::prelude::*;
use serde_json::json;

/// apply() stores args.k → args.v (byte arrays) and checks that reading it back gives them.
const ROUND_TRIP: &str = "export function validate(input) { return { valid: true, description: '' }; }\n\
    export function resolve(p, q, v) { return 'Open'; }\n\
    export function apply(proposal, id) {\n\
      const args = JSON.parse(proposal);\n\
      const k = new Uint8Array(args.k).buffer, v = new Uint8Array(args.v).buffer;\n\
      const t = ccf.kv['public:ccf.gov.bytes'];\n\
      t.set(k, v);\n\
      const back = Array.from(new Uint8Array(t.get(k)));\n\
      if (JSON.stringify(back) !== JSON.stringify(args.v)) throw new Error('changed: ' + back);\n\
      const digest = ccf.crypto.digest('SHA-256', v);\n\
      t.set(ccf.strToBuf('digest'), digest);\n\
    }\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_proposal_text_gets_an_answer(text in ".{0,200}") {
        let store = gov_store(1, "Open");
        let mut tx = store.begin();
        let answer = QuickJsConstitution::new().validate(&mut tx, DEFAULT_CONSTITUTION, &text);
        if let Ok(validation) = answer {
            // Only well-formed proposals of known actions can be valid.
            prop_assert!(!validation.valid || text.contains("actions"));
        }
    }

    #[test]
    fn any_ballot_source_gets_an_answer(source in "(export |function |vote|return |[(){};=+]|true|'x'| ){0,40}") {
        let store = gov_store(1, "Open");
        let mut tx = store.begin();
        let _ = QuickJsConstitution::new().vote(&mut tx, &source, "{}", MEMBER0_ID);
        prop_assert!(!tx.has_writes());
    }

    #[test]
    fn bytes_cross_into_and_out_of_the_store_unchanged(
        key in proptest::collection::vec(any::<u8>(), 1..40),
        value in proptest::collection::vec(any::<u8>(), 0..5000),
    ) {
        let store = gov_store(1, "Open");
        let mut tx = store.begin();
        let proposal = json!({"k": key, "v": value}).to_string();
        let mut actions = Vec::new();
        QuickJsConstitution::new()
            .apply(&mut tx, ROUND_TRIP, &proposal, "p", &mut FakeHost::default(), &mut actions)
            .unwrap();
        prop_assert_eq!(tx.get("public:ccf.gov.bytes", &key).unwrap(), value.clone());
        let digest = tx.get("public:ccf.gov.bytes", b"digest").unwrap();
        prop_assert_eq!(digest, cloister_crypto::sha256(&value).as_bytes().to_vec());
    }
}
