//! `ccf.kv[name].getVersionOfPreviousWrite(key)` in application handlers: the seqno of the key's
//! last committed write as a number, `undefined` for an absent or deleted key, this
//! transaction's own writes ignored, and a read the commit checks (spec/ccf-js.md §3.3).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::rc::Rc;

use cloister_js::{
    AppHost, EndpointProperties, JsApp, JsCaller, JsRequest, JsResponse, js_endpoints,
};
use cloister_kv::{EntryFlags, KvError, Store, Tx};
use cloister_types::{SeqNo, TxId, TxStatus, View};
use common::*;
use serde_json::{Value, json};

const APP_JS: &str = r#"
const records = ccf.kv["records"];

// What getVersionOfPreviousWrite says of `table`'s key `id`, with its JavaScript type.
function version(table, id) {
  const v = ccf.kv[table].getVersionOfPreviousWrite(ccf.strToBuf(id));
  return { version: v === undefined ? null : v, type: typeof v };
}

export function read(request) {
  return { body: version(request.query, request.params.id) };
}

export function write(request) {
  const id = request.params.id;
  const before = version("records", id);
  records.set(ccf.strToBuf(id), ccf.strToBuf(request.body.text()));
  return { body: { before, after: version("records", id) } };
}

export function remove(request) {
  const id = request.params.id;
  records.delete(ccf.strToBuf(id));
  return { body: { after: version("records", id) } };
}

export function misuse(request) {
  const results = [];
  const attempts = [
    () => records.getVersionOfPreviousWrite(),
    () => records.getVersionOfPreviousWrite(new Uint8Array(1)),
    () => ccf.kv["ccf.gov.secret"].getVersionOfPreviousWrite(new ArrayBuffer(1)),
    // A denied method reports the permission before looking at its arguments.
    () => ccf.kv["ccf.gov.secret"].getVersionOfPreviousWrite(),
    () => records.set(1),
    // The texts of CCF's other argument checks.
    () => records.get(new ArrayBuffer(1), 2),
    () => records.has("k"),
    () => records.forEach(1),
  ];
  for (const attempt of attempts) {
    try {
      results.push(String(attempt()));
    } catch (e) {
      results.push(`${e.name}: ${e.message}`);
    }
  }
  return { body: results };
}
"#;

fn endpoint(function: &str, mode: &str) -> Value {
    json!({
        "js_module": "app.js",
        "js_function": function,
        "forwarding_required": "always",
        "authn_policies": [],
        "mode": mode,
        "openapi": {},
    })
}

/// A governance store with the bundle deployed by the default constitution.
fn deployed() -> Store {
    let bundle = json!({
        "metadata": {"endpoints": {
            "/records/{id}": {
                "get": endpoint("read", "readonly"),
                "put": endpoint("write", "readwrite"),
                "delete": endpoint("remove", "readwrite"),
            },
            "/misuse": {"get": endpoint("misuse", "readonly")},
        }},
        "modules": [{"name": "app.js", "module": APP_JS}],
    });
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let proposal = proposal("set_js_app", json!({ "bundle": bundle }));
    assert_valid(&mut tx, &proposal);
    apply(&mut tx, &proposal).unwrap();
    commit(&mut store, tx);
    store
}

struct TestHost;

impl AppHost for TestHost {
    fn last_committed_tx_id(&self) -> TxId {
        TxId::new(2, 1)
    }
    fn tx_status(&self, _: TxId) -> TxStatus {
        TxStatus::Unknown
    }
    fn view_for_seqno(&self, _: SeqNo) -> Option<View> {
        None
    }
    fn untrusted_time_ms(&self) -> u64 {
        0
    }
    fn random_seed(&self) -> u64 {
        1
    }
    fn entropy(&self) -> [u8; 32] {
        [9; 32] // test host: fixed bytes
    }
}

fn properties(tx: &mut Tx, method: &str, path: &str) -> EndpointProperties {
    js_endpoints(tx)
        .unwrap()
        .into_iter()
        .find(|e| e.method == method && e.path == path)
        .unwrap_or_else(|| panic!("no endpoint {method} {path}"))
        .properties
}

/// Runs `method` on `/records/{id}` (or `template` with no id) in `tx`; the JSON body.
fn run(tx: &mut Tx, method: &str, template: &str, id: &str, query: &str, body: &str) -> Value {
    let mut request = JsRequest {
        method: method.to_owned(),
        path: format!("/app{}", template.replace("{id}", id)),
        route: format!("/app{template}"),
        query: query.to_owned(),
        body: body.as_bytes().to_vec(),
        ..JsRequest::default()
    };
    request.params.insert("id".into(), id.into());
    let endpoint = properties(tx, method, template);
    let response: JsResponse = JsApp::new(Rc::new(TestHost))
        .handle(tx, &endpoint, &request, &JsCaller::Unauthenticated)
        .unwrap();
    assert_eq!(response.status, 200, "{method} {template}");
    serde_json::from_slice(&response.body).unwrap()
}

fn read(store: &Store, table: &str, id: &str) -> Value {
    run(&mut store.begin(), "GET", "/records/{id}", id, table, "")
}

