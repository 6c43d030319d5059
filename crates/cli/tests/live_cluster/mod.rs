//! A multi-node service of real processes for the multi-node end-to-end tests: node 0 runs
//! `cloister node start`, the others `cloister node join` (CCF's Join configuration), each in its
//! own directory with 127.0.0.1 ports picked free at run time. The harness can kill -9 a node,
//! restart it with the same command, stop it with SIGTERM, add a joiner later, find the primary
//! (`GET /node/primary`: 200 on the primary, 308/404 elsewhere, as in CCF) and read every node's
//! ledger back. Every wait is bounded and fails with the tail of every node's log.
//!
//! Uses `live_node` for identities and the `cloister` binary: a test file declares both modules.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

pub mod ledger;
pub mod load;

use std::collections::BTreeSet;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cloister_client::{Client, ClientOptions, GovClient, ProposalState};
use cloister_types::TxId;
use serde_json::{Value, json};

use crate::live_node::{DEADLINE, Identity, body_text, cloister_bin};

/// Pause between two polls.
pub const POLL: Duration = Duration::from_millis(50);
/// Lines of each node's log shown when a wait fails.
const LOG_TAIL_LINES: usize = 60;

/// What every node of the cluster is configured with.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// `consensus.election_timeout` (the effective timeout is randomised in [0.5, 1] × this).
    pub election_timeout_ms: u64,
    /// `consensus.message_timeout`: the primary's heartbeat interval.
    pub message_timeout_ms: u64,
    /// `ledger.chunk_size`, as CCF writes it ("16KB").
    pub chunk_size: String,
}

impl Default for ClusterOptions {
    fn default() -> ClusterOptions {
        ClusterOptions {
            election_timeout_ms: 2000,
            message_timeout_ms: 100,
            chunk_size: "16KB".to_owned(),
        }
    }
}

/// One node: its directory, addresses and (while it runs) its process.
#[derive(Debug)]
pub struct ClusterNode {
    pub name: String,
    pub dir: PathBuf,
    /// `127.0.0.1:port` of the RPC interface (bound and published).
    pub rpc_address: String,
    /// `127.0.0.1:port` of the node-to-node interface (bound and published).
    pub node_to_node_address: String,
    /// `start` or `join`: the `cloister node` subcommand this node runs (again, on restart).
    subcommand: &'static str,
    process: Mutex<Option<Child>>,
}

impl ClusterNode {
    pub fn url(&self) -> String {
        format!("https://{}", self.rpc_address)
    }

    /// Whether the node's process runs (it was not killed or stopped, and has not exited).
    pub fn is_running(&self) -> bool {
        self.process.lock().unwrap().is_some()
    }

    /// Exit status if the process ended without the harness asking it to.
    fn exited(&self) -> Option<ExitStatus> {
        let mut slot = self.process.lock().unwrap();
        slot.as_mut().and_then(|child| child.try_wait().unwrap())
    }

    pub fn ledger_dir(&self) -> PathBuf {
        self.dir.join("ledger")
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("node.log")).unwrap_or_default()
    }

    fn pid(&self) -> Option<u32> {
        self.process.lock().unwrap().as_ref().map(Child::id)
    }
}

