//! cloister-sim: a deterministic world of N `NodeCore`s in one thread — simulated clock,
//! network, disks and processes, faults drawn from a seed — with cloister-check's invariants
//! checked after every step (TESTING.md "simulation"; docs/simulator.md).
//!
//! Sans-IO like the node: the seed is the only source of randomness (one PCG for the world,
//! one seeded entropy for keys, RFC 6979 signatures), time is simulated, and every collection
//! that order can leak from is ordered, so a seed replays byte for byte — the trace hash says so.
#![forbid(unsafe_code)]

pub mod bug;
pub mod chaos;
pub mod client;
pub mod config;
pub mod disk;
pub mod entries;
pub mod faults;
pub mod liveness;
pub mod network;
pub mod node;
pub mod random;
pub mod requests;
pub mod run;
pub mod setup;
pub mod topology;
pub mod trace;
pub mod workload;
pub mod world;

pub use config::{Bug, RunConfig};
pub use run::{RunReport, Stats, run};

/// Why a world could not be built or driven.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("crypto: {0}")]
    Crypto(#[from] cloister_crypto::CryptoError),
    #[error("node: {0}")]
    Node(#[from] cloister_node::NodeError),
    #[error("setup: {0}")]
    Setup(String),
}

/// A setup error with `why`.
pub fn setup_error(why: impl Into<String>) -> SimError {
    SimError::Setup(why.into())
}
