//! JavaScript applications end to end: a two-module bundle deployed through the default
//! constitution's `set_js_app` (validate, then apply on a store), then requests handled by
//! `JsApp` the way CCF's js_generic handles them (spec/ccf-js.md §1–§4).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::rc::Rc;

use cloister_js::{
    AppHost, ENDPOINTS_TABLE, EndpointMode, EndpointProperties, JsApp, JsCaller, JsError,
    JsRequest, JsResponse, LogLevel, MODULES_TABLE, js_endpoints,
};
use cloister_kv::{Store, Tx};
use cloister_types::{SeqNo, TxId, TxStatus, View};
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

// -- The bundle ----------------------------------------------------------------------------------

const UTIL_JS: &str = r#"
export function json(statusCode, body) {
  return { statusCode, body };
}
export function text(buffer) {
  return buffer === undefined ? undefined : ccf.bufToStr(buffer);
}
export function parseQuery(query) {
  return Object.fromEntries(
    query.split("&").filter((pair) => pair !== "").map((pair) => pair.split("=")),
  );
}
"#;

// Imports its helper relatively, and uses ccf.kv at top level (request-scoped globals are
// installed before the module is evaluated, spec/ccf-js.md §1.4).
const APP_JS: &str = r#"
import { json, text, parseQuery } from "../lib/util.js";

const records = ccf.kv["records"];
const publicRecords = ccf.kv["public:records"];

export function echo(request) {
  return json(200, {
    params: request.params,
    query: request.query,
    path: request.path,
    url: request.url,
    route: request.route,
    method: request.method,
    hostname: request.hostname,
    headers: request.headers,
    caller: request.caller,
    body: request.body.json(),
    bodyText: request.body.text(),
    bodyBytes: new Uint8Array(request.body.arrayBuffer()).length,
  });
}

export function putRecord(request) {
  const id = ccf.strToBuf(request.params.id);
  const value = ccf.strToBuf(request.body.text());
  records.set(id, value);
  publicRecords.set(id, value);
  const query = parseQuery(request.query);
  if (query.apply !== undefined) {
    ccf.rpc.setApplyWrites(query.apply === "true");
  }
  return { statusCode: Number(query.status ?? 204) };
}

export function getRecord(request) {
  const value = text(records.get(ccf.strToBuf(request.params.id)));
  if (value === undefined) {
    return json(404, { error: { code: "ResourceNotFound", message: `No record ${request.params.id}.` } });
  }
  return { body: value, headers: { "x-record-id": request.params.id } };
}

export function writeInReadOnly(request) {
  records.set(ccf.strToBuf("x"), ccf.strToBuf("y"));
  return {};
}

export function writeGovernance() {
  ccf.kv["public:ccf.gov.users.info"].set(ccf.strToBuf("x"), ccf.strToBuf("{}"));
  return {};
}

export function bytes() {
  return {
    body: new Uint8Array([0, 1, 2, 255]).subarray(1),
    headers: { "Content-Type": "application/x-custom", "x-count": 3 },
  };
}

export function empty() {
  return {};
}

export function created() {
  console.log("creating", { id: 1 });
  console.warn("careful");
  return { statusCode: 201, body: "made" };
}

export function fail() {
  throw new Error("test error: " + 42);
}

export function spin() {
  while (true) {}
}

export function consensus() {
  return json(200, {
    last: ccf.consensus.getLastCommittedTxId(),
    status: ccf.consensus.getStatusForTxId(2, 10),
    view: ccf.consensus.getViewForSeqno(10),
    unknown: ccf.consensus.getViewForSeqno(999),
  });
}

export function time() {
  const before = Date.now();
  const previous = ccf.enableUntrustedDateTime(true);
  return json(200, [before, previous, Date.now(), new Date().getTime()]);
}

export function claims() {
  ccf.rpc.setClaimsDigest(ccf.crypto.digest("SHA-256", ccf.strToBuf("claim")));
  return { body: "claimed" };
}

export function notAnObject() {
  return 42;
}

export function floatStatus() {
  return { statusCode: 200.5 };
}

export function alloc() {
  return { body: String("x".repeat(8 * 1024 * 1024).length) };
}

export function raw(request) {
  return { body: request.body.arrayBuffer() };
}

export const notAFunction = 7;
"#;

