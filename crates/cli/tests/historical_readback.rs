//! Historical queries for transactions consensus no longer holds, on a real `cloister` node: the
//! node asks its host to read the entries back from the ledger chunk files (`Output::ReadLedger`,
//! answered by the host's `ledger_reader`), answers 202 with Retry-After meanwhile, then 200
//! with the old value and a receipt that verifies offline.
//!
//! Consensus keeps `raft_log_retained_entries` (100,000, not configurable) committed entries
//! below the latest committed snapshot, so the test makes snapshots frequent
//! (`snapshots.tx_count`) and pushes over 100,000 writes past the record it later asks about.
//! CCF's JS logging sample is ~6× slower per write than the native logging app, and shadows it on
//! `/app/log/private`: the sample writes the record, is removed while the native app takes the
//! bulk load (on ids of its own, so the store and snapshots stay small), and is deployed again
//! for the historical queries.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod live_node;

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cloister_client::{Client, GovClient, Method, ProposalState, Response};
use cloister_crypto::Certificate;
use cloister_merkle::Receipt;
use cloister_types::TxId;
use live_node::{DEADLINE, TestNetwork, body_text, run};
use serde_json::{Value, json};

/// A file of CCF's JS logging sample, as stored.
macro_rules! sample {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/ccf-js-logging/",
            $file
        ))
    };
}

const APP_JSON: &str = sample!("app.json");
const LOGGING_JS: &str = sample!("src/logging.js");

/// The node's `raft_log_retained_entries` (CCF's default; the configuration cannot set it).
const RAFT_LOG_RETAINED_ENTRIES: u64 = 100_000;
/// `snapshots.tx_count`: a snapshot at the first signature this many transactions after the last.
const SNAPSHOT_TX_COUNT: u64 = 1_000;
/// Concurrent writers of the bulk load, each on its own keep-alive connection.
const WRITERS: u64 = 48;
/// Bound on the bulk load (it takes about 10 s on a 2-core machine).
const LOAD_DEADLINE: Duration = Duration::from_secs(90);
/// Bound on a historical query turning from 202 to 200.
const FETCH_DEADLINE: Duration = Duration::from_secs(20);

/// The sample's bundle: app.json as metadata, the one module under its name relative to `src/`.
fn bundle() -> Value {
    let metadata: Value = serde_json::from_str(APP_JSON).unwrap();
    json!({ "metadata": metadata, "modules": [{ "name": "logging.js", "module": LOGGING_JS }] })
}

/// Member0 proposes `actions`, votes for them, and waits until the ballot commits.
async fn pass(gov: &GovClient, actions: Value) {
    let proposal = json!({ "actions": actions });
    let proposed = gov.propose(proposal.to_string().as_bytes()).await.unwrap();
    let voted = gov.vote_accept(&proposed.value.proposal_id).await.unwrap();
    assert_eq!(voted.value.proposal_state, ProposalState::Accepted);
    gov.wait_for_commit(voted.tx_id.unwrap(), DEADLINE)
        .await
        .unwrap();
}

async fn call(client: &Client, method: Method, path: &str, headers: &[(&str, &str)]) -> Response {
    client
        .request(method, path, headers, Vec::new())
        .await
        .unwrap()
}

/// POSTs `{id, msg}` to `/app/log/private`; requires 200 and returns the transaction id.
async fn write(client: &Client, id: u64, msg: &str) -> TxId {
    let body = json!({ "id": id, "msg": msg }).to_string().into_bytes();
    let response = client
        .post("/app/log/private", "application/json", body)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", body_text(&response));
    response.tx_id().expect("a write has a transaction id")
}

/// The JSON body of a response that must have status `status`.
fn json_of(response: &Response, status: u16) -> Value {
    assert_eq!(response.status, status, "{}", body_text(response));
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", body_text(response)))
}

