//! Receipts (spec/ccf-api.md §8): the real receipt CCF wrote after eol_service's committed
//! snapshot verifies against that service's certificate, a changed one does not, and fetching
//! one retries the node's "not yet" answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cloister_client::{Client, ClientError, Frontend, verify_receipt_json};
use cloister_crypto::Certificate;
use cloister_merkle::MerkleError;
use cloister_types::TxId;

use support::{Reply, TestPki, TestServer};

/// The root the receipt leads to, as CCF's `ccf.receipt.root` computes it.
const EOL_SNAPSHOT_ROOT: &str = "2996b0c4f8e6b784f003549c525541b42462ef95e5fdc8ebc108e472c75285ff";

fn ccf6() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ccf6")
}

/// A committed snapshot file is one ledger entry followed by the JSON receipt of the snapshot
/// transaction (spec/ccf-internals.md §8.1). The entry header is 8 bytes: version, flags, and
/// the body size as 6 little-endian bytes.
fn eol_snapshot_receipt() -> String {
    let bytes =
        std::fs::read(ccf6().join("eol_service/snapshots/snapshot_493_494.committed")).unwrap();
    let mut size = [0u8; 8];
    size[..6].copy_from_slice(&bytes[2..8]);
    let entry_len = 8 + usize::try_from(u64::from_le_bytes(size)).unwrap();
    String::from_utf8(bytes[entry_len..].to_vec()).unwrap()
}

fn service_cert_pem(service: &str) -> String {
    std::fs::read_to_string(ccf6().join(service).join("common/service_cert.pem")).unwrap()
}

#[test]
fn the_real_ccf_snapshot_receipt_verifies() {
    let verified =
        verify_receipt_json(&eol_snapshot_receipt(), &service_cert_pem("eol_service")).unwrap();
    assert_eq!(verified.root.to_hex(), EOL_SNAPSHOT_ROOT);
    assert_eq!(verified.receipt.proof.len(), 9);
}

#[test]
fn a_changed_proof_step_fails_the_signature_check() {
    let receipt = eol_snapshot_receipt().replacen(
        "42d7b720383d9de290857f08a5e1564d792103a99f8642ddb1aa198b64e145fb",
        "42d7b720383d9de290857f08a5e1564d792103a99f8642ddb1aa198b64e145fc",
        1,
    );
    assert_ne!(receipt, eol_snapshot_receipt());
    assert!(matches!(
        verify_receipt_json(&receipt, &service_cert_pem("eol_service")),
        Err(ClientError::Receipt(MerkleError::BadSignature(_)))
    ));
}

#[test]
fn another_services_certificate_fails_the_endorsement_check() {
    assert!(matches!(
        verify_receipt_json(&eol_snapshot_receipt(), &service_cert_pem("sgx_service")),
        Err(ClientError::Receipt(MerkleError::UntrustedCertificate(_)))
    ));
}

#[test]
fn malformed_inputs_are_named() {
    assert!(matches!(
        verify_receipt_json("{not json", &service_cert_pem("eol_service")),
        Err(ClientError::Receipt(MerkleError::MalformedReceipt(_)))
    ));
    assert!(matches!(
        verify_receipt_json(&eol_snapshot_receipt(), "no pem here"),
        Err(ClientError::Credentials {
            what: "service certificate",
            ..
        })
    ));
}

/// A node that is not ready twice (202 "not cached yet", then 404 "pending"), then answers.
fn slow_receipt_node(receipt: String) -> (support::Handler, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let handler: support::Handler = Arc::new(move |seen| {
        assert_eq!(seen.path_and_query, "/app/receipt?transaction_id=10.494");
        match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::new(
                202,
                "Historical transaction 10.494 is not currently available.",
            )
            .header("retry-after", "0")
            .header("content-type", "text/plain"),
            1 => Reply::json(
                404,
                &serde_json::json!({"error": {"code": "TransactionPendingOrUnknown",
                    "message": "Only committed transactions can be queried. Transaction 10.494 is Pending"}}),
            ),
            _ => Reply::new(200, receipt.clone()).header("content-type", "application/json"),
        }
    });
    (handler, calls)
}

#[tokio::test]
async fn fetching_retries_until_the_receipt_is_available_then_verifies() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let (handler, calls) = slow_receipt_node(eol_snapshot_receipt());
    let server = TestServer::start(&pki, handler).await;
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    let service_cert = Certificate::from_pem(&service_cert_pem("eol_service")).unwrap();
    let verified = client
        .verified_receipt(
            Frontend::App,
            TxId::new(10, 494),
            &service_cert,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(verified.root.to_hex(), EOL_SNAPSHOT_ROOT);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_receipt_that_never_becomes_available_times_out() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let handler: support::Handler =
        Arc::new(|_| Reply::new(202, "not yet").header("retry-after", "0"));
    let server = TestServer::start(&pki, handler).await;
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    let result = client
        .receipt(Frontend::Node, TxId::new(2, 5), Duration::from_millis(200))
        .await;
    assert!(matches!(
        result,
        Err(ClientError::Timeout {
            what: "receipt",
            ..
        })
    ));
    let seen = server.seen();
    assert!(seen.len() >= 2, "retried: {} requests", seen.len());
    assert_eq!(seen[0].path_and_query, "/node/receipt?transaction_id=2.5");
}

#[tokio::test]
async fn an_invalid_transaction_is_a_service_error_at_once() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let handler: support::Handler = Arc::new(|_| {
        Reply::json(
            404,
            &serde_json::json!({"error": {"code": "TransactionInvalid", "message": "invalid"}}),
        )
    });
    let server = TestServer::start(&pki, handler).await;
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    let error = client
        .receipt(Frontend::Gov, TxId::new(2, 5), Duration::from_secs(10))
        .await
        .unwrap_err();
    let ClientError::Service { error, path, .. } = error else {
        panic!("expected a service error, got {error:?}");
    };
    assert_eq!(error.code, "TransactionInvalid");
    assert_eq!(path, "/gov/receipt?transaction_id=2.5");
    assert_eq!(server.seen().len(), 1);
}
