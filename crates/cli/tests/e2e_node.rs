//! Issue 3's first must-show, end to end with real processes: a node started from a CCF
//! configuration; member0 activates, proposes user0 and the opening of the service, and votes;
//! user0 writes and reads private and public messages over HTTPS with its TLS certificate; the
//! write commits and its receipt verifies with CCF's `ccf.receipt` and `cloister receipt
//! verify`; the node stops cleanly on SIGTERM and its ledger passes CCF's `read_ledger.py` and
//! `cloister ledger verify`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod live_node;
mod support;

use std::fs;
use std::path::Path;
use std::time::Instant;

use cloister_client::{Client, Method, ProposalState, verify_receipt_json};
use cloister_types::TxId;
use live_node::{GOV_API, TestNetwork, body_text, cloister_bin, run};
use serde_json::{Value, json};
use support::{ccf_python, read_ledger_summary, summary_line};

/// Random-looking messages: the private one must never reach the ledger in clear, the public
/// one must (the positive control).
const PRIVATE_MSG: &str = "private-e2e-canary-3b9f0c1d7a";
const PUBLIC_MSG: &str = "public-e2e-canary-e41d8a2c55";

#[test]
fn a_node_opens_by_governance_serves_user0_and_leaves_a_ledger_ccf_verifies() {
    let started = Instant::now();
    let python = ccf_python();
    let mut network = run(async {
        // 16 KB chunks: the genesis transaction alone fills one, so the run leaves committed
        // chunks for read_ledger.py's default (committed-only) pass as well as an open one.
        let network = TestNetwork::start("16KB").await;
        governance_opens_the_service(&network).await;
        let receipt = user0_writes_reads_and_deletes(&network, python.as_deref()).await;
        check_receipt_with_cloister(&network, &receipt);
        network
    });

    let status = network.stop();
    assert!(status.success(), "SIGTERM: {status}\n{}", network.log());
    assert!(
        network.log().contains("stopping"),
        "the node logs its shutdown:\n{}",
        network.log()
    );

    let ledger_dir = network.ledger_dir();
    let cloister_summary = cloister_ledger_verify(&ledger_dir);
    eprintln!("e2e_node: cloister ledger verify: {cloister_summary}");
    private_message_stays_private(&ledger_dir);
    match &python {
        Some(python) => read_ledger_agrees(python, &ledger_dir, &cloister_summary),
        None => eprintln!("SKIPPED: read_ledger.py (CCF's Python tools are not installed)"),
    }
    eprintln!("e2e_node: {:?}", started.elapsed());
}

/// Member0: Accepted → Active by state digest and ack; then set_user(user0) and
/// transition_service_to_open in one proposal, one ballot, Accepted; the service is Open.
async fn governance_opens_the_service(network: &TestNetwork) {
    let gov = network.member0_gov();
    let anyone = network.client(None);
    let info = gov.service_info().await.unwrap();
    assert_eq!(info.status, "Opening");
    assert_eq!(member0_status(network, &anyone).await, "Accepted");

    network.activate_member0(&gov).await;
    assert_eq!(member0_status(network, &anyone).await, "Active");

    let proposal = network.open_service(&gov).await;
    assert_eq!(proposal.proposal_state, ProposalState::Accepted);
    assert_eq!(proposal.ballot_count, 1);
    assert_eq!(
        proposal.final_votes.unwrap().get(&network.member0.id()),
        Some(&true)
    );
    let info = gov.service_info().await.unwrap();
    assert_eq!(info.status, "Open");
    assert_eq!(info.certificate, network.service_cert_pem);

    let user = anyone
        .get(&format!(
            "/gov/service/users/{}?{GOV_API}",
            network.user0.id()
        ))
        .await
        .unwrap();
    assert_eq!(user.status, 200, "{}", body_text(&user));
    let user: Value = user.json().unwrap();
    assert_eq!(user["certificate"], network.user0.cert_pem);
}

async fn member0_status(network: &TestNetwork, client: &Client) -> String {
    let path = format!("/gov/service/members/{}?{GOV_API}", network.member0.id());
    let response = client.get(&path).await.unwrap();
    assert_eq!(response.status, 200, "{}", body_text(&response));
    let member: Value = response.json().unwrap();
    member["status"].as_str().unwrap().to_owned()
}

