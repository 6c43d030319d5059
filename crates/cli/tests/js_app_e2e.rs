//! A JavaScript application end to end with a real node process: member0 deploys a two-module
//! bundle with `set_js_app` (the real QuickJS constitution), opens the service, and user0 calls
//! the JS endpoints over HTTPS with its TLS certificate (spec/ccf-js.md §1–§4): JSON in and
//! out, a private write that commits and reads back, a 4xx that writes nothing, user_cert
//! refusing an unregistered certificate, and an endless loop cut off by the time limit while
//! the node keeps serving.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod live_node;

use cloister_client::{Client, Method, ProposalState, Response};
use live_node::{DEADLINE, Identity, TestNetwork, body_text, run};
use serde_json::{Value, json};

/// The JS app bundle of `testdata/js/echo_app` (shared with crates/node/tests/js_app.rs).
macro_rules! echo_app {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/js/echo_app/",
            $file
        ))
    };
}

/// `set_js_app` with the bundle, and a short time limit for the endless loop.
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
            "max_execution_time_ms": 200,
        }},
    ]})
}

async fn send(client: &Client, method: Method, path: &str, body: Option<Value>) -> Response {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    client
        .request(method, path, &[("content-type", "application/json")], body)
        .await
        .unwrap()
}

fn json_of(response: &Response) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", body_text(response)))
}

#[test]
fn a_js_app_deployed_by_governance_is_served_over_https() {
    run(async {
        let network = TestNetwork::start("1MB").await;
        let gov = network.member0_gov();
        network.activate_member0(&gov).await;

        let proposed = gov
            .propose(deploy_proposal().to_string().as_bytes())
            .await
            .unwrap();
        let voted = gov.vote_accept(&proposed.value.proposal_id).await.unwrap();
        assert_eq!(voted.value.proposal_state, ProposalState::Accepted);
        gov.wait_for_commit(voted.tx_id.unwrap(), DEADLINE)
            .await
            .unwrap();
        network.open_service(&gov).await;

        let user = network.client(Some(&network.user0));

        // JSON in and out, with user0 as the caller.
        let echo = send(&user, Method::POST, "/app/echo", Some(json!({"a": [1, 2]}))).await;
        assert_eq!(echo.status, 200, "{}", body_text(&echo));
        let echoed = json_of(&echo);
        assert_eq!(echoed["got"], json!({"a": [1, 2]}));
        assert_eq!(echoed["route"], "/app/echo");
        assert_eq!(echoed["caller"]["policy"], "user_cert");
        assert_eq!(echoed["caller"]["id"], network.user0.id().as_str());

        // A private write commits and reads back.
        let put = send(
            &user,
            Method::PUT,
            "/app/records/7",
            Some(json!({"msg": "seven"})),
        )
        .await;
        assert_eq!(put.status, 201, "{}", body_text(&put));
        let tx_id = put.tx_id().expect("a committed write has a transaction id");
        network.wait_committed(&user, "/app", tx_id).await;
        let read = send(&user, Method::GET, "/app/records/7", None).await;
        assert_eq!(json_of(&read)["msg"], "seven");
        // The handler's console.log and CCF's metrics line reach the node's log.
        let log = network.log();
        assert!(
            log.contains(r#"stored record 7 {"length":5}"#),
            "no console line in:\n{log}"
        );
        assert!(
            log.contains("JS execution complete: Method=PUT, Path=/app/records/{id}, Status=201, ExecMilliseconds="),
            "no metrics line in:\n{log}"
        );

        // A 400 writes nothing.
        let bad = send(
            &user,
            Method::PUT,
            "/app/records/8",
            Some(json!({"msg": 8})),
        )
        .await;
        assert_eq!(bad.status, 400, "{}", body_text(&bad));
        assert!(bad.tx_id().is_none());
        let missing = send(&user, Method::GET, "/app/records/8", None).await;
        assert_eq!(missing.status, 404, "{}", body_text(&missing));

        // user_cert refuses a certificate that is not a registered user's.
        let stranger = Identity::generate(&network.common, "stranger", false);
        let stranger = network.client(Some(&stranger));
        let refused = send(&stranger, Method::GET, "/app/records/7", None).await;
        assert_eq!(refused.status, 401, "{}", body_text(&refused));
        assert_eq!(
            json_of(&refused)["error"]["details"][0]["auth_policy"],
            "user_cert"
        );

        // An endless loop is cut off; the node keeps serving.
        let spin = send(&user, Method::GET, "/app/spin", None).await;
        assert_eq!(spin.status, 500, "{}", body_text(&spin));
        assert_eq!(
            json_of(&spin)["error"]["message"],
            "Operation took too long to complete."
        );
        let again = send(&user, Method::GET, "/app/records/7", None).await;
        assert_eq!(again.status, 200, "{}", body_text(&again));
        assert_eq!(json_of(&again)["msg"], "seven");

        // Deep recursion and a heap bomb fail within the configured limits, with CCF's 500 and
        // (as governance asked) the engine's reason; the node keeps serving.
        let options = json!({"actions": [{"name": "set_js_runtime_options", "args": {
            "max_heap_bytes": 32 * 1024 * 1024, "max_stack_bytes": 512 * 1024,
            "max_execution_time_ms": 2000, "return_exception_details": true,
            "log_exception_details": true}}]});
        let proposed = gov.propose(options.to_string().as_bytes()).await.unwrap();
        let voted = gov.vote_accept(&proposed.value.proposal_id).await.unwrap();
        assert_eq!(voted.value.proposal_state, ProposalState::Accepted);
        gov.wait_for_commit(voted.tx_id.unwrap(), DEADLINE)
            .await
            .unwrap();
        for (path, reason) in [
            ("/app/recurse", "InternalError: stack overflow"),
            ("/app/bomb", "InternalError: out of memory"),
        ] {
            let started = std::time::Instant::now();
            let failed = send(&user, Method::GET, path, None).await;
            let took = started.elapsed();
            assert_eq!(failed.status, 500, "{path}: {}", body_text(&failed));
            let error = &json_of(&failed)["error"];
            assert_eq!(
                error["message"], "Exception thrown while executing.",
                "{path}"
            );
            let detail = error["details"][0]["message"].as_str().unwrap_or_default();
            assert!(detail.contains(reason), "{path}: {error}");
            assert!(
                took < std::time::Duration::from_secs(2),
                "{path} took {took:?}"
            );
            let again = send(&user, Method::GET, "/app/records/7", None).await;
            assert_eq!(json_of(&again)["msg"], "seven", "serving after {path}");
            // log_exception_details: the reason is in the node's log too.
            let logged = format!("Exception thrown while executing. {reason}");
            assert!(
                network.log().contains(&logged),
                "{path}: no {logged:?} in the log"
            );
        }

        // An app that turns metrics logging off gets no metrics line.
        let quiet = send(&user, Method::GET, "/app/quiet", None).await;
        assert_eq!(quiet.status, 200, "{}", body_text(&quiet));
        let log = network.log();
        assert!(log.contains("Path=/app/records/{id}"), "{log}");
        assert!(!log.contains("Path=/app/quiet"), "{log}");
    });
}
