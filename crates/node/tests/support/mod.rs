//! The sans-IO harness the NodeCore integration tests share: a started single-node service
//! driven through `NodeCore::handle`/`poll_output`, test identities, COSE Sign1 governance
//! requests, GET requests, and a small Rust constitution engine standing in for QuickJS.

#![allow(dead_code)] // each test file uses a different part of the harness

use cloister_crypto::cose::{Label, Value as Cbor};
use cloister_crypto::{
    Certificate, CertificateSpec, Curve, EcKeyPair, Entropy, SeededEntropy, cose,
    issue_self_signed, sha256,
};
use cloister_gov::{ConstitutionEngine, GovHost, JsFailure, NodeAction, Validation};
use cloister_kv::Tx;
use cloister_node::core::{Frontends, Input, NodeCore, NodeEnv, NodeSecrets, NodeSettings, Output};
use cloister_node::rpc::{Request, Response};
use cloister_node::{GenesisConfig, GenesisMember, NodeIdentity, ServiceIdentity};
use cloister_types::SeqNo;
use serde_json::{Value, json};

pub const NOW: i64 = 1_800_000_000;
const USERS_CERTS: &str = "public:ccf.gov.users.certs";

/// Accepts every proposal; applies `set_user` and `transition_service_to_open` as CCF's
/// constitution does.
pub struct AcceptAll;

impl ConstitutionEngine for AcceptAll {
    fn validate(&mut self, _: &mut Tx, _: &str, _: &str) -> Result<Validation, JsFailure> {
        Ok(Validation {
            valid: true,
            description: String::new(),
        })
    }
    fn vote(&mut self, _: &mut Tx, _: &str, _: &str, _: &str) -> Result<bool, JsFailure> {
        Ok(true)
    }
    fn resolve(
        &mut self,
        _: &mut Tx,
        _: &str,
        _: &str,
        _: &str,
        _: &[(String, bool)],
        _: &str,
    ) -> Result<String, JsFailure> {
        Ok("Accepted".to_owned())
    }
    fn apply(
        &mut self,
        tx: &mut Tx,
        _: &str,
        proposal: &str,
        _: &str,
        _: &mut dyn GovHost,
        actions: &mut Vec<NodeAction>,
    ) -> Result<(), JsFailure> {
        let proposal: Value = serde_json::from_str(proposal).unwrap();
        for action in proposal["actions"].as_array().unwrap() {
            match action["name"].as_str().unwrap() {
                "set_user" => {
                    let pem = action["args"]["cert"].as_str().unwrap();
                    let der = Certificate::from_pem(pem).unwrap().der().to_vec();
                    tx.put(
                        USERS_CERTS,
                        hex::encode(sha256(&der).0).into_bytes(),
                        pem.as_bytes().to_vec(),
                    );
                }
                "transition_service_to_open" => actions.push(NodeAction::TransitionServiceToOpen {
                    previous_identity_pem: None,
                    next_identity_pem: action["args"]["next_service_identity"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                }),
                other => panic!("unexpected action {other}"),
            }
        }
        Ok(())
    }
    fn validate_constitution(&mut self, _: &str) -> Result<(), JsFailure> {
        Ok(())
    }
}

/// The service and node identities of a test service, valid around `NOW`.
pub struct Identities {
    pub service: ServiceIdentity,
    pub node: NodeIdentity,
}

impl Identities {
    /// Draws the service identity, then the node's (with `node_sans`), from `entropy`.
    pub fn generate(entropy: &mut SeededEntropy, node_sans: Vec<String>) -> Identities {
        let service = ServiceIdentity::generate(entropy, NOW - 10, NOW + 1_000_000).unwrap();
        let node = NodeIdentity::generate(entropy, &service, node_sans, NOW - 10, NOW + 1_000_000)
            .unwrap();
        Identities { service, node }
    }
}

/// A ledger secret drawn from `entropy`.
pub fn random_ledger_secret(entropy: &mut SeededEntropy) -> [u8; 32] {
    let mut ledger_secret = [0u8; 32];
    entropy.fill_bytes(&mut ledger_secret);
    ledger_secret
}

pub struct Harness {
    pub core: NodeCore,
    pub persisted: u64,
    pub session: u64,
    pub now_ms: u64,
}

impl Harness {
    /// Starts a genesis node whose one member is `member_cert`, then signs and persists the
    /// genesis transaction.
    pub fn start_genesis(
        identities: Identities,
        member_cert: &Certificate,
        constitution: String,
        ledger_secret: [u8; 32],
        engine: Box<dyn ConstitutionEngine + Send>,
        frontends: Frontends,
    ) -> Harness {
        Harness::start_genesis_with(
            identities,
            member_cert,
            constitution,
            ledger_secret,
            engine,
            frontends,
            |_| {},
        )
    }