fn endpoint(function: &str, mode: &str, policies: Value) -> Value {
    json!({
        "js_module": "endpoints/app.js",
        "js_function": function,
        "forwarding_required": "always",
        "authn_policies": policies,
        "mode": mode,
        "openapi": {"responses": {"200": {"description": "ok"}}},
    })
}

fn bundle() -> Value {
    let rw = |f: &str| endpoint(f, "readwrite", json!([]));
    json!({
        "metadata": {"endpoints": {
            "/echo/{id}": {"post": endpoint("echo", "readwrite", json!(["user_cert", {"all_of": ["user_cert", "jwt"]}]))},
            "/records/{id}": {
                "put": rw("putRecord"),
                "get": endpoint("getRecord", "readonly", json!([])),
                "delete": endpoint("writeInReadOnly", "readonly", json!([])),
            },
            "/gov": {"post": rw("writeGovernance")},
            "/bytes": {"get": rw("bytes")},
            "/empty": {"get": rw("empty")},
            "/created": {"post": rw("created")},
            "/fail": {"post": rw("fail")},
            "/spin": {"post": rw("spin")},
            "/consensus": {"get": rw("consensus")},
            "/time": {"get": rw("time")},
            "/claims": {"post": rw("claims")},
            "/not_an_object": {"get": rw("notAnObject")},
            "/float_status": {"get": rw("floatStatus")},
            "/not_a_function": {"get": rw("notAFunction")},
            "/missing_export": {"get": rw("noSuchFunction")},
            "/alloc": {"get": rw("alloc")},
            "/raw": {"post": rw("raw")},
        }},
        "modules": [
            {"name": "lib/util.js", "module": UTIL_JS},
            {"name": "endpoints/app.js", "module": APP_JS},
        ],
    })
}

// -- Harness -------------------------------------------------------------------------------------

/// The node's side: fixed consensus answers, a clock and a seed.
struct TestHost;

impl AppHost for TestHost {
    fn last_committed_tx_id(&self) -> TxId {
        TxId::new(2, 41)
    }
    fn tx_status(&self, tx_id: TxId) -> TxStatus {
        if tx_id.seqno.0 <= 41 {
            TxStatus::Committed
        } else {
            TxStatus::Unknown
        }
    }
    fn view_for_seqno(&self, seqno: SeqNo) -> Option<View> {
        (seqno.0 <= 41).then_some(View(2))
    }
    fn untrusted_time_ms(&self) -> u64 {
        1_700_000_000_000
    }
    fn random_seed(&self) -> u64 {
        7
    }
    fn entropy(&self) -> [u8; 32] {
        [9; 32] // test host: fixed bytes
    }
}

fn app() -> JsApp {
    JsApp::new(Rc::new(TestHost))
}

/// A governance store with the bundle deployed by the default constitution.
fn deployed() -> Store {
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let proposal = proposal("set_js_app", json!({"bundle": bundle()}));
    assert_valid(&mut tx, &proposal);
    apply(&mut tx, &proposal).unwrap();
    commit(&mut store, tx);
    store
}

fn properties(tx: &mut Tx, method: &str, path: &str) -> EndpointProperties {
    js_endpoints(tx)
        .unwrap()
        .into_iter()
        .find(|e| e.method == method && e.path == path)
        .unwrap_or_else(|| panic!("no endpoint {method} {path}"))
        .properties
}

fn request(method: &str, template: &str, path: &str) -> JsRequest {
    JsRequest {
        method: method.to_owned(),
        path: format!("/app{path}"),
        route: format!("/app{template}"),
        ..JsRequest::default()
    }
}

/// Runs `request` against the endpoint `method template` in a fresh transaction of `store`.
fn call(
    store: &Store,
    template: &str,
    request: &JsRequest,
    caller: &JsCaller,
) -> (Result<JsResponse, cloister_js::AppFailure>, Tx) {
    let mut tx = store.begin();
    let endpoint = properties(&mut tx, &request.method, template);
    let result = app().handle(&mut tx, &endpoint, request, caller);
    (result, tx)
}

fn ok(store: &Store, method: &str, template: &str) -> JsResponse {
    let (result, _) = call(
        store,
        template,
        &request(method, template, template),
        &JsCaller::Unauthenticated,
    );
    result.unwrap()
}

fn body_json(response: &JsResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap()
}

