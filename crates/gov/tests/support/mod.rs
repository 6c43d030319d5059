//! Shared test harness: a store with governance tables, members from testdata/ccf6's
//! eol_service, a signer for governance requests, and a small deterministic constitution
//! engine written in Rust.
// Helpers unwrap: a failure here is a test failure. Not every test file uses every helper.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::ops::Bound;

use ciborium::Value;
use cloister_crypto::cose::{HEADER_ALG, HEADER_KID, Label, Sign1, sign1};
use cloister_crypto::{EcKeyPair, Sha256Hash};
use cloister_gov::tables;
use cloister_gov::{
    AuthenticatedMember, ConstitutionEngine, GovHost, JsFailure, NodeAction, ProposalInfo,
    Validation, authenticate_member,
};
use cloister_kv::{EntryFlags, LedgerSecrets, Store, Tx};
use cloister_types::{ApiError, View};

pub const MEMBER0: &str = "aca4ad6e2086e0fd9cba1d8a4c3fe932941aee60df7896f0a209471d909899f0";
pub const MEMBER1: &str = "b9180f92adaf4add7ccdf09843c7c95f56e541cec32f555049d55bb11c85f93d";
pub const MEMBER2: &str = "e13f0ff7c90f52bb3a3ecef48dba9bfbe56c841ad3aa3e0ac11b5bc6fa767e70";

/// The root the CCF-signed vectors were made for (tests/data/vectors.txt): bytes 0x00..0x1f.
pub fn vector_root() -> Sha256Hash {
    Sha256Hash(core::array::from_fn(|i| i as u8))
}

pub const CERTS: [&str; 3] = [
    include_str!("../../../../testdata/ccf6/eol_service/common/member0_cert.pem"),
    include_str!("../../../../testdata/ccf6/eol_service/common/member1_cert.pem"),
    include_str!("../../../../testdata/ccf6/eol_service/common/member2_cert.pem"),
];
pub const KEYS: [&str; 3] = [
    include_str!("../../../../testdata/ccf6/eol_service/common/member0_privk.pem"),
    include_str!("../../../../testdata/ccf6/eol_service/common/member1_privk.pem"),
    include_str!("../../../../testdata/ccf6/eol_service/common/member2_privk.pem"),
];
pub const IDS: [&str; 3] = [MEMBER0, MEMBER1, MEMBER2];

/// A ballot that votes yes, one that votes no, one that throws (for `MajorityEngine`).
pub const YES: &str = "export function vote (rawProposal, proposerId) { return true }";
pub const NO: &str = "export function vote (rawProposal, proposerId) { return false }";
pub const THROWS: &str = "export function vote (rawProposal, proposerId) { throw new Error() }";

/// A test-only map `MajorityEngine::apply` writes: proposal id → proposal.
pub const MARKER: &str = "public:ccf.gov.test.marker";

pub fn store() -> Store {
    Store::new(LedgerSecrets::with_first([7; 32]))
}

pub fn commit(store: &mut Store, tx: Tx) {
    store
        .commit(tx, View(2), None, EntryFlags::default())
        .unwrap();
}

