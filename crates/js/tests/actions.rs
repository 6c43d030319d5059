//! The default constitution, action by action: validate accepts good arguments and refuses bad
//! ones with CCF's message; apply writes CCF's table encodings (spec/ccf-api.md §4, §5).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use cloister_gov::NodeAction;
use cloister_js::DEFAULT_CONSTITUTION;
use common::*;
use serde_json::json;

fn member_cert(i: usize) -> String {
    testdata(&format!("member{i}_cert.pem"))
}

fn member_id(i: usize) -> String {
    cloister_crypto::Certificate::from_pem(&member_cert(i))
        .unwrap()
        .member_id()
        .as_str()
        .to_owned()
}

// -- validate() itself --------------------------------------------------------------------------

#[test]
fn unknown_actions_are_named_and_problems_joined_with_commas() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let two = json!({"actions": [
        {"name": "no_such_action", "args": {}},
        {"name": "set_recovery_threshold", "args": {"recovery_threshold": 0}},
    ]})
    .to_string();
    let answer = validate(&mut tx, &two);
    assert!(!answer.valid);
    assert!(answer.description.starts_with(
        "no_such_action: no such action, set_recovery_threshold at position 1 failed \
         validation: Error: threshold must be greater than 1\n"
    ));
}

// -- set_constitution ---------------------------------------------------------------------------

#[test]
fn set_constitution_accepts_the_default_and_refuses_a_two_parameter_resolve() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_valid(
        &mut tx,
        &proposal(
            "set_constitution",
            json!({"constitution": DEFAULT_CONSTITUTION}),
        ),
    );
    let bad = "export function validate(i) {}\n\
               export function resolve(p, q) {}\n\
               export function apply(p, i) {}\n";
    assert_refused(
        &mut tx,
        &proposal("set_constitution", json!({"constitution": bad})),
        "set_constitution at position 0 failed validation: TypeError: Constitution function \
         resolve must declare 3 or 4 parameters, but declares 2",
    );
    assert_refused(
        &mut tx,
        &proposal("set_constitution", json!({"constitution": 7})),
        "set_constitution at position 0 failed validation: Error: constitution must be of type \
         string but is number",
    );
}

#[test]
fn set_constitution_writes_json_text_and_drops_other_open_proposals() {
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let info = |state: &str| {
        format!(r#"{{"ballots":{{}},"proposer_id":"{MEMBER0_ID}","state":"{state}"}}"#)
    };
    tx.put(PROPOSALS_INFO, b"p0".to_vec(), info("Open").into_bytes());
    tx.put(PROPOSALS_INFO, b"p1".to_vec(), info("Open").into_bytes());
    tx.put(
        PROPOSALS_INFO,
        b"p2".to_vec(),
        info("Accepted").into_bytes(),
    );
    commit(&mut store, tx);
    let mut tx = store.begin();
    apply(
        &mut tx,
        &proposal(
            "set_constitution",
            json!({"constitution": "export function x() {}"}),
        ),
    )
    .unwrap();
    assert_eq!(
        tx.get("public:ccf.gov.constitution", &SINGLETON).unwrap(),
        br#""export function x() {}""#
    );
    assert_eq!(
        tx.get(PROPOSALS_INFO, b"p0").unwrap(),
        info("Dropped").into_bytes()
    );
    assert_eq!(
        tx.get(PROPOSALS_INFO, b"p1").unwrap(),
        info("Open").into_bytes()
    );
    assert_eq!(
        tx.get(PROPOSALS_INFO, b"p2").unwrap(),
        info("Accepted").into_bytes()
    );
}

// -- members ------------------------------------------------------------------------------------

#[test]
fn set_member_validation() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let cert = member_cert(1);
    let enc = testdata("member1_enc_pubk.pem");
    assert_valid(&mut tx, &proposal("set_member", json!({"cert": cert})));
    assert_valid(
        &mut tx,
        &proposal(
            "set_member",
            json!({"cert": cert, "encryption_pub_key": enc, "member_data": {"a": 1}, "recovery_role": "Owner"}),
        ),
    );
    assert_refused(
        &mut tx,
        &proposal("set_member", json!({"cert": "not a cert"})),
        "set_member at position 0 failed validation: Error: cert must be a valid X509 \
         certificate (bundle) in PEM format",
    );
    assert_refused(
        &mut tx,
        &proposal("set_member", json!({"cert": cert, "member_data": "x"})),
        "set_member at position 0 failed validation: Error: member_data must be of type object \
         but is string",
    );
    assert_refused(
        &mut tx,
        &proposal(
            "set_member",
            json!({"cert": cert, "recovery_role": "Participant"}),
        ),
        "set_member at position 0 failed validation: Error: recovery_role requires an \
         encryption_pub_key",
    );
}