/// PUTs `value` under `id` and commits; the seqno it committed at, and the handler's body.
fn write(store: &mut Store, id: &str, value: &str) -> (SeqNo, Value) {
    let mut tx = store.begin();
    let body = run(&mut tx, "PUT", "/records/{id}", id, "", value);
    commit(store, tx);
    (store.current_version(), body)
}

fn number(seqno: SeqNo) -> Value {
    json!({"version": seqno.0, "type": "number"})
}

fn undefined() -> Value {
    json!({"version": null, "type": "undefined"})
}

#[test]
fn a_committed_write_is_read_back_as_its_seqno_in_the_next_transaction() {
    let mut store = deployed();
    let (first, _) = write(&mut store, "a", "1");
    assert_eq!(read(&store, "records", "a"), number(first));
    assert_eq!(
        store.version_of("records", b"a"),
        Some(first),
        "the same version the store holds"
    );

    // Another key's write leaves it; a second write of it moves it.
    let (other, _) = write(&mut store, "b", "x");
    assert_eq!(read(&store, "records", "a"), number(first));
    assert_eq!(read(&store, "records", "b"), number(other));
    let (second, body) = write(&mut store, "a", "2");
    assert_eq!(body["before"], number(first));
    assert!(second > other);
    assert_eq!(read(&store, "records", "a"), number(second));
}

#[test]
fn a_write_in_the_current_transaction_is_not_a_previous_write() {
    let mut store = deployed();
    // A new key: undefined before and after this transaction's own write.
    let (_, body) = write(&mut store, "new", "v");
    assert_eq!(body, json!({"before": undefined(), "after": undefined()}));
    // An existing key: still the committed seqno after the own write.
    let (first, _) = write(&mut store, "k", "1");
    let mut tx = store.begin();
    let body = run(&mut tx, "PUT", "/records/{id}", "k", "", "2");
    assert_eq!(
        body,
        json!({"before": number(first), "after": number(first)})
    );
}

#[test]
fn an_absent_key_or_table_is_undefined() {
    let mut store = deployed();
    write(&mut store, "a", "1");
    assert_eq!(read(&store, "records", "missing"), undefined());
    assert_eq!(read(&store, "public:no_such_table", "a"), undefined());
}

#[test]
fn a_deleted_key_is_undefined_until_written_again() {
    let mut store = deployed();
    let (first, _) = write(&mut store, "k", "1");
    let mut tx = store.begin();
    // Deleted in this transaction: the committed write still counts.
    let body = run(&mut tx, "DELETE", "/records/{id}", "k", "", "");
    assert_eq!(body, json!({"after": number(first)}));
    commit(&mut store, tx);
    assert_eq!(read(&store, "records", "k"), undefined());
    let (again, _) = write(&mut store, "k", "3");
    assert_eq!(read(&store, "records", "k"), number(again));
}

#[test]
fn governance_tables_report_the_seqno_of_their_governance_write() {
    let store = deployed();
    // gov_store wrote the member at seqno 1; set_js_app committed at seqno 2.
    assert_eq!(read(&store, MEMBERS_INFO, MEMBER0_ID), number(SeqNo(1)));
    assert_eq!(
        read(&store, "public:ccf.gov.modules", "/app.js"),
        number(store.current_version())
    );
}

#[test]
fn the_version_read_joins_the_read_set_so_a_concurrent_write_conflicts() {
    let mut store = deployed();
    write(&mut store, "k", "1");
    let mut reader = store.begin();
    // Reads k's version (and writes another key, so the transaction has something to commit).
    run(&mut reader, "PUT", "/records/{id}", "other", "", "x");
    let mut versioner = store.begin();
    let body = run(&mut versioner, "GET", "/records/{id}", "k", "records", "");
    assert_eq!(body["type"], "number");
    versioner.put("records", b"elsewhere".to_vec(), b"x".to_vec());
    write(&mut store, "k", "changed");
    let result = store.commit(versioner, View(2), None, EntryFlags::default());
    assert!(
        matches!(result, Err(KvError::Conflict { .. })),
        "{result:?}"
    );
    // The reader never looked at k: no conflict.
    store
        .commit(reader, View(2), None, EntryFlags::default())
        .unwrap();
}

#[test]
fn misuse_throws_as_ccf_does() {
    let store = deployed();
    let body = run(&mut store.begin(), "GET", "/misuse", "", "", "");
    let denied = "TypeError: Cannot call getVersionOfPreviousWrite on table named ccf.gov.secret. \
                  This table is not accessible in current (read-only application) execution \
                  context. See https://microsoft.github.io/CCF/main/audit/read_write_restrictions.html \
                  for more detail.";
    assert_eq!(
        body,
        json!([
            "TypeError: Passed 0 arguments, but expected 1",
            "TypeError: Argument must be an ArrayBuffer",
            denied,
            denied,
            "TypeError: Cannot call set on table named records. This table is read-only in \
             current (read-only application) execution context. \
             See https://microsoft.github.io/CCF/main/audit/read_write_restrictions.html for more detail.",
            "TypeError: Passed 2 arguments, but expected 1",
            "TypeError: Argument must be an ArrayBuffer",
            "TypeError: Argument must be a function",
        ])
    );
}
