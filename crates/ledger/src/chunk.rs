//! Chunk file layout (spec §1.3): u64 position-table offset (0 while the chunk is open), the
//! entries, then a u32 table of each entry's absolute offset.
//!
//! Reading is over bytes (the verifier and the host read files; this crate does not). Writing is
//! split so the host can stream: [`ChunkBuilder`] says where each entry goes and what to write
//! when the chunk is completed; [`write_chunk`] builds a whole file in memory.

use crate::entry::{
    ENTRY_HEADER_BYTES, EntryHeader, EntryParts, PUBLIC_DOMAIN_OFFSET, parse_entry,
};
use crate::error::LedgerError;
use crate::public_domain::{MapChanges, PublicHeader, parse_public_domain};
use crate::wire::{Reader, to_u64};

/// Size of the u64 header holding the position-table offset.
pub const CHUNK_HEADER_BYTES: usize = 8;
/// Size of one position-table slot (`uint32_t`, hence chunks below 4 GiB).
const POSITION_BYTES: u64 = 4;

/// One entry found in a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEntry<'a> {
    /// Absolute file offset of the entry's 8-byte header.
    pub offset: u64,
    /// The whole entry, 8-byte header included.
    pub bytes: &'a [u8],
}

/// What a chunk file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkParse<'a> {
    pub entries: Vec<ChunkEntry<'a>>,
    /// Whether the header holds a position-table offset (the chunk was completed).
    pub complete: bool,
    /// Open chunks only: file offset where a torn last entry starts (CCF drops it and the host
    /// truncates the file there, spec §1.3).
    pub trailing_partial: Option<usize>,
}

/// An entry of a chunk with its public domain decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedEntry<'a> {
    pub parts: EntryParts<'a>,
    pub header: PublicHeader,
    pub public_maps: Vec<MapChanges>,
}

impl<'a> ChunkEntry<'a> {
    /// Parses the entry and its (write-set) public domain. Errors carry absolute file offsets and
    /// are wrapped in [`LedgerError::InEntry`] with the seqno from the IV once it was read.
    pub fn decode(&self) -> Result<DecodedEntry<'a>, LedgerError> {
        let in_entry = |seqno: Option<u64>, error: LedgerError| LedgerError::InEntry {
            offset: self.offset,
            seqno,
            source: Box::new(error),
        };
        let parts = parse_entry(self.bytes).map_err(|e| in_entry(None, e.shifted(self.offset)))?;
        let seqno = parts.gcm.seqno();
        let (header, public_maps) = parse_public_domain(parts.public_domain).map_err(|e| {
            in_entry(
                Some(seqno),
                e.shifted(self.offset.saturating_add(PUBLIC_DOMAIN_OFFSET)),
            )
        })?;
        Ok(DecodedEntry {
            parts,
            header,
            public_maps,
        })
    }
}

/// Parses a chunk file.
///
/// A complete chunk's table must describe exactly the entries present: `n` slots filling the
/// file from the table offset to the end, slot `i` equal to the offset reached by walking the
/// entries by their 48-bit sizes, and the last entry ending at the table. An open chunk (header
/// 0) is walked by entry sizes; a torn last entry is reported in `trailing_partial`, not as an
/// error. An empty file is an open chunk with no entries (CCF creates the file before the first
/// write). Errors carry absolute file offsets; entry bodies are not parsed (see
/// [`ChunkEntry::decode`]).
pub fn parse_chunk(bytes: &[u8]) -> Result<ChunkParse<'_>, LedgerError> {
    if bytes.is_empty() {
        return Ok(ChunkParse {
            entries: Vec::new(),
            complete: false,
            trailing_partial: None,
        });
    }
    let table_offset = Reader::new(bytes).u64("chunk header")?;
    if table_offset == 0 {
        parse_open_chunk(bytes)
    } else {
        parse_complete_chunk(bytes, table_offset)
    }
}