#[test]
fn set_member_writes_ccf_encodings() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let cert = member_cert(1);
    let id = member_id(1);
    apply(&mut tx, &proposal("set_member", json!({"cert": cert}))).unwrap();
    assert_eq!(
        tx.get(MEMBERS_CERTS, id.as_bytes()).unwrap(),
        cert.as_bytes()
    );
    assert_eq!(
        tx.get(MEMBERS_INFO, id.as_bytes()).unwrap(),
        br#"{"status":"Accepted"}"#
    );
    assert_eq!(
        tx.get(MEMBERS_ACKS, id.as_bytes()).unwrap(),
        br#"{"state_digest":""}"#
    );
    assert_eq!(tx.get(MEMBERS_ENC_KEYS, id.as_bytes()), None);
}

#[test]
fn set_member_with_key_and_data_acks_the_latest_signed_root() {
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let root = "ab".repeat(32);
    let signature = json!({"root": root, "seqno": 5, "view": 2}).to_string();
    tx.put(SIGNATURES, SINGLETON.to_vec(), signature.into_bytes());
    commit(&mut store, tx);
    let mut tx = store.begin();
    let enc = testdata("member1_enc_pubk.pem");
    let args = json!({
        "cert": member_cert(1), "encryption_pub_key": enc,
        "member_data": {"name": "m1"}, "recovery_role": "Participant",
    });
    apply(&mut tx, &proposal("set_member", args)).unwrap();
    let id = member_id(1);
    assert_eq!(
        tx.get(MEMBERS_INFO, id.as_bytes()).unwrap(),
        br#"{"member_data":{"name":"m1"},"recovery_role":"Participant","status":"Accepted"}"#
    );
    assert_eq!(
        tx.get(MEMBERS_ENC_KEYS, id.as_bytes()).unwrap(),
        enc.as_bytes()
    );
    assert_eq!(
        tx.get(MEMBERS_ACKS, id.as_bytes()).unwrap(),
        format!(r#"{{"state_digest":"{root}"}}"#).into_bytes()
    );
}

#[test]
fn remove_member_validation_checks_the_id() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_valid(
        &mut tx,
        &proposal("remove_member", json!({"member_id": MEMBER0_ID})),
    );
    assert_refused(
        &mut tx,
        &proposal("remove_member", json!({"member_id": "abc"})),
        "remove_member at position 0 failed validation: Error: member_id must contain exactly \
         64 characters",
    );
    assert_refused(
        &mut tx,
        &proposal("remove_member", json!({"member_id": "z".repeat(64)})),
        "remove_member at position 0 failed validation: Error: member_id contains \
         non-hexadecimal character",
    );
}

#[test]
fn remove_member_keeps_enough_recovery_members_and_rekeys() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let failure = apply(
        &mut tx,
        &proposal("remove_member", json!({"member_id": MEMBER0_ID})),
    )
    .unwrap_err();
    assert_eq!(
        failure.reason,
        "Error: Number of active recovery members (0) would be less than recovery threshold (1)"
    );

    let store = gov_store(2, "Open");
    let mut tx = store.begin();
    let actions = apply(
        &mut tx,
        &proposal("remove_member", json!({"member_id": MEMBER0_ID})),
    )
    .unwrap();
    assert_eq!(actions, vec![NodeAction::TriggerLedgerRekey]);
    for table in [MEMBERS_INFO, MEMBERS_CERTS, MEMBERS_ENC_KEYS] {
        assert_eq!(tx.get(table, MEMBER0_ID.as_bytes()), None, "{table}");
    }
    // Removing an unknown member is a no-op.
    let absent = "0".repeat(64);
    assert_eq!(
        apply(
            &mut tx,
            &proposal("remove_member", json!({"member_id": absent}))
        ),
        Ok(vec![])
    );
}