/// User0 writes, reads and deletes a private and a public message; the private write commits
/// and its receipt verifies (in Rust here, and with `ccf.receipt` when `python` is given).
/// Returns the receipt's JSON as the node served it.
async fn user0_writes_reads_and_deletes(network: &TestNetwork, python: Option<&Path>) -> String {
    let user0 = network.client(Some(&network.user0));
    let private_tx = write(&user0, "/app/log/private", 42, PRIVATE_MSG).await;
    let public_tx = write(&user0, "/app/log/public", 7, PUBLIC_MSG).await;
    assert!(public_tx.seqno > private_tx.seqno);
    assert_eq!(
        read(&user0, "/app/log/private", 42).await,
        Some(PRIVATE_MSG.into())
    );
    assert_eq!(
        read(&user0, "/app/log/public", 7).await,
        Some(PUBLIC_MSG.into())
    );
    // The two maps are distinct: id 42 is not public, id 7 is not private.
    assert_eq!(read(&user0, "/app/log/public", 42).await, None);
    assert_eq!(read(&user0, "/app/log/private", 7).await, None);

    network.wait_committed(&user0, "/app", private_tx).await;
    network.wait_committed(&user0, "/app", public_tx).await;
    let receipt = network.receipt_text(&user0, "/app", private_tx).await;
    let verified = verify_receipt_json(&receipt, &network.service_cert_pem).unwrap();
    let parsed: Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(
        parsed["leaf_components"]["commit_evidence"]
            .as_str()
            .unwrap()
            .split(':')
            .nth(1),
        Some(private_tx.to_string().as_str()),
        "the receipt is the private write's"
    );
    if let Some(python) = python {
        ccf_receipt_verifies(python, network, &receipt, &verified.root.to_hex());
    } else {
        eprintln!("SKIPPED: ccf.receipt (CCF's Python tools are not installed)");
    }

    let deleted = user0
        .request(Method::DELETE, "/app/log/public?id=7", &[], Vec::new())
        .await
        .unwrap();
    assert_eq!(deleted.status, 200, "{}", body_text(&deleted));
    let deleted_tx = deleted.tx_id().expect("a DELETE is a write");
    assert_eq!(read(&user0, "/app/log/public", 7).await, None);
    assert_eq!(
        read(&user0, "/app/log/private", 42).await,
        Some(PRIVATE_MSG.into())
    );
    network.wait_committed(&user0, "/app", deleted_tx).await;
    receipt
}

/// POSTs `{"id", "msg"}`; returns the write's transaction id.
async fn write(client: &Client, path: &str, id: u64, msg: &str) -> TxId {
    let body = json!({ "id": id, "msg": msg }).to_string().into_bytes();
    let response = client.post(path, "application/json", body).await.unwrap();
    assert_eq!(
        response.status,
        200,
        "POST {path}: {}",
        body_text(&response)
    );
    assert_eq!(response.json::<Value>().unwrap(), json!(true));
    response
        .tx_id()
        .expect("a write has x-ms-ccf-transaction-id")
}