fn user0() -> (String, String) {
    let cert = testdata("user0_cert.pem");
    let id = cloister_crypto::Certificate::from_pem(&cert)
        .unwrap()
        .member_id()
        .as_str()
        .to_owned();
    (id, cert)
}

// -- Deployment ----------------------------------------------------------------------------------

#[test]
fn set_js_app_stores_modules_and_endpoints_in_ccf_encodings() {
    let store = deployed();
    let mut tx = store.begin();
    assert_eq!(
        tx.get(MODULES_TABLE, b"/endpoints/app.js").unwrap(),
        APP_JS.as_bytes()
    );
    assert_eq!(
        tx.get(MODULES_TABLE, b"/lib/util.js").unwrap(),
        UTIL_JS.as_bytes()
    );
    let stored = get_json(&mut tx, ENDPOINTS_TABLE, b"PUT /records/{id}").unwrap();
    assert_eq!(
        stored,
        json!({
            "js_module": "/endpoints/app.js",
            "js_function": "putRecord",
            "forwarding_required": "always",
            "authn_policies": [],
            "mode": "readwrite",
            "openapi": {"responses": {"200": {"description": "ok"}}},
        })
    );
    assert_eq!(
        get_json(&mut tx, "public:ccf.gov.interpreter.flush", &SINGLETON),
        Some(json!(true))
    );
    let get = properties(&mut tx, "GET", "/records/{id}");
    assert_eq!(get.mode, EndpointMode::ReadOnly);
    assert_eq!(js_endpoints(&mut tx).unwrap().len(), 19);
}

#[test]
fn set_js_app_refuses_an_endpoint_naming_a_module_not_in_the_bundle() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let mut bad = bundle();
    bad["metadata"]["endpoints"]["/ghost"] = json!({"get": {"js_module": "ghost.js", "js_function": "f", "mode": "readwrite",
                       "forwarding_required": "never", "authn_policies": []}});
    let answer = validate(&mut tx, &proposal("set_js_app", json!({"bundle": bad})));
    assert!(!answer.valid);
    assert!(
        answer.description.starts_with(
            "set_js_app at position 0 failed validation: Error: endpoint GET /ghost.js_module \
             names module 'ghost.js', which is not in the bundle"
        ),
        "{}",
        answer.description
    );
}

#[test]
fn set_js_app_refuses_malformed_bundles_naming_the_field() {
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    let refuse = |tx: &mut Tx, bundle: Value, expected: &str| {
        let proposal = proposal("set_js_app", json!({"bundle": bundle}));
        assert_refused(
            tx,
            &proposal,
            &format!("set_js_app at position 0 failed validation: Error: {expected}"),
        );
    };
    let mut no_mode = bundle();
    no_mode["metadata"]["endpoints"]["/empty"]["get"]
        .as_object_mut()
        .unwrap()
        .remove("mode");
    refuse(
        &mut tx,
        no_mode,
        "endpoint GET /empty.mode must be one of readwrite,readonly,historical",
    );
    let mut bad_policy = bundle();
    bad_policy["metadata"]["endpoints"]["/empty"]["get"]["authn_policies"] =
        json!([{"any_of": ["user_cert"]}]);
    refuse(
        &mut tx,
        bad_policy,
        "endpoint GET /empty.authn_policies[0] must be a policy name or {\"all_of\": [policy names]}",
    );
    let mut bad_module = bundle();
    bad_module["modules"][0]["module"] = json!(7);
    refuse(
        &mut tx,
        bad_module,
        "bundle.modules[0].module must be of type string but is number",
    );
    refuse(
        &mut tx,
        json!({"modules": []}),
        "bundle.metadata must be an object",
    );
}

#[test]
fn a_second_deployment_replaces_the_first_and_remove_js_app_clears_everything() {
    let mut store = deployed();
    let mut tx = store.begin();
    let small = json!({
        "metadata": {"endpoints": {"/only": {"get": endpoint("empty", "readonly", json!([]))}}},
        "modules": [{"name": "endpoints/app.js", "module": "export function empty() { return {}; }"}],
    });
    apply(&mut tx, &proposal("set_js_app", json!({"bundle": small}))).unwrap();
    commit(&mut store, tx);
    let mut tx = store.begin();
    assert_eq!(tx.iter(MODULES_TABLE).len(), 1);
    let endpoints = js_endpoints(&mut tx).unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(
        (endpoints[0].method.as_str(), endpoints[0].path.as_str()),
        ("GET", "/only")
    );
    assert_eq!(ok(&store, "GET", "/only").status, 200);

    let remove = proposal("remove_js_app", Value::Null);
    assert_valid(&mut tx, &remove);
    apply(&mut tx, &remove).unwrap();
    assert!(tx.iter(MODULES_TABLE).is_empty());
    assert!(tx.iter(ENDPOINTS_TABLE).is_empty());
    assert_eq!(tx.get("public:ccf.gov.interpreter.flush", &SINGLETON), None);
}