/// Builds a complete chunk file: u64 table offset, entries, u32 position table.
pub fn write_chunk(entries: &[&[u8]]) -> Result<Vec<u8>, LedgerError> {
    let mut builder = ChunkBuilder::new();
    let mut out = ChunkBuilder::OPEN_HEADER.to_vec();
    for entry in entries {
        builder.push(entry)?;
        out.extend_from_slice(entry);
    }
    let tail = builder.finish();
    out[..CHUNK_HEADER_BYTES].copy_from_slice(&tail.header);
    out.extend_from_slice(&tail.table);
    Ok(out)
}

/// Layout bookkeeping for a chunk being written, as CCF's host `LedgerFile` keeps it: the host
/// writes [`ChunkBuilder::OPEN_HEADER`] at offset 0, each pushed entry at the offset `push`
/// returns, and on completion the [`ChunkTail`] from `finish`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkBuilder {
    positions: Vec<u32>,
    len_bytes: u64,
}

/// What completing a chunk writes: `table` appended at the current end, then `header` at 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkTail {
    pub table: Vec<u8>,
    pub header: [u8; CHUNK_HEADER_BYTES],
}

impl Default for ChunkBuilder {
    fn default() -> ChunkBuilder {
        ChunkBuilder::new()
    }
}

impl ChunkBuilder {
    /// The header of an open chunk: table offset 0.
    pub const OPEN_HEADER: [u8; CHUNK_HEADER_BYTES] = [0; CHUNK_HEADER_BYTES];

    /// An empty open chunk (just its header).
    pub fn new() -> ChunkBuilder {
        ChunkBuilder {
            positions: Vec::new(),
            len_bytes: to_u64(CHUNK_HEADER_BYTES),
        }
    }

    /// Resumes an open chunk read back from disk. The caller has truncated the file to its whole
    /// entries (dropping `trailing_partial`).
    pub fn resume(parse: &ChunkParse<'_>) -> Result<ChunkBuilder, LedgerError> {
        let mut builder = ChunkBuilder::new();
        for entry in &parse.entries {
            builder.push(entry.bytes)?;
        }
        Ok(builder)
    }

    /// Records `entry` (one whole entry, header included) and returns the file offset to write
    /// it at. Refuses anything that is not exactly one entry, so an open chunk always stays
    /// walkable, and refuses to start an entry beyond what a u32 position can hold.
    pub fn push(&mut self, entry: &[u8]) -> Result<u64, LedgerError> {
        let index = to_u64(self.positions.len());
        let not_one = |source| LedgerError::NotOneEntry {
            index,
            source: Box::new(source),
        };
        let header = EntryHeader::parse(entry).map_err(not_one)?;
        if header.entry_len() != to_u64(entry.len()) {
            return Err(not_one(LedgerError::EntrySizeMismatch {
                offset: 2,
                declared: header.body_size,
                actual: to_u64(entry.len().saturating_sub(ENTRY_HEADER_BYTES)),
            }));
        }
        let offset = self.len_bytes;
        let too_large = LedgerError::ChunkTooLarge {
            offset,
            len: offset.saturating_add(header.entry_len()),
        };
        let position = u32::try_from(offset).map_err(|_| too_large.clone())?;
        self.len_bytes = offset.checked_add(header.entry_len()).ok_or(too_large)?;
        self.positions.push(position);
        Ok(offset)
    }

    /// Drops every entry after the first `keep` and returns the new file length (spec §1.3
    /// `truncate`: the host also resets the header to 0 and truncates the file there).
    pub fn truncate(&mut self, keep: usize) -> u64 {
        if let Some(&position) = self.positions.get(keep) {
            self.len_bytes = u64::from(position);
            self.positions.truncate(keep);
        }
        self.len_bytes
    }

    /// The table and header that complete the chunk (spec §1.3 `complete()`).
    pub fn finish(&self) -> ChunkTail {
        let table = self
            .positions
            .iter()
            .flat_map(|p| p.to_le_bytes())
            .collect();
        ChunkTail {
            table,
            header: self.len_bytes.to_le_bytes(),
        }
    }

    /// Current file length: header plus entries (the table is not yet written).
    pub fn len_bytes(&self) -> u64 {
        self.len_bytes
    }

