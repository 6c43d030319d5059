//! The one error type of cloister-kv.

use cloister_ledger::LedgerError;

/// Why a store operation failed. Every failing operation leaves the store as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KvError {
    /// A key or range the transaction read was written after it began (or the store rolled back
    /// since): the transaction must be re-run.
    #[error("conflict on map {map:?}: a value read by the transaction has changed")]
    Conflict { map: String },

    /// No ledger secret is in force at this seqno (spec §6.1: the first secret starts at 1).
    #[error("no ledger secret is in force at seqno {seqno}")]
    NoLedgerSecret { seqno: u64 },

    /// Ledger secrets must be added with strictly increasing start seqnos (spec §6.1).
    #[error("ledger secret starting at {start} does not follow the last one, starting at {last}")]
    SecretOutOfOrder { start: u64, last: u64 },

    /// A ledger secret is not 32 bytes, or the cipher refused it.
    #[error("invalid ledger secret: {reason}")]
    InvalidSecret { reason: String },

    /// The entry or snapshot bytes are malformed.
    #[error("malformed ledger bytes: {0}")]
    Ledger(#[from] LedgerError),

    /// An applied entry is not the next one: its version must be current_version + 1.
    #[error("entry has version {found}, expected {expected}")]
    UnexpectedVersion { expected: u64, found: u64 },

    /// The GCM IV disagrees with the public header (seqno or snapshot marker; spec §2.2).
    #[error(
        "IV names seqno {iv_seqno} (snapshot: {iv_snapshot}) but the header says version {version}"
    )]
    IvMismatch {
        iv_seqno: u64,
        iv_snapshot: bool,
        version: u64,
    },

    /// AES-GCM encryption failed (the cipher refused the input; not expected in practice).
    #[error("encryption of the entry at seqno {seqno} failed")]
    Encrypt { seqno: u64 },

    /// AES-GCM authentication failed: wrong ledger secret, or tampered ciphertext or public domain.
    #[error("authentication of the entry at seqno {seqno} failed (wrong secret or tampered bytes)")]
    Decrypt { seqno: u64 },

    /// The commit-evidence digest in the header is not the one the ledger secret gives (§3.2).
    #[error(
        "commit evidence digest of the entry at seqno {seqno} does not match the ledger secret"
    )]
    CommitEvidenceMismatch { seqno: u64 },

    /// A map record sits in the wrong domain: a `public:` map in the private domain or the reverse.
    #[error("map {map:?} is in the wrong security domain")]
    DomainMismatch { map: String },

    /// The view is above 0x7FFF_FFFF and cannot go into an IV (spec §2.2).
    #[error("view {view} is above 0x7FFFFFFF")]
    ViewOutOfRange { view: u64 },

    /// No committed state at this seqno is kept: it is newer than the store, or older than the
    /// last compaction or the history bound.
    #[error("cannot roll back to {seqno}: states {oldest}..={current} are available")]
    RollbackOutOfRange {
        seqno: u64,
        oldest: u64,
        current: u64,
    },

    /// A snapshot is inconsistent: a map or key twice, or a version above the snapshot's.
    #[error("invalid snapshot: {reason}")]
    InvalidSnapshot { reason: String },
}