// -- Requests ------------------------------------------------------------------------------------

#[test]
fn the_request_object_carries_params_query_url_route_headers_body_and_caller() {
    let store = deployed();
    let (id, cert) = user0();
    let caller = JsCaller::UserCert {
        id: id.clone(),
        data: json!({"isAdmin": true}),
        cert: cert.clone(),
    };
    let mut echo = request("POST", "/echo/{id}", "/echo/a%20b");
    echo.params.insert("id".into(), "a%20b".into());
    echo.query = "x=1&msg=hello+world%21".into();
    echo.headers = vec![
        ("Host".into(), "node0:8000".into()),
        ("Content-Type".into(), "application/json".into()),
    ];
    echo.body = br#"{"n": [1, 2]}"#.to_vec();
    let (result, _) = call(&store, "/echo/{id}", &echo, &caller);
    let response = result.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        body_json(&response),
        json!({
            "params": {"id": "a%20b"},
            "query": "x=1&msg=hello world!",
            "path": "/app/echo/a%20b",
            "url": "/app/echo/a%20b?x=1&msg=hello world!",
            "route": "/app/echo/{id}",
            "method": "POST",
            "hostname": "node0:8000",
            "headers": {"host": "node0:8000", "content-type": "application/json"},
            "caller": {"policy": "user_cert", "id": id, "data": {"isAdmin": true}, "cert": cert},
            "body": {"n": [1, 2]},
            "bodyText": r#"{"n": [1, 2]}"#,
            "bodyBytes": 13,
        })
    );
}

#[test]
fn callers_of_every_shape_reach_the_handler() {
    let store = deployed();
    let mut echo = request("POST", "/echo/{id}", "/echo/1");
    echo.body = b"null".to_vec();
    let caller_of = |caller: JsCaller| {
        let (result, _) = call(&store, "/echo/{id}", &echo, &caller);
        body_json(&result.unwrap())["caller"].clone()
    };
    assert_eq!(caller_of(JsCaller::Unauthenticated), Value::Null);
    assert_eq!(caller_of(JsCaller::NoAuth), json!({"policy": "no_auth"}));
    let jwt = JsCaller::Jwt {
        key_issuer: "https://issuer".into(),
        header: json!({"alg": "RS256"}),
        payload: json!({"sub": "alice"}),
    };
    let user = JsCaller::UserCert {
        id: "ab".into(),
        data: Value::Null,
        cert: "PEM".into(),
    };
    assert_eq!(
        caller_of(JsCaller::AllOf(vec![user, jwt])),
        json!({
            "policy": ["user_cert", "jwt"],
            "user_cert": {"policy": "user_cert", "id": "ab", "data": null, "cert": "PEM"},
            "jwt": {"policy": "jwt", "jwt": {"keyIssuer": "https://issuer",
                    "header": {"alg": "RS256"}, "payload": {"sub": "alice"}}},
        })
    );
}

