//! `cloister sandbox --nodes 3` end to end: node 0 starts the service, nodes 1 and 2 join it
//! while it is Opening, governance opens it; a write on node 0 is read back on nodes 1 and 2
//! (replication), a write sent to node 2 is forwarded to the primary and read back on node 0;
//! SIGTERM to the sandbox stops every node.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cloister_client::Client;
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(120);

/// Six consecutive free ports (3 RPC, 3 node-to-node), found by binding them.
fn free_port_range() -> u16 {
    for _ in 0..50 {
        let base = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if base > 65_000 {
            continue;
        }
        let held: Vec<_> = (0..6)
            .filter_map(|i| TcpListener::bind(("127.0.0.1", base + i)).ok())
            .collect();
        if held.len() == 6 {
            return base;
        }
    }
    panic!("no six consecutive free ports");
}

/// The sandbox process; on drop it is stopped, and any node it left is killed.
struct Sandbox {
    child: Child,
    workspace: PathBuf,
}

impl Sandbox {
    fn node_pids(&self) -> Vec<u32> {
        let network = std::fs::read_to_string(self.workspace.join("sandbox_common/network.json"))
            .unwrap_or_default();
        let network: Value = serde_json::from_str(&network).unwrap_or_default();
        network["nodes"]
            .as_array()
            .map(|nodes| {
                nodes
                    .iter()
                    .filter_map(|n| n["pid"].as_u64().map(|p| p as u32))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        signal(self.child.id(), "-TERM");
        let started = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() && started.elapsed() < DEADLINE {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        for pid in self.node_pids() {
            signal(pid, "-KILL");
        }
    }
}

fn signal(pid: u32, which: &str) {
    let _ = Command::new("kill")
        .args([which, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

async fn read_until(client: &Client, path: &str, expected: &str) {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(path).await
            && response.status == 200
            && String::from_utf8_lossy(&response.body).contains(expected)
        {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "{path} never returned {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn a_three_node_sandbox_replicates_forwards_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("ws");
    let port = free_port_range();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cloister"))
        .args([
            "sandbox",
            "--nodes",
            "3",
            "--port",
            &port.to_string(),
            "--workspace",
        ])
        .arg(&workspace)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut sandbox = Sandbox {
        child,
        workspace: workspace.clone(),
    };
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    loop {
        match received.recv_timeout(DEADLINE) {
            Ok(line) => {
                let done = line.contains("Press Ctrl-C");
                printed.push(line);
                if done {
                    break;
                }
            }
            Err(_) => {
                let mut stderr = String::new();
                if let Some(mut e) = sandbox.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
                }
                panic!(
                    "the sandbox did not come up:\n{}\n{stderr}",
                    printed.join("\n")
                );
            }
        }
    }
    let printed = printed.join("\n");
    assert!(printed.contains("3 nodes, service open"), "{printed}");
    for i in 0..3 {
        assert!(
            printed.contains(&format!("node {i}: https://127.0.0.1:{}", port + i)),
            "{printed}"
        );
    }
    assert!(printed.contains("curl --cacert"), "{printed}");
    let pids = sandbox.node_pids();
    assert_eq!(pids.len(), 3);

    let common = workspace.join("sandbox_common");
    let read = |name: &str| std::fs::read_to_string(common.join(name)).unwrap();
    let (ca, cert, key) = (
        read("service_cert.pem"),
        read("user0_cert.pem"),
        read("user0_privk.pem"),
    );
    let user0 = |i: u16| {
        Client::new(
            &format!("https://127.0.0.1:{}", port + i),
            &ca,
            Some((&cert, &key)),
        )
        .unwrap()
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let write = br#"{"id": 7, "msg": "written on node 0"}"#.to_vec();
            let response = user0(0)
                .post("/app/log/private", "application/json", write)
                .await
                .unwrap();
            assert_eq!(response.status, 200);
            for i in [1, 2] {
                read_until(&user0(i), "/app/log/private?id=7", "written on node 0").await;
            }
            // Node 0 is the primary (it started the service): node 2 forwards this write.
            let write = br#"{"id": 8, "msg": "sent to node 2"}"#.to_vec();
            let response = user0(2)
                .post("/app/log/private", "application/json", write)
                .await
                .unwrap();
            assert_eq!(
                response.status,
                200,
                "{:?}",
                String::from_utf8_lossy(&response.body)
            );
            assert!(response.header("x-ms-ccf-transaction-id").is_some());
            for i in [0, 1] {
                read_until(&user0(i), "/app/log/private?id=8", "sent to node 2").await;
            }
        });

    signal(sandbox.child.id(), "-TERM");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = sandbox.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < DEADLINE, "the sandbox did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    for pid in pids {
        assert!(!alive(pid), "node process {pid} outlived the sandbox");
    }
    for i in 0..3 {
        assert!(
            workspace
                .join(format!("sandbox_{i}/node_state.json"))
                .exists()
        );
    }
}
