//! `ccf.host.triggerSubprocess` (CCF 6.x, spec/ccf-js.md §3.8): CCF's argument checks and
//! texts, launches handed back with the response in call order (stdin bytes exact), a 4xx
//! still launching (CCF sends as the handler runs), a failed call launching nothing, the
//! per-request bounds, and `ccf.host` in read-only app contexts and reused interpreters.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::rc::Rc;

use cloister_js::{HostLaunch, JsApp, JsCaller, JsRequest, JsResponse, js_endpoints};
use cloister_kv::Store;
use common::*;
use serde_json::{Value, json};

const MODULE: &str = r#"
const launch = ccf.host.triggerSubprocess; // detached: still works
export function launchFromBody(request) {
  const body = request.body.json();
  for (const one of body.launches) {
    if (one.stdin === undefined) {
      launch(one.args);
    } else {
      launch(one.args, ccf.strToBuf(one.stdin));
    }
  }
  return { statusCode: body.status ?? 200, body: { returned: launch(["true"]) === undefined } };
}
export function launchThenThrow() {
  ccf.host.triggerSubprocess(["touch", "/tmp/never"]);
  throw new Error("after launching");
}
export function launchMany(request) {
  const count = request.body.json().count;
  for (let i = 0; i < count; i++) {
    ccf.host.triggerSubprocess(["touch", `/tmp/${i}`]);
  }
  return { body: {} };
}
export function checks() {
  const t = ccf.host.triggerSubprocess;
  const cases = {
    none: () => t(),
    three: () => t(["a"], new ArrayBuffer(1), 3),
    notArray: () => t("echo hi"),
    typedArrayArgs: () => t(new Uint8Array(2)),
    empty: () => t([]),
    nonString: () => t(["echo", 1]),
    hole: () => t(["echo", , "x"]),
    stringObject: () => t([new String("echo")]),
    stdinTyped: () => t(["cat"], new Uint8Array(2)),
    stdinUndefined: () => t(["cat"], undefined),
    stdinString: () => t(["cat"], "text"),
    bothWrong: () => t([], "text"),
  };
  const out = {};
  for (const [name, f] of Object.entries(cases)) {
    try {
      f();
      out[name] = "no error";
    } catch (e) {
      out[name] = `${e.constructor.name}: ${e.message}`;
    }
  }
  return { body: out };
}
"#;

fn endpoint(function: &str, mode: &str, reuse: bool) -> Value {
    let mut properties = json!({
        "js_module": "app.js",
        "js_function": function,
        "forwarding_required": "always",
        "authn_policies": [],
        "mode": mode,
    });
    if reuse {
        properties["interpreter_reuse"] = json!({"key": "k"});
    }
    properties
}

fn deployed() -> Store {
    let bundle = json!({
        "metadata": {"endpoints": {
            "/launch": {"post": endpoint("launchFromBody", "readwrite", false),
                        "get": endpoint("launchFromBody", "readonly", false)},
            "/reused": {"post": endpoint("launchFromBody", "readwrite", true)},
            "/throw": {"post": endpoint("launchThenThrow", "readwrite", false)},
            "/many": {"post": endpoint("launchMany", "readwrite", false)},
            "/checks": {"post": endpoint("checks", "readwrite", false)},
        }},
        "modules": [{"name": "app.js", "module": MODULE}],
    });
    deploy_js_app(bundle)
}

fn call(
    app: &mut JsApp,
    store: &Store,
    method: &str,
    path: &str,
    body: Value,
) -> Result<JsResponse, cloister_js::AppFailure> {
    let mut tx = store.begin();
    let endpoint = js_endpoints(&mut tx)
        .unwrap()
        .into_iter()
        .find(|e| e.method == method && e.path == path)
        .unwrap()
        .properties;
    let request = JsRequest {
        method: method.to_owned(),
        path: format!("/app{path}"),
        route: format!("/app{path}"),
        body: body.to_string().into_bytes(),
        ..JsRequest::default()
    };
    app.handle(&mut tx, &endpoint, &request, &JsCaller::Unauthenticated)
}

fn launch(args: &[&str], stdin: Option<&[u8]>) -> HostLaunch {
    HostLaunch {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        stdin: stdin.map(<[u8]>::to_vec),
    }
}