#[test]
fn a_write_is_applied_on_2xx_and_discarded_otherwise_unless_set_apply_writes_says_so() {
    let mut store = deployed();
    let put = |store: &Store, id: &str, query: &str| {
        let mut put = request("PUT", "/records/{id}", &format!("/records/{id}"));
        put.params.insert("id".into(), id.into());
        put.query = query.into();
        put.body = format!("value of {id}").into_bytes();
        call(store, "/records/{id}", &put, &JsCaller::Unauthenticated)
    };

    // 204: applied, and the transaction commits with both writes.
    let (result, tx) = put(&store, "a", "");
    let response = result.unwrap();
    assert_eq!((response.status, response.apply_writes), (204, true));
    assert!(response.body.is_empty());
    assert_eq!(response.header("content-type"), None);
    commit(&mut store, tx);
    assert_eq!(store.get("records", b"a").unwrap(), b"value of a");
    assert_eq!(store.get("public:records", b"a").unwrap(), b"value of a");

    // 404 and 302: discarded; the transaction has nothing to commit.
    for status in ["404", "302"] {
        let (result, tx) = put(&store, "b", &format!("status={status}"));
        let response = result.unwrap();
        assert!(!response.apply_writes, "{status}");
        assert!(!tx.has_writes(), "{status}");
    }

    // 400 with setApplyWrites(true): applied anyway.
    let (result, tx) = put(&store, "c", "status=400&apply=true");
    let response = result.unwrap();
    assert_eq!((response.status, response.apply_writes), (400, true));
    commit(&mut store, tx);
    assert_eq!(store.get("records", b"c").unwrap(), b"value of c");

    // 200 with setApplyWrites(false): discarded.
    let (result, tx) = put(&store, "d", "status=200&apply=false");
    assert!(!result.unwrap().apply_writes);
    assert!(!tx.has_writes());
    assert_eq!(store.get("records", b"d"), None);
}

#[test]
fn a_read_only_endpoint_reads_with_headers_and_cannot_write() {
    let mut store = deployed();
    let mut tx = store.begin();
    tx.put("records", b"k".to_vec(), b"stored text".to_vec());
    commit(&mut store, tx);

    let mut get = request("GET", "/records/{id}", "/records/k");
    get.params.insert("id".into(), "k".into());
    let (result, tx) = call(&store, "/records/{id}", &get, &JsCaller::Unauthenticated);
    let response = result.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"stored text");
    assert_eq!(response.header("content-type"), Some("text/plain"));
    assert_eq!(response.header("x-record-id"), Some("k"));
    assert!(response.apply_writes);
    assert!(!tx.has_writes());

    get.params.insert("id".into(), "missing".into());
    let (result, _) = call(&store, "/records/{id}", &get, &JsCaller::Unauthenticated);
    let response = result.unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(
        body_json(&response),
        json!({"error": {"code": "ResourceNotFound", "message": "No record missing."}})
    );

    let delete = request("DELETE", "/records/{id}", "/records/k");
    let (result, tx) = call(&store, "/records/{id}", &delete, &JsCaller::Unauthenticated);
    let failure = result.unwrap_err();
    assert!(!tx.has_writes());
    let JsError::Exception { reason, .. } = &failure.error else {
        panic!("{failure:?}");
    };
    assert!(
        reason.starts_with(
            "TypeError: Cannot call set on table named records. This table is read-only in \
             current (read-only application) execution context."
        ),
        "{reason}"
    );
}

#[test]
fn applications_cannot_write_governance_tables() {
    let store = deployed();
    let (result, tx) = call(
        &store,
        "/gov",
        &request("POST", "/gov", "/gov"),
        &JsCaller::Unauthenticated,
    );
    let failure = result.unwrap_err();
    assert!(
        failure.error.reason().contains(
            "public:ccf.gov.users.info. This table is read-only in current (read-write \
             application) execution context"
        ),
        "{failure:?}"
    );
    assert!(!tx.has_writes());
}

#[test]
fn bodies_pick_their_content_type_and_handler_headers_override_it() {
    let store = deployed();
    let bytes = ok(&store, "GET", "/bytes");
    assert_eq!(bytes.body, vec![1, 2, 255]);
    assert_eq!(bytes.header("content-type"), Some("application/x-custom"));
    assert_eq!(bytes.header("x-count"), Some("3"));

    let empty = ok(&store, "GET", "/empty");
    assert_eq!(empty.status, 200);
    assert!(empty.body.is_empty());
    assert!(empty.headers.is_empty());

    let created = ok(&store, "POST", "/created");
    assert_eq!(created.status, 201);
    assert_eq!(created.body, b"made");
    assert_eq!(created.header("content-type"), Some("text/plain"));
}

