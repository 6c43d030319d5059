//! JavaScript applications served by NodeCore, sans-IO: a member deploys a two-module bundle
//! with `set_js_app` under the real QuickJS constitution, opens the service, and a user calls
//! the JS endpoints (spec/ccf-js.md §1–§4): JSON in and out, a private write that commits and
//! reads back, a 4xx that writes nothing, user_cert refusing strangers, a read-only endpoint
//! that cannot write, and an endless loop cut off while the node keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use cloister_crypto::{Certificate, SeededEntropy, sha256};
use cloister_merkle::Receipt;
use cloister_node::core::Frontends;
use cloister_node::rpc::Request;
use serde_json::{Value, json};
use support::{Harness, Identities, identity, json_body, random_ledger_secret};

const TX_ID: &str = "x-ms-ccf-transaction-id";

/// The JS app bundle of `testdata/js/echo_app` (shared with crates/cli/tests/js_app_e2e.rs).
macro_rules! echo_app {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/js/echo_app/",
            $file
        ))
    };
}

/// The `set_js_app` bundle, plus runtime options with a short time limit for the endless loop.
fn deploy_proposal() -> Value {
    let metadata: Value = serde_json::from_str(echo_app!("metadata.json")).unwrap();
    json!({ "actions": [
        { "name": "set_js_app", "args": { "bundle": {
            "metadata": metadata,
            "modules": [
                { "name": "app.js", "module": echo_app!("app.js") },
                { "name": "lib.js", "module": echo_app!("lib.js") },
            ],
        }}},
        { "name": "set_js_runtime_options", "args": {
            "max_heap_bytes": 104_857_600, "max_stack_bytes": 1_048_576,
            "max_execution_time_ms": 100, "return_exception_details": true,
        }},
    ]})
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
        http2: false,
    }
}

/// A started node with member0 active, the app deployed, user0 registered and the service open.
fn open_service_with_app() -> (Harness, Certificate, Certificate, String) {
    let mut entropy = SeededEntropy::from_seed(21);
    let identities = Identities::generate(&mut entropy, vec![]);
    let member = identity(&mut entropy, "member0");
    let (_, user_cert) = identity(&mut entropy, "user0");
    let (_, stranger_cert) = identity(&mut entropy, "stranger");
    let ledger_secret = random_ledger_secret(&mut entropy);
    let service_pem = identities.service.cert_pem();
    let mut h = Harness::start_genesis(
        identities,
        &member.1,
        cloister_js::DEFAULT_CONSTITUTION.into(),
        ledger_secret,
        Box::new(cloister_js::QuickJsConstitution::new()),
        Frontends::with_builtins(&[]),
    );
    h.activate_member(&member);

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
