//! JavaScript applications served by NodeCore, sans-IO: a member deploys a two-module bundle
//! with `set_js_app` under the real QuickJS constitution, opens the service, and a user calls
//! the JS endpoints (spec/ccf-js.md §1–§4): JSON in and out, a private write that commits and
//! reads back, a 4xx that writes nothing, user_cert refusing strangers, a read-only endpoint
//! that cannot write, and an endless loop cut off while the node keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use cloister_crypto::cose::{Label, Value as Cbor};
use cloister_crypto::{
    Certificate, CertificateSpec, Curve, EcKeyPair, Entropy, SeededEntropy, cose,
    issue_self_signed, sha256,
};
use cloister_merkle::Receipt;
use cloister_node::core::{Frontends, Input, NodeCore, NodeSecrets, NodeSettings, Output};
use cloister_node::rpc::{Request, Response};
use cloister_node::{GenesisConfig, GenesisMember, NodeIdentity, ServiceIdentity};
use cloister_types::SeqNo;
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;
const TX_ID: &str = "x-ms-ccf-transaction-id";

/// Shared helpers of the app (a relative import exercises the bundle's module loader).
const LIB_JS: &str = r#"
export function recordKey(request) {
  const id = request.params.id;
  if (!/^[0-9]+$/.test(id)) {
    throw new Error(`bad id ${id}`);
  }
  return ccf.strToBuf(id);
}
export function badRequest(message) {
  return { statusCode: 400, body: { error: message } };
}
"#;

const APP_JS: &str = r#"
import { recordKey, badRequest } from "./lib.js";

const records = ccf.kv["records"];

export function echo(request) {
  return {
    body: {
      got: request.body.json(),
      caller: request.caller,
      route: request.route,
      params: request.params,
      query: request.query,
    },
  };
}

export function put(request) {
  const key = recordKey(request);
  const body = request.body.json();
  records.set(key, ccf.strToBuf(String(body.msg)));
  if (typeof body.msg !== "string") {
    return badRequest("msg must be a string");
  }
  return { statusCode: 201, body: { stored: body.msg } };
}

export function get(request) {
  const value = records.get(recordKey(request));
  if (value === undefined) {
    return { statusCode: 404, body: { error: "no such record" } };
  }
  return { body: { msg: ccf.bufToStr(value) } };
}

export function sneakyWrite(request) {
  records.set(ccf.strToBuf("1"), ccf.strToBuf("sneaky"));
  return { body: "wrote" };
}

export function claim(request) {
  records.set(ccf.strToBuf("claimed"), ccf.strToBuf("yes"));
  ccf.rpc.setClaimsDigest(new Uint8Array(32).fill(0x11).buffer);
  return { body: "claimed" };
}

export function spin(request) {
  for (;;) {}
}
"#;

/// The `set_js_app` bundle, plus runtime options with a short time limit for the endless loop.
fn deploy_proposal() -> Value {
    let endpoint = |function: &str, mode: &str, policies: Value| {
        json!({
            "js_module": "app.js", "js_function": function, "mode": mode,
            "forwarding_required": "sometimes", "authn_policies": policies, "openapi": {}
        })
    };
    json!({ "actions": [
        { "name": "set_js_app", "args": { "bundle": {
            "metadata": { "endpoints": {
                "/echo": { "post": endpoint("echo", "readonly", json!(["user_cert"])) },
                "/records/{id}": {
                    "put": endpoint("put", "readwrite", json!(["user_cert"])),
                    "get": endpoint("get", "readonly", json!(["user_cert"])),
                },
                "/claims": { "post": endpoint("claim", "readwrite", json!([])) },
                "/sneaky": { "post": endpoint("sneakyWrite", "readonly", json!([])) },
                "/spin": { "get": endpoint("spin", "readonly", json!(["no_auth"])) },
                "/bogus": { "get": endpoint("echo", "readonly", json!(["no_such_policy"])) },
            }},
            "modules": [
                { "name": "app.js", "module": APP_JS },
                { "name": "lib.js", "module": LIB_JS },
            ],
        }}},
        { "name": "set_js_runtime_options", "args": {
            "max_heap_bytes": 104_857_600, "max_stack_bytes": 1_048_576,
            "max_execution_time_ms": 100, "return_exception_details": true,
        }},
    ]})
}

struct Harness {
    core: NodeCore,
    persisted: u64,
    session: u64,
    now_ms: u64,
}

impl Harness {
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

