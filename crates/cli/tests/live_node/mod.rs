//! A real `cloister node start` process for the end-to-end and security tests: identities made
//! by `cloister keygen`, a CCF node configuration in a tempdir, the node's RPC address read from
//! `output_files.rpc_addresses_file` (the node binds port 0), and a guard that kills the process
//! when the test ends, however it ends.
//!
//! Every wait polls against [`DEADLINE`]: the tests must hold on a loaded 2-core machine, so
//! nothing relies on a fixed sleep.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::fs;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use cloister_client::{Client, GovClient, MemberSigner, Proposal, ProposalState, Response};
use cloister_types::TxId;
use serde_json::{Value, json};

/// How long any one wait may take (node start, commit, receipt, shutdown).
pub const DEADLINE: Duration = Duration::from_secs(30);
/// Pause between two polls.
const POLL: Duration = Duration::from_millis(50);
/// The governance API version every `/gov` call names.
pub const GOV_API: &str = "api-version=2024-07-01";

/// A member or user identity as `cloister keygen` writes it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Identity {
    /// Runs `cloister keygen --name <name> [--gen-enc-key] --dir <dir>`.
    pub fn generate(dir: &Path, name: &str, encryption_key: bool) -> Identity {
        let mut command = cloister_bin();
        command.args(["keygen", "--name", name, "--dir"]).arg(dir);
        if encryption_key {
            command.arg("--gen-enc-key");
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "cloister keygen {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cert_path = dir.join(format!("{name}_cert.pem"));
        let key_path = dir.join(format!("{name}_privk.pem"));
        Identity {
            name: name.to_owned(),
            cert_pem: fs::read_to_string(&cert_path).unwrap(),
            key_pem: fs::read_to_string(&key_path).unwrap(),
            cert_path,
            key_path,
        }
    }

    /// `(cert, key)` for a TLS client certificate.
    pub fn tls(&self) -> (&str, &str) {
        (&self.cert_pem, &self.key_pem)
    }

    /// The COSE signer of a member with this identity.
    pub fn signer(&self) -> MemberSigner {
        MemberSigner::from_pem(&self.cert_pem, &self.key_pem).unwrap()
    }

    /// Hex SHA-256 of the certificate DER: the member or user id.
    pub fn id(&self) -> String {
        cloister_crypto::Certificate::from_pem(&self.cert_pem)
            .unwrap()
            .member_id()
            .as_str()
            .to_owned()
    }
}

/// A one-node service run by a `cloister node start` child process.
#[derive(Debug)]
pub struct TestNetwork {
    /// First, so that it drops first: the node is killed before its files are removed.
    node: NodeProcess,
    /// Owns every file; removed when the network is dropped.
    _dir: tempfile::TempDir,
    pub common: PathBuf,
    pub node_dir: PathBuf,
    pub member0: Identity,
    pub user0: Identity,
    pub service_cert_path: PathBuf,
    pub service_cert_pem: String,
    /// `host:port` the node bound.
    pub address: String,
    pub url: String,
}

impl TestNetwork {
    /// Generates member0 (with an encryption key) and user0, writes the default constitution
    /// and a CCF configuration (`ledger.chunk_size = chunk_size`), starts the node and waits
    /// until its governance frontend answers. The service is Opening; member0 is Accepted.
    pub async fn start(chunk_size: &str) -> TestNetwork {
        TestNetwork::start_configured(chunk_size, |_| {}).await
    }

    /// [`TestNetwork::start`] with the CCF configuration changed by `configure` before the node
    /// reads it (a test's own `snapshots`, `consensus`, … sections).
    pub async fn start_configured(
        chunk_size: &str,
        configure: impl FnOnce(&mut Value),
    ) -> TestNetwork {
        let dir = tempfile::tempdir().unwrap();
        let common = dir.path().join("common");
        let node_dir = dir.path().join("node0");
        fs::create_dir_all(&common).unwrap();
        fs::create_dir_all(&node_dir).unwrap();
        let member0 = Identity::generate(&common, "member0", true);
        let user0 = Identity::generate(&common, "user0", false);
        fs::write(
            common.join("constitution.js"),
            cloister_js::DEFAULT_CONSTITUTION,
        )
        .unwrap();
        let mut config = node_config(&common, chunk_size);
        configure(&mut config);
        fs::write(
            node_dir.join("config.json"),
            serde_json::to_string_pretty(&config).unwrap(),
        )
        .unwrap();

        let mut node = NodeProcess::spawn(&node_dir);
        let address = node
            .wait_for_rpc_address(&node_dir.join("rpc_addresses.json"))
            .await;
        let service_cert_path = node_dir.join("service_cert.pem");
        let service_cert_pem = fs::read_to_string(&service_cert_path).unwrap();
        let network = TestNetwork {
            node,
            _dir: dir,
            common,
            node_dir,
            member0,
            user0,
            service_cert_path,
            service_cert_pem,
            url: format!("https://{address}"),
            address,
        };
        network.wait_ready("/node/ready/gov").await;
        network
    }

