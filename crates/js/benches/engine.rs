//! Cost of one constitution call: a fresh QuickJS runtime, the governance globals, evaluating
//! the default constitution, and the call itself.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failure

use std::hint::black_box;

use cloister_gov::{ConstitutionEngine, GovHost};
use cloister_js::{DEFAULT_CONSTITUTION, QuickJsConstitution};
use cloister_kv::{EntryFlags, LedgerSecrets, Store};
use cloister_types::View;
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

criterion_group!(benches, engine_calls);
criterion_main!(benches);