#[test]
fn set_member_data_replaces_the_data_of_an_existing_member() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_refused(
        &mut tx,
        &proposal(
            "set_member_data",
            json!({"member_id": MEMBER0_ID, "member_data": 3}),
        ),
        "set_member_data at position 0 failed validation: Error: member_data must be of type \
         object but is number",
    );
    let args = json!({"member_id": MEMBER0_ID, "member_data": {"role": "ops"}});
    apply(&mut tx, &proposal("set_member_data", args)).unwrap();
    assert_eq!(
        tx.get(MEMBERS_INFO, MEMBER0_ID.as_bytes()).unwrap(),
        br#"{"status":"Active","member_data":{"role":"ops"}}"#
    );
    let missing = json!({"member_id": "1".repeat(64), "member_data": {}});
    let failure = apply(&mut tx, &proposal("set_member_data", missing)).unwrap_err();
    assert_eq!(
        failure.reason,
        format!("Error: Member {} does not exist", "1".repeat(64))
    );
}

// -- users --------------------------------------------------------------------------------------

/// eol_service's ledger records user0 under this id (sha256 of the certificate's DER).
const USER0_ID: &str = "b01fd09b65a5641893e12e7e58ed77b5bc823141e2708a395630136bc33cb39e";
const USERS_CERTS: &str = "public:ccf.gov.users.certs";
const USERS_INFO: &str = "public:ccf.gov.users.info";

#[test]
fn set_user_writes_the_raw_pem_under_the_ccf_user_id() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let cert = testdata("user0_cert.pem");
    assert_refused(
        &mut tx,
        &proposal("set_user", json!({"cert": cert, "user_data": 1})),
        "set_user at position 0 failed validation: Error: user_data must be of type object but \
         is number",
    );
    apply(
        &mut tx,
        &proposal("set_user", json!({"cert": cert, "user_data": {"x": [1]}})),
    )
    .unwrap();
    assert_eq!(
        tx.get(USERS_CERTS, USER0_ID.as_bytes()).unwrap(),
        cert.as_bytes()
    );
    assert_eq!(
        tx.get(USERS_INFO, USER0_ID.as_bytes()).unwrap(),
        br#"{"user_data":{"x":[1]}}"#
    );

    apply(
        &mut tx,
        &proposal("set_user_data", json!({"user_id": USER0_ID})),
    )
    .unwrap();
    assert_eq!(tx.get(USERS_INFO, USER0_ID.as_bytes()), None);
    apply(
        &mut tx,
        &proposal(
            "set_user_data",
            json!({"user_id": USER0_ID, "user_data": {}}),
        ),
    )
    .unwrap();
    assert_eq!(
        tx.get(USERS_INFO, USER0_ID.as_bytes()).unwrap(),
        br#"{"user_data":{}}"#
    );

    apply(
        &mut tx,
        &proposal("remove_user", json!({"user_id": USER0_ID})),
    )
    .unwrap();
    assert_eq!(tx.get(USERS_CERTS, USER0_ID.as_bytes()), None);
    assert_eq!(tx.get(USERS_INFO, USER0_ID.as_bytes()), None);
    assert_refused(
        &mut tx,
        &proposal("remove_user", json!({"user_id": 5})),
        "remove_user at position 0 failed validation: Error: user_id must be of type string but \
         is number",
    );
}

// -- service ------------------------------------------------------------------------------------

