//! `ccf.host.triggerSubprocess` end to end with a real node process (CCF 6.x,
//! spec/ccf-js.md §3.8; CCF's tests/js-launch-host-process): member0 deploys a JS app whose
//! handlers ask the host to launch processes; the processes really run (a file appears, stdin
//! reaches the process), a hundred from one request all run, and a handler that throws after
//! asking launches nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod live_node;

use std::path::Path;
use std::time::{Duration, Instant};

use cloister_client::{Client, Method, ProposalState};
use live_node::{DEADLINE, TestNetwork, body_text, run};
use serde_json::{Value, json};

const APP_JS: &str = r#"
export function launch(request) {
  const body = request.body.json();
  if (body.stdin === undefined) {
    ccf.host.triggerSubprocess(body.args);
  } else {
    ccf.host.triggerSubprocess(body.args, ccf.strToBuf(body.stdin));
  }
  return { body: {} };
}
export function launchMany(request) {
  const body = request.body.json();
  for (let i = 0; i < body.count; i++) {
    ccf.host.triggerSubprocess(["touch", `${body.out_dir}/${i}`]);
  }
  return { body: {} };
}
export function launchThenThrow(request) {
  ccf.host.triggerSubprocess(request.body.json().args);
  throw new Error("the handler fails after asking");
}
"#;

fn endpoint(function: &str) -> Value {
    json!({
        "js_module": "app.js",
        "js_function": function,
        "mode": "readwrite",
        "forwarding_required": "always",
        "authn_policies": ["user_cert"],
        "openapi": {},
    })
}

fn deploy_proposal() -> Value {
    json!({ "actions": [{ "name": "set_js_app", "args": { "bundle": {
        "metadata": { "endpoints": {
            "/launch": { "post": endpoint("launch") },
            "/launch_many": { "post": endpoint("launchMany") },
            "/launch_then_throw": { "post": endpoint("launchThenThrow") },
        }},
        "modules": [{ "name": "app.js", "module": APP_JS }],
    }}}]})
}

async fn post(client: &Client, path: &str, body: Value) -> u16 {
    let response = client
        .request(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            body.to_string().into_bytes(),
        )
        .await
        .unwrap();
    assert!(
        response.status == 200 || path == "/app/launch_then_throw",
        "{path}: {} {}",
        response.status,
        body_text(&response)
    );
    response.status
}

/// Waits up to `timeout` for every path to exist; the ones still missing.
async fn wait_for_files(paths: &[&Path], timeout: Duration) -> Vec<String> {
    let started = Instant::now();
    loop {
        let missing: Vec<String> = paths
            .iter()
            .filter(|path| !path.exists())
            .map(|path| path.display().to_string())
            .collect();
        if missing.is_empty() || started.elapsed() > timeout {
            return missing;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn a_js_handler_launches_host_processes() {
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
        let out = tempfile::tempdir().unwrap();

        // A handler that throws after asking launches nothing (sent first: had it launched,
        // its file would be there before the later ones).
        let never = out.path().join("never");
        let failed = post(
            &user,
            "/app/launch_then_throw",
            json!({"args": ["touch", never.display().to_string()]}),
        )
        .await;
        assert_eq!(failed, 500);

        // `touch` runs: the file appears (CCF's test allows one second).
        let touched = out.path().join("touched");
        post(
            &user,
            "/app/launch",
            json!({"args": ["touch", touched.display().to_string()]}),
        )
        .await;
        let missing = wait_for_files(&[&touched], Duration::from_secs(5)).await;
        assert!(missing.is_empty(), "not launched\n{}", network.log());

        // stdin reaches the process, and is closed (`cat` ends).
        let written = out.path().join("written");
        let script = format!("cat > {0}.tmp && mv {0}.tmp {0}", written.display());
        post(
            &user,
            "/app/launch",
            json!({"args": ["/bin/sh", "-c", script], "stdin": "Hello world!"}),
        )
        .await;
        let missing = wait_for_files(&[&written], Duration::from_secs(5)).await;
        assert!(missing.is_empty(), "stdin copy missing\n{}", network.log());
        assert_eq!(std::fs::read_to_string(&written).unwrap(), "Hello world!");

        // A hundred from one request all run (eight at a time, the rest queued).
        let many = out.path().join("many");
        std::fs::create_dir(&many).unwrap();
        post(
            &user,
            "/app/launch_many",
            json!({"count": 100, "out_dir": many.display().to_string()}),
        )
        .await;
        let paths: Vec<_> = (0..100).map(|i| many.join(i.to_string())).collect();
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        let missing = wait_for_files(&refs, Duration::from_secs(10)).await;
        assert!(missing.is_empty(), "{} never ran", missing.len());

        assert!(!never.exists(), "a failed handler's launch ran");
    });
}