#[test]
fn console_lines_are_kept_for_the_node() {
    let store = deployed();
    let mut tx = store.begin();
    let endpoint = properties(&mut tx, "POST", "/created");
    let mut app = app();
    app.handle(
        &mut tx,
        &endpoint,
        &request("POST", "/created", "/created"),
        &JsCaller::Unauthenticated,
    )
    .unwrap();
    let lines: Vec<(LogLevel, &str)> = app
        .logs()
        .iter()
        .map(|line| (line.level, line.text.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (LogLevel::Info, r#"creating {"id":1}"#),
            (LogLevel::Warn, "careful")
        ]
    );
}

#[test]
fn an_exception_is_a_500_with_ccf_text_and_details_only_when_configured() {
    let mut store = deployed();
    let (result, tx) = call(
        &store,
        "/fail",
        &request("POST", "/fail", "/fail"),
        &JsCaller::Unauthenticated,
    );
    let failure = result.unwrap_err();
    assert!(!tx.has_writes());
    let JsError::Exception { reason, trace } = &failure.error else {
        panic!("{failure:?}");
    };
    assert_eq!(reason, "Error: test error: 42");
    assert!(trace.as_deref().unwrap_or("").contains("fail"), "{trace:?}");
    assert_eq!(failure.message(), "Exception thrown while executing.");
    let response = failure.response();
    assert_eq!(response.status, 500);
    assert!(!response.apply_writes);
    assert_eq!(
        body_json(&response),
        json!({"error": {"code": "InternalError", "message": "Exception thrown while executing."}})
    );

    // With return_exception_details, the exception's text and stack come back.
    let mut tx = store.begin();
    let options = proposal(
        "set_js_runtime_options",
        json!({"max_heap_bytes": 104857600, "max_stack_bytes": 1048576,
               "max_execution_time_ms": 1000, "return_exception_details": true}),
    );
    apply(&mut tx, &options).unwrap();
    commit(&mut store, tx);
    let (result, _) = call(
        &store,
        "/fail",
        &request("POST", "/fail", "/fail"),
        &JsCaller::Unauthenticated,
    );
    let body = body_json(&result.unwrap_err().response());
    assert_eq!(body["error"]["details"][0]["code"], "JSException");
    assert_eq!(
        body["error"]["details"][0]["message"],
        "Error: test error: 42"
    );
    assert!(body["error"]["details"][0]["trace"].is_string());
}

#[test]
fn an_endless_loop_stops_with_ccf_timeout_text() {
    let store = deployed();
    let (result, tx) = call(
        &store,
        "/spin",
        &request("POST", "/spin", "/spin"),
        &JsCaller::Unauthenticated,
    );
    let failure = result.unwrap_err();
    assert!(
        matches!(failure.error, JsError::Timeout { .. }),
        "{failure:?}"
    );
    assert_eq!(failure.message(), "Operation took too long to complete.");
    assert!(!tx.has_writes());
    // The app serves the next request.
    assert_eq!(ok(&store, "GET", "/empty").status, 200);
}

#[test]
fn bad_return_values_and_exports_are_500s_with_ccf_texts() {
    let store = deployed();
    let message = |method: &str, template: &str| {
        let (result, _) = call(
            &store,
            template,
            &request(method, template, template),
            &JsCaller::Unauthenticated,
        );
        result.unwrap_err().message()
    };
    assert_eq!(
        message("GET", "/not_an_object"),
        "Invalid endpoint function return value (not an object)."
    );
    assert_eq!(
        message("GET", "/float_status"),
        "Invalid endpoint function return value (status code type)."
    );
    assert_eq!(
        message("GET", "/not_a_function"),
        "Export 'notAFunction' of module '/endpoints/app.js' is not a function"
    );
    assert_eq!(
        message("GET", "/missing_export"),
        "Failed to find export 'noSuchFunction' in module '/endpoints/app.js'"
    );
}

#[test]
fn a_module_whose_import_is_missing_fails_naming_the_import() {
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let broken = json!({
        "metadata": {"endpoints": {"/x": {"get": endpoint("f", "readwrite", json!([]))}}},
        "modules": [{"name": "endpoints/app.js",
                     "module": "import { g } from './gone.js';\nexport function f() { return g(); }"}],
    });
    apply(&mut tx, &proposal("set_js_app", json!({"bundle": broken}))).unwrap();
    commit(&mut store, tx);
    let (result, _) = call(
        &store,
        "/x",
        &request("GET", "/x", "/x"),
        &JsCaller::Unauthenticated,
    );
    let message = result.unwrap_err().message();
    // QuickJS-ng loads imports while compiling the importer.
    assert_eq!(
        message,
        "Failed to compile module '/endpoints/app.js': ReferenceError: Module \
         '/endpoints/gone.js' is not in the application bundle"
    );
}

#[test]
fn consensus_time_and_claims_come_from_the_node() {
    let store = deployed();
    assert_eq!(
        body_json(&ok(&store, "GET", "/consensus")),
        json!({"last": {"view": 2, "seqno": 41}, "status": "Committed", "view": 2, "unknown": null})
    );
    assert_eq!(
        body_json(&ok(&store, "GET", "/time")),
        json!([0, false, 1_700_000_000_000u64, 1_700_000_000_000u64])
    );
    let claims = ok(&store, "POST", "/claims");
    assert_eq!(
        claims.claims_digest,
        Some(cloister_crypto::sha256(b"claim"))
    );
}

#[test]
fn a_module_reached_by_two_import_paths_is_one_module() {
    // As CCF's tests/js-modules/basic-module-import: a class imported directly and through
    // another module keeps one identity.
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let modules = json!([
        {"name": "endpoints/main.js", "module": "import { C } from '../lib/c.js';\n\
            import { getC } from '../lib/b.js';\n\
            export function f() { return { statusCode: 201, body: getC() instanceof C ? 'Hello world!' : 'two modules' }; }"},
        {"name": "lib/b.js", "module": "import { C } from './c.js';\nexport function getC() { return new C(); }"},
        {"name": "lib/c.js", "module": "export class C {}"},
    ]);
    let mut main = endpoint("f", "readwrite", json!([]));
    main["js_module"] = json!("endpoints/main.js");
    let bundle = json!({"metadata": {"endpoints": {"/m": {"get": main}}}, "modules": modules});
    apply(&mut tx, &proposal("set_js_app", json!({"bundle": bundle}))).unwrap();
    commit(&mut store, tx);
    let response = ok(&store, "GET", "/m");
    assert_eq!(
        (response.status, response.body.as_slice()),
        (201, b"Hello world!".as_slice())
    );
}

#[test]
fn configured_limits_apply_to_applications_even_below_the_defaults() {
    let mut store = deployed();
    assert_eq!(ok(&store, "GET", "/alloc").body, b"8388608");
    let mut tx = store.begin();
    let options = proposal(
        "set_js_runtime_options",
        json!({"max_heap_bytes": 4 * 1024 * 1024, "max_stack_bytes": 1048576,
               "max_execution_time_ms": 1000}),
    );
    apply(&mut tx, &options).unwrap();
    commit(&mut store, tx);
    let (result, _) = call(
        &store,
        "/alloc",
        &request("GET", "/alloc", "/alloc"),
        &JsCaller::Unauthenticated,
    );
    let failure = result.unwrap_err();
    assert!(
        failure.error.reason().contains("out of memory"),
        "{failure:?}"
    );
    // The next request with room to spare still works.
    assert_eq!(ok(&store, "GET", "/empty").status, 200);
}

thread_local! {
    /// One deployment shared by the cases of a property (deploying takes a constitution run).
    static DEPLOYED: Store = deployed();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn request_bytes_reach_the_handler_unchanged(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut raw = request("POST", "/raw", "/raw");
        raw.body = body.clone();
        let (result, _) = DEPLOYED.with(|store| call(store, "/raw", &raw, &JsCaller::Unauthenticated));
        let response = result.unwrap();
        prop_assert_eq!(&response.body, &body);
        prop_assert_eq!(response.header("content-type"), Some("application/octet-stream"));
    }

    #[test]
    fn any_module_source_gets_an_answer(
        source in "(export |function |f|return |[(){};=+.]|import |'x'|\\{|statusCode|body|ccf|while|true| ){0,40}",
    ) {
        let mut store = Store::new(cloister_kv::LedgerSecrets::with_first([5; 32]));
        let mut tx = store.begin();
        DEPLOYED.with(|deployed| {
            let mut from = deployed.begin();
            for (key, value) in from.iter(ENDPOINTS_TABLE) {
                tx.put(ENDPOINTS_TABLE, key, value);
            }
        });
        tx.put(MODULES_TABLE, b"/endpoints/app.js".to_vec(), source.into_bytes());
        commit(&mut store, tx);
        let (result, tx) = call(&store, "/empty", &request("GET", "/empty", "/empty"), &JsCaller::Unauthenticated);
        if let Err(failure) = result {
            prop_assert_eq!(failure.response().status, 500);
            prop_assert!(!tx.has_writes());
        }
    }
}