#[test]
fn set_recovery_threshold_bounds_and_effects() {
    let store = gov_store(2, "Open");
    let mut tx = store.begin();
    let threshold = |value: serde_json::Value| {
        proposal(
            "set_recovery_threshold",
            json!({"recovery_threshold": value}),
        )
    };
    assert_valid(&mut tx, &threshold(json!(254)));
    assert_refused(
        &mut tx,
        &threshold(json!(255)),
        "set_recovery_threshold at position 0 failed validation: Error: threshold must be lower than 254",
    );
    assert_refused(
        &mut tx,
        &threshold(json!(1.5)),
        "set_recovery_threshold at position 0 failed validation: Error: threshold must be an integer",
    );

    let failure = apply(&mut tx, &threshold(json!(3))).unwrap_err();
    assert_eq!(
        failure.reason,
        "Error: Cannot set recovery threshold to 3: recovery threshold would be greater than the \
         number of recovery members 2"
    );
    assert_eq!(
        apply(&mut tx, &threshold(json!(2))),
        Ok(vec![NodeAction::TriggerRecoverySharesRefresh])
    );
    assert_eq!(
        tx.get(SERVICE_CONFIG, &SINGLETON).unwrap(),
        br#"{"consensus":"CFT","recovery_threshold":2}"#
    );
    // An unchanged threshold needs no new shares.
    assert_eq!(apply(&mut tx, &threshold(json!(2))), Ok(vec![]));
}

#[test]
fn set_recovery_threshold_is_refused_while_waiting_for_shares() {
    let store = gov_store(2, "WaitingForRecoveryShares");
    let mut tx = store.begin();
    let failure = apply(
        &mut tx,
        &proposal("set_recovery_threshold", json!({"recovery_threshold": 2})),
    )
    .unwrap_err();
    assert_eq!(
        failure.reason,
        "Error: Cannot set recovery threshold if service is WaitingForRecoveryShares"
    );
}

#[test]
fn set_service_configuration_accepts_only_three_keys() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_refused(
        &mut tx,
        &proposal("set_service_configuration", json!({"consensus": "BFT"})),
        "set_service_configuration at position 0 failed validation: Error: Cannot change \
         consensus via set_service_configuration.",
    );
    assert_refused(
        &mut tx,
        &proposal(
            "set_service_configuration",
            json!({"recent_cose_proposals_window_size": 0}),
        ),
        "set_service_configuration at position 0 failed validation: Error: recent cose proposals \
         window size must be greater than 1",
    );
    let args =
        json!({"recent_cose_proposals_window_size": 10, "reconfiguration_type": "TwoTransaction"});
    assert_valid(
        &mut tx,
        &proposal("set_service_configuration", args.clone()),
    );
    assert_eq!(
        apply(&mut tx, &proposal("set_service_configuration", args)),
        Ok(vec![])
    );
    assert_eq!(
        get_json(&mut tx, SERVICE_CONFIG, &SINGLETON).unwrap(),
        json!({"consensus": "CFT", "recovery_threshold": 1,
               "reconfiguration_type": "TwoTransaction", "recent_cose_proposals_window_size": 10})
    );
    let back = json!({"reconfiguration_type": "OneTransaction"});
    let failure = apply(&mut tx, &proposal("set_service_configuration", back)).unwrap_err();
    assert_eq!(
        failure.reason,
        "Error: Cannot change reconfiguration type from TwoTransaction to OneTransaction."
    );
}