/// Registers eol_service member `n` with `status` ("Accepted" or "Active") and an empty ack.
pub fn add_member(store: &mut Store, n: usize, status: &str) {
    let mut tx = store.begin();
    tx.put(tables::MEMBERS_CERTS, IDS[n], CERTS[n]);
    tx.put(
        tables::MEMBERS_INFO,
        IDS[n],
        format!(r#"{{"status":"{status}"}}"#),
    );
    tx.put(tables::MEMBERS_ACKS, IDS[n], r#"{"state_digest":""}"#);
    commit(store, tx);
}

pub fn set_constitution(store: &mut Store) {
    let mut tx = store.begin();
    tx.put(
        tables::CONSTITUTION,
        tables::SINGLETON_KEY,
        serde_json::to_vec("export function resolve() {}").unwrap(),
    );
    commit(store, tx);
}

/// A store with members 0..n Active and a constitution.
pub fn service(active_members: usize) -> Store {
    let mut store = store();
    for n in 0..active_members {
        add_member(&mut store, n, "Active");
    }
    set_constitution(&mut store);
    store
}

/// A governance request signed by member `n` with CCF's header layout.
pub fn signed(
    n: usize,
    msg_type: &str,
    created_at: u64,
    proposal_id: Option<&str>,
    payload: &[u8],
) -> Vec<u8> {
    let key = EcKeyPair::from_pem(KEYS[n]).unwrap();
    let mut header = vec![
        (
            Label::Int(HEADER_KID),
            Value::Bytes(IDS[n].as_bytes().to_vec()),
        ),
        (
            Label::Text("ccf.gov.msg.type".into()),
            Value::Text(msg_type.into()),
        ),
        (
            Label::Text("ccf.gov.msg.created_at".into()),
            Value::Integer(created_at.into()),
        ),
    ];
    if let Some(id) = proposal_id {
        header.push((
            Label::Text("ccf.gov.msg.proposal_id".into()),
            Value::Text(id.into()),
        ));
    }
    sign1(&key, &header, payload, false).unwrap()
}

/// A COSE_Sign1 with exactly `header` as protected header (any `alg`), signed by member `n`'s
/// key over the RFC 9052 Sig_structure.
pub fn signed_with_header(n: usize, header: Vec<(Value, Value)>, payload: &[u8]) -> Vec<u8> {
    let key = EcKeyPair::from_pem(KEYS[n]).unwrap();
    let mut protected = Vec::new();
    ciborium::into_writer(&Value::Map(header), &mut protected).unwrap();
    let mut tbs = Vec::new();
    ciborium::into_writer(
        &Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(protected.clone()),
            Value::Bytes(Vec::new()),
            Value::Bytes(payload.to_vec()),
        ]),
        &mut tbs,
    )
    .unwrap();
    let signature = key.sign_cose(&tbs).unwrap();
    Sign1 {
        protected_bytes: protected,
        protected: Vec::new(),
        unprotected: Vec::new(),
        payload: Some(payload.to_vec()),
        signature,
    }
    .encode()
    .unwrap()
}

/// The protected header CCF's client writes, with `alg` given.
pub fn ccf_header(alg: i64, n: usize, msg_type: &str) -> Vec<(Value, Value)> {
    vec![
        (
            Value::Integer(HEADER_ALG.into()),
            Value::Integer(alg.into()),
        ),
        (
            Value::Integer(HEADER_KID.into()),
            Value::Bytes(IDS[n].as_bytes().to_vec()),
        ),
        (
            Value::Text("ccf.gov.msg.type".into()),
            Value::Text(msg_type.into()),
        ),
        (
            Value::Text("ccf.gov.msg.created_at".into()),
            Value::Integer(1_735_689_600.into()),
        ),
    ]
}

pub fn auth(tx: &mut Tx, body: &[u8], msg_type: &str, require_active: bool) -> AuthenticatedMember {
    authenticate_member(tx, Some("application/cose"), body, msg_type, require_active).unwrap()
}

/// Status, code and message of an error.
pub fn parts(error: &ApiError) -> (u16, &str, &str) {
    (error.status, error.code.as_str(), error.message.as_str())
}

/// The reason in the one detail of a 401.
pub fn auth_reason(error: &ApiError) -> &str {
    assert_eq!(
        parts(error),
        (
            401,
            "InvalidAuthenticationInfo",
            "Invalid authentication credentials."
        )
    );
    assert_eq!(error.details.len(), 1);
    &error.details[0].message
}

