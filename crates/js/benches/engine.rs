//! Cost of one constitution call: a fresh QuickJS runtime, the governance globals, evaluating
//! the default constitution, and the call itself; and of one JavaScript application request
//! (fresh runtime, app globals, a two-module bundle loaded from the store, the handler).
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure

use std::hint::black_box;

use std::rc::Rc;

use cloister_gov::{ConstitutionEngine, GovHost};
use cloister_js::{
    AppHost, DEFAULT_CONSTITUTION, ENDPOINTS_TABLE, JsApp, JsCaller, JsRequest, MODULES_TABLE,
    QuickJsConstitution, js_endpoints,
};
use cloister_kv::{EntryFlags, LedgerSecrets, Store};
use cloister_types::{SeqNo, TxId, TxStatus, View};
use criterion::{Criterion, criterion_group, criterion_main};

const USER_CERT: &str = include_str!("../../../testdata/ccf6/eol_service/common/user0_cert.pem");

struct NoHost;

impl GovHost for NoHost {
    fn generate_endorsed_certificate(
        &mut self,
        _: &str,
        _: &str,
        _: u64,
    ) -> Result<String, String> {
        Err("no host".into())
    }
    fn generate_network_certificate(&mut self, _: &str, _: u64) -> Result<String, String> {
        Err("no host".into())
    }
    fn latest_ledger_secret_seqno(&self) -> u64 {
        0
    }
}

fn store() -> Store {
    let mut store = Store::new(LedgerSecrets::with_first([1; 32]));
    let mut tx = store.begin();
    for i in 0..5u8 {
        tx.put(
            "public:ccf.gov.members.info",
            vec![b'a' + i; 64],
            br#"{"status":"Active"}"#.to_vec(),
        );
    }
    store
        .commit(tx, View(1), None, EntryFlags::default())
        .unwrap();
    store
}

fn engine_calls(c: &mut Criterion) {
    let store = store();
    let proposal =
        serde_json::json!({"actions": [{"name": "set_user", "args": {"cert": USER_CERT}}]})
            .to_string();
    let mut engine = QuickJsConstitution::new();
    c.bench_function("validate set_user", |b| {
        b.iter(|| {
            let mut tx = store.begin();
            black_box(
                engine
                    .validate(&mut tx, DEFAULT_CONSTITUTION, &proposal)
                    .unwrap(),
            )
        })
    });
    c.bench_function("resolve (5 active members)", |b| {
        let votes = vec![("m".to_owned(), true); 3];
        b.iter(|| {
            let mut tx = store.begin();
            black_box(
                engine
                    .resolve(&mut tx, DEFAULT_CONSTITUTION, &proposal, "m", &votes, "p")
                    .unwrap(),
            )
        })
    });
    c.bench_function("apply set_user", |b| {
        b.iter(|| {
            let mut tx = store.begin();
            let mut actions = Vec::new();
            engine
                .apply(
                    &mut tx,
                    DEFAULT_CONSTITUTION,
                    &proposal,
                    "p",
                    &mut NoHost,
                    &mut actions,
                )
                .unwrap();
            black_box(tx)
        })
    });
    c.bench_function("vote (yes ballot)", |b| {
        let ballot = "export function vote(rawProposal, proposerId) { return true; }";
        b.iter(|| {
            let mut tx = store.begin();
            black_box(engine.vote(&mut tx, ballot, &proposal, "m").unwrap())
        })
    });
}

struct BenchHost;

impl AppHost for BenchHost {
    fn last_committed_tx_id(&self) -> TxId {
        TxId::new(1, 1)
    }
    fn tx_status(&self, _: TxId) -> TxStatus {
        TxStatus::Committed
    }
    fn view_for_seqno(&self, _: SeqNo) -> Option<View> {
        Some(View(1))
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

const UTIL_JS: &str =
    "export function text(b) { return b === undefined ? undefined : ccf.bufToStr(b); }";
const LOG_JS: &str = "import { text } from '../lib/util.js';\n\
    export function get(request) {\n\
      const msg = text(ccf.kv['records'].get(ccf.strToBuf(request.params.id)));\n\
      return msg === undefined ? { statusCode: 404 } : { body: { msg } };\n\
    }\n\
    export function post(request) {\n\
      const body = request.body.json();\n\
      ccf.kv['records'].set(ccf.strToBuf(String(body.id)), ccf.strToBuf(body.msg));\n\
      return { body: true };\n\
    }\n";

fn app_store() -> Store {
    let mut store = store();
    let mut tx = store.begin();
    tx.put(
        MODULES_TABLE,
        b"/lib/util.js".to_vec(),
        UTIL_JS.as_bytes().to_vec(),
    );
    tx.put(
        MODULES_TABLE,
        b"/endpoints/log.js".to_vec(),
        LOG_JS.as_bytes().to_vec(),
    );
    for (key, function) in [
        ("GET /log/{id}", "get"),
        ("POST /log", "post"),
        ("PUT /log", "post"),
    ] {
        let mut properties = serde_json::json!({"js_module": "/endpoints/log.js", "js_function": function,
            "mode": "readwrite", "forwarding_required": "always", "authn_policies": []});
        if key.starts_with("PUT") {
            properties["interpreter_reuse"] = serde_json::json!({"key": "log"});
        }
        tx.put(
            ENDPOINTS_TABLE,
            key.as_bytes().to_vec(),
            properties.to_string().into_bytes(),
        );
    }
    tx.put("records", b"1".to_vec(), b"hello".to_vec());
    store
        .commit(tx, View(1), None, EntryFlags::default())
        .unwrap();
    store
}

fn app_requests(c: &mut Criterion) {
    let store = app_store();
    let mut tx = store.begin();
    let endpoints = js_endpoints(&mut tx).unwrap();
    let mut app = JsApp::new(Rc::new(BenchHost));
    let get = JsRequest {
        method: "GET".into(),
        path: "/app/log/1".into(),
        route: "/app/log/{id}".into(),
        params: [("id".to_owned(), "1".to_owned())].into(),
        ..JsRequest::default()
    };
    let post = JsRequest {
        method: "POST".into(),
        path: "/app/log".into(),
        route: "/app/log".into(),
        body: br#"{"id": 2, "msg": "a message"}"#.to_vec(),
        ..JsRequest::default()
    };
    let put = JsRequest {
        method: "PUT".into(),
        ..post.clone()
    };
    for (name, request) in [
        ("app GET /log/{id}", get),
        ("app POST /log", post),
        ("app PUT /log (interpreter_reuse)", put),
    ] {
        let endpoint = endpoints
            .iter()
            .find(|e| e.method == request.method)
            .unwrap()
            .properties
            .clone();
        c.bench_function(name, |b| {
            b.iter(|| {
                let mut tx = store.begin();
                let response = app
                    .handle(&mut tx, &endpoint, &request, &JsCaller::Unauthenticated)
                    .unwrap();
                assert_eq!(response.status, 200);
                black_box((response, tx))
            })
        });
    }
}

criterion_group!(benches, engine_calls, app_requests);
criterion_main!(benches);