#[test]
fn transition_service_to_open_asks_the_node() {
    let store = gov_store(1, "Opening");
    let mut tx = store.begin();
    let service_cert = testdata("service_cert.pem");
    assert_refused(
        &mut tx,
        &proposal("transition_service_to_open", json!({})),
        "transition_service_to_open at position 0 failed validation: Error: next service \
         identity (PEM certificate) must be of type string but is undefined",
    );
    let args = json!({"next_service_identity": service_cert});
    assert_valid(
        &mut tx,
        &proposal("transition_service_to_open", args.clone()),
    );
    assert_eq!(
        apply(&mut tx, &proposal("transition_service_to_open", args)),
        Ok(vec![NodeAction::TransitionServiceToOpen {
            previous_identity_pem: None,
            next_identity_pem: service_cert.clone(),
        }])
    );

    let store = gov_store(1, "Recovering");
    let mut tx = store.begin();
    let only_next = json!({"next_service_identity": service_cert});
    let failure = apply(&mut tx, &proposal("transition_service_to_open", only_next)).unwrap_err();
    assert_eq!(
        failure.reason,
        "Error: Opening a recovering network requires both, the previous and the next service identity"
    );
    let both =
        json!({"next_service_identity": service_cert, "previous_service_identity": member_cert(0)});
    assert_eq!(
        apply(&mut tx, &proposal("transition_service_to_open", both)),
        Ok(vec![NodeAction::TransitionServiceToOpen {
            previous_identity_pem: Some(member_cert(0)),
            next_identity_pem: service_cert,
        }])
    );
}

#[test]
fn assert_service_identity_compares_with_service_info() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let service_cert = testdata("service_cert.pem");
    assert_valid(
        &mut tx,
        &proposal(
            "assert_service_identity",
            json!({"service_identity": service_cert}),
        ),
    );
    assert_refused(
        &mut tx,
        &proposal(
            "assert_service_identity",
            json!({"service_identity": member_cert(0)}),
        ),
        "assert_service_identity at position 0 failed validation: Error: Service identity \
         certificate mismatch",
    );
    assert_eq!(
        apply(
            &mut tx,
            &proposal(
                "assert_service_identity",
                json!({"service_identity": service_cert})
            )
        ),
        Ok(vec![])
    );
    assert!(!tx.has_writes());
}

#[test]
fn set_js_runtime_options_stores_its_arguments() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_refused(
        &mut tx,
        &proposal(
            "set_js_runtime_options",
            json!({"max_stack_bytes": 1, "max_execution_time_ms": 1}),
        ),
        "set_js_runtime_options at position 0 failed validation: Error: max_heap_bytes must be an integer",
    );
    // The arguments are stored as given, in their order.
    let args = r#"{"max_heap_bytes":209715200,"max_stack_bytes":2097152,"max_execution_time_ms":6000,"return_exception_details":true}"#;
    let raw = format!(r#"{{"actions":[{{"name":"set_js_runtime_options","args":{args}}}]}}"#);
    apply(&mut tx, &raw).unwrap();
    assert_eq!(
        tx.get("public:ccf.gov.js_runtime_options", &SINGLETON)
            .unwrap(),
        args.as_bytes()
    );
}

#[test]
fn ca_cert_bundles_are_json_strings_by_name() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let bundle = format!("{}{}", member_cert(0), member_cert(1));
    assert_refused(
        &mut tx,
        &proposal(
            "set_ca_cert_bundle",
            json!({"name": "b", "cert_bundle": "junk"}),
        ),
        "set_ca_cert_bundle at position 0 failed validation: Error: cert_bundle must be a valid \
         X509 certificate (bundle) in PEM format",
    );
    apply(
        &mut tx,
        &proposal(
            "set_ca_cert_bundle",
            json!({"name": "b", "cert_bundle": bundle}),
        ),
    )
    .unwrap();
    let table = "public:ccf.gov.tls.ca_cert_bundles";
    assert_eq!(
        tx.get(table, b"b").unwrap(),
        serde_json::to_vec(&bundle).unwrap()
    );
    apply(
        &mut tx,
        &proposal("remove_ca_cert_bundle", json!({"name": "b"})),
    )
    .unwrap();
    assert_eq!(tx.get(table, b"b"), None);
}