pub fn info(store: &Store, id: &str) -> Option<ProposalInfo> {
    store
        .get(tables::PROPOSALS_INFO, id.as_bytes())
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

/// Number of entries in a map of the committed store.
pub fn count(store: &Store, map: &str) -> usize {
    let mut tx = store.begin();
    tx.range(map, Bound::Unbounded, Bound::Unbounded, usize::MAX)
        .len()
}

/// A node that offers nothing to the constitution.
#[derive(Debug, Default)]
pub struct NoHost;

impl GovHost for NoHost {
    fn generate_endorsed_certificate(
        &mut self,
        _: &str,
        _: &str,
        _: u64,
    ) -> Result<String, String> {
        Err("no certificates here".into())
    }
    fn generate_network_certificate(&mut self, _: &str, _: u64) -> Result<String, String> {
        Err("no certificates here".into())
    }
    fn latest_ledger_secret_seqno(&self) -> u64 {
        1
    }
}

/// A deterministic constitution: valid proposals are JSON objects with an `actions` array; a
/// ballot votes yes iff it contains "return true" (and throws if it contains "throw");
/// `resolve` accepts when yes votes > half the Active members (CCF's default rule), else keeps
/// the proposal Open. Proposal text can ask for misbehaviour: "validate_throws",
/// "resolve_rejects" (Rejected once any vote is no), "resolve_bogus" (returns "Maybe"),
/// "resolve_throws", "apply_throws" (writes its marker, then throws).
#[derive(Debug, Default)]
pub struct MajorityEngine {
    pub ballots_run: usize,
    pub resolves_run: usize,
    pub applied: Vec<String>,
}

impl ConstitutionEngine for MajorityEngine {
    fn validate(&mut self, _: &mut Tx, _: &str, proposal: &str) -> Result<Validation, JsFailure> {
        if proposal.contains("validate_throws") {
            return Err(JsFailure {
                reason: "TypeError: boom".into(),
                trace: Some("at validate".into()),
            });
        }
        let parsed: Option<serde_json::Value> = serde_json::from_str(proposal).ok();
        let valid = parsed.is_some_and(|p| p["actions"].is_array());
        Ok(Validation {
            valid,
            description: if valid {
                String::new()
            } else {
                "no actions".into()
            },
        })
    }

    fn vote(&mut self, _: &mut Tx, ballot: &str, _: &str, _: &str) -> Result<bool, JsFailure> {
        self.ballots_run += 1;
        if ballot.contains("throw") {
            return Err(JsFailure {
                reason: "Error: ballot threw".into(),
                trace: None,
            });
        }
        Ok(ballot.contains("return true"))
    }

    fn resolve(
        &mut self,
        tx: &mut Tx,
        _: &str,
        proposal: &str,
        _: &str,
        votes: &[(String, bool)],
        _: &str,
    ) -> Result<String, JsFailure> {
        self.resolves_run += 1;
        if proposal.contains("resolve_throws") {
            return Err(JsFailure {
                reason: "Error: resolve threw".into(),
                trace: Some("at resolve".into()),
            });
        }
        if proposal.contains("resolve_bogus") {
            return Ok("Maybe".into());
        }
        if proposal.contains("resolve_rejects") && votes.iter().any(|(_, v)| !v) {
            return Ok("Rejected".into());
        }
        let active = tx
            .iter(tables::MEMBERS_INFO)
            .iter()
            .filter(|(_, info)| String::from_utf8_lossy(info).contains("\"Active\""))
            .count();
        let yes = votes.iter().filter(|(_, v)| *v).count();
        Ok(if yes > active / 2 { "Accepted" } else { "Open" }.into())
    }

    fn apply(
        &mut self,
        tx: &mut Tx,
        _: &str,
        proposal: &str,
        proposal_id: &str,
        _: &mut dyn GovHost,
        actions: &mut Vec<NodeAction>,
    ) -> Result<(), JsFailure> {
        tx.put(MARKER, proposal_id, proposal);
        actions.push(NodeAction::TriggerSnapshot);
        if proposal.contains("apply_throws") {
            return Err(JsFailure {
                reason: "Error: apply threw".into(),
                trace: Some("at apply".into()),
            });
        }
        self.applied.push(proposal_id.to_owned());
        Ok(())
    }

    fn validate_constitution(&mut self, _: &str) -> Result<(), JsFailure> {
        Ok(())
    }
}

/// A service in a store, driven request by request as a node would: begin a transaction,
/// authenticate, run the entry point, commit only when the outcome says so.
#[derive(Debug)]
pub struct Harness {
    pub store: Store,
    pub engine: MajorityEngine,
    pub host: NoHost,
    /// NodeActions of committed requests.
    pub actions: Vec<NodeAction>,
    /// Whether the transaction of the last refused or discarded request had writes.
    pub dropped_tx_had_writes: bool,
    /// Signing time of the next request (each request gets a new one).
    pub created_at: u64,
    roots: u8,
}

impl Harness {
    /// Members 0..active Active, a constitution.
    pub fn new(active: usize) -> Harness {
        Harness {
            store: service(active),
            engine: MajorityEngine::default(),
            host: NoHost,
            actions: Vec::new(),
            dropped_tx_had_writes: false,
            created_at: 1_700_000_000,
            roots: 0,
        }
    }

    /// A Merkle root the store has not had before (the state moves on between requests).
    pub fn next_root(&mut self) -> Sha256Hash {
        self.roots += 1;
        Sha256Hash([self.roots; 32])
    }

    pub fn next_created_at(&mut self) -> u64 {
        self.created_at += 1;
        self.created_at
    }

    /// Member `n` proposes `proposal`; returns the outcome (and the proposal id if it was
    /// created).
    pub fn create(
        &mut self,
        n: usize,
        proposal: &str,
    ) -> Result<cloister_gov::ProposalOutcome, ApiError> {
        let created_at = self.next_created_at();
        let body = signed(n, "proposal", created_at, None, proposal.as_bytes());
        let root = self.next_root();
        self.create_body(&body, &root)
    }

    pub fn create_body(
        &mut self,
        body: &[u8],
        root: &Sha256Hash,
    ) -> Result<cloister_gov::ProposalOutcome, ApiError> {
        let mut tx = self.store.begin();
        let member =
            authenticate_member(&mut tx, Some("application/cose"), body, "proposal", true)?;
        let mut actions = Vec::new();
        let outcome = cloister_gov::create_proposal(
            &mut tx,
            &mut self.engine,
            &mut self.host,
            &mut actions,
            &member,
            Some(root),
        );
        self.finish(tx, &outcome, actions);
        outcome
    }

    /// Member `n` submits `ballot` for `proposal_id` (path ids as given).
    pub fn ballot(
        &mut self,
        n: usize,
        proposal_id: &str,
        ballot: &str,
    ) -> Result<cloister_gov::ProposalOutcome, ApiError> {
        let body = serde_json::to_vec(&serde_json::json!({ "ballot": ballot })).unwrap();
        self.ballot_body(n, proposal_id, IDS[n], &body)
    }

    pub fn ballot_body(
        &mut self,
        n: usize,
        proposal_id: &str,
        path_member: &str,
        payload: &[u8],
    ) -> Result<cloister_gov::ProposalOutcome, ApiError> {
        let created_at = self.next_created_at();
        let body = signed(n, "ballot", created_at, Some(proposal_id), payload);
        self.ballot_signed(&body, proposal_id, path_member)
    }

    pub fn ballot_signed(
        &mut self,
        body: &[u8],
        path_proposal: &str,
        path_member: &str,
    ) -> Result<cloister_gov::ProposalOutcome, ApiError> {
        let mut tx = self.store.begin();
        let member = authenticate_member(&mut tx, Some("application/cose"), body, "ballot", true)?;
        let mut actions = Vec::new();
        let outcome = cloister_gov::submit_ballot(
            &mut tx,
            &mut self.engine,
            &mut self.host,
            &mut actions,
            &member,
            path_proposal,
            path_member,
        );
        self.finish(tx, &outcome, actions);
        outcome
    }

    /// Member `n` withdraws `proposal_id`.
    pub fn withdraw(
        &mut self,
        n: usize,
        proposal_id: &str,
    ) -> Result<cloister_gov::ProposalOutcome, ApiError> {
        let created_at = self.next_created_at();
        let body = signed(n, "withdrawal", created_at, Some(proposal_id), b"");
        self.withdraw_signed(&body, proposal_id)
    }

    pub fn withdraw_signed(
        &mut self,
        body: &[u8],
        path_proposal: &str,
    ) -> Result<cloister_gov::ProposalOutcome, ApiError> {
        let mut tx = self.store.begin();
        let member =
            authenticate_member(&mut tx, Some("application/cose"), body, "withdrawal", true)?;
        let outcome = cloister_gov::withdraw_proposal(&mut tx, &member, path_proposal);
        self.finish(tx, &outcome, Vec::new());
        outcome
    }

    fn finish(
        &mut self,
        tx: Tx,
        outcome: &Result<cloister_gov::ProposalOutcome, ApiError>,
        actions: Vec<NodeAction>,
    ) {
        match outcome {
            Ok(cloister_gov::ProposalOutcome::Proposal(_))
            | Ok(cloister_gov::ProposalOutcome::NoContent) => {
                commit(&mut self.store, tx);
                self.actions.extend(actions);
            }
            _ => {
                self.dropped_tx_had_writes = tx.has_writes();
                assert!(
                    actions.is_empty(),
                    "a refused request produced node actions"
                );
            }
        }
    }
}

/// The proposal of a 200 outcome.
pub fn proposal_of(
    outcome: Result<cloister_gov::ProposalOutcome, ApiError>,
) -> cloister_gov::ProposalView {
    match outcome {
        Ok(cloister_gov::ProposalOutcome::Proposal(view)) => view,
        other => panic!("expected a proposal, got {other:?}"),
    }
}

/// The error of a Discard outcome.
pub fn discarded(outcome: Result<cloister_gov::ProposalOutcome, ApiError>) -> ApiError {
    match outcome {
        Ok(cloister_gov::ProposalOutcome::Discard(error)) => error,
        other => panic!("expected a discard, got {other:?}"),
    }
}
