//! NodeCore end to end, sans-IO: start a service, activate the member, add a user and open the
//! service by proposal, then write and read through the logging app, watch the write commit and
//! check its receipt. The constitution here is a small Rust engine standing in for QuickJS (the
//! real JS constitution is exercised over HTTPS in crates/cli/tests); everything else is real.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use cloister_crypto::cose::{Label, Value as Cbor};
use cloister_crypto::{
    Certificate, CertificateSpec, Curve, EcKeyPair, Entropy, SeededEntropy, cose,
    issue_self_signed, sha256,
};
use cloister_gov::{ConstitutionEngine, GovHost, JsFailure, NodeAction, Validation};
use cloister_kv::Tx;
use cloister_merkle::Receipt;
use cloister_node::apps::logging::LoggingApp;
use cloister_node::core::{Frontends, Input, NodeCore, NodeSecrets, NodeSettings, Output};
use cloister_node::rpc::{Request, Response};
use cloister_node::{GenesisConfig, GenesisMember, NodeIdentity, ServiceIdentity};
use cloister_types::SeqNo;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const USERS_CERTS: &str = "public:ccf.gov.users.certs";

/// Accepts every proposal; applies `set_user` and `transition_service_to_open` as CCF's
/// constitution does.
struct AcceptAll;

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

struct Harness {
    core: NodeCore,
    persisted: u64,
    session: u64,
    now_ms: u64,
}

impl Harness {
    /// Runs `request` and returns its response; persists whatever the node appended.
    fn call(&mut self, request: Request) -> Response {
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
                Output::CommitLedger { .. } => {}
            }
        }
        response.expect("a response")
    }

    /// Lets time pass (a signature is due) and persists everything.
    fn sign_and_persist(&mut self) {
        // More than `ledger_signatures.delay` (1 s) later: any unsigned write gets signed.
        self.now_ms += 2_000;
        self.core.handle(Input::Tick {
            now_ms: self.now_ms,
            now_unix: NOW,
        });
        while let Some(output) = self.core.poll_output() {
            if let Output::AppendLedger { seqno, .. } = output {
                self.persisted = seqno.0;
            }
        }
        self.core.handle(Input::Persisted {
            up_to: SeqNo(self.persisted),
        });
        while self.core.poll_output().is_some() {}
    }
}

fn identity(entropy: &mut SeededEntropy, cn: &str) -> (EcKeyPair, Certificate) {
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

fn gov_request(
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
    }
}

fn get(path: &str, cert: Option<&Certificate>) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        client_cert_der: cert.map(|c| c.der().to_vec()),
        ..Request::default()
    }
}

fn json_body(response: &Response) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&response.body)))
}

