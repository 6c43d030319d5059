//! Helpers shared by the integration tests: a store with governance state, real CCF PEMs from
//! testdata, a fake node host, and one-call wrappers around the engine.
#![allow(dead_code)]

use std::path::PathBuf;

use cloister_gov::{ConstitutionEngine, GovHost, JsFailure, NodeAction, Validation};
use cloister_js::{AppHost, DEFAULT_CONSTITUTION, QuickJsConstitution};
use cloister_kv::{EntryFlags, LedgerSecrets, Store, Tx};
use cloister_types::{SeqNo, TxId, TxStatus, View};
use serde_json::{Value, json};

pub const SINGLETON: [u8; 8] = [0; 8];
pub const MEMBERS_INFO: &str = "public:ccf.gov.members.info";
pub const MEMBERS_CERTS: &str = "public:ccf.gov.members.certs";
pub const MEMBERS_ACKS: &str = "public:ccf.gov.members.acks";
pub const MEMBERS_ENC_KEYS: &str = "public:ccf.gov.members.encryption_public_keys";
pub const SERVICE_INFO: &str = "public:ccf.gov.service.info";
pub const SERVICE_CONFIG: &str = "public:ccf.gov.service.config";
pub const NODES_INFO: &str = "public:ccf.gov.nodes.info";
pub const SIGNATURES: &str = "public:ccf.internal.signatures";
pub const PROPOSALS_INFO: &str = "public:ccf.gov.proposals_info";

/// Member ids of eol_service's members, as its ledger records them.
pub const MEMBER0_ID: &str = "aca4ad6e2086e0fd9cba1d8a4c3fe932941aee60df7896f0a209471d909899f0";

pub fn testdata(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ccf6/eol_service/common")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A store where `active` members (from testdata) are Active, the service is `status`, and the
/// configuration has `recovery_threshold` 1.
pub fn gov_store(active: usize, status: &str) -> Store {
    let mut store = Store::new(LedgerSecrets::with_first([3; 32]));
    let mut tx = store.begin();
    for i in 0..active {
        let cert = testdata(&format!("member{i}_cert.pem"));
        let id = cloister_crypto::Certificate::from_pem(&cert)
            .unwrap()
            .member_id();
        let id = id.as_str().as_bytes().to_vec();
        tx.put(MEMBERS_CERTS, id.clone(), cert.into_bytes());
        tx.put(MEMBERS_INFO, id.clone(), br#"{"status":"Active"}"#.to_vec());
        let enc = testdata(&format!("member{i}_enc_pubk.pem"));
        tx.put(MEMBERS_ENC_KEYS, id, enc.into_bytes());
    }
    let service = json!({"cert": testdata("service_cert.pem"), "status": status});
    tx.put(
        SERVICE_INFO,
        SINGLETON.to_vec(),
        service.to_string().into_bytes(),
    );
    tx.put(
        SERVICE_CONFIG,
        SINGLETON.to_vec(),
        br#"{"consensus":"CFT","recovery_threshold":1}"#.to_vec(),
    );
    commit(&mut store, tx);
    store
}

pub fn commit(store: &mut Store, tx: Tx) {
    store
        .commit(tx, View(2), None, EntryFlags::default())
        .unwrap();
}

pub fn get_json(tx: &mut Tx, table: &str, key: &[u8]) -> Option<Value> {
    tx.get(table, key)
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

/// A fake node: certificates are recognisable strings, and every call is counted.
#[derive(Debug, Default)]
pub struct FakeHost {
    pub endorsed: Vec<(String, String, u64)>,
    pub renewed: Vec<(String, u64)>,
}

impl GovHost for FakeHost {
    fn generate_endorsed_certificate(
        &mut self,
        csr_pem: &str,
        valid_from: &str,
        validity_days: u64,
    ) -> Result<String, String> {
        self.endorsed
            .push((csr_pem.to_owned(), valid_from.to_owned(), validity_days));
        Ok(format!("ENDORSED({csr_pem},{valid_from},{validity_days})"))
    }

    fn generate_network_certificate(
        &mut self,
        valid_from: &str,
        validity_days: u64,
    ) -> Result<String, String> {
        self.renewed.push((valid_from.to_owned(), validity_days));
        Ok(format!("RENEWED({valid_from},{validity_days})"))
    }

    fn latest_ledger_secret_seqno(&self) -> u64 {
        42
    }
}

pub fn proposal(name: &str, args: Value) -> String {
    json!({"actions": [{"name": name, "args": args}]}).to_string()
}

pub fn engine() -> QuickJsConstitution {
    QuickJsConstitution::new()
}

pub fn validate(tx: &mut Tx, proposal: &str) -> Validation {
    engine()
        .validate(tx, DEFAULT_CONSTITUTION, proposal)
        .unwrap()
}

/// Runs `apply` of the default constitution; returns the node actions.
pub fn apply(tx: &mut Tx, proposal: &str) -> Result<Vec<NodeAction>, JsFailure> {
    apply_with(tx, proposal, &mut FakeHost::default())
}

pub fn apply_with(
    tx: &mut Tx,
    proposal: &str,
    host: &mut FakeHost,
) -> Result<Vec<NodeAction>, JsFailure> {
    let mut actions = Vec::new();
    engine().apply(tx, DEFAULT_CONSTITUTION, proposal, "p1", host, &mut actions)?;
    Ok(actions)
}

/// Asserts validation refuses `proposal` with a description starting with `expected`.
pub fn assert_refused(tx: &mut Tx, proposal: &str, expected: &str) {
    let answer = validate(tx, proposal);
    assert!(!answer.valid, "{proposal} was accepted");
    assert!(
        answer.description.starts_with(expected),
        "description {:?} does not start with {expected:?}",
        answer.description
    );
}

pub fn assert_valid(tx: &mut Tx, proposal: &str) {
    let answer = validate(tx, proposal);
    assert!(answer.valid, "{proposal} refused: {}", answer.description);
    assert_eq!(answer.description, "");
}

/// The node's side of a JS app call where everything is committed in view 2 (seqno 1 last),
/// with a fixed clock, seed and entropy.
pub struct CommittedHost;

impl AppHost for CommittedHost {
    fn last_committed_tx_id(&self) -> TxId {
        TxId::new(2, 1)
    }
    fn tx_status(&self, _: TxId) -> TxStatus {
        TxStatus::Committed
    }
    fn view_for_seqno(&self, _: SeqNo) -> Option<View> {
        Some(View(2))
    }
    fn untrusted_time_ms(&self) -> u64 {
        0
    }
    fn random_seed(&self) -> u64 {
        5
    }
    fn entropy(&self) -> [u8; 32] {
        [9; 32] // test host: fixed bytes
    }
}

/// Passes the proposal `name(args)` through the default constitution's validate and apply, and
/// commits it.
pub fn pass(store: &mut Store, name: &str, args: Value) {
    let mut tx = store.begin();
    let proposal = proposal(name, args);
    assert_valid(&mut tx, &proposal);
    apply(&mut tx, &proposal).unwrap();
    commit(store, tx);
}

/// An open service's governance store with `bundle` deployed by `set_js_app`.
pub fn deploy_js_app(bundle: Value) -> Store {
    let mut store = gov_store(1, "Open");
    pass(&mut store, "set_js_app", json!({ "bundle": bundle }));
    store
}