    /// As `start_genesis`, with settings adjusted by `adjust`.
    pub fn start_genesis_with(
        identities: Identities,
        member_cert: &Certificate,
        constitution: String,
        ledger_secret: [u8; 32],
        engine: Box<dyn ConstitutionEngine + Send>,
        frontends: Frontends,
        adjust: impl FnOnce(&mut NodeSettings),
    ) -> Harness {
        let genesis = GenesisConfig {
            members: vec![GenesisMember {
                cert_pem: member_cert.to_pem(),
                encryption_public_key_pem: None,
                member_data: None,
            }],
            constitution,
            recovery_threshold: 1,
            rpc_address: "127.0.0.1:8000".into(),
            node_to_node_address: "127.0.0.1:8001".into(),
            node_encryption_public_key_pem: None,
        };
        let mut settings = NodeSettings::with_genesis(genesis);
        adjust(&mut settings);
        let env = NodeEnv {
            settings,
            engine,
            frontends,
            now_ms: 0,
            now_unix: NOW,
        };
        let core = NodeCore::start(
            env,
            NodeSecrets {
                node: identities.node,
                service: identities.service,
                ledger_secret,
            },
        )
        .unwrap();
        let mut h = Harness {
            core,
            persisted: 0,
            session: 0,
            now_ms: 0,
        };
        h.sign_and_persist();
        h
    }

    /// Runs `request` and returns its response; persists whatever the node appended.
    pub fn call(&mut self, request: Request) -> Response {
        self.session += 1;
        self.core.handle(Input::Request {
            session: self.session,
            request,
        });
        let mut response = None;
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Respond { response: r, .. } => response = Some(r),
                Output::AppendLedger { seqno, .. } => self.persisted = seqno.0,
                Output::CommitLedger { .. }
                | Output::TruncateLedger { .. }
                | Output::SendPeer { .. }
                | Output::Peers { .. }
                | Output::Voted { .. }
                | Output::WriteSnapshot { .. }
                | Output::CommitSnapshot { .. }
                | Output::LaunchProcess { .. }
                | Output::ReadLedger { .. }
                | Output::AppLog { .. }
                | Output::NodeLog { .. }
                | Output::JsExecuted { .. } => {}
            }
        }
        response.expect("a response")
    }

    /// Takes the node's outputs, noting how far it appended to the ledger.
    pub fn drain_appends(&mut self) {
        while let Some(output) = self.core.poll_output() {
            if let Output::AppendLedger { seqno, .. } = output {
                self.persisted = seqno.0;
            }
        }
    }

    /// Lets time pass (a signature is due) and persists everything.
    pub fn sign_and_persist(&mut self) {
        // More than `ledger_signatures.delay` (1 s) later: any unsigned write gets signed.
        self.now_ms += 2_000;
        self.core.handle(Input::Tick {
            now_ms: self.now_ms,
            now_unix: NOW,
        });
        self.drain_appends();
        self.core.handle(Input::Persisted {
            up_to: SeqNo(self.persisted),
        });
        while self.core.poll_output().is_some() {}
    }

    /// An anonymous GET of `path` (which may carry a query).
    pub fn get(&mut self, path: &str) -> Response {
        self.call(get(path, None))
    }

    /// Sends a COSE Sign1 governance message signed by `member`, expecting a 2xx.
    pub fn gov(
        &mut self,
        member: &(EcKeyPair, Certificate),
        path: &str,
        msg_type: &str,
        proposal_id: Option<&str>,
        payload: &[u8],
    ) -> Response {
        let request = gov_request(
            &member.0,
            &member.1,
            path,
            msg_type,
            proposal_id,
            payload,
            NOW,
        );
        let response = self.call(request);
        assert!(
            (200..300).contains(&response.status),
            "{path}: {} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
        response
    }

    /// Activates `member`: updates its state digest, acks it, then signs and persists.
    pub fn activate_member(&mut self, member: &(EcKeyPair, Certificate)) {
        let member_id = hex::encode(sha256(member.1.der()).0);
        let update = self.gov(
            member,
            &format!("/gov/members/state-digests/{member_id}:update"),
            "state_digest",
            None,
            b"",
        );
        let digest = json_body(&update)["stateDigest"].clone();
        self.gov(
            member,
            &format!("/gov/members/state-digests/{member_id}:ack"),
            "ack",
            None,
            json!({ "stateDigest": digest }).to_string().as_bytes(),
        );
        self.sign_and_persist();
    }

    /// Proposes `proposal`, votes for it and checks it was accepted.
    pub fn pass(&mut self, member: &(EcKeyPair, Certificate), proposal: &Value) {
        let created = self.gov(
            member,
            "/gov/members/proposals:create",
            "proposal",
            None,
            proposal.to_string().as_bytes(),
        );
        let id = json_body(&created)["proposalId"]
            .as_str()
            .unwrap()
            .to_owned();
        let member_id = hex::encode(sha256(member.1.der()).0);
        let ballot =
            json!({ "ballot": "export function vote (proposal, proposerId) { return true }" });
        let voted = self.gov(
            member,
            &format!("/gov/members/proposals/{id}/ballots/{member_id}:submit"),
            "ballot",
            Some(&id),
            ballot.to_string().as_bytes(),
        );
        assert_eq!(json_body(&voted)["proposalState"], "Accepted");
        self.sign_and_persist();
    }
}

