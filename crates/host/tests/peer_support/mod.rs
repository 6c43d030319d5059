//! Shared fixtures for the node-to-node channel tests: service and node identities made with
//! cloister-node and OS entropy, nodes started on 127.0.0.1, and bounded waits for frames.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // test code; each binary uses a part

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cloister_crypto::{Certificate, OsEntropy};
use cloister_host::peer::{PeerConfig, PeerNetwork};
use cloister_node::{NodeIdentity, ServiceIdentity};
use cloister_types::NodeId;
use tokio::sync::mpsc::Receiver;

/// Bound on every wait that should succeed, so a bug fails a test instead of hanging it.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a test watches for frames that must never arrive.
pub const QUIET: Duration = Duration::from_millis(700);

pub type Inbox = Receiver<(NodeId, Vec<u8>)>;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn service() -> ServiceIdentity {
    ServiceIdentity::generate(&mut OsEntropy, now() - 3600, now() + 86_400).unwrap()
}

pub fn node(service: &ServiceIdentity) -> NodeIdentity {
    NodeIdentity::generate(
        &mut OsEntropy,
        service,
        vec!["127.0.0.1".into()],
        now() - 3600,
        now() + 86_400,
    )
    .unwrap()
}

/// A configuration on 127.0.0.1:`port` presenting `cert` (with `node`'s key) and trusting
/// `trusted`.
pub fn config_with(
    node: &NodeIdentity,
    cert: &Certificate,
    trusted: &ServiceIdentity,
    port: u16,
) -> PeerConfig {
    PeerConfig::new(
        SocketAddr::from(([127, 0, 0, 1], port)),
        cert.to_pem(),
        node.key.to_pem(),
        trusted.cert_pem(),
    )
}

/// `node` with its endorsed certificate, trusting its own service, on a fresh port.
pub fn config(node: &NodeIdentity, service: &ServiceIdentity) -> PeerConfig {
    config_with(node, &node.endorsed_cert, service, 0)
}

pub async fn start(config: PeerConfig) -> (PeerNetwork, Inbox) {
    PeerNetwork::start(config).await.unwrap()
}

/// Starts `config`, retrying the bind for a while: a port just released may still be held by
/// tasks that are being aborted.
pub async fn start_retrying(config: PeerConfig) -> (PeerNetwork, Inbox) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match PeerNetwork::start(config.clone()).await {
            Ok(started) => return started,
            Err(error) if tokio::time::Instant::now() < deadline => {
                eprintln!("retrying bind: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("cannot start: {error}"),
        }
    }
}

pub fn address(network: &PeerNetwork) -> String {
    network.local_addr().to_string()
}

/// The next frame, or a panic after [`WAIT`].
pub async fn next(inbox: &mut Inbox) -> (NodeId, Vec<u8>) {
    tokio::time::timeout(WAIT, inbox.recv())
        .await
        .expect("no frame arrived in time")
        .expect("inbox closed")
}

/// Panics if any frame arrives within [`QUIET`].
pub async fn expect_quiet(inbox: &mut Inbox) {
    if let Ok(frame) = tokio::time::timeout(QUIET, inbox.recv()).await {
        panic!("unexpected frame: {frame:?}");
    }
}

/// A port nobody listens on (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
