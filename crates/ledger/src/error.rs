//! The one error type of cloister-ledger.
//!
//! Every decoding error names the place: `offset` is a byte offset into the buffer handed to the
//! function that failed (a whole entry, a public domain, a private plaintext or a chunk file).
//! [`LedgerError::shifted`] moves it into an enclosing buffer, so a chunk reader can report
//! absolute file offsets; [`LedgerError::InEntry`] adds the seqno once it is known. The verifier
//! adds the file name.

use crate::public_domain::EntryType;

/// Why ledger bytes (or ledger file names) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The input ended before a field could be read whole.
    #[error("truncated at byte {offset}: {field} needs {needed} bytes, {available} left")]
    Truncated {
        offset: u64,
        field: &'static str,
        needed: u64,
        available: u64,
    },

    /// The entry header's format version is not 1 (spec §2.1).
    #[error("unsupported entry format version {version} at byte {offset}")]
    UnsupportedEntryVersion { offset: u64, version: u8 },

    /// The entry header's 48-bit body size disagrees with the bytes given (spec §2.1).
    #[error("entry at byte {offset} declares a {declared}-byte body but {actual} bytes follow")]
    EntrySizeMismatch {
        offset: u64,
        declared: u64,
        actual: u64,
    },

    /// The public-domain length runs past the end of the entry body (spec §2.1).
    #[error("public domain length {declared} at byte {offset} exceeds the {available} bytes left")]
    PublicDomainOverrun {
        offset: u64,
        declared: u64,
        available: u64,
    },

    /// The public domain's entry-type byte is not one of 0..=4 (spec §2.3).
    #[error("unknown entry type {value} at byte {offset}")]
    UnknownEntryType { offset: u64, value: u8 },

    /// A write-set parser met a snapshot, or the snapshot parser met a write set.
    #[error("unexpected entry type {found:?} at byte {offset}")]
    UnexpectedEntryType { offset: u64, found: EntryType },

    /// A map name is not valid UTF-8.
    #[error("map name at byte {offset} is not UTF-8")]
    MapNameNotUtf8 { offset: u64 },

    /// A map record declares reads, which CCF never serialises (spec §2.4).
    #[error("map record at byte {offset} declares {count} reads; CCF writes none")]
    ReadsPresent { offset: u64, count: u64 },

    /// A snapshot's `hash_at_snapshot` has a size other than 0 or 32 (spec §8.2).
    #[error("snapshot hash at byte {offset} has size {size}, expected 32 or 0")]
    BadSnapshotHashSize { offset: u64, size: u64 },

    /// A snapshot's view history byte length is not a multiple of 8 (spec §8.2).
    #[error("view history at byte {offset} has {byte_len} bytes, not a multiple of 8")]
    BadViewHistoryLength { offset: u64, byte_len: u64 },

    /// A snapshot map's entries run past the map's declared byte length (spec §8.2).
    #[error("snapshot map entry at byte {offset} runs past the map end at byte {map_end}")]
    SnapshotMapOverrun { offset: u64, map_end: u64 },

    /// A snapshot value size is below 8: it must include the 8-byte write version (spec §8.2).
    #[error("snapshot value size {size} at byte {offset} is below 8")]
    SnapshotValueTooShort { offset: u64, size: u64 },

    /// Snapshot padding bytes are not zero (spec §8.2: CCF pads with zeros).
    #[error("non-zero snapshot padding at byte {offset}")]
    NonZeroPadding { offset: u64 },

    /// A complete chunk's position-table offset is outside the file (spec §1.3).
    #[error(
        "chunk table offset {table_offset} (byte {offset}) is outside the {file_len}-byte file"
    )]
    BadChunkTableOffset {
        offset: u64,
        table_offset: u64,
        file_len: u64,
    },

    /// A complete chunk's position table is not a whole number of u32s (spec §1.3).
    #[error("chunk position table at byte {offset} has {table_bytes} bytes, not a multiple of 4")]
    BadChunkTableLength { offset: u64, table_bytes: u64 },

    /// A position-table slot disagrees with where the entries actually are (spec §1.3).
    #[error("chunk position {index} (byte {offset}) is {position}, expected {expected}")]
    ChunkPositionMismatch {
        offset: u64,
        index: u64,
        position: u64,
        expected: u64,
    },

    /// The entries of a complete chunk do not end exactly at its position table (spec §1.3).
    #[error("chunk entries end at byte {offset}, but the position table starts at {table_offset}")]
    ChunkEntriesEndMismatch { offset: u64, table_offset: u64 },

    /// A chunk would grow past what u32 positions can address (spec §1.3: 4 GiB).
    #[error(
        "chunk would reach {len} bytes at an entry starting at byte {offset}; u32 positions allow 4 GiB"
    )]
    ChunkTooLarge { offset: u64, len: u64 },

    /// An entry given to a chunk writer is not one whole entry (its header size disagrees).
    #[error("entry {index} given to the chunk writer is not one whole entry")]
    NotOneEntry {
        index: u64,
        source: Box<LedgerError>,
    },

    /// An entry body would not fit the 48-bit size field (spec §2.1).
    #[error("entry body of {body_len} bytes exceeds the 48-bit size field")]
    EntryTooLarge { body_len: u64 },

    /// A view above 0x7FFF_FFFF cannot go into an IV (spec §2.2).
    #[error("view {view} exceeds 0x7FFFFFFF and cannot be encoded in an IV")]
    ViewOutOfRange { view: u32 },

    /// An error inside the entry starting at `offset` (the seqno is known once its IV was read).
    #[error("in entry at byte {offset} (seqno {seqno:?}): {source}")]
    InEntry {
        offset: u64,
        seqno: Option<u64>,
        source: Box<LedgerError>,
    },

    /// A chunk holds a different number of entries than its name's range says (spec §1.2).
    #[error("{file} should hold {expected} entries by its name but holds {found}")]
    ChunkEntryCount {
        file: String,
        expected: u64,
        found: u64,
    },

    /// Two chunks leave seqnos between them uncovered (spec §1.2).
    #[error("gap between {before} and {after}")]
    ChunkGap { before: String, after: String },

    /// Two chunks cover some seqno twice (spec §1.2).
    #[error("{before} and {after} overlap")]
    ChunkOverlap { before: String, after: String },

    /// A committed chunk follows an uncommitted one (spec §1.2).
    #[error("committed {committed} follows uncommitted {uncommitted}")]
    CommittedAfterUncommitted {
        uncommitted: String,
        committed: String,
    },
}

