//! `ccf.historicalState` and `ccf.historical.*` in application handlers (spec/ccf-js.md §3.7):
//! a historical endpoint sees its target transaction's id, receipt and write set through a kv
//! whose tables are all read-only; `getStateRange` takes exactly four non-negative integers and
//! answers an array of states, `null` while fetching, or an InternalError; `dropCachedStates`
//! answers the host's bool; a host without historical queries makes them throw.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use cloister_js::{
    AppHost, EndpointProperties, HistoricalHost, HistoricalState, JsApp, JsCaller, JsRequest,
    js_endpoints,
};
use cloister_kv::{Store, Tx, WriteSetTables};
use cloister_types::{SeqNo, TxId, TxStatus, View};
use common::*;
use serde_json::{Value, json};

const APP_JS: &str = r#"
const attempt = (f) => {
  try {
    return f();
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
};
const str = (b) => (b === undefined ? null : ccf.bufToStr(b));

export function target(request) {
  const state = ccf.historicalState;
  const records = state.kv["records"];
  const seen = [];
  records.forEach((v, k) => seen.push([ccf.bufToStr(k), ccf.bufToStr(v)]));
  return { body: {
    same: ccf.historicalState === state,
    transactionId: state.transactionId,
    receipt: state.receipt,
    value: str(records.get(ccf.strToBuf("k"))),
    absent: str(records.get(ccf.strToBuf("other"))),
    has: records.has(ccf.strToBuf("k")),
    size: records.size,
    version: records.getVersionOfPreviousWrite(ccf.strToBuf("k")),
    unversioned: String(records.getVersionOfPreviousWrite(ccf.strToBuf("other"))),
    seen,
    untouchedTable: state.kv["public:never_written"].size,
    set: attempt(() => records.set(ccf.strToBuf("k"), ccf.strToBuf("x"))),
    del: attempt(() => records.delete(ccf.strToBuf("k"))),
    clear: attempt(() => records.clear()),
    illegal: attempt(() => state.kv["ccf.internal.secret"].get(ccf.strToBuf("k"))),
    badKey: attempt(() => records.get("k")),
    current: str(ccf.kv["records"].get(ccf.strToBuf("k"))),
  } };
}

export function range(request) {
  const q = JSON.parse(request.body.text());
  const states = attempt(() => ccf.historical.getStateRange(...q.args));
  if (states === null || typeof states === "string") {
    return { body: { states } };
  }
  return { body: { states: states.map((s) => [
    s.transactionId,
    str(s.kv["records"].get(ccf.strToBuf("k"))),
    s.receipt.node_id,
  ]) } };
}

export function drop(request) {
  return { body: {
    dropped: ccf.historical.dropCachedStates(Number(request.body.text())),
    three: attempt(() => ccf.historical.dropCachedStates()),
    negative: attempt(() => ccf.historical.dropCachedStates(-1)),
    noTarget: ccf.historicalState === undefined,
  } };
}
"#;

fn endpoint(function: &str, mode: &str) -> Value {
    json!({
        "js_module": "app.js",
        "js_function": function,
        "forwarding_required": "never",
        "authn_policies": [],
        "mode": mode,
        "openapi": {},
    })
}

fn deployed() -> Store {
    let bundle = json!({
        "metadata": {"endpoints": {
            "/target": {"get": endpoint("target", "historical")},
            "/range": {"post": endpoint("range", "readonly")},
            "/drop": {"post": endpoint("drop", "readwrite")},
        }},
        "modules": [{"name": "app.js", "module": APP_JS}],
    });
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let proposal = proposal("set_js_app", json!({ "bundle": bundle }));
    assert_valid(&mut tx, &proposal);
    apply(&mut tx, &proposal).unwrap();
    commit(&mut store, tx);
    let mut tx = store.begin();
    tx.put("records", b"k".to_vec(), b"current".to_vec());
    commit(&mut store, tx);
    store
}

/// The state of the transaction at `seqno` that wrote `records[k] = value`.
fn state(seqno: u64, value: &str) -> Rc<HistoricalState> {
    let mut tables = WriteSetTables::new();
    tables
        .entry("records".to_owned())
        .or_default()
        .insert(b"k".to_vec(), value.as_bytes().to_vec());
    Rc::new(HistoricalState {
        tx_id: TxId::new(2, seqno),
        receipt_json: json!({"node_id": format!("n{seqno}"), "is_signature_transaction": false})
            .to_string(),
        tables,
    })
}

/// A node with historical queries: a target, and every range answered unless `fetching`.
#[derive(Default)]
struct Historical {
    target: Option<Rc<HistoricalState>>,
    fetching: bool,
    asked: RefCell<Vec<(u64, u64, u64, u64)>>,
}

impl HistoricalHost for Historical {
    fn target_state(&self) -> Option<Rc<HistoricalState>> {
        self.target.clone()
    }

    fn state_range(
        &self,
        handle: u64,
        start: SeqNo,
        end: SeqNo,
        expiry: u64,
    ) -> Result<Option<Vec<Rc<HistoricalState>>>, String> {
        self.asked
            .borrow_mut()
            .push((handle, start.0, end.0, expiry));
        if end < start {
            return Err(format!("end {end} is before start {start}"));
        }
        if self.fetching {
            return Ok(None);
        }
        Ok(Some(
            (start.0..=end.0)
                .map(|s| state(s, &format!("v{s}")))
                .collect(),
        ))
    }

    fn drop_cached_states(&self, handle: u64) -> bool {
        handle == 7
    }
}

struct TestHost(Option<Historical>);

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
    fn historical(&self) -> Option<&dyn HistoricalHost> {
        self.0.as_ref().map(|h| h as &dyn HistoricalHost)
    }
}

