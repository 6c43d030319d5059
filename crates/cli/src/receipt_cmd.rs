//! `cloister receipt verify`: offline verification of a CCF receipt against the service
//! certificate (spec/ccf-api.md §8), the counterpart of `ccf.receipt` in CCF's Python package.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Subcommand;
use cloister_client::{ClientError, verify_receipt_json};
use cloister_merkle::MerkleError;

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Verify a JSON receipt (from a node's /receipt endpoint, or the receipt that ends a
    /// committed snapshot file, which may be given directly): recompute the root, check the
    /// node's signature over it and the node certificate's endorsement by the service.
    Verify {
        /// The service certificate (service_cert.pem).
        #[arg(long)]
        service_cert: PathBuf,
        /// The receipt JSON, or a `snapshot_<seqno>_<evidence>.committed` file.
        receipt: PathBuf,
    },
}

pub fn run(command: ReceiptCommand) -> anyhow::Result<ExitCode> {
    match command {
        ReceiptCommand::Verify {
            service_cert,
            receipt,
        } => {
            let service_cert_pem = std::fs::read_to_string(&service_cert).with_context(|| {
                format!(
                    "cannot read the service certificate {}",
                    service_cert.display()
                )
            })?;
            let bytes = std::fs::read(&receipt)
                .with_context(|| format!("cannot read the receipt {}", receipt.display()))?;
            let json = receipt_json(&bytes)
                .with_context(|| format!("{} holds no receipt", receipt.display()))?;
            let verified = verify_receipt_json(json, &service_cert_pem).map_err(explain)?;
            println!(
                "Receipt verified: root {} (signed by node {})",
                verified.root, verified.receipt.node_id
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The receipt text: the file itself when it is JSON, else the receipt after the entry of a
/// committed snapshot (spec/ccf-internals.md §8.1).
fn receipt_json(bytes: &[u8]) -> anyhow::Result<&str> {
    let looks_like_json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    let json = if looks_like_json {
        bytes
    } else {
        let snapshot = cloister_ledger::parse_snapshot_file(bytes)
            .context("it is neither JSON nor a snapshot file")?;
        if snapshot.receipt.is_empty() {
            return Err(anyhow!(
                "the snapshot has no receipt: only .committed snapshots carry one"
            ));
        }
        snapshot.receipt
    };
    std::str::from_utf8(json).context("the receipt is not UTF-8")
}

/// Names the check that failed (§8 "Verification").
fn explain(error: ClientError) -> anyhow::Error {
    match error {
        ClientError::Receipt(MerkleError::BadSignature(why)) => anyhow!(
            "receipt verification failed: the node signature does not verify over the \
             recomputed root (leaf and proof give root {why})"
        ),
        ClientError::Receipt(MerkleError::UntrustedCertificate(why)) => anyhow!(
            "receipt verification failed: the node certificate is not endorsed by the service \
             certificate ({why})"
        ),
        ClientError::Receipt(MerkleError::MalformedReceipt(why)) => {
            anyhow!("malformed receipt: {why}")
        }
        other => anyhow!(other),
    }
}
