//! `cloister receipt verify` on the real receipt CCF wrote after eol_service's committed
//! snapshot: verified as is, refused when changed, with a message naming the failed check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{ccf6_testdata, cloister};

/// The root CCF's own `ccf.receipt.root` computes for this receipt.
const ROOT: &str = "2996b0c4f8e6b784f003549c525541b42462ef95e5fdc8ebc108e472c75285ff";
const NODE_ID: &str = "74b94baae1c80854e082e1b5821d202fc80cc61b6a84d5d4226bc51cd2fe9295";

fn snapshot() -> PathBuf {
    ccf6_testdata().join("eol_service/snapshots/snapshot_493_494.committed")
}

fn service_cert(service: &str) -> PathBuf {
    ccf6_testdata()
        .join(service)
        .join("common/service_cert.pem")
}

fn receipt_text() -> String {
    let bytes = std::fs::read(snapshot()).unwrap();
    let file = cloister_ledger::parse_snapshot_file(&bytes).unwrap();
    String::from_utf8(file.receipt.to_vec()).unwrap()
}

fn verify(service_cert: &Path, receipt: &Path) -> Output {
    cloister()
        .args(["receipt", "verify", "--service-cert"])
        .arg(service_cert)
        .arg(receipt)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_real_receipt_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let receipt = dir.path().join("receipt.json");
    std::fs::write(&receipt, receipt_text()).unwrap();
    let out = verify(&service_cert("eol_service"), &receipt);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("Receipt verified: root {ROOT} (signed by node {NODE_ID})\n")
    );
}

#[test]
fn a_committed_snapshot_file_is_verified_by_its_receipt() {
    let out = verify(&service_cert("eol_service"), &snapshot());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&format!("Receipt verified: root {ROOT}"))
    );
}

#[test]
fn a_tampered_receipt_fails_the_signature_check() {
    let dir = tempfile::tempdir().unwrap();
    let receipt = dir.path().join("receipt.json");
    // Change the write-set digest: the leaf, and so the root, change.
    let tampered = receipt_text().replacen(
        "e944d942a788e8933f0b49de3524b996ae4612b1901cc81d31652820d582cf8a",
        "e944d942a788e8933f0b49de3524b996ae4612b1901cc81d31652820d582cf8b",
        1,
    );
    assert_ne!(tampered, receipt_text());
    std::fs::write(&receipt, tampered).unwrap();
    let out = verify(&service_cert("eol_service"), &receipt);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let message = stderr(&out);
    assert!(
        message.contains("receipt verification failed: the node signature does not verify"),
        "{message}"
    );
    assert!(
        !message.contains(ROOT),
        "the root shown is the recomputed one: {message}"
    );
}

#[test]
fn another_services_certificate_fails_the_endorsement_check() {
    let out = verify(&service_cert("sgx_service"), &snapshot());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the node certificate is not endorsed by the service certificate"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let out = verify(&service_cert("eol_service"), &missing);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read the receipt"),
        "{}",
        stderr(&out)
    );

    let out = verify(&missing, &snapshot());
    assert!(
        stderr(&out).contains("cannot read the service certificate"),
        "{}",
        stderr(&out)
    );

    let malformed = dir.path().join("malformed.json");
    std::fs::write(&malformed, "{\"cert\": 1}").unwrap();
    let out = verify(&service_cert("eol_service"), &malformed);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("malformed receipt"),
        "{}",
        stderr(&out)
    );

    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let out = verify(&not_pem, &snapshot());
    assert!(
        stderr(&out).contains("bad service certificate"),
        "{}",
        stderr(&out)
    );

    let neither = dir.path().join("neither.bin");
    std::fs::write(&neither, [7u8; 64]).unwrap();
    let out = verify(&service_cert("eol_service"), &neither);
    assert!(
        stderr(&out).contains("neither JSON nor a snapshot file"),
        "{}",
        stderr(&out)
    );
}