#[test]
fn triggers_become_node_actions_and_refuse_arguments() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let cases = [
        ("trigger_ledger_rekey", NodeAction::TriggerLedgerRekey),
        (
            "trigger_recovery_shares_refresh",
            NodeAction::TriggerRecoverySharesRefresh,
        ),
        ("trigger_ledger_chunk", NodeAction::TriggerLedgerChunk),
        ("trigger_snapshot", NodeAction::TriggerSnapshot),
    ];
    for (name, action) in cases {
        let bare = json!({"actions": [{"name": name}]}).to_string();
        assert_valid(&mut tx, &bare);
        assert_eq!(apply(&mut tx, &bare), Ok(vec![action]), "{name}");
    }
    assert_refused(
        &mut tx,
        &proposal("trigger_ledger_rekey", json!({"x": 1})),
        "trigger_ledger_rekey at position 0 failed validation: Error: Proposal does not accept \
         any argument, found \"[object Object]\"",
    );
    assert_eq!(
        apply(
            &mut tx,
            &proposal("trigger_acme_refresh", json!({"interfaces": ["a"]}))
        ),
        Ok(vec![NodeAction::TriggerAcmeRefresh {
            interfaces: Some(vec!["a".into()])
        }])
    );
}

// -- nodes --------------------------------------------------------------------------------------

const NODE_ID: &str = "0a5016282d3130faab95074fb86650a09f73c4540901e00c3b0215e8cb380df5";

fn store_with_node(status: &str) -> cloister_kv::Store {
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let info =
        json!({"status": status, "certificate_signing_request": "CSR-PEM", "node_data": null});
    tx.put(
        NODES_INFO,
        NODE_ID.as_bytes().to_vec(),
        info.to_string().into_bytes(),
    );
    commit(&mut store, tx);
    store
}

#[test]
fn transition_node_to_trusted_endorses_the_csr_once() {
    let store = store_with_node("Pending");
    let mut tx = store.begin();
    assert_refused(
        &mut tx,
        &proposal(
            "transition_node_to_trusted",
            json!({"node_id": NODE_ID, "valid_from": "x", "validity_period_days": 0}),
        ),
        "transition_node_to_trusted at position 0 failed validation: Error: validity_period_days \
         must be greater than 1",
    );
    let args = json!({"node_id": NODE_ID, "valid_from": "20240101000000Z"});
    assert_valid(
        &mut tx,
        &proposal("transition_node_to_trusted", args.clone()),
    );
    let mut host = FakeHost::default();
    apply_with(
        &mut tx,
        &proposal("transition_node_to_trusted", args),
        &mut host,
    )
    .unwrap();
    assert_eq!(
        host.endorsed,
        vec![("CSR-PEM".to_owned(), "20240101000000Z".to_owned(), 365)]
    );
    let info = get_json(&mut tx, NODES_INFO, NODE_ID.as_bytes()).unwrap();
    assert_eq!(info["status"], "Trusted");
    assert_eq!(info["ledger_secret_seqno"], 42);
    assert_eq!(
        tx.get(
            "public:ccf.gov.nodes.endorsed_certificates",
            NODE_ID.as_bytes()
        )
        .unwrap(),
        b"ENDORSED(CSR-PEM,20240101000000Z,365)"
    );
    let too_long = json!({"node_id": NODE_ID, "valid_from": "x", "validity_period_days": 400});
    let store = store_with_node("Pending");
    let mut tx = store.begin();
    let failure = apply(&mut tx, &proposal("transition_node_to_trusted", too_long)).unwrap_err();
    assert_eq!(
        failure.reason,
        "Error: Validity period 400 (days) is not allowed: service max allowed is 365 (days)"
    );
}

#[test]
fn remove_node_deletes_pending_and_retires_trusted_nodes() {
    let store = store_with_node("Pending");
    let mut tx = store.begin();
    apply(
        &mut tx,
        &proposal("remove_node", json!({"node_id": NODE_ID})),
    )
    .unwrap();
    assert_eq!(tx.get(NODES_INFO, NODE_ID.as_bytes()), None);

    let store = store_with_node("Trusted");
    let mut tx = store.begin();
    apply(
        &mut tx,
        &proposal("remove_node", json!({"node_id": NODE_ID})),
    )
    .unwrap();
    assert_eq!(
        get_json(&mut tx, NODES_INFO, NODE_ID.as_bytes()).unwrap()["status"],
        "Retired"
    );
    let absent = json!({"node_id": "2".repeat(64)});
    assert_eq!(apply(&mut tx, &proposal("remove_node", absent)), Ok(vec![]));
}