/// The highest seqno of a committed snapshot file (`snapshot_<seqno>_<evidence>.committed`).
fn latest_committed_snapshot(dir: &Path) -> u64 {
    let Ok(listing) = fs::read_dir(dir) else {
        return 0;
    };
    listing
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| {
            let rest = name.strip_prefix("snapshot_")?.strip_suffix(".committed")?;
            rest.split('_').next()?.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// Writes through the native logging app from [`WRITERS`] connections (each writer overwrites an
/// id of its own) until a snapshot committed at `target` or later is on disk; returns how many
/// writes were acknowledged.
async fn bulk_load(network: &TestNetwork, target: u64) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let client = network.client(Some(&network.user0));
        let (stop, acked) = (stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({ "id": 1_000 + writer, "msg": format!("bulk {writer}") });
            let body = body.to_string().into_bytes();
            while !stop.load(Ordering::Relaxed) {
                let response = client
                    .post("/app/log/private", "application/json", body.clone())
                    .await
                    .unwrap();
                assert_eq!(response.status, 200, "{}", body_text(&response));
                acked.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let snapshots = network.node_dir.join("snapshots");
    let started = Instant::now();
    while latest_committed_snapshot(&snapshots) < target {
        assert!(
            started.elapsed() < LOAD_DEADLINE,
            "no snapshot committed at seqno {target} within {LOAD_DEADLINE:?} ({} writes, latest \
             {}):\n{}",
            acked.load(Ordering::Relaxed),
            latest_committed_snapshot(&snapshots),
            network.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    acked.load(Ordering::Relaxed)
}

/// GETs `path` (with the transaction id header, if given) until it answers 200: requires the
/// first answer to be 202 with a Retry-After header (the entries are being read back), and
/// returns the 200 body and how many 202s came first.
async fn fetched(client: &Client, path: &str, tx_id: Option<TxId>) -> (Value, u32) {
    let tx_header = tx_id.map(|tx| tx.to_string());
    let headers: Vec<(&str, &str)> = tx_header
        .iter()
        .map(|tx| ("x-ms-ccf-transaction-id", tx.as_str()))
        .collect();
    let started = Instant::now();
    let mut accepted = 0;
    loop {
        let response = call(client, Method::GET, path, &headers).await;
        match response.status {
            202 => {
                assert!(
                    response.header("retry-after").is_some(),
                    "{path}: 202 without Retry-After"
                );
                accepted += 1;
            }
            200 => {
                assert!(accepted > 0, "{path}: 200 at once, not read back");
                return (json_of(&response, 200), accepted);
            }
            status => panic!("{path}: {status} {}", body_text(&response)),
        }
        assert!(
            started.elapsed() < FETCH_DEADLINE,
            "{path}: still 202 after {FETCH_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Verifies a receipt in CCF's JavaScript shape with Cloister's receipt verifier.
fn verify_receipt(network: &TestNetwork, receipt: &Value) {
    let parsed = Receipt::from_json(&receipt.to_string()).unwrap();
    let service = Certificate::from_pem(&network.service_cert_pem).unwrap();
    parsed.verify(&service).unwrap();
}

#[test]
fn values_older_than_the_raft_log_are_read_back_from_the_ledger_files() {
    run(async {
        let started = Instant::now();
        let network = TestNetwork::start_open_configured("1MB", |config| {
            config["snapshots"] = json!({ "tx_count": SNAPSHOT_TX_COUNT });
            config["ledger_signatures"] = json!({ "tx_count": 200, "delay": "100ms" });
        })
        .await;
        let gov = network.member0_gov();
        let user = network.client(Some(&network.user0));
        let set_app = json!([{ "name": "set_js_app", "args": { "bundle": bundle() } }]);
        pass(&gov, set_app.clone()).await;

        // The record, through the sample, then overwritten once.
        let early = write(&user, 1, "early").await;
        let late = write(&user, 1, "late").await;
        network.wait_committed(&user, "/app", late).await;

        // Bulk load on the native app, until a committed snapshot puts both writes more than
        // raft_log_retained_entries below it.
        pass(&gov, json!([{ "name": "remove_js_app" }])).await;
        let loading = Instant::now();
        let target = late.seqno.0 + RAFT_LOG_RETAINED_ENTRIES;
        let writes = bulk_load(&network, target).await;
        let load_time = loading.elapsed();
        eprintln!(
            "bulk load: {writes} writes in {load_time:.1?} ({:.0}/s)",
            writes as f64 / load_time.as_secs_f64()
        );
        pass(&gov, set_app).await;

        // The current value is the overwrite; the value at the early transaction is read back.
        let current = call(&user, Method::GET, "/app/log/private?id=1", &[]).await;
        assert_eq!(json_of(&current, 200), json!({ "msg": "late" }));
        let reading = Instant::now();
        let (old, accepted) = fetched(&user, "/app/log/private/historical?id=1", Some(early)).await;
        eprintln!(
            "historical: {accepted} × 202, then 200 after {:.1?}",
            reading.elapsed()
        );
        assert_eq!(old, json!({ "msg": "early" }));

        // The overwrite read back the same way, with a receipt that verifies against the service
        // certificate.
        let path = "/app/log/private/historical_receipt?id=1";
        let (body, _) = fetched(&user, path, Some(late)).await;
        assert_eq!(body["msg"], "late");
        let receipt = &body["receipt"];
        assert!(
            receipt["leaf_components"]["commit_evidence"]
                .as_str()
                .unwrap()
                .starts_with(&format!("ce:{late}:"))
        );
        verify_receipt(&network, receipt);

        // The range from seqno 1 to the last write of id 1, every seqno read back.
        let (range, _) = fetched(&user, "/app/log/private/historical/range?id=1", None).await;
        assert_eq!(
            range,
            json!({ "entries": [
                { "seqno": early.seqno.0, "id": 1, "msg": "early" },
                { "seqno": late.seqno.0, "id": 1, "msg": "late" },
            ]})
        );
        eprintln!("whole test: {:.1?}", started.elapsed());
    });
}
