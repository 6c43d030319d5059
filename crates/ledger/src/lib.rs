//! CCF ledger byte codecs (spec/ccf-internals.md §1.2, §1.3, §2, §8.2): entry framing, public
//! domains and map records, snapshot layout, chunk files and file names. Sans-IO: every
//! function works on bytes and names handed in; nothing here reads a file.
//!
//! Decoders never panic on any input and every error names its byte offset (see
//! [`LedgerError`]).
#![forbid(unsafe_code)]

pub mod chunk;
pub mod entry;
pub mod error;
pub mod names;
pub mod public_domain;
pub mod snapshot;
pub mod verify;
mod wire;

pub use chunk::{
    CHUNK_HEADER_BYTES, ChunkBuilder, ChunkEntry, ChunkParse, ChunkTail, DecodedEntry, parse_chunk,
    write_chunk,
};
pub use cloister_merkle::leaf_from_digests;
pub use entry::{
    ENTRY_BODY_BYTES_MAX, ENTRY_FORMAT_VERSION, ENTRY_HEADER_BYTES, EntryFlags, EntryHeader,
    EntryParts, GCM_IV_BYTES, GCM_TAG_BYTES, GcmHeader, PUBLIC_DOMAIN_OFFSET, parse_entry,
    split_entry, write_entry,
};
pub use error::LedgerError;
pub use names::{ChunkName, SnapshotName, order_chunks};
pub use public_domain::{
    EntryType, MapChanges, PublicHeader, parse_map_records, parse_public_domain, write_map_records,
    write_public_domain,
};
pub use snapshot::{
    SnapshotEntry, SnapshotFile, SnapshotHeader, SnapshotMap, parse_snapshot_file,
    parse_snapshot_maps, parse_snapshot_public_domain, write_snapshot_maps,
    write_snapshot_public_domain,
};