impl LedgerError {
    /// The byte offset this error points at, if it has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            LedgerError::Truncated { offset, .. }
            | LedgerError::UnsupportedEntryVersion { offset, .. }
            | LedgerError::EntrySizeMismatch { offset, .. }
            | LedgerError::PublicDomainOverrun { offset, .. }
            | LedgerError::UnknownEntryType { offset, .. }
            | LedgerError::UnexpectedEntryType { offset, .. }
            | LedgerError::MapNameNotUtf8 { offset }
            | LedgerError::ReadsPresent { offset, .. }
            | LedgerError::BadSnapshotHashSize { offset, .. }
            | LedgerError::BadViewHistoryLength { offset, .. }
            | LedgerError::SnapshotMapOverrun { offset, .. }
            | LedgerError::SnapshotValueTooShort { offset, .. }
            | LedgerError::NonZeroPadding { offset }
            | LedgerError::BadChunkTableOffset { offset, .. }
            | LedgerError::BadChunkTableLength { offset, .. }
            | LedgerError::ChunkPositionMismatch { offset, .. }
            | LedgerError::ChunkEntriesEndMismatch { offset, .. }
            | LedgerError::ChunkTooLarge { offset, .. }
            | LedgerError::InEntry { offset, .. } => Some(*offset),
            LedgerError::NotOneEntry { .. }
            | LedgerError::EntryTooLarge { .. }
            | LedgerError::ViewOutOfRange { .. }
            | LedgerError::ChunkEntryCount { .. }
            | LedgerError::ChunkGap { .. }
            | LedgerError::ChunkOverlap { .. }
            | LedgerError::CommittedAfterUncommitted { .. } => None,
        }
    }

    /// The same error with its offsets moved by `base`: used when the failing buffer starts at
    /// byte `base` of an enclosing one (a public domain inside an entry, an entry inside a chunk).
    /// Saturates rather than wrapping.
    pub fn shifted(mut self, base: u64) -> LedgerError {
        let shift = |offset: &mut u64| *offset = offset.saturating_add(base);
        match &mut self {
            LedgerError::Truncated { offset, .. }
            | LedgerError::UnsupportedEntryVersion { offset, .. }
            | LedgerError::EntrySizeMismatch { offset, .. }
            | LedgerError::PublicDomainOverrun { offset, .. }
            | LedgerError::UnknownEntryType { offset, .. }
            | LedgerError::UnexpectedEntryType { offset, .. }
            | LedgerError::MapNameNotUtf8 { offset }
            | LedgerError::ReadsPresent { offset, .. }
            | LedgerError::BadSnapshotHashSize { offset, .. }
            | LedgerError::BadViewHistoryLength { offset, .. }
            | LedgerError::SnapshotValueTooShort { offset, .. }
            | LedgerError::NonZeroPadding { offset }
            | LedgerError::BadChunkTableOffset { offset, .. }
            | LedgerError::BadChunkTableLength { offset, .. }
            | LedgerError::ChunkPositionMismatch { offset, .. }
            | LedgerError::ChunkTooLarge { offset, .. } => shift(offset),
            LedgerError::SnapshotMapOverrun { offset, map_end } => {
                shift(offset);
                shift(map_end);
            }
            LedgerError::ChunkEntriesEndMismatch {
                offset,
                table_offset,
            } => {
                shift(offset);
                shift(table_offset);
            }
            LedgerError::InEntry { offset, source, .. } => {
                // The wrapped error uses the same coordinates as the wrapper (ChunkEntry::decode
                // makes them absolute), so it moves with it. Errors are cold: cloning is fine.
                shift(offset);
                **source = source.as_ref().clone().shifted(base);
            }
            LedgerError::NotOneEntry { .. }
            | LedgerError::EntryTooLarge { .. }
            | LedgerError::ViewOutOfRange { .. }
            | LedgerError::ChunkEntryCount { .. }
            | LedgerError::ChunkGap { .. }
            | LedgerError::ChunkOverlap { .. }
            | LedgerError::CommittedAfterUncommitted { .. } => {}
        }
        self
    }

    /// The innermost error, looking through [`LedgerError::InEntry`] and
    /// [`LedgerError::NotOneEntry`] wrappers.
    pub fn root_cause(&self) -> &LedgerError {
        match self {
            LedgerError::InEntry { source, .. } | LedgerError::NotOneEntry { source, .. } => {
                source.root_cause()
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_moves_offsets_into_the_enclosing_buffer() {
        let e = LedgerError::MapNameNotUtf8 { offset: 3 }.shifted(44);
        assert_eq!(e, LedgerError::MapNameNotUtf8 { offset: 47 });
        assert_eq!(e.offset(), Some(47));
    }

    #[test]
    fn shifted_moves_the_wrapped_error_of_an_entry_too() {
        let inner = LedgerError::UnknownEntryType {
            offset: 44,
            value: 9,
        };
        let wrapped = LedgerError::InEntry {
            offset: 0,
            seqno: Some(5),
            source: Box::new(inner),
        };
        let moved = wrapped.shifted(8);
        assert_eq!(moved.offset(), Some(8));
        assert_eq!(
            moved.root_cause(),
            &LedgerError::UnknownEntryType {
                offset: 52,
                value: 9
            }
        );
    }

    #[test]
    fn shifted_saturates_instead_of_wrapping() {
        let e = LedgerError::NonZeroPadding {
            offset: u64::MAX - 1,
        }
        .shifted(10);
        assert_eq!(e.offset(), Some(u64::MAX));
    }

    #[test]
    fn errors_without_a_place_have_no_offset() {
        let e = LedgerError::ChunkGap {
            before: "ledger_1-2".into(),
            after: "ledger_4-5".into(),
        };
        assert_eq!(e.offset(), None);
        assert_eq!(e.shifted(100).offset(), None);
    }
}
