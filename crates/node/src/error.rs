//! Errors of cloister-node.

use cloister_crypto::CryptoError;
use cloister_kv::KvError;
use cloister_ledger::LedgerError;
use cloister_merkle::MerkleError;

/// What can go wrong in the node's sans-IO parts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// A cryptographic operation failed (bad key, bad certificate, bad signature).
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The store refused a transaction or an entry.
    #[error("store: {0}")]
    Kv(#[from] KvError),
    /// Ledger bytes could not be parsed.
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    /// The Merkle history could not answer.
    #[error("merkle: {0}")]
    Merkle(#[from] MerkleError),
    /// A JSON value could not be written or read.
    #[error("json: {0}")]
    Json(serde_json::Error),
    /// A receipt was asked for a transaction that no later signature covers yet.
    #[error("no signature after seqno {0} yet")]
    NotYetSigned(u64),
    /// The node configuration is not valid CCF configuration.
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// Bytes handed in are not what the caller said they are.
    #[error("{0}")]
    Invalid(String),
}