    /// A client trusting only the service certificate, presenting `identity` if given.
    pub fn client(&self, identity: Option<&Identity>) -> Client {
        Client::new(
            &self.url,
            &self.service_cert_pem,
            identity.map(Identity::tls),
        )
        .unwrap()
    }

    /// Member0's governance client (COSE-signed requests, no TLS client certificate).
    pub fn member0_gov(&self) -> GovClient {
        GovClient::new(self.client(None), self.member0.signer())
    }

    /// Member0 fetches its state digest and acks it: Accepted becomes Active.
    pub async fn activate_member0(&self, gov: &GovClient) {
        let activated = gov.activate_member().await.unwrap();
        let tx_id = activated.tx_id.expect("the ack has a transaction id");
        gov.wait_for_commit(tx_id, DEADLINE).await.unwrap();
    }

    /// Member0 proposes `set_user(user0)` and `transition_service_to_open`, votes for it, and
    /// waits until the app frontend is open. Returns the proposal after the ballot.
    pub async fn open_service(&self, gov: &GovClient) -> Proposal {
        let proposal = json!({ "actions": [
            { "name": "set_user", "args": { "cert": self.user0.cert_pem } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": self.service_cert_pem } },
        ]});
        let proposed = gov.propose(proposal.to_string().as_bytes()).await.unwrap();
        assert_eq!(proposed.value.proposal_state, ProposalState::Open);
        let voted = gov.vote_accept(&proposed.value.proposal_id).await.unwrap();
        let tx_id = voted.tx_id.expect("the ballot has a transaction id");
        gov.wait_for_commit(tx_id, DEADLINE).await.unwrap();
        self.wait_ready("/node/ready/app").await;
        voted.value
    }

    /// Starts, activates member0 and opens the service with user0.
    pub async fn start_open(chunk_size: &str) -> TestNetwork {
        TestNetwork::start_open_configured(chunk_size, |_| {}).await
    }

    /// [`TestNetwork::start_open`] with the configuration changed by `configure`.
    pub async fn start_open_configured(
        chunk_size: &str,
        configure: impl FnOnce(&mut Value),
    ) -> TestNetwork {
        let network = TestNetwork::start_configured(chunk_size, configure).await;
        let gov = network.member0_gov();
        network.activate_member0(&gov).await;
        let accepted = network.open_service(&gov).await;
        assert_eq!(accepted.proposal_state, ProposalState::Accepted);
        network
    }

    /// Polls `path` (`/node/ready/app`, `/node/ready/gov`) until it answers 204.
    pub async fn wait_ready(&self, path: &str) {
        let client = self.client(None);
        self.poll_until(&format!("{path} answers 204"), async || {
            matches!(client.get(path).await, Ok(r) if r.status == 204).then_some(())
        })
        .await;
    }

    /// Polls `GET {frontend}/tx?transaction_id=…` until it says `Committed`; any status other
    /// than Pending or Committed fails the test.
    pub async fn wait_committed(&self, client: &Client, frontend: &str, tx_id: TxId) {
        let path = format!("{frontend}/tx?transaction_id={tx_id}");
        self.poll_until(&format!("{tx_id} is Committed"), async || {
            let response = client.get(&path).await.unwrap();
            assert_eq!(response.status, 200, "{path}: {}", body_text(&response));
            let body: Value = response.json().unwrap();
            assert_eq!(body["transaction_id"], tx_id.to_string());
            match body["status"].as_str() {
                Some("Committed") => Some(()),
                Some("Pending") => None,
                other => panic!("{path}: status {other:?}"),
            }
        })
        .await;
    }

    /// Polls `GET {frontend}/receipt?transaction_id=…` until it answers 200 (a node answers
    /// 202 while it loads the transaction, and 404 TransactionPendingOrUnknown before the
    /// commit reaches it); returns the receipt's JSON text as served.
    pub async fn receipt_text(&self, client: &Client, frontend: &str, tx_id: TxId) -> String {
        let path = format!("{frontend}/receipt?transaction_id={tx_id}");
        self.poll_until(&format!("a receipt for {tx_id}"), async || {
            let response = client.get(&path).await.unwrap();
            match response.status {
                200 => Some(String::from_utf8(response.body).unwrap()),
                202 => None,
                404 if response.api_error().code == "TransactionPendingOrUnknown" => None,
                status => panic!("{path}: {status} {}", body_text(&response)),
            }
        })
        .await
    }

    /// Calls `attempt` every [`POLL`] until it returns `Some`; fails the test after
    /// [`DEADLINE`], or at once if the node process has exited.
    pub async fn poll_until<T>(
        &self,
        what: &str,
        mut attempt: impl AsyncFnMut() -> Option<T>,
    ) -> T {
        let started = Instant::now();
        loop {
            if let Some(value) = attempt().await {
                return value;
            }
            if let Some(status) = self.node.exited() {
                panic!(
                    "waiting for {what}: the node exited ({status})\n{}",
                    self.log()
                );
            }
            assert!(
                started.elapsed() < DEADLINE,
                "waiting for {what}: not within {DEADLINE:?}\n{}",
                self.log()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Sends SIGTERM and waits for the node to exit; returns its exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.node.terminate()
    }

    /// The node's ledger directory.
    pub fn ledger_dir(&self) -> PathBuf {
        self.node_dir.join("ledger")
    }

    /// The node's standard output and error so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.node_dir.join("node.log")).unwrap_or_default()
    }
}

/// The body of a response as text, for assertion messages.
pub fn body_text(response: &Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// Runs `future` to completion on a fresh two-thread runtime (a test's whole body).
pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The `cloister` binary built for this test run.
pub fn cloister_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cloister"))
}

/// CCF's node configuration (cchost JSON) of a one-node Start: port 0 everywhere, the bound
/// address written to `rpc_addresses.json`, a signature every 100 ms or 20 transactions.
fn node_config(common: &Path, chunk_size: &str) -> Value {
    let path = |name: &str| common.join(name).display().to_string();
    json!({
        "enclave": { "platform": "Virtual", "type": "Virtual" },
        "network": {
            "node_to_node_interface": { "bind_address": "127.0.0.1:0" },
            "rpc_interfaces": { "primary_rpc_interface": { "bind_address": "127.0.0.1:0" } }
        },
        "command": {
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
        },
        "ledger": { "directory": "ledger", "chunk_size": chunk_size },
        "ledger_signatures": { "tx_count": 20, "delay": "100ms" },
        "output_files": { "rpc_addresses_file": "rpc_addresses.json" }
    })
}

/// The node child process; killed on drop unless it has already exited.
#[derive(Debug)]
struct NodeProcess {
    child: std::sync::Mutex<Child>,
    log: PathBuf,
}

impl NodeProcess {
    fn spawn(node_dir: &Path) -> NodeProcess {
        let log = node_dir.join("node.log");
        let file = fs::File::create(&log).unwrap();
        let child = cloister_bin()
            .args(["node", "start", "--config", "config.json"])
            .current_dir(node_dir)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        NodeProcess {
            child: std::sync::Mutex::new(child),
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }

    fn exited(&self) -> Option<ExitStatus> {
        self.child.lock().unwrap().try_wait().unwrap()
    }

    /// Polls the file the node writes once its interfaces are bound; the first address in it.
    async fn wait_for_rpc_address(&mut self, file: &Path) -> String {
        let started = Instant::now();
        loop {
            // The file may be seen half-written: only a complete JSON object counts.
            let parsed = fs::read_to_string(file)
                .ok()
                .and_then(|text| serde_json::from_str::<Value>(&text).ok());
            if let Some(address) = parsed
                .as_ref()
                .and_then(|v| v["primary_rpc_interface"].as_str())
            {
                return address.to_owned();
            }
            if let Some(status) = self.exited() {
                panic!("the node exited ({status}) before binding:\n{}", self.log());
            }
            assert!(
                started.elapsed() < DEADLINE,
                "the node did not write {} within {DEADLINE:?}:\n{}",
                file.display(),
                self.log()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    fn terminate(&mut self) -> ExitStatus {
        if let Some(status) = self.exited() {
            panic!("the node had already exited ({status}):\n{}", self.log());
        }
        let pid = self.pid().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "the node did not stop within {DEADLINE:?} of SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(POLL);
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
