//! `NodeCore`, the whole node, sans-IO (ARCHITECTURE.md): frontends and endpoints, governance
//! through cloister-gov, the Merkle history and CCF 6 signature transactions, genesis records,
//! identities, commit, transaction statuses and receipts (spec/ccf-internals.md §3, §4, §7;
//! spec/ccf-api.md). Consensus arrives with issue 4.
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
pub mod peer_wire;
mod receipt_index;
mod receipts;
pub mod rpc;
mod signature;
pub mod tables;

pub use ccf_json::to_ccf_json;
pub use error::NodeError;
pub use genesis::{GenesisConfig, GenesisMember, write_genesis};
pub use history::MerkleHistory;
pub use identity::{NodeIdentity, ServiceIdentity};
pub use receipts::build_receipt;
pub use signature::{CoseSignaturesConfig, PrimarySignature, write_signature};