/// `GET path?id=`: the message, or `None` on CCF's 404 ResourceNotFound.
async fn read(client: &Client, path: &str, id: u64) -> Option<String> {
    let response = client.get(&format!("{path}?id={id}")).await.unwrap();
    match response.status {
        200 => Some(
            response.json::<Value>().unwrap()["msg"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        404 => {
            assert_eq!(response.api_error().code, "ResourceNotFound");
            None
        }
        status => panic!("GET {path}?id={id}: {status} {}", body_text(&response)),
    }
}

/// `cloister receipt verify` accepts the served receipt, and refuses it with one proof hash
/// changed.
fn check_receipt_with_cloister(network: &TestNetwork, receipt: &str) {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("receipt.json");
    fs::write(&good, receipt).unwrap();
    let out = receipt_verify(&network.service_cert_path, &good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("Receipt verified: root "), "{stdout}");

    let mut altered: Value = serde_json::from_str(receipt).unwrap();
    let digest = &mut altered["leaf_components"]["write_set_digest"];
    let flipped = flip_hex(digest.as_str().unwrap());
    *digest = Value::String(flipped);
    let bad = dir.path().join("altered.json");
    fs::write(&bad, altered.to_string()).unwrap();
    let out = receipt_verify(&network.service_cert_path, &bad);
    assert!(!out.status.success(), "an altered receipt verified");
}

fn receipt_verify(service_cert: &Path, receipt: &Path) -> std::process::Output {
    cloister_bin()
        .args(["receipt", "verify", "--service-cert"])
        .arg(service_cert)
        .arg(receipt)
        .output()
        .unwrap()
}

/// Changes the first hex digit.
fn flip_hex(hex: &str) -> String {
    let first = if hex.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &hex[1..])
}

/// CCF's Python verifies the receipt as CCF's documentation does (leaf from its components,
/// root, signature, endorsement by the service certificate) and finds the same root.
fn ccf_receipt_verifies(python: &Path, network: &TestNetwork, receipt: &str, root: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipt.json");
    fs::write(&path, receipt).unwrap();
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(PYTHON_RECEIPT_CHECK)
        .arg(&path)
        .arg(&network.service_cert_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ccf.receipt refused the receipt:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), format!("verified root {root}"));
}

/// One receipt, checked with `ccf.receipt` as CCF's e2e tests do; prints the root.
const PYTHON_RECEIPT_CHECK: &str = r#"
import json, sys
from hashlib import sha256
from cryptography.x509 import load_pem_x509_certificate
import ccf.receipt

r = json.load(open(sys.argv[1]))
service_cert = load_pem_x509_certificate(open(sys.argv[2], "rb").read())
c = r["leaf_components"]
leaf = sha256(bytes.fromhex(c["write_set_digest"]) + sha256(c["commit_evidence"].encode()).digest() + bytes.fromhex(c["claims_digest"])).hexdigest()
root = ccf.receipt.root(leaf, r["proof"])
node_cert = load_pem_x509_certificate(r["cert"].encode())
ccf.receipt.verify(root, r["signature"], node_cert)
endorsements = [load_pem_x509_certificate(e.encode()) for e in r.get("service_endorsements", [])]
ccf.receipt.check_endorsements(node_cert, service_cert, endorsements)
ccf.receipt.check_cert_chain(node_cert, service_cert, endorsements)
print("verified root " + root)
"#;

/// `cloister ledger verify --uncommitted` on the stopped node's ledger; returns its summary
/// line ("Found N signatures, and verified until v.s").
fn cloister_ledger_verify(ledger_dir: &Path) -> String {
    let out = cloister_bin()
        .args(["ledger", "verify", "--uncommitted"])
        .arg(ledger_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Ledger verification complete"), "{stdout}");
    let summary = summary_line(&stdout);
    let signatures: u64 = summary
        .strip_prefix("Found ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(signatures >= 3, "{summary}");
    summary
}

/// read_ledger.py verifies the committed chunks, then all of them with `--uncommitted`, and
/// in the latter case finds what Cloister's verifier found.
fn read_ledger_agrees(python: &Path, ledger_dir: &Path, cloister_summary: &str) {
    let names: Vec<String> = fs::read_dir(ledger_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with(".committed")),
        "no committed chunk: {names:?}"
    );
    eprintln!("e2e_node: ledger files {names:?}");
    for extra in [&[][..], &["--uncommitted"][..]] {
        let summary = read_ledger_summary(python, ledger_dir, extra);
        if !extra.is_empty() {
            assert_eq!(summary, cloister_summary);
        }
    }
}

/// The private message is encrypted in every ledger file; the public one is in clear.
fn private_message_stays_private(ledger_dir: &Path) {
    let mut bytes = Vec::new();
    for entry in fs::read_dir(ledger_dir).unwrap() {
        bytes.extend(fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(
        !contains(PRIVATE_MSG),
        "the private message is on disk in clear"
    );
    assert!(
        contains(PUBLIC_MSG),
        "positive control: the public message is on disk"
    );
}