#[test]
fn a_member_opens_the_service_and_a_user_logs_a_committed_receipted_message() {
    let mut entropy = SeededEntropy::from_seed(11);
    let service = ServiceIdentity::generate(&mut entropy, NOW - 10, NOW + 1_000_000).unwrap();
    let node = NodeIdentity::generate(
        &mut entropy,
        &service,
        vec!["127.0.0.1".into()],
        NOW - 10,
        NOW + 1_000_000,
    )
    .unwrap();
    let (member_key, member_cert) = identity(&mut entropy, "member0");
    let (_, user_cert) = identity(&mut entropy, "user0");
    let genesis = GenesisConfig {
        members: vec![GenesisMember {
            cert_pem: member_cert.to_pem(),
            encryption_public_key_pem: None,
            member_data: None,
        }],
        constitution: "export function resolve() { return \"Accepted\"; }".into(),
        recovery_threshold: 1,
        rpc_address: "127.0.0.1:8000".into(),
        node_to_node_address: "127.0.0.1:8001".into(),
        node_encryption_public_key_pem: None,
    };
    let mut ledger_secret = [0u8; 32];
    entropy.fill_bytes(&mut ledger_secret);
    let service_pem = service.cert_pem();
    let core = NodeCore::start(
        NodeSettings::with_genesis(genesis),
        NodeSecrets {
            node,
            service,
            ledger_secret,
        },
        Box::new(AcceptAll),
        Frontends::with_builtins(&[&LoggingApp]),
        0,
        NOW,
    )
    .unwrap();
    let mut h = Harness {
        core,
        persisted: 0,
        session: 0,
        now_ms: 0,
    };
    h.sign_and_persist();

    // The node answers about itself; the app frontend is closed until the service opens.
    let state = h.call(get("/node/state", None));
    assert_eq!(state.status, 200);
    assert_eq!(json_body(&state)["state"], "PartOfNetwork");
    let closed = h.call(get("/app/log/private?id=1", Some(&user_cert)));
    assert_eq!(
        (closed.status, json_body(&closed)["error"]["code"].as_str()),
        (404, Some("FrontendNotOpen"))
    );

    // Activate the member: update the state digest, then ack it.
    let member_id = hex::encode(sha256(member_cert.der()).0);
    let update = h.call(gov_request(
        &member_key,
        &member_cert,
        &format!("/gov/members/state-digests/{member_id}:update"),
        "state_digest",
        None,
        b"",
        NOW,
    ));
    assert_eq!(
        update.status,
        200,
        "{}",
        String::from_utf8_lossy(&update.body)
    );
    let digest = json_body(&update)["stateDigest"]
        .as_str()
        .unwrap()
        .to_owned();
    let ack_payload = json!({ "stateDigest": digest }).to_string();
    let ack = h.call(gov_request(
        &member_key,
        &member_cert,
        &format!("/gov/members/state-digests/{member_id}:ack"),
        "ack",
        None,
        ack_payload.as_bytes(),
        NOW,
    ));
    assert_eq!(ack.status, 204, "{}", String::from_utf8_lossy(&ack.body));

    // Propose: add the user and open the service. One active member: accepted at once.
    let proposal = json!({ "actions": [
        { "name": "set_user", "args": { "cert": user_cert.to_pem() } },
        { "name": "transition_service_to_open", "args": { "next_service_identity": service_pem } },
    ]})
    .to_string();
    let create = gov_request(
        &member_key,
        &member_cert,
        "/gov/members/proposals:create",
        "proposal",
        None,
        proposal.as_bytes(),
        NOW,
    );
    let created = h.call(create.clone());
    assert_eq!(
        created.status,
        200,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(json_body(&created)["proposalState"], "Accepted");
    assert!(
        created
            .headers
            .iter()
            .any(|(k, _)| k == "x-ms-ccf-transaction-id")
    );
    // Replaying the same signed request is refused.
    let replay = h.call(create);
    assert_eq!(replay.status, 400);
    assert_eq!(json_body(&replay)["error"]["code"], "ProposalReplay");
    h.sign_and_persist();

    // Service info says Open; the app frontend is open now that it is committed.
    let info = h.call(get("/gov/service/info?api-version=2024-07-01", None));
    assert_eq!(json_body(&info)["status"], "Open");

    // The user writes a private message and reads it back.
    let mut post = get("/app/log/private", Some(&user_cert));
    post.method = "POST".into();
    post.body = json!({ "id": 42, "msg": "hello" }).to_string().into_bytes();
    let written = h.call(post.clone());
    assert_eq!(
        written.status,
        200,
        "{}",
        String::from_utf8_lossy(&written.body)
    );
    let txid = written
        .header("x-ms-ccf-transaction-id")
        .unwrap()
        .to_owned();
    let read = h.call(get("/app/log/private?id=42", Some(&user_cert)));
    assert_eq!(json_body(&read)["msg"], "hello");

    // Without the user's certificate: 401 with CCF's body.
    let mut anonymous = post.clone();
    anonymous.client_cert_der = None;
    let refused = h.call(anonymous);
    assert_eq!(refused.status, 401);
    assert_eq!(
        json_body(&refused)["error"]["details"][0]["auth_policy"],
        "user_cert"
    );

    // Pending until a signature commits it; then Committed with a receipt that verifies.
    let status = h.call(get(&format!("/app/tx?transaction_id={txid}"), None));
    assert_eq!(json_body(&status)["status"], "Pending");
    h.sign_and_persist();
    let status = h.call(get(&format!("/app/tx?transaction_id={txid}"), None));
    assert_eq!(json_body(&status)["status"], "Committed");
    let receipt = h.call(get(&format!("/app/receipt?transaction_id={txid}"), None));
    assert_eq!(
        receipt.status,
        200,
        "{}",
        String::from_utf8_lossy(&receipt.body)
    );
    let receipt = Receipt::from_json(std::str::from_utf8(&receipt.body).unwrap()).unwrap();
    receipt
        .verify(&Certificate::from_pem(&service_pem).unwrap())
        .unwrap();
}

#[test]
fn unknown_paths_wrong_verbs_and_missing_api_versions_get_ccf_errors() {
    let mut entropy = SeededEntropy::from_seed(12);
    let service = ServiceIdentity::generate(&mut entropy, NOW - 10, NOW + 1_000_000).unwrap();
    let node =
        NodeIdentity::generate(&mut entropy, &service, vec![], NOW - 10, NOW + 1_000_000).unwrap();
    let (_, member_cert) = identity(&mut entropy, "member0");
    let genesis = GenesisConfig {
        members: vec![GenesisMember {
            cert_pem: member_cert.to_pem(),
            encryption_public_key_pem: None,
            member_data: None,
        }],
        constitution: String::new(),
        recovery_threshold: 1,
        rpc_address: "127.0.0.1:8000".into(),
        node_to_node_address: "127.0.0.1:8001".into(),
        node_encryption_public_key_pem: None,
    };
    let core = NodeCore::start(
        NodeSettings::with_genesis(genesis),
        NodeSecrets {
            node,
            service,
            ledger_secret: [1; 32],
        },
        Box::new(AcceptAll),
        Frontends::with_builtins(&[]),
        0,
        NOW,
    )
    .unwrap();
    let mut h = Harness {
        core,
        persisted: 0,
        session: 0,
        now_ms: 0,
    };
    h.sign_and_persist();
    let missing = h.call(get("/node/nope", None));
    assert_eq!(
        (
            missing.status,
            json_body(&missing)["error"]["message"].as_str()
        ),
        (404, Some("Unknown path: /nope."))
    );
    let mut delete = get("/node/state", None);
    delete.method = "DELETE".into();
    let verb = h.call(delete);
    assert_eq!(verb.status, 405);
    assert_eq!(verb.header("allow"), Some("OPTIONS, GET"));
    let no_version = h.call(get("/gov/service/info", None));
    assert_eq!(
        json_body(&no_version)["error"]["code"],
        "MissingApiVersionParameter"
    );
    let commit = h.call(get("/node/commit", None));
    assert_eq!(json_body(&commit)["transaction_id"], "2.2");
}