fn body(response: &JsResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

#[test]
fn arguments_are_checked_with_ccf_texts() {
    let store = deployed();
    let mut app = JsApp::new(Rc::new(CommittedHost));
    let response = call(&mut app, &store, "POST", "/checks", json!({})).unwrap();
    let array = "First argument must be an array";
    let strings = "First argument must be an array of strings, found non-string";
    let buffer = "Argument must be an ArrayBuffer";
    assert_eq!(
        body(&response),
        json!({
            "none": "TypeError: Passed 0 arguments but expected 1 or 2",
            "three": "TypeError: Passed 3 arguments but expected 1 or 2",
            "notArray": format!("TypeError: {array}"),
            "typedArrayArgs": format!("TypeError: {array}"),
            "empty": "RangeError: First argument must be a non-empty array",
            "nonString": format!("TypeError: {strings}"),
            "hole": format!("TypeError: {strings}"),
            "stringObject": format!("TypeError: {strings}"),
            "stdinTyped": format!("TypeError: {buffer}"),
            "stdinUndefined": format!("TypeError: {buffer}"),
            "stdinString": format!("TypeError: {buffer}"),
            "bothWrong": "RangeError: First argument must be a non-empty array",
        })
    );
    assert!(
        response.launches.is_empty(),
        "a refused call records nothing"
    );
}

#[test]
fn launches_come_back_with_the_response_in_call_order() {
    let store = deployed();
    let mut app = JsApp::new(Rc::new(CommittedHost));
    let request = json!({"launches": [
        {"args": ["touch", "/tmp/a b"]},
        {"args": ["/bin/sh", "-c", "cat > /tmp/x"], "stdin": "héllo"},
        {"args": ["cat"], "stdin": ""},
    ]});
    let response = call(&mut app, &store, "POST", "/launch", request).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        body(&response),
        json!({"returned": true}),
        "returns undefined"
    );
    assert_eq!(
        response.launches,
        vec![
            launch(&["touch", "/tmp/a b"], None),
            launch(&["/bin/sh", "-c", "cat > /tmp/x"], Some("héllo".as_bytes())),
            launch(&["cat"], Some(b"")),
            launch(&["true"], None),
        ]
    );
}

#[test]
fn a_4xx_still_launches_and_a_failed_call_launches_nothing() {
    let store = deployed();
    let mut app = JsApp::new(Rc::new(CommittedHost));
    let request = json!({"status": 400, "launches": [{"args": ["touch", "/tmp/y"]}]});
    let response = call(&mut app, &store, "POST", "/launch", request).unwrap();
    assert_eq!(response.status, 400);
    assert!(!response.apply_writes);
    assert_eq!(
        response.launches.len(),
        2,
        "CCF launches while the handler runs"
    );

    let failure = call(&mut app, &store, "POST", "/throw", json!({})).unwrap_err();
    let response = failure.response();
    assert_eq!(response.status, 500);
    assert!(response.launches.is_empty());
}

#[test]
fn read_only_endpoints_and_reused_interpreters_launch_per_request() {
    let store = deployed();
    let mut app = JsApp::new(Rc::new(CommittedHost));
    let request = json!({"launches": [{"args": ["ro"]}]});
    let response = call(&mut app, &store, "GET", "/launch", request).unwrap();
    assert_eq!(response.launches[0], launch(&["ro"], None));
    // A reused interpreter starts each request with no launches of the one before.
    for i in 0..3 {
        let request = json!({"launches": [{"args": [format!("run{i}")]}]});
        let response = call(&mut app, &store, "POST", "/reused", request).unwrap();
        assert_eq!(
            response.launches,
            vec![launch(&[&format!("run{i}")], None), launch(&["true"], None)]
        );
    }
    assert_eq!(app.cache_stats().interpreters_reused, 2);
}

#[test]
fn a_request_launches_at_most_256_processes() {
    let store = deployed();
    let mut app = JsApp::new(Rc::new(CommittedHost));
    // CCF's own test launches 100 from one request.
    let response = call(&mut app, &store, "POST", "/many", json!({"count": 100})).unwrap();
    assert_eq!(response.launches.len(), 100);
    assert_eq!(response.launches[99], launch(&["touch", "/tmp/99"], None));
    let response = call(&mut app, &store, "POST", "/many", json!({"count": 256})).unwrap();
    assert_eq!(response.launches.len(), 256);
    // One more throws CCF's InternalError text, and the failed call launches nothing.
    let failure = call(&mut app, &store, "POST", "/many", json!({"count": 257})).unwrap_err();
    assert!(failure.response().launches.is_empty());
    assert_eq!(
        failure.error.to_string(),
        "InternalError: Unable to launch host process: more than 256 launches in one request",
    );
}
