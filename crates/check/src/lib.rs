//! Cloister's checks as functions: for now the ledger verification report, which reads ledger
//! directories, hashes entries on a second core, and drives cloister-ledger's verifier.
//!
//! Later issues add the Raft, client-history and governance invariants here (TESTING.md).
#![forbid(unsafe_code)]

pub mod invariants;
mod ledger_files;
mod ledger_report;

pub use ledger_files::{ChunkFile, LedgerOptions, collect_chunks};
pub use ledger_report::{
    LedgerEvent, LedgerReport, LocatedError, verify_chunk_bytes, verify_ledger,
};
