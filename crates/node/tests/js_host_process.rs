//! `ccf.host.triggerSubprocess` through NodeCore, sans-IO (CCF 6.x, spec/ccf-js.md §3.8): each
//! launch a handler asks for becomes an `Output::LaunchProcess` ahead of the request's response,
//! as CCF writes it to its host while the handler runs: also for a 4xx whose writes are
//! discarded, never for a handler that throws.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use cloister_crypto::{Certificate, SeededEntropy};
use cloister_node::core::{Frontends, Input, Output};
use cloister_node::rpc::Request;
use serde_json::{Value, json};
use support::{Harness, Identities, identity, random_ledger_secret};

const APP_JS: &str = r#"
export function launch(request) {
  const body = request.body.json();
  ccf.host.triggerSubprocess(["touch", "/tmp/a"]);
  ccf.host.triggerSubprocess(["/bin/sh", "-c", "cat"], ccf.strToBuf("in"));
  return { statusCode: body.status };
}
export function launchThenThrow() {
  ccf.host.triggerSubprocess(["touch", "/tmp/never"]);
  throw new Error("fails after asking");
}
"#;

fn endpoint(function: &str) -> Value {
    json!({
        "js_module": "app.js", "js_function": function, "mode": "readwrite",
        "forwarding_required": "always", "authn_policies": ["user_cert"], "openapi": {},
    })
}

fn open_service_with_app() -> (Harness, Certificate) {
    let mut entropy = SeededEntropy::from_seed(31);
    let identities = Identities::generate(&mut entropy, vec![]);
    let member = identity(&mut entropy, "member0");
    let (_, user_cert) = identity(&mut entropy, "user0");
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
    h.pass(
        &member,
        &json!({ "actions": [{ "name": "set_js_app", "args": { "bundle": {
            "metadata": { "endpoints": {
                "/launch": { "post": endpoint("launch") },
                "/throw": { "post": endpoint("launchThenThrow") },
            }},
            "modules": [{ "name": "app.js", "module": APP_JS }],
        }}}]}),
    );
    h.pass(
        &member,
        &json!({ "actions": [
            { "name": "set_user", "args": { "cert": user_cert.to_pem() } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": service_pem } },
        ]}),
    );
    (h, user_cert)
}

/// Sends `POST path` as user0; the launches asked for, and whether each came before the
/// response, with the response's status.
fn launches(h: &mut Harness, user: &Certificate, path: &str, body: Value) -> (Vec<Output>, u16) {
    h.session += 1;
    h.core.handle(Input::Request {
        session: h.session,
        request: Request {
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            client_cert_der: Some(user.der().to_vec()),
            http2: false,
        },
    });
    let mut launches = Vec::new();
    let mut status = None;
    while let Some(output) = h.core.poll_output() {
        match output {
            launch @ Output::LaunchProcess { .. } => {
                assert!(status.is_none(), "a launch after the response");
                launches.push(launch);
            }
            Output::Respond { response, .. } => status = Some(response.status),
            Output::AppendLedger { seqno, .. } => h.persisted = seqno.0,
            _ => {}
        }
    }
    (launches, status.expect("a response"))
}

fn expected() -> Vec<Output> {
    vec![
        Output::LaunchProcess {
            args: vec!["touch".into(), "/tmp/a".into()],
            stdin: None,
        },
        Output::LaunchProcess {
            args: vec!["/bin/sh".into(), "-c".into(), "cat".into()],
            stdin: Some(b"in".to_vec()),
        },
    ]
}

#[test]
fn launches_are_output_before_the_response_even_for_a_4xx_and_never_for_a_throw() {
    let (mut h, user) = open_service_with_app();
    let (ok, status) = launches(&mut h, &user, "/app/launch", json!({"status": 200}));
    assert_eq!(status, 200);
    assert_eq!(ok, expected());
    let (refused, status) = launches(&mut h, &user, "/app/launch", json!({"status": 403}));
    assert_eq!(status, 403);
    assert_eq!(
        refused,
        expected(),
        "CCF launches whether or not the tx commits"
    );
    let (thrown, status) = launches(&mut h, &user, "/app/throw", json!({}));
    assert_eq!(status, 500);
    assert!(thrown.is_empty());
}