fn properties(tx: &mut Tx, method: &str, path: &str) -> EndpointProperties {
    js_endpoints(tx)
        .unwrap()
        .into_iter()
        .find(|e| e.method == method && e.path == path)
        .unwrap()
        .properties
}

fn run(store: &Store, host: TestHost, method: &str, path: &str, body: &str) -> Value {
    let mut tx = store.begin();
    let request = JsRequest {
        method: method.to_owned(),
        path: format!("/app{path}"),
        route: format!("/app{path}"),
        body: body.as_bytes().to_vec(),
        ..JsRequest::default()
    };
    let endpoint = properties(&mut tx, method, path);
    let response = JsApp::new(Rc::new(host))
        .handle(&mut tx, &endpoint, &request, &JsCaller::Unauthenticated)
        .unwrap_or_else(|failure| panic!("{:?}", failure.response()));
    assert_eq!(response.status, 200, "{method} {path}");
    assert!(!tx.has_writes());
    serde_json::from_slice(&response.body).unwrap()
}

#[test]
fn a_historical_endpoint_reads_its_target_write_set_read_only() {
    let store = deployed();
    let host = TestHost(Some(Historical {
        target: Some(state(5, "old")),
        ..Historical::default()
    }));
    let body = run(&store, host, "GET", "/target", "");
    let read_only = |m: &str| {
        format!(
            "TypeError: Cannot call {m} on table named records. All tables are read-only during \
             historical transaction."
        )
    };
    assert_eq!(
        body,
        json!({
            "same": true,
            "transactionId": "2.5",
            "receipt": {"node_id": "n5", "is_signature_transaction": false},
            "value": "old",
            "absent": null,
            "has": true,
            "size": 1,
            "version": 5,
            "unversioned": "undefined",
            "seen": [["k", "old"]],
            "untouchedTable": 0,
            "set": read_only("set"),
            "del": read_only("delete"),
            "clear": read_only("clear"),
            "illegal": "TypeError: Cannot call get on table named ccf.internal.secret. This table \
                        is not accessible in current (read-only application) execution context. \
                        See https://microsoft.github.io/CCF/main/audit/read_write_restrictions.html \
                        for more detail.",
            "badKey": "TypeError: Argument must be an ArrayBuffer",
            "current": "current",
        })
    );
}

fn range(store: &Store, fetching: bool, args: Value) -> Value {
    let historical = Historical {
        fetching,
        ..Historical::default()
    };
    let body = json!({ "args": args }).to_string();
    run(store, TestHost(Some(historical)), "POST", "/range", &body)["states"].clone()
}

#[test]
fn get_state_range_takes_four_non_negative_integers_and_answers_every_state() {
    let store = deployed();
    let states = range(&store, false, json!([9, 3, 5, 1800]));
    assert_eq!(
        states,
        json!([
            ["2.3", "v3", "n3"],
            ["2.4", "v4", "n4"],
            ["2.5", "v5", "n5"]
        ])
    );
    // The sample's pagination path passes three: CCF's TypeError.
    let three = range(&store, false, json!([9, 3, 5]));
    assert_eq!(three, "TypeError: Passed 3 arguments, but expected 4");
    let negative = range(&store, false, json!([9, -3, 5, 1]));
    assert_eq!(
        negative,
        "RangeError: Invalid handle or seqno or expiry: cannot be negative"
    );
    // The host's refusal is an InternalError naming it.
    let backwards = range(&store, false, json!([9, 5, 3, 1]));
    assert_eq!(
        backwards,
        "InternalError: Failed to get state range: end 3 is before start 5"
    );
    // Still fetching: null.
    assert_eq!(range(&store, true, json!([9, 3, 5, 1])), Value::Null);
}

#[test]
fn the_host_sees_the_arguments_as_integers() {
    let store = deployed();
    let host = Rc::new(TestHost(Some(Historical::default())));
    let mut tx = store.begin();
    let request = JsRequest {
        method: "POST".to_owned(),
        path: "/app/range".to_owned(),
        route: "/app/range".to_owned(),
        body: json!({"args": [4_000_000_000u64, 2.9, "3", 1800]})
            .to_string()
            .into_bytes(),
        ..JsRequest::default()
    };
    let endpoint = properties(&mut tx, "POST", "/range");
    let response = JsApp::new(host.clone())
        .handle(&mut tx, &endpoint, &request, &JsCaller::Unauthenticated)
        .unwrap();
    assert_eq!(response.status, 200);
    let asked = host.0.as_ref().unwrap().asked.borrow().clone();
    assert_eq!(asked, vec![(4_000_000_000, 2, 3, 1800)]);
}

#[test]
fn drop_cached_states_answers_the_hosts_bool_and_checks_its_argument() {
    let store = deployed();
    let host = || TestHost(Some(Historical::default()));
    let body = run(&store, host(), "POST", "/drop", "7");
    assert_eq!(
        body,
        json!({
            "dropped": true,
            "three": "TypeError: Passed 0 arguments, but expected 1",
            "negative": "RangeError: Invalid handle: cannot be negative",
            "noTarget": true,
        })
    );
    assert_eq!(run(&store, host(), "POST", "/drop", "8")["dropped"], false);
}

#[test]
fn a_host_without_historical_queries_makes_them_throw() {
    let store = deployed();
    let body = run(
        &store,
        TestHost(None),
        "POST",
        "/range",
        &json!({"args": [1, 1, 1, 1]}).to_string(),
    );
    assert_eq!(body["states"], "InternalError: Failed to get state cache");
}
