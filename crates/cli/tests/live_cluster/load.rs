//! Write load for the multi-node tests: a few user0 tasks, each POSTing `/app/log/private` in a
//! loop with ids of its own and recording every acknowledged write (200 with a transaction id).
//! A task that gets an error or a non-200 answer moves on to the next node (a backup forwards
//! to the primary, so any live node will do), which is how the load rides over a kill -9.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use cloister_client::{Client, ClientOptions};
use cloister_types::TxId;
use serde_json::json;
use tokio::task::JoinHandle;

use super::Cluster;

/// Ids of writer `w` are `ID_BASE * (w + 1) + n`.
const ID_BASE: u64 = 1_000_000;
/// Pause after a failed request before the next node is tried.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// A write the service acknowledged.
#[derive(Debug, Clone)]
pub struct Ack {
    pub id: u64,
    pub msg: String,
    pub tx_id: TxId,
    /// The node that answered.
    pub node: usize,
}

/// Running writer tasks.
pub struct WriteLoad {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    tasks: Vec<JoinHandle<Vec<Ack>>>,
}

impl WriteLoad {
    /// Starts `writers` tasks over `nodes` (indexes into the cluster); writer `w` starts on
    /// `nodes[w % nodes.len()]`. Ids are unique across writers and across loads with a
    /// different `salt`.
    pub fn start(cluster: &Cluster, nodes: &[usize], writers: usize, salt: u64) -> WriteLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let options = ClientOptions {
            connect_timeout_ms: 1_000,
            request_timeout_ms: 8_000,
            ..ClientOptions::default()
        };
        let mut tasks = Vec::new();
        for writer in 0..writers {
            let clients: Vec<(usize, Client)> = nodes
                .iter()
                .map(|&i| {
                    let client = Client::with_options(
                        &cluster.nodes[i].url(),
                        &cluster.service_cert_pem,
                        Some(cluster.user0.tls()),
                        options.clone(),
                    )
                    .unwrap();
                    (i, client)
                })
                .collect();
            let stop = stop.clone();
            let acked = acked.clone();
            let failed = failed.clone();
            let first_id = ID_BASE * (writer as u64 + 1) + salt * (ID_BASE / 10);
            tasks.push(tokio::spawn(async move {
                let mut acks = Vec::new();
                let mut target = writer % clients.len();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let id = first_id + n;
                    let msg = format!("w{writer}-{n}-{}", id * 7919 % 1_000_003);
                    let body = json!({ "id": id, "msg": msg }).to_string().into_bytes();
                    let (node, client) = &clients[target];
                    match client
                        .post("/app/log/private", "application/json", body)
                        .await
                    {
                        Ok(response) if response.status == 200 && response.tx_id().is_some() => {
                            let tx_id = response.tx_id().unwrap();
                            acks.push(Ack {
                                id,
                                msg,
                                tx_id,
                                node: *node,
                            });
                            acked.fetch_add(1, Ordering::Relaxed);
                            n += 1;
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            n += 1; // a write that may have happened keeps its id
                            target = (target + 1) % clients.len();
                            tokio::time::sleep(RETRY_PAUSE).await;
                        }
                    }
                }
                acks
            }));
        }
        WriteLoad {
            stop,
            acked,
            failed,
            tasks,
        }
    }

    /// Writes acknowledged so far.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// Requests that failed so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Stops the writers and returns every acknowledged write.
    pub async fn finish(self) -> Vec<Ack> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for task in self.tasks {
            all.extend(task.await.unwrap());
        }
        all
    }
}