    pub fn entry_count(&self) -> usize {
        self.positions.len()
    }
}

fn parse_open_chunk(bytes: &[u8]) -> Result<ChunkParse<'_>, LedgerError> {
    let mut entries = Vec::new();
    let mut cursor = CHUNK_HEADER_BYTES;
    let mut trailing_partial = None;
    while cursor < bytes.len() {
        match next_entry(bytes, cursor)? {
            Some(entry) => {
                cursor += entry.bytes.len();
                entries.push(entry);
            }
            None => {
                trailing_partial = Some(cursor);
                break;
            }
        }
    }
    Ok(ChunkParse {
        entries,
        complete: false,
        trailing_partial,
    })
}

/// The whole entry at `cursor`, or `None` if the bytes end inside it (a torn write).
fn next_entry(bytes: &[u8], cursor: usize) -> Result<Option<ChunkEntry<'_>>, LedgerError> {
    let rest = bytes.get(cursor..).unwrap_or_default();
    let offset = to_u64(cursor);
    if rest.len() < ENTRY_HEADER_BYTES {
        return Ok(None);
    }
    let header = EntryHeader::parse(rest).map_err(|e| e.shifted(offset))?;
    Ok(Reader::new(rest)
        .take(header.entry_len(), "entry")
        .ok()
        .map(|entry| ChunkEntry {
            offset,
            bytes: entry,
        }))
}

fn parse_complete_chunk(bytes: &[u8], table_offset: u64) -> Result<ChunkParse<'_>, LedgerError> {
    let file_len = to_u64(bytes.len());
    let bad_offset = LedgerError::BadChunkTableOffset {
        offset: 0,
        table_offset,
        file_len,
    };
    if table_offset < to_u64(CHUNK_HEADER_BYTES) || table_offset > file_len {
        return Err(bad_offset);
    }
    let table_start = usize::try_from(table_offset).map_err(|_| bad_offset)?;
    let (body, table) = bytes.split_at(table_start);
    if to_u64(table.len()) % POSITION_BYTES != 0 {
        return Err(LedgerError::BadChunkTableLength {
            offset: table_offset,
            table_bytes: to_u64(table.len()),
        });
    }
    let mut entries = Vec::new();
    let mut cursor = CHUNK_HEADER_BYTES;
    for (index, slot) in table.chunks_exact(4).enumerate() {
        let slot_offset = table_offset + to_u64(index) * POSITION_BYTES;
        let position = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
        if u64::from(position) != to_u64(cursor) {
            return Err(LedgerError::ChunkPositionMismatch {
                offset: slot_offset,
                index: to_u64(index),
                position: u64::from(position),
                expected: to_u64(cursor),
            });
        }
        let entry = next_entry(body, cursor)?.ok_or_else(|| LedgerError::Truncated {
            offset: to_u64(cursor),
            field: "entry before the position table",
            needed: entry_len_hint(body, cursor),
            available: table_offset - to_u64(cursor),
        })?;
        cursor += entry.bytes.len();
        entries.push(entry);
    }
    if to_u64(cursor) != table_offset {
        return Err(LedgerError::ChunkEntriesEndMismatch {
            offset: to_u64(cursor),
            table_offset,
        });
    }
    Ok(ChunkParse {
        entries,
        complete: true,
        trailing_partial: None,
    })
}