impl Drop for ClusterNode {
    fn drop(&mut self) {
        let slot = self.process.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(child) = slot.as_mut()
            && matches!(child.try_wait(), Ok(None))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A service of real node processes sharing member0, user0 and the service certificate.
#[derive(Debug)]
pub struct Cluster {
    /// First, so that they drop first: the nodes are killed before their files are removed.
    pub nodes: Vec<ClusterNode>,
    /// Owns every file; removed when the cluster is dropped.
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub common: PathBuf,
    pub member0: Identity,
    pub user0: Identity,
    pub service_cert_path: PathBuf,
    pub service_cert_pem: String,
    pub options: ClusterOptions,
    /// Ports handed out so far (never handed out twice).
    ports: Mutex<BTreeSet<u16>>,
}

impl Cluster {
    /// Starts node 0, joins `count - 1` nodes while the service is Opening (they are trusted at
    /// once, as in CCF's own e2e setup), waits until every node lists `count` Trusted nodes,
    /// then member0 activates and opens the service with user0; returns once every node's app
    /// frontend is open.
    pub async fn start_open(count: usize, options: ClusterOptions) -> Cluster {
        let mut dir = tempfile::tempdir().unwrap();
        // For a post-mortem of a failing run: keep every node's directory.
        if std::env::var_os("CLOISTER_KEEP_CLUSTER").is_some() {
            dir.disable_cleanup(true);
            eprintln!("live_cluster: keeping {}", dir.path().display());
        }
        let root = dir.path().to_path_buf();
        let common = root.join("common");
        fs::create_dir_all(&common).unwrap();
        let member0 = Identity::generate(&common, "member0", true);
        let user0 = Identity::generate(&common, "user0", false);
        fs::write(
            common.join("constitution.js"),
            cloister_js::DEFAULT_CONSTITUTION,
        )
        .unwrap();
        let mut cluster = Cluster {
            nodes: Vec::new(),
            _dir: dir,
            root,
            service_cert_path: common.join("service_cert.pem"),
            common,
            member0,
            user0,
            service_cert_pem: String::new(),
            options,
            ports: Mutex::new(BTreeSet::new()),
        };
        let first = cluster.add_node(None);
        cluster.wait_rpc_address(first).await;
        let node0_cert = cluster.nodes[first].dir.join("service_cert.pem");
        cluster.service_cert_pem = fs::read_to_string(&node0_cert).unwrap();
        fs::write(&cluster.service_cert_path, &cluster.service_cert_pem).unwrap();
        cluster.wait_status(first, "/node/ready/gov", 204).await;
        for _ in 1..count {
            let target = cluster.nodes[first].rpc_address.clone();
            let index = cluster.add_node(Some(&target));
            cluster.wait_rpc_address(index).await;
        }
        for index in 0..count {
            cluster.wait_trusted_count(index, count).await;
        }
        let primary = cluster.wait_primary(&[]).await;
        let gov = cluster.member0_gov(primary);
        let activated = gov.activate_member().await.unwrap();
        let tx_id = activated.tx_id.expect("the ack has a transaction id");
        gov.wait_for_commit(tx_id, DEADLINE).await.unwrap();
        let open = json!({ "actions": [
            { "name": "set_user", "args": { "cert": cluster.user0.cert_pem } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": cluster.service_cert_pem } },
        ]});
        cluster.pass(&gov, &open).await;
        for index in 0..count {
            cluster.wait_status(index, "/node/ready/app", 204).await;
        }
        cluster
    }

    /// Writes a node's configuration and spawns it: a Start node when `join_target` is `None`,
    /// else a Join node whose `command.join.target_rpc_address` is `join_target`. Returns its
    /// index; does not wait for anything.
    pub fn add_node(&mut self, join_target: Option<&str>) -> usize {
        let index = self.nodes.len();
        let name = format!("node{index}");
        let dir = self.root.join(&name);
        fs::create_dir_all(&dir).unwrap();
        let rpc_address = format!("127.0.0.1:{}", self.free_port());
        let node_to_node_address = format!("127.0.0.1:{}", self.free_port());
        let config = self.node_config(&rpc_address, &node_to_node_address, join_target);
        fs::write(
            dir.join("config.json"),
            serde_json::to_string_pretty(&config).unwrap(),
        )
        .unwrap();
        let node = ClusterNode {
            name,
            dir,
            rpc_address,
            node_to_node_address,
            subcommand: if join_target.is_some() {
                "join"
            } else {
                "start"
            },
            process: Mutex::new(None),
        };
        self.nodes.push(node);
        self.spawn(index);
        index
    }

    /// CCF's node configuration (cchost JSON) with this cluster's options.
    fn node_config(&self, rpc: &str, node_to_node: &str, join_target: Option<&str>) -> Value {
        let path = |name: &str| self.common.join(name).display().to_string();
        let command = match join_target {
            None => json!({
                "type": "Start",
                "service_certificate_file": "service_cert.pem",
                "start": {
                    "constitution_files": [path("constitution.js")],
                    "members": [{
                        "certificate_file": path("member0_cert.pem"),
                        "encryption_public_key_file": path("member0_enc_pubk.pem")
                    }],
                    "service_configuration": { "recovery_threshold": 1 }
                }
            }),
            Some(target) => json!({
                "type": "Join",
                "service_certificate_file": path("service_cert.pem"),
                "join": { "target_rpc_address": target, "retry_timeout": "200ms" }
            }),
        };
        json!({
            "enclave": { "platform": "Virtual", "type": "Virtual" },
            "network": {
                "node_to_node_interface": { "bind_address": node_to_node },
                "rpc_interfaces": { "primary_rpc_interface": { "bind_address": rpc } }
            },
            "command": command,
            "ledger": { "directory": "ledger", "chunk_size": self.options.chunk_size },
            "ledger_signatures": { "tx_count": 20, "delay": "100ms" },
            "consensus": {
                "election_timeout": format!("{}ms", self.options.election_timeout_ms),
                "message_timeout": format!("{}ms", self.options.message_timeout_ms)
            },
            "output_files": { "rpc_addresses_file": "rpc_addresses.json" }
        })
    }

    /// A 127.0.0.1 port that was free a moment ago and that this cluster has not used.
    fn free_port(&self) -> u16 {
        let mut used = self.ports.lock().unwrap();
        loop {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            if used.insert(port) {
                return port;
            }
        }
    }

    /// Spawns node `index`'s command (appending to its `node.log`).
    fn spawn(&self, index: usize) {
        let node = &self.nodes[index];
        let mut slot = node.process.lock().unwrap();
        assert!(slot.is_none(), "{} is already running", node.name);
        let _ = fs::remove_file(node.dir.join("rpc_addresses.json"));
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.dir.join("node.log"))
            .unwrap();
        let child = cloister_bin()
            .args(["node", node.subcommand, "--config", "config.json"])
            .current_dir(&node.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        *slot = Some(child);
    }

    /// Starts node `index` again with the same command, in its directory as the last run left
    /// it; returns once its RPC interface is bound.
    pub async fn restart(&self, index: usize) {
        self.spawn(index);
        self.wait_rpc_address(index).await;
    }

    /// SIGKILL: the node gets no chance to flush or say goodbye.
    pub fn kill9(&self, index: usize) {
        let node = &self.nodes[index];
        let mut child = node.process.lock().unwrap().take().unwrap();
        assert!(
            child.try_wait().unwrap().is_none(),
            "{} had already exited:\n{}",
            node.name,
            tail(&node.log())
        );
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
    }

    /// SIGTERM, and waits for the process to exit; returns its exit status.
    pub fn stop(&self, index: usize) -> ExitStatus {
        let node = &self.nodes[index];
        let pid = node.pid().expect("the node runs").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        let started = Instant::now();
        loop {
            let mut slot = node.process.lock().unwrap();
            if let Some(status) = slot.as_mut().unwrap().try_wait().unwrap() {
                *slot = None;
                return status;
            }
            drop(slot);
            assert!(
                started.elapsed() < DEADLINE,
                "{} did not stop within {DEADLINE:?} of SIGTERM:\n{}",
                node.name,
                tail(&node.log())
            );
            std::thread::sleep(POLL);
        }
    }

    /// Stops every running node with SIGTERM; each must exit 0.
    pub fn stop_all(&self) {
        for (index, node) in self.nodes.iter().enumerate() {
            if node.is_running() {
                let status = self.stop(index);
                assert!(
                    status.success(),
                    "{} exited {status} on SIGTERM:\n{}",
                    node.name,
                    tail(&node.log())
                );
            }
        }
    }

    /// The last lines of every node's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for node in &self.nodes {
            let state = if node.is_running() { "running" } else { "down" };
            text.push_str(&format!(
                "\n===== {} ({}, {state}, rpc {}, n2n {}) =====\n{}\n",
                node.name,
                node.subcommand,
                node.rpc_address,
                node.node_to_node_address,
                tail(&node.log())
            ));
        }
        text
    }

    /// Calls `attempt` every [`POLL`] until it returns `Ok`; fails after `timeout`, or at once
    /// when a node the harness did not stop has exited, showing the last `Err` (what was seen).
    pub async fn poll_seen<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut attempt: impl AsyncFnMut() -> Result<T, String>,
    ) -> T {
        let started = Instant::now();
        loop {
            let seen = match attempt().await {
                Ok(value) => return value,
                Err(seen) => seen,
            };
            for node in &self.nodes {
                if let Some(status) = node.exited() {
                    panic!(
                        "waiting for {what}: {} exited ({status}); last seen: {seen}{}",
                        node.name,
                        self.logs()
                    );
                }
            }
            assert!(
                started.elapsed() < timeout,
                "waiting for {what}: not within {timeout:?}; last seen: {seen}{}",
                self.logs()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// [`Cluster::poll_seen`] for an attempt that has nothing to say when it fails.
    pub async fn poll_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut attempt: impl AsyncFnMut() -> Option<T>,
    ) -> T {
        self.poll_seen(what, timeout, async || {
            attempt().await.ok_or_else(|| "-".to_owned())
        })
        .await
    }

    /// [`Cluster::poll_for`] with the default [`DEADLINE`].
    pub async fn poll<T>(&self, what: &str, attempt: impl AsyncFnMut() -> Option<T>) -> T {
        self.poll_for(what, DEADLINE, attempt).await
    }

    /// A client of node `index` trusting the service certificate, presenting `identity`.
    /// Short timeouts: a request to a dead node fails fast.
    pub fn client(&self, index: usize, identity: Option<&Identity>) -> Client {
        let options = ClientOptions {
            connect_timeout_ms: 2_000,
            request_timeout_ms: 10_000,
            ..ClientOptions::default()
        };
        Client::with_options(
            &self.nodes[index].url(),
            &self.service_cert_pem,
            identity.map(Identity::tls),
            options,
        )
        .unwrap()
    }

    /// User0's client of node `index`.
    pub fn user0(&self, index: usize) -> Client {
        self.client(index, Some(&self.user0))
    }

    /// Member0's governance client on node `index`.
    pub fn member0_gov(&self, index: usize) -> GovClient {
        GovClient::new(self.client(index, None), self.member0.signer())
    }

    /// Proposes `proposal`, votes for it as member0, waits until the ballot commits; the
    /// proposal must be Accepted.
    pub async fn pass(&self, gov: &GovClient, proposal: &Value) {
        let proposed = gov.propose(proposal.to_string().as_bytes()).await.unwrap();
        let mut state = proposed.value.proposal_state;
        let mut tx_id = proposed.tx_id;
        if state == ProposalState::Open {
            let voted = gov.vote_accept(&proposed.value.proposal_id).await.unwrap();
            state = voted.value.proposal_state;
            tx_id = voted.tx_id;
        }
        assert_eq!(state, ProposalState::Accepted, "{proposal}");
        let tx_id = tx_id.expect("the ballot has a transaction id");
        gov.wait_for_commit(tx_id, DEADLINE).await.unwrap();
    }

    /// Polls the file node `index` writes once its interfaces are bound, and checks it names
    /// the configured address.
    pub async fn wait_rpc_address(&self, index: usize) {
        let node = &self.nodes[index];
        let file = node.dir.join("rpc_addresses.json");
        let address = self
            .poll(
                &format!("{} to bind its RPC interface", node.name),
                async || {
                    // The file may be seen half-written: only a complete JSON object counts.
                    let text = fs::read_to_string(&file).ok()?;
                    let value: Value = serde_json::from_str(&text).ok()?;
                    value["primary_rpc_interface"].as_str().map(str::to_owned)
                },
            )
            .await;
        assert_eq!(address, node.rpc_address);
    }

    /// Polls `GET path` on node `index` until it answers `status`.
    pub async fn wait_status(&self, index: usize, path: &str, status: u16) {
        let client = self.client(index, None);
        let what = format!("{} GET {path} to answer {status}", self.nodes[index].name);
        self.poll_seen(&what, DEADLINE, async || match client.get(path).await {
            Ok(r) if r.status == status => Ok(()),
            Ok(r) => Err(format!("{} {}", r.status, body_text(&r))),
            Err(e) => Err(e.to_string()),
        })
        .await;
    }

    /// Polls `/node/network/nodes` on node `index` until it lists `count` Trusted nodes.
    pub async fn wait_trusted_count(&self, index: usize, count: usize) {
        let what = format!("{} to list {count} Trusted nodes", self.nodes[index].name);
        let client = self.client(index, None);
        self.poll_seen(&what, DEADLINE, async || {
            let nodes = network_nodes(&client).await?;
            let trusted = nodes.iter().filter(|(_, s)| s == "Trusted").count();
            if trusted == count {
                Ok(())
            } else {
                Err(format!("{nodes:?}"))
            }
        })
        .await;
    }

    /// Whether node `index` says it is the primary (`GET /node/primary` answers 200); `None`
    /// when it does not answer.
    pub async fn says_primary(&self, client: &Client) -> Option<bool> {
        let response = client.get("/node/primary").await.ok()?;
        Some(response.status == 200)
    }

    /// The running node (not in `exclude`) that says it is the primary, while every other
    /// running node denies it. Polls until that holds.
    pub async fn wait_primary(&self, exclude: &[usize]) -> usize {
        let candidates: Vec<(usize, Client)> = (0..self.nodes.len())
            .filter(|i| !exclude.contains(i) && self.nodes[*i].is_running())
            .map(|i| (i, self.client(i, None)))
            .collect();
        self.poll_seen(
            "one primary among the running nodes",
            DEADLINE,
            async || {
                let mut primaries = Vec::new();
                for (index, client) in &candidates {
                    match self.says_primary(client).await {
                        Some(true) => primaries.push(*index),
                        Some(false) => {}
                        None => return Err(format!("node{index} does not answer /node/primary")),
                    }
                }
                match primaries[..] {
                    [one] => Ok(one),
                    _ => Err(format!("primaries {primaries:?}")),
                }
            },
        )
        .await
    }

    /// Node `index`'s id (`GET /node/network/nodes/self`).
    pub async fn node_id(&self, index: usize) -> String {
        let client = self.client(index, None);
        let what = format!("{}'s node id", self.nodes[index].name);
        self.poll(&what, async || {
            let response = client.get("/node/network/nodes/self").await.ok()?;
            if response.status != 200 {
                return None;
            }
            let body: Value = response.json().ok()?;
            body["node_id"].as_str().map(str::to_owned)
        })
        .await
    }

    /// Node `index`'s commit (`GET /node/commit`), `None` when it does not answer.
    pub async fn commit(&self, client: &Client) -> Option<TxId> {
        let response = client.get("/node/commit").await.ok()?;
        if response.status != 200 {
            return None;
        }
        let body: Value = response.json().ok()?;
        body["transaction_id"].as_str()?.parse().ok()
    }

    /// Polls `GET /app/tx` on node `index` until `tx_id` is Committed. Invalid fails at once.
    pub async fn wait_committed(&self, index: usize, tx_id: TxId) {
        let client = self.client(index, None);
        let what = format!("{tx_id} Committed on {}", self.nodes[index].name);
        self.poll_seen(&what, DEADLINE, async || {
            match tx_status(&client, tx_id).await {
                Some(status) if status == "Committed" => Ok(()),
                Some(status) if status == "Invalid" => {
                    panic!("{tx_id} is Invalid on node {index}{}", self.logs())
                }
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    }
}

/// `(node_id, status)` of every node `GET /node/network/nodes` lists; what was seen instead
/// when the node does not answer 200 with a list.
pub async fn network_nodes(client: &Client) -> Result<Vec<(String, String)>, String> {
    let response = client
        .get("/node/network/nodes")
        .await
        .map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!("{} {}", response.status, body_text(&response)));
    }
    let body: Value = response.json().map_err(|e| e.to_string())?;
    let nodes = body["nodes"]
        .as_array()
        .ok_or_else(|| body_text(&response))?;
    Ok(nodes
        .iter()
        .map(|n| {
            (
                n["node_id"].as_str().unwrap_or_default().to_owned(),
                n["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect())
}

/// `GET /app/tx?transaction_id=…`'s status (Pending, Committed, Invalid, Unknown); `None` when
/// the node does not answer 200.
pub async fn tx_status(client: &Client, tx_id: TxId) -> Option<String> {
    let response = client
        .get(&format!("/app/tx?transaction_id={tx_id}"))
        .await
        .ok()?;
    if response.status != 200 {
        return None;
    }
    let body: Value = response.json().ok()?;
    body["status"].as_str().map(str::to_owned)
}

/// `GET /app/log/private?id=`: the message, `None` on 404; other answers fail the test.
pub async fn read_private(client: &Client, id: u64) -> Option<String> {
    let response = client
        .get(&format!("/app/log/private?id={id}"))
        .await
        .unwrap();
    match response.status {
        200 => Some(
            response.json::<Value>().unwrap()["msg"]
                .as_str()?
                .to_owned(),
        ),
        404 => None,
        status => panic!(
            "GET /app/log/private?id={id}: {status} {}",
            body_text(&response)
        ),
    }
}

/// The last [`LOG_TAIL_LINES`] lines of a log.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// `YYYYMMDDhhmmssZ` (the form `valid_from` takes in CCF's node actions) for a Unix time.
pub fn generalized_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Whether `path` is a directory holding at least one `.committed` chunk.
pub fn has_committed_chunk(path: &Path) -> bool {
    fs::read_dir(path).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".committed"))
    })
}

#[test]
fn generalized_time_matches_known_dates() {
    assert_eq!(generalized_time(0), "19700101000000Z");
    assert_eq!(generalized_time(951_782_400), "20000229000000Z");
    assert_eq!(generalized_time(1_798_761_599), "20261231235959Z");
}