#[test]
fn set_node_data_needs_an_existing_node() {
    let store = store_with_node("Trusted");
    let mut tx = store.begin();
    apply(
        &mut tx,
        &proposal(
            "set_node_data",
            json!({"node_id": NODE_ID, "node_data": {"rack": 4}}),
        ),
    )
    .unwrap();
    assert_eq!(
        get_json(&mut tx, NODES_INFO, NODE_ID.as_bytes()).unwrap()["node_data"],
        json!({"rack": 4})
    );
    let failure = apply(
        &mut tx,
        &proposal("set_node_data", json!({"node_id": "3".repeat(64)})),
    )
    .unwrap_err();
    assert_eq!(
        failure.reason,
        format!("Error: Node {} does not exist", "3".repeat(64))
    );
}

#[test]
fn virtual_measurements_and_host_data() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_refused(
        &mut tx,
        &proposal("add_virtual_measurement", json!({"measurement": 1})),
        "add_virtual_measurement at position 0 failed validation: Error: measurement must be of \
         type string but is number",
    );
    apply(
        &mut tx,
        &proposal("add_virtual_measurement", json!({"measurement": "m1"})),
    )
    .unwrap();
    apply(
        &mut tx,
        &proposal("add_virtual_host_data", json!({"host_data": "h1"})),
    )
    .unwrap();
    let measurements = "public:ccf.gov.nodes.virtual.measurements";
    let host_data = "public:ccf.gov.nodes.virtual.host_data";
    assert_eq!(tx.get(measurements, b"m1").unwrap(), br#""AllowedToJoin""#);
    assert_eq!(tx.get(host_data, b"h1").unwrap(), [0u8; 8]);
    apply(
        &mut tx,
        &proposal("remove_virtual_measurement", json!({"measurement": "m1"})),
    )
    .unwrap();
    apply(
        &mut tx,
        &proposal("remove_virtual_host_data", json!({"host_data": "h1"})),
    )
    .unwrap();
    assert_eq!(tx.get(measurements, b"m1"), None);
    assert_eq!(tx.get(host_data, b"h1"), None);
}

#[test]
fn snp_host_data_must_match_the_policy_digest() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let policy = "package policy";
    let digest = cloister_crypto::sha256(policy.as_bytes()).to_hex();
    assert_valid(
        &mut tx,
        &proposal(
            "add_snp_host_data",
            json!({"host_data": digest, "security_policy": policy}),
        ),
    );
    assert_refused(
        &mut tx,
        &proposal(
            "add_snp_host_data",
            json!({"host_data": "0".repeat(64), "security_policy": policy}),
        ),
        &format!(
            "add_snp_host_data at position 0 failed validation: Error: The hash of raw policy \
             {digest} does not match digest {}",
            "0".repeat(64)
        ),
    );
}

#[test]
fn failed_apply_writes_nothing() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let two = json!({"actions": [
        {"name": "set_user", "args": {"cert": testdata("user0_cert.pem")}},
        {"name": "set_member_data", "args": {"member_id": "4".repeat(64), "member_data": {}}},
    ]})
    .to_string();
    assert!(apply(&mut tx, &two).is_err());
    assert!(!tx.has_writes());
}

