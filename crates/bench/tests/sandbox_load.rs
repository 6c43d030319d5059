//! The Cloister load generator against a real single-node sandbox (`cloister sandbox`, from
//! the workspace's built `cloister` binary): for about 2 s of writes, some commit and the
//! latency percentiles are ordered.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt as _;

use cloister_bench::{CloisterTarget, cloister};

/// Sandbox start (keygen, node start, member activation, opening proposal) on a loaded machine.
const SANDBOX_DEADLINE: Duration = Duration::from_secs(120);

/// The `cloister` binary of this workspace. `CLOISTER_BIN` names one explicitly; otherwise
/// `cargo build -p cloister` brings `target/<profile>/cloister` up to date, and if that build
/// fails (someone is mid-edit) a binary already there is used.
fn cloister_bin() -> PathBuf {
    if let Ok(path) = std::env::var("CLOISTER_BIN") {
        return PathBuf::from(path);
    }
    // target/<profile>/deps/<this test> -> target/<profile>/cloister
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
    let bin = profile_dir.join("cloister");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(cargo)
        .args(["build", "-q", "-p", "cloister", "--bin", "cloister"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if !matches!(&built, Ok(out) if out.status.success()) {
        eprintln!(
            "cargo build -p cloister failed; using {} as it is",
            bin.display()
        );
    }
    assert!(bin.exists(), "no cloister binary at {}", bin.display());
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `cloister sandbox` in its own process group, so that the node it starts is stopped with it.
struct Sandbox {
    child: Child,
    workspace: PathBuf,
    url: String,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    fn start() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("workspace");
        let port = free_port();
        let log = fs::File::create(dir.path().join("sandbox.log")).unwrap();
        let child = Command::new(cloister_bin())
            .arg("sandbox")
            .arg("--workspace")
            .arg(&workspace)
            .args(["--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        let mut sandbox = Sandbox {
            child,
            workspace,
            url: format!("https://127.0.0.1:{port}"),
            _dir: dir,
        };
        sandbox.wait_open();
        sandbox
    }

    /// The sandbox writes `network.json` once the service is open and user0 is a user.
    fn wait_open(&mut self) {
        let started = Instant::now();
        let network = self.common().join("network.json");
        while !network.exists() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the sandbox exited ({status}):\n{}", self.log());
            }
            assert!(
                started.elapsed() < SANDBOX_DEADLINE,
                "the sandbox did not open within {SANDBOX_DEADLINE:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn common(&self) -> PathBuf {
        self.workspace.join("sandbox_common")
    }

    fn log(&self) -> String {
        let sandbox = self.workspace.parent().unwrap().join("sandbox.log");
        let node = self.workspace.join("sandbox_0/node.log");
        format!(
            "{}\n--- node.log ---\n{}",
            fs::read_to_string(sandbox).unwrap_or_default(),
            fs::read_to_string(node).unwrap_or_default()
        )
    }

    fn target(&self) -> CloisterTarget {
        let read = |name: &str| fs::read_to_string(self.common().join(name)).unwrap();
        CloisterTarget {
            urls: vec![self.url.clone()],
            service_cert_pem: read("service_cert.pem"),
            user_cert_pem: read("user0_cert.pem"),
            user_key_pem: read("user0_privk.pem"),
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The whole group: the sandbox and its node.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

#[test]
fn two_seconds_of_writes_to_a_sandbox_commit_and_report_ordered_percentiles() {
    let sandbox = Sandbox::start();
    let target = sandbox.target();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let report = runtime
        .block_on(cloister::bench(&target, 4, Duration::from_secs(2)))
        .unwrap();
    println!("{}", report.human());
    assert_eq!(
        report.errors,
        0,
        "first error: {:?}\n{}",
        report.first_error,
        sandbox.log()
    );
    assert!(report.acked > 0);
    assert!(
        report.committed > 0,
        "nothing committed:\n{}",
        sandbox.log()
    );
    assert!(report.committed <= report.acked);
    // One node, no elections: every acknowledged write commits.
    assert_eq!(report.committed, report.acked);
    assert!(report.last_committed.is_some());
    assert!(report.commit_elapsed >= Duration::from_secs(2));
    let (p50, p99) = (report.p50.unwrap(), report.p99.unwrap());
    assert!(p50 <= p99, "p50 {p50:?} > p99 {p99:?}");
    assert!(report.committed_per_second() > 0.0);
}