/// Best-effort size of the entry at `cursor` for an error message (8 if its header is torn).
fn entry_len_hint(body: &[u8], cursor: usize) -> u64 {
    body.get(cursor..)
        .and_then(|rest| EntryHeader::parse(rest).ok())
        .map_or(8, |h| h.entry_len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::entry::{EntryFlags, GcmHeader, write_entry};

    fn entry(seqno: u64, public: &[u8]) -> Vec<u8> {
        let gcm = GcmHeader {
            tag: [1; 16],
            iv: GcmHeader::iv_for(seqno, 2, false),
        };
        write_entry(EntryFlags(0), &gcm, public, b"")
    }

    #[test]
    fn complete_chunk_layout_matches_spec_1_3() {
        let (a, b) = (entry(1, b"a"), entry(2, b"bb"));
        let file = write_chunk(&[&a, &b]).unwrap();
        let table_offset = 8 + a.len() + b.len();
        assert_eq!(&file[..8], &(table_offset as u64).to_le_bytes());
        assert_eq!(
            &file[table_offset..],
            &[8, 0, 0, 0, (8 + a.len()) as u8, 0, 0, 0]
        );
        let parse = parse_chunk(&file).unwrap();
        assert!(parse.complete);
        assert_eq!(
            parse.entries,
            vec![
                ChunkEntry {
                    offset: 8,
                    bytes: &a
                },
                ChunkEntry {
                    offset: 8 + a.len() as u64,
                    bytes: &b
                },
            ]
        );
    }

    #[test]
    fn an_open_chunk_is_walked_by_entry_sizes() {
        let (a, b) = (entry(1, b"a"), entry(2, b"bb"));
        let mut file = ChunkBuilder::OPEN_HEADER.to_vec();
        file.extend_from_slice(&a);
        file.extend_from_slice(&b);
        let parse = parse_chunk(&file).unwrap();
        assert!(!parse.complete);
        assert_eq!(parse.entries.len(), 2);
        assert_eq!(parse.trailing_partial, None);
    }

    #[test]
    fn a_torn_last_entry_is_reported_not_an_error() {
        let (a, b) = (entry(1, b"a"), entry(2, b"bb"));
        let mut file = ChunkBuilder::OPEN_HEADER.to_vec();
        file.extend_from_slice(&a);
        file.extend_from_slice(&b[..b.len() - 1]);
        let parse = parse_chunk(&file).unwrap();
        assert_eq!(parse.entries.len(), 1);
        assert_eq!(parse.trailing_partial, Some(8 + a.len()));
        file.truncate(8 + a.len() + 3); // a torn header too
        assert_eq!(
            parse_chunk(&file).unwrap().trailing_partial,
            Some(8 + a.len())
        );
    }

    #[test]
    fn an_empty_file_is_an_open_chunk_with_no_entries() {
        let parse = parse_chunk(&[]).unwrap();
        assert_eq!(
            (parse.entries.len(), parse.complete, parse.trailing_partial),
            (0, false, None)
        );
    }

    #[test]
    fn a_bad_entry_version_in_an_open_chunk_is_an_error_at_its_offset() {
        let a = entry(1, b"a");
        let mut file = ChunkBuilder::OPEN_HEADER.to_vec();
        file.extend_from_slice(&a);
        file.extend_from_slice(&[0; 16]);
        assert_eq!(
            parse_chunk(&file).unwrap_err(),
            LedgerError::UnsupportedEntryVersion {
                offset: 8 + a.len() as u64,
                version: 0
            }
        );
    }

    #[test]
    fn a_table_offset_past_the_file_is_rejected() {
        let mut file = write_chunk(&[&entry(1, b"a")]).unwrap();
        let len = file.len() as u64;
        file[..8].copy_from_slice(&(len + 1).to_le_bytes());
        assert_eq!(
            parse_chunk(&file).unwrap_err(),
            LedgerError::BadChunkTableOffset {
                offset: 0,
                table_offset: len + 1,
                file_len: len
            }
        );
    }

    #[test]
    fn a_table_that_is_not_whole_u32s_is_rejected() {
        let mut file = write_chunk(&[&entry(1, b"a")]).unwrap();
        file.push(0);
        assert!(matches!(
            parse_chunk(&file).unwrap_err(),
            LedgerError::BadChunkTableLength { table_bytes: 5, .. }
        ));
    }

    #[test]
    fn a_position_that_disagrees_with_the_entry_sizes_is_rejected() {
        let (a, b) = (entry(1, b"a"), entry(2, b"bb"));
        let mut file = write_chunk(&[&a, &b]).unwrap();
        let slot = file.len() - 4;
        file[slot] += 1;
        assert_eq!(
            parse_chunk(&file).unwrap_err(),
            LedgerError::ChunkPositionMismatch {
                offset: slot as u64,
                index: 1,
                position: 8 + a.len() as u64 + 1,
                expected: 8 + a.len() as u64,
            }
        );
    }

    #[test]
    fn a_table_missing_an_entry_is_rejected() {
        let (a, b) = (entry(1, b"a"), entry(2, b"bb"));
        let mut file = write_chunk(&[&a, &b]).unwrap();
        file.truncate(file.len() - 4); // drop the last slot
        assert_eq!(
            parse_chunk(&file).unwrap_err(),
            LedgerError::ChunkEntriesEndMismatch {
                offset: 8 + a.len() as u64,
                table_offset: 8 + (a.len() + b.len()) as u64,
            }
        );
    }

    #[test]
    fn decode_errors_name_the_file_offset_and_seqno() {
        let mut public = vec![9u8]; // entry type 9
        public.extend_from_slice(&[0; 8]);
        let a = entry(1, b"");
        let b = entry(2, &public);
        let file = write_chunk(&[&a, &b]).unwrap();
        let parse = parse_chunk(&file).unwrap();
        let entry_offset = 8 + a.len() as u64;
        assert_eq!(
            parse.entries[1].decode().unwrap_err(),
            LedgerError::InEntry {
                offset: entry_offset,
                seqno: Some(2),
                source: Box::new(LedgerError::UnknownEntryType {
                    offset: entry_offset + PUBLIC_DOMAIN_OFFSET,
                    value: 9
                }),
            }
        );
    }

    #[test]
    fn the_builder_refuses_anything_but_one_whole_entry() {
        let mut builder = ChunkBuilder::new();
        let mut two = entry(1, b"a");
        two.extend_from_slice(&entry(2, b"b"));
        assert!(matches!(
            builder.push(&two),
            Err(LedgerError::NotOneEntry { index: 0, .. })
        ));
        assert!(matches!(
            builder.push(&[1, 0]),
            Err(LedgerError::NotOneEntry { index: 0, .. })
        ));
        assert_eq!(builder.entry_count(), 0);
    }

    #[test]
    fn truncating_the_builder_drops_later_entries() {
        let (a, b) = (entry(1, b"a"), entry(2, b"bb"));
        let mut builder = ChunkBuilder::new();
        assert_eq!(builder.push(&a).unwrap(), 8);
        assert_eq!(builder.push(&b).unwrap(), 8 + a.len() as u64);
        assert_eq!(builder.truncate(1), 8 + a.len() as u64);
        assert_eq!(builder.entry_count(), 1);
        assert_eq!(
            builder.truncate(5),
            8 + a.len() as u64,
            "keeping more than present is a no-op"
        );
    }

    #[test]
    fn a_resumed_open_chunk_completes_to_the_same_file_as_write_chunk() {
        let (a, b) = (entry(1, b"a"), entry(2, b"bb"));
        let mut open = ChunkBuilder::OPEN_HEADER.to_vec();
        open.extend_from_slice(&a);
        open.extend_from_slice(&b);
        let builder = ChunkBuilder::resume(&parse_chunk(&open).unwrap()).unwrap();
        let tail = builder.finish();
        open.extend_from_slice(&tail.table);
        open[..8].copy_from_slice(&tail.header);
        assert_eq!(open, write_chunk(&[&a, &b]).unwrap());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn chunks_round_trip(publics in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8)) {
            let entries: Vec<Vec<u8>> =
                publics.iter().enumerate().map(|(i, p)| entry(i as u64 + 1, p)).collect();
            let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            let file = write_chunk(&refs).unwrap();
            let parse = parse_chunk(&file).unwrap();
            prop_assert!(parse.complete);
            let got: Vec<&[u8]> = parse.entries.iter().map(|e| e.bytes).collect();
            prop_assert_eq!(got, refs.clone());
            // The same entries as an open chunk.
            let open_len = file.len() - 4 * entries.len();
            let mut open = file[..open_len].to_vec();
            open[..8].copy_from_slice(&[0; 8]);
            let open_parse = parse_chunk(&open).unwrap();
            prop_assert!(!open_parse.complete);
            prop_assert_eq!(open_parse.entries, parse.entries);
        }
    }
}
