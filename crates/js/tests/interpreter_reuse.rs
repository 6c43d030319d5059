//! Interpreter reuse as CCF does it (spec/ccf-js.md §4.7): endpoints with `interpreter_reuse`
//! keep `globalThis` and evaluated modules between requests; others get a fresh interpreter; rw
//! and ro never share; `set_js_app` flushes; the LRU holds `max_cached_interpreters`. And the
//! bytecode cache: a module is compiled once however many fresh interpreters load it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::rc::Rc;

use cloister_js::{JsApp, JsCaller, JsRequest, js_endpoints};
use cloister_kv::Store;
use common::*;
use serde_json::{Value, json};

// Top-level code counts evaluations of the module; handlers report what survived.
const MODULE: &str = r#"
globalThis.evaluations = (globalThis.evaluations ?? 0) + 1;
export function visit(request) {
  globalThis.visits = (globalThis.visits ?? 0) + 1;
  if (globalThis.records === undefined) {
    globalThis.records = ccf.kv["records"]; // a handle captured in an earlier request
  }
  const id = ccf.strToBuf(String(globalThis.visits));
  if (request.method === "POST") {
    globalThis.records.set(id, id);
  }
  return { body: { evaluations: globalThis.evaluations, visits: globalThis.visits,
                   wasCached: globalThis.visits > 1, size: globalThis.records.size } };
}
export function fail() {
  globalThis.visits = (globalThis.visits ?? 0) + 1;
  throw new Error("fails");
}
"#;

fn endpoint(function: &str, mode: &str, reuse: Option<&str>) -> Value {
    let mut properties = json!({
        "js_module": "app.js",
        "js_function": function,
        "forwarding_required": "always",
        "authn_policies": [],
        "mode": mode,
    });
    if let Some(key) = reuse {
        properties["interpreter_reuse"] = json!({"key": key});
    }
    properties
}

fn bundle(module: &str) -> Value {
    json!({
        "metadata": {"endpoints": {
            "/fresh": {"post": endpoint("visit", "readwrite", None)},
            "/reused": {"post": endpoint("visit", "readwrite", Some("k")),
                        "get": endpoint("visit", "readonly", Some("k"))},
            "/other": {"post": endpoint("visit", "readwrite", Some("other"))},
            "/failing": {"post": endpoint("fail", "readwrite", Some("f"))},
        }},
        "modules": [{"name": "app.js", "module": module}],
    })
}

fn deployed(module: &str) -> Store {
    deploy_js_app(bundle(module))
}

/// Runs `method path` and commits its writes; the JSON body.
fn call(app: &mut JsApp, store: &mut Store, method: &str, path: &str) -> Value {
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
        ..JsRequest::default()
    };
    let response = app
        .handle(&mut tx, &endpoint, &request, &JsCaller::Unauthenticated)
        .unwrap();
    commit(store, tx);
    serde_json::from_slice(&response.body).unwrap()
}

fn app() -> JsApp {
    JsApp::new(Rc::new(CommittedHost))
}

#[test]
fn without_reuse_every_request_evaluates_the_module_again() {
    let mut store = deployed(MODULE);
    let mut app = app();
    let mut compiled = Vec::new();
    for _ in 0..3 {
        let body = call(&mut app, &mut store, "POST", "/fresh");
        assert_eq!(body["evaluations"], 1);
        assert_eq!(body["wasCached"], false);
        compiled.push(app.cache_stats().modules_compiled);
    }
    // ... but from bytecode: the glue and the module were compiled by the first request only.
    assert_eq!(compiled, [2, 2, 2]);
    assert_eq!(app.cache_stats().interpreters_reused, 0);
}

#[test]
fn a_reused_interpreter_keeps_globals_modules_and_captured_handles() {
    let mut store = deployed(MODULE);
    let mut app = app();
    for visit in 1..=4 {
        let body = call(&mut app, &mut store, "POST", "/reused");
        assert_eq!(body["evaluations"], 1, "top-level code runs once");
        assert_eq!(body["visits"], visit);
        assert_eq!(body["wasCached"], visit > 1);
        // A kv handle captured in the first request reads this request's transaction.
        assert_eq!(body["size"], visit);
    }
    assert_eq!(app.cache_stats().interpreters_reused, 3);
}

#[test]
fn read_write_and_read_only_endpoints_never_share_an_interpreter() {
    let mut store = deployed(MODULE);
    let mut app = app();
    call(&mut app, &mut store, "POST", "/reused");
    call(&mut app, &mut store, "POST", "/reused");
    let ro = call(&mut app, &mut store, "GET", "/reused");
    assert_eq!(ro["visits"], 1, "the (ro) interpreter is a different one");
    let other = call(&mut app, &mut store, "POST", "/other");
    assert_eq!(other["visits"], 1, "another key, another interpreter");
    assert_eq!(call(&mut app, &mut store, "POST", "/reused")["visits"], 3);
    assert_eq!(app.cache_stats().interpreters_cached, 3);
}

#[test]
fn set_js_app_flushes_the_cache_and_new_code_is_seen_at_once() {
    let mut store = deployed(MODULE);
    let mut app = app();
    call(&mut app, &mut store, "POST", "/reused");
    assert_eq!(call(&mut app, &mut store, "POST", "/reused")["visits"], 2);
    let changed = MODULE.replace("evaluations ?? 0) + 1", "evaluations ?? 0) + 100");
    pass(
        &mut store,
        "set_js_app",
        json!({"bundle": bundle(&changed)}),
    );
    let body = call(&mut app, &mut store, "POST", "/reused");
    assert_eq!(body["visits"], 1, "a fresh interpreter after the flush");
    assert_eq!(body["evaluations"], 100, "running the new code");
}

#[test]
fn the_lru_keeps_max_cached_interpreters() {
    let mut store = deployed(MODULE);
    pass(
        &mut store,
        "set_js_runtime_options",
        json!({"max_heap_bytes": 104857600, "max_stack_bytes": 1048576,
               "max_execution_time_ms": 1000, "max_cached_interpreters": 1}),
    );
    let mut app = app();
    call(&mut app, &mut store, "POST", "/reused");
    call(&mut app, &mut store, "POST", "/other"); // evicts "k (rw)"
    assert_eq!(app.cache_stats().interpreters_cached, 1);
    assert_eq!(call(&mut app, &mut store, "POST", "/reused")["visits"], 1);
    assert_eq!(call(&mut app, &mut store, "POST", "/reused")["visits"], 2);
}

#[test]
fn an_interpreter_whose_call_failed_is_not_reused() {
    let store = deployed(MODULE);
    let mut app = app();
    for _ in 0..2 {
        let mut tx = store.begin();
        let endpoint = js_endpoints(&mut tx)
            .unwrap()
            .into_iter()
            .find(|e| e.path == "/failing")
            .unwrap()
            .properties;
        let request = JsRequest {
            method: "POST".into(),
            path: "/app/failing".into(),
            route: "/app/failing".into(),
            ..JsRequest::default()
        };
        let failure = app
            .handle(&mut tx, &endpoint, &request, &JsCaller::Unauthenticated)
            .unwrap_err();
        assert_eq!(failure.response().status, 500);
    }
    assert_eq!(app.cache_stats().interpreters_reused, 0);
    assert_eq!(app.cache_stats().interpreters_cached, 0);
}