/// A P-384 key and a self-signed certificate for `cn`, valid around `NOW`.
pub fn identity(entropy: &mut SeededEntropy, cn: &str) -> (EcKeyPair, Certificate) {
    let key = EcKeyPair::generate(Curve::P384, entropy).unwrap();
    let spec = CertificateSpec {
        subject_cn: cn.into(),
        sans: vec![],
        not_before_unix: NOW - 10,
        not_after_unix: NOW + 1_000_000,
        is_ca: false,
    };
    let cert = issue_self_signed(&key, &spec).unwrap();
    (key, cert)
}

/// A governance POST of `path` (api-version 2024-07-01) with a COSE Sign1 body signed by `key`.
pub fn gov_request(
    key: &EcKeyPair,
    cert: &Certificate,
    path: &str,
    msg_type: &str,
    extra: Option<&str>,
    payload: &[u8],
    created_at: i64,
) -> Request {
    let member_id = hex::encode(sha256(cert.der()).0);
    let mut protected = vec![
        (Label::Int(4), Cbor::Bytes(member_id.into_bytes())),
        (
            Label::Text("ccf.gov.msg.type".into()),
            Cbor::Text(msg_type.into()),
        ),
        (
            Label::Text("ccf.gov.msg.created_at".into()),
            Cbor::Integer(created_at.into()),
        ),
    ];
    if let Some(proposal_id) = extra {
        protected.push((
            Label::Text("ccf.gov.msg.proposal_id".into()),
            Cbor::Text(proposal_id.into()),
        ));
    }
    let body = cose::sign1(key, &protected, payload, false).unwrap();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request {
        method: "POST".into(),
        path: path.into(),
        query: format!(
            "{query}{}api-version=2024-07-01",
            if query.is_empty() { "" } else { "&" }
        ),
        headers: vec![("content-type".into(), "application/cose".into())],
        body,
        client_cert_der: None,
        http2: false,
    }
}

/// A GET of `path` (which may carry a query), with `cert` as the TLS client certificate.
pub fn get(path: &str, cert: Option<&Certificate>) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        client_cert_der: cert.map(|c| c.der().to_vec()),
        ..Request::default()
    }
}

pub fn json_body(response: &Response) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&response.body)))
}