    fn sign_and_persist(&mut self) {
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

    /// Sends a COSE Sign1 governance message signed by `member`.
    fn gov(
        &mut self,
        member: &(EcKeyPair, Certificate),
        path: &str,
        msg_type: &str,
        proposal_id: Option<&str>,
        payload: &[u8],
    ) -> Response {
        let member_id = hex::encode(sha256(member.1.der()).0);
        let mut protected = vec![
            (Label::Int(4), Cbor::Bytes(member_id.into_bytes())),
            (
                Label::Text("ccf.gov.msg.type".into()),
                Cbor::Text(msg_type.into()),
            ),
            (
                Label::Text("ccf.gov.msg.created_at".into()),
                Cbor::Integer(NOW.into()),
            ),
        ];
        if let Some(id) = proposal_id {
            protected.push((
                Label::Text("ccf.gov.msg.proposal_id".into()),
                Cbor::Text(id.into()),
            ));
        }
        let body = cose::sign1(&member.0, &protected, payload, false).unwrap();
        let response = self.call(Request {
            method: "POST".into(),
            path: path.into(),
            query: "api-version=2024-07-01".into(),
            headers: vec![("content-type".into(), "application/cose".into())],
            body,
            client_cert_der: None,
        });
        assert!(
            (200..300).contains(&response.status),
            "{path}: {} {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
        response
    }

    /// Proposes `proposal`, votes for it and checks it was accepted.
    fn pass(&mut self, member: &(EcKeyPair, Certificate), proposal: &Value) {
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

fn app_request(
    method: &str,
    path: &str,
    body: Option<Value>,
    cert: Option<&Certificate>,
) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        client_cert_der: cert.map(|c| c.der().to_vec()),
    }
}

fn json_body(response: &Response) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&response.body)))
}