#[test]
fn certificate_validity_actions_ask_the_host_within_the_service_maximum() {
    let mut store = store_with_node("Trusted");
    let mut tx = store.begin();
    let config = r#"{"consensus":"CFT","recovery_threshold":1,"maximum_service_certificate_validity_days":30}"#;
    tx.put(
        SERVICE_CONFIG,
        SINGLETON.to_vec(),
        config.as_bytes().to_vec(),
    );
    commit(&mut store, tx);
    let mut tx = store.begin();
    let mut host = FakeHost::default();
    let renew = json!({"valid_from": "240101000000Z"});
    apply_with(
        &mut tx,
        &proposal("set_service_certificate_validity", renew),
        &mut host,
    )
    .unwrap();
    assert_eq!(host.renewed, vec![("240101000000Z".to_owned(), 30)]);
    assert_eq!(
        get_json(&mut tx, SERVICE_INFO, &SINGLETON).unwrap()["cert"],
        "RENEWED(240101000000Z,30)"
    );
    let too_long = json!({"valid_from": "240101000000Z", "validity_period_days": 31});
    let failure = apply(
        &mut tx,
        &proposal("set_service_certificate_validity", too_long),
    )
    .unwrap_err();
    assert_eq!(
        failure.reason,
        "Error: Validity period 31 (days) is not allowed: service max allowed is 30 (days)"
    );

    let all = json!({"valid_from": "240102000000Z", "validity_period_days": 7});
    let mut host = FakeHost::default();
    apply_with(
        &mut tx,
        &proposal("set_all_nodes_certificate_validity", all),
        &mut host,
    )
    .unwrap();
    assert_eq!(
        host.endorsed,
        vec![("CSR-PEM".to_owned(), "240102000000Z".to_owned(), 7)]
    );
}

#[test]
fn code_and_measurement_allow_lists() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_refused(
        &mut tx,
        &proposal("add_snp_measurement", json!({"measurement": "ABC"})),
        "add_snp_measurement at position 0 failed validation: Error: measurement must be 96 \
         lowercase hexadecimal characters",
    );
    let measurement = "a1".repeat(48);
    apply(
        &mut tx,
        &proposal("add_snp_measurement", json!({"measurement": measurement})),
    )
    .unwrap();
    apply(
        &mut tx,
        &proposal("add_node_code", json!({"code_id": "c0de"})),
    )
    .unwrap();
    let snp = "public:ccf.gov.nodes.snp.measurements";
    assert_eq!(
        tx.get(snp, measurement.as_bytes()).unwrap(),
        br#""AllowedToJoin""#
    );
    assert_eq!(
        tx.get("public:ccf.gov.nodes.code_ids", b"c0de").unwrap(),
        br#""AllowedToJoin""#
    );
    apply(
        &mut tx,
        &proposal(
            "remove_snp_measurement",
            json!({"measurement": measurement}),
        ),
    )
    .unwrap();
    assert_eq!(tx.get(snp, measurement.as_bytes()), None);
    assert_eq!(
        apply(
            &mut tx,
            &json!({"actions": [{"name": "refresh_js_app_bytecode_cache"}]}).to_string()
        ),
        Ok(vec![NodeAction::RefreshAppBytecodeCache])
    );
}

#[test]
fn every_trusted_node_is_endorsed_once_by_the_host() {
    let mut store = store_with_node("Trusted");
    let mut tx = store.begin();
    for (n, status) in [("4", "Trusted"), ("5", "Pending"), ("6", "Trusted")] {
        let info = json!({"status": status, "certificate_signing_request": format!("CSR-{n}")});
        tx.put(
            NODES_INFO,
            n.repeat(64).into_bytes(),
            info.to_string().into_bytes(),
        );
    }
    commit(&mut store, tx);
    let mut tx = store.begin();
    let mut host = FakeHost::default();
    let all = json!({"valid_from": "240102000000Z"});
    apply_with(
        &mut tx,
        &proposal("set_all_nodes_certificate_validity", all),
        &mut host,
    )
    .unwrap();
    let mut csrs: Vec<&str> = host
        .endorsed
        .iter()
        .map(|(csr, _, _)| csr.as_str())
        .collect();
    csrs.sort_unstable();
    assert_eq!(csrs, ["CSR-4", "CSR-6", "CSR-PEM"]);
    let endorsed = "public:ccf.gov.nodes.endorsed_certificates";
    assert_eq!(
        tx.get(endorsed, "6".repeat(64).as_bytes()).unwrap(),
        b"ENDORSED(CSR-6,240102000000Z,365)"
    );
    assert_eq!(tx.get(endorsed, "5".repeat(64).as_bytes()), None);
}
