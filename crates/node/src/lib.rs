//! `NodeCore`'s parts, sans-IO. So far: the Merkle history over committed transactions, CCF 6
//! signature transactions, the genesis records of a new service, node and service identities,
//! ledger chunking decisions and JSON receipts (spec/ccf-internals.md §3, §4, §7).
//!
//! The rest of the node (endpoints, governance, consensus) arrives with later issues.
#![forbid(unsafe_code)]

pub mod apps;
mod ccf_json;
pub mod config;
pub mod core;
pub mod endpoints;
mod error;
mod genesis;
mod history;
mod identity;
mod receipt_index;
mod receipts;
pub mod rpc;
mod service_ledger;
mod signature;
pub mod tables;

pub use ccf_json::to_ccf_json;
pub use error::NodeError;
pub use genesis::{GenesisConfig, GenesisMember, write_genesis};
pub use history::MerkleHistory;
pub use identity::{NodeIdentity, ServiceIdentity};
pub use receipts::build_receipt;
pub use service_ledger::{LedgerOutput, ServiceLedger, ServiceLedgerConfig};
pub use signature::{CoseSignaturesConfig, PrimarySignature, write_signature};