/// A started node with member0 active, the app deployed, user0 registered and the service open.
fn open_service_with_app() -> (Harness, Certificate, Certificate, String) {
    let mut entropy = SeededEntropy::from_seed(21);
    let service = ServiceIdentity::generate(&mut entropy, NOW - 10, NOW + 1_000_000).unwrap();
    let node =
        NodeIdentity::generate(&mut entropy, &service, vec![], NOW - 10, NOW + 1_000_000).unwrap();
    let member = identity(&mut entropy, "member0");
    let (_, user_cert) = identity(&mut entropy, "user0");
    let (_, stranger_cert) = identity(&mut entropy, "stranger");
    let genesis = GenesisConfig {
        members: vec![GenesisMember {
            cert_pem: member.1.to_pem(),
            encryption_public_key_pem: None,
            member_data: None,
        }],
        constitution: cloister_js::DEFAULT_CONSTITUTION.into(),
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
        Box::new(cloister_js::QuickJsConstitution::new()),
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

    let member_id = hex::encode(sha256(member.1.der()).0);
    let update = h.gov(
        &member,
        &format!("/gov/members/state-digests/{member_id}:update"),
        "state_digest",
        None,
        b"",
    );
    let digest = json_body(&update)["stateDigest"].clone();
    h.gov(
        &member,
        &format!("/gov/members/state-digests/{member_id}:ack"),
        "ack",
        None,
        json!({ "stateDigest": digest }).to_string().as_bytes(),
    );
    h.sign_and_persist();

    h.pass(&member, &deploy_proposal());
    h.pass(
        &member,
        &json!({ "actions": [
            { "name": "set_user", "args": {
                "cert": user_cert.to_pem(), "user_data": { "role": "tester" } } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": service_pem } },
        ]}),
    );
    (h, user_cert, stranger_cert, service_pem)
}

#[test]
fn a_deployed_js_app_serves_json_and_commits_only_applied_writes() {
    let (mut h, user, stranger, _) = open_service_with_app();

    // JSON in and out; the caller carries the user's id, data and certificate.
    let echo = h.call(app_request(
        "POST",
        "/app/echo?x=a%20b",
        Some(json!({ "hello": [1, 2] })),
        Some(&user),
    ));
    assert_eq!(echo.status, 200, "{}", String::from_utf8_lossy(&echo.body));
    assert_eq!(echo.header("content-type"), Some("application/json"));
    let echoed = json_body(&echo);
    assert_eq!(echoed["got"], json!({ "hello": [1, 2] }));
    assert_eq!(echoed["route"], "/app/echo");
    assert_eq!(echoed["query"], "x=a b");
    assert_eq!(echoed["caller"]["policy"], "user_cert");
    assert_eq!(
        echoed["caller"]["id"],
        hex::encode(sha256(user.der()).0).as_str()
    );
    assert_eq!(echoed["caller"]["data"], json!({ "role": "tester" }));
    assert!(
        echoed["caller"]["cert"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    // The same endpoint without the /app prefix, as CCF routes it.
    let bare = h.call(app_request("POST", "/echo", Some(json!(1)), Some(&user)));
    assert_eq!(json_body(&bare)["route"], "/app/echo");

    // A private write commits (transaction id header) and reads back through a template.
    let put = h.call(app_request(
        "PUT",
        "/app/records/7",
        Some(json!({ "msg": "seven" })),
        Some(&user),
    ));
    assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
    let txid = put.header(TX_ID).expect("a committed write has a tx id");
    let read = h.call(app_request("GET", "/app/records/7", None, Some(&user)));
    assert_eq!(read.status, 200);
    assert_eq!(json_body(&read)["msg"], "seven");
    h.sign_and_persist();
    let status = h.call(app_request(
        "GET",
        &format!("/app/tx?transaction_id={txid}"),
        None,
        None,
    ));
    // The built-in /app/tx still answers next to the JS endpoints: the write committed.
    assert_eq!(json_body(&status)["status"], "Committed");

    // A 400 writes nothing (the handler had set the record before refusing).
    let bad = h.call(app_request(
        "PUT",
        "/app/records/8",
        Some(json!({ "msg": 8 })),
        Some(&user),
    ));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.header(TX_ID), None);
    let missing = h.call(app_request("GET", "/app/records/8", None, Some(&user)));
    assert_eq!(missing.status, 404);

    // user_cert refuses a caller that is not a registered user, and an anonymous one.
    for cert in [Some(&stranger), None] {
        let refused = h.call(app_request("GET", "/app/records/7", None, cert));
        assert_eq!(refused.status, 401);
        assert_eq!(
            json_body(&refused)["error"]["details"][0]["auth_policy"],
            "user_cert"
        );
    }

    // A read-only endpoint cannot write: 500, and the record keeps its value.
    let sneaky = h.call(app_request("POST", "/app/sneaky", None, None));
    assert_eq!(
        sneaky.status,
        500,
        "{}",
        String::from_utf8_lossy(&sneaky.body)
    );
    assert_eq!(sneaky.header(TX_ID), None);

    // An unknown policy name is CCF's 500.
    let bogus = h.call(app_request("GET", "/app/bogus", None, None));
    assert_eq!(bogus.status, 500);
    assert_eq!(
        json_body(&bogus)["error"]["message"],
        "Unknown auth policy: no_such_policy"
    );

    // Wrong verb: 405 with the JS methods; OPTIONS lists them.
    let verb = h.call(app_request("DELETE", "/app/records/7", None, Some(&user)));
    assert_eq!(verb.status, 405);
    assert_eq!(verb.header("allow"), Some("OPTIONS, GET, PUT"));
    let options = h.call(app_request("OPTIONS", "/app/records/7", None, None));
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("OPTIONS, GET, PUT"));

    // An endless loop runs out of time; the node keeps serving.
    let spin = h.call(app_request("GET", "/app/spin", None, None));
    assert_eq!(spin.status, 500);
    assert_eq!(
        json_body(&spin)["error"]["message"],
        "Operation took too long to complete."
    );
    let again = h.call(app_request("GET", "/app/records/7", None, Some(&user)));
    assert_eq!(json_body(&again)["msg"], "seven");
}

#[test]
fn a_claims_digest_set_by_the_handler_is_bound_into_the_receipt() {
    let (mut h, _, _, service_pem) = open_service_with_app();
    let claimed = h.call(app_request("POST", "/app/claims", None, None));
    assert_eq!(
        claimed.status,
        200,
        "{}",
        String::from_utf8_lossy(&claimed.body)
    );
    let txid = claimed.header(TX_ID).unwrap().to_owned();
    h.sign_and_persist();
    let receipt = h.call(app_request(
        "GET",
        &format!("/app/receipt?transaction_id={txid}"),
        None,
        None,
    ));
    assert_eq!(
        receipt.status,
        200,
        "{}",
        String::from_utf8_lossy(&receipt.body)
    );
    assert_eq!(
        json_body(&receipt)["leaf_components"]["claims_digest"],
        "11".repeat(32)
    );
    let parsed = Receipt::from_json(std::str::from_utf8(&receipt.body).unwrap()).unwrap();
    parsed
        .verify(&Certificate::from_pem(&service_pem).unwrap())
        .unwrap();
}
