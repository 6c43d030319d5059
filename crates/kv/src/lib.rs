//! Cloister's transactional key-value store: ordered persistent maps with per-key versions,
//! transactions with optimistic concurrency control, CCF 6 ledger entries (public domain in the
//! clear, private domain under AES-256-GCM with the ledger secret), apply of entries written
//! elsewhere, rollback of unsigned suffixes, and snapshots (spec/ccf-internals.md §2, §3.2, §6.1,
//! §8.2). Sans-IO: secrets and views come in as arguments; bytes go out as values.
#![forbid(unsafe_code)]

mod apply;
mod commit_evidence;
mod encryptor;
mod error;
mod map;
mod secrets;
mod serialise;
mod snapshot;
mod store;
mod tx;
mod version;
mod write_set;

pub use apply::AppliedEntry;
pub use cloister_ledger::{EntryFlags, EntryType, SnapshotHeader};
pub use commit_evidence::{commit_evidence, commit_evidence_digest};
pub use error::KvError;
pub use map::{Domain, PUBLIC_PREFIX, SIGNATURES_MAP};
pub use secrets::{LedgerSecret, LedgerSecrets};
pub use serialise::CommittedEntry;
pub use store::{HISTORY_LEN_MAX_DEFAULT, Store};
pub use tx::Tx;
pub use write_set::{EntryWriteSet, WriteSetTables, read_write_set};
