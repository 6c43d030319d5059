//! Snapshot layout (spec §8.2): a ledger-entry-shaped blob whose public domain has entry type 1,
//! a snapshot header (hash at snapshot, view history) and per-map dumps with 8-byte padding;
//! in a committed snapshot file a JSON receipt follows the entry.

use cloister_crypto::Sha256Hash;

use crate::entry::{EntryParts, PUBLIC_DOMAIN_OFFSET, parse_entry, split_entry};
use crate::error::LedgerError;
use crate::public_domain::{EntryType, read_entry_type, read_map_name};
use crate::wire::{Reader, put_blob, put_u64, to_u64};

/// One map's full contents at the snapshot seqno.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotMap {
    pub name: String,
    /// Version (seqno) of the map's last write.
    pub map_version: u64,
    /// In the order written. Cloister writes them sorted by key; real CCF snapshots are in its
    /// hash-trie order, so readers keep the order found rather than assume one.
    pub entries: Vec<SnapshotEntry>,
}

/// One live key of a snapshot map.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotEntry {
    pub key: Vec<u8>,
    /// Seqno of the write that set this value.
    pub version: u64,
    pub value: Vec<u8>,
}

/// The snapshot-specific fields of a type-1 public domain (spec §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotHeader {
    /// The seqno the snapshot was taken at.
    pub version: u64,
    /// Merkle leaf of `version` (believed; spec §10). Written with a u64 size of 32, or 0 if absent.
    pub hash_at_snapshot: Option<Sha256Hash>,
    /// `view_history[v - 1]` = first seqno of view v.
    pub view_history: Vec<u64>,
}

/// A snapshot file: the entry, its decoded public domain, and the receipt bytes that follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile<'a> {
    /// The whole snapshot entry, header included (its SHA-256 is the evidence's hash).
    pub entry: &'a [u8],
    pub parts: EntryParts<'a>,
    pub header: SnapshotHeader,
    pub public_maps: Vec<SnapshotMap>,
    /// Everything after the entry: the UTF-8 JSON receipt of a committed snapshot (spec §8.1),
    /// empty for an uncommitted one. Not parsed here.
    pub receipt: &'a [u8],
}

/// Padding granularity of snapshot keys and values (spec §8.2).
const PAD_BYTES: usize = 8;
/// Bytes of the write version that precede each value (counted in `value_size`).
const VALUE_VERSION_BYTES: u64 = 8;

/// Type-1 public domain: header fields, snapshot header, public map dumps (spec §8.2).
pub fn write_snapshot_public_domain(header: &SnapshotHeader, maps: &[SnapshotMap]) -> Vec<u8> {
    let mut out = vec![EntryType::Snapshot as u8];
    put_u64(&mut out, header.version);
    put_u64(&mut out, 0); // max_conflict_version
    match &header.hash_at_snapshot {
        Some(hash) => put_blob(&mut out, hash.as_bytes()),
        None => put_blob(&mut out, &[]),
    }
    put_u64(&mut out, to_u64(header.view_history.len()) * 8);
    for view_start in &header.view_history {
        put_u64(&mut out, *view_start);
    }
    write_snapshot_maps(&mut out, maps);
    out
}

/// Appends map dumps (the private plaintext of a snapshot, or the tail of its public domain).
pub fn write_snapshot_maps(out: &mut Vec<u8>, maps: &[SnapshotMap]) {
    for map in maps {
        put_blob(out, map.name.as_bytes());
        put_u64(out, map.map_version);
        let mut body = Vec::new();
        for entry in &map.entries {
            put_blob(&mut body, &entry.key);
            pad(&mut body, entry.key.len());
            put_u64(&mut body, VALUE_VERSION_BYTES + to_u64(entry.value.len()));
            put_u64(&mut body, entry.version);
            body.extend_from_slice(&entry.value);
            pad(&mut body, entry.value.len());
        }
        put_blob(out, &body);
    }
}

/// Parses a type-1 public domain; any other type is `UnexpectedEntryType`.
pub fn parse_snapshot_public_domain(
    public: &[u8],
) -> Result<(SnapshotHeader, Vec<SnapshotMap>), LedgerError> {
    let mut reader = Reader::new(public);
    let entry_type = read_entry_type(&mut reader)?;
    if entry_type != EntryType::Snapshot {
        return Err(LedgerError::UnexpectedEntryType {
            offset: 0,
            found: entry_type,
        });
    }
    let version = reader.u64("version")?;
    // max_conflict_version: written 0, ignored on read (spec §2.3).
    reader.u64("max_conflict_version")?;
    let hash_at_snapshot = read_hash_at_snapshot(&mut reader)?;
    let view_history = read_view_history(&mut reader)?;
    let maps = read_snapshot_maps(&mut reader)?;
    Ok((
        SnapshotHeader {
            version,
            hash_at_snapshot,
            view_history,
        },
        maps,
    ))
}

/// Parses map dumps to the end of `bytes` (a decrypted snapshot private domain).
pub fn parse_snapshot_maps(bytes: &[u8]) -> Result<Vec<SnapshotMap>, LedgerError> {
    read_snapshot_maps(&mut Reader::new(bytes))
}

/// Parses a snapshot file: the entry (by its header's size), its public domain, and the receipt
/// bytes after it. Error offsets are file offsets.
pub fn parse_snapshot_file(bytes: &[u8]) -> Result<SnapshotFile<'_>, LedgerError> {
    let (entry, receipt) = split_entry(bytes)?;
    let parts = parse_entry(entry)?;
    let (header, public_maps) = parse_snapshot_public_domain(parts.public_domain)
        .map_err(|e| e.shifted(PUBLIC_DOMAIN_OFFSET))?;
    Ok(SnapshotFile {
        entry,
        parts,
        header,
        public_maps,
        receipt,
    })
}

fn read_hash_at_snapshot(reader: &mut Reader<'_>) -> Result<Option<Sha256Hash>, LedgerError> {
    let offset = reader.offset();
    match reader.u64("hash_at_snapshot size")? {
        0 => Ok(None),
        32 => Ok(Some(reader.hash("hash_at_snapshot")?)),
        size => Err(LedgerError::BadSnapshotHashSize { offset, size }),
    }
}

fn read_view_history(reader: &mut Reader<'_>) -> Result<Vec<u64>, LedgerError> {
    let offset = reader.offset();
    let bytes = reader.blob("view history")?;
    if bytes.len() % 8 != 0 {
        return Err(LedgerError::BadViewHistoryLength {
            offset,
            byte_len: to_u64(bytes.len()),
        });
    }
    let mut views = Reader::new(bytes);
    let mut out = Vec::with_capacity(bytes.len() / 8); // checked against real bytes above
    while !views.is_empty() {
        out.push(views.u64("view history")?);
    }
    Ok(out)
}

fn read_snapshot_maps(reader: &mut Reader<'_>) -> Result<Vec<SnapshotMap>, LedgerError> {
    let mut maps = Vec::new();
    while !reader.is_empty() {
        maps.push(read_snapshot_map(reader)?);
    }
    Ok(maps)
}

fn read_snapshot_map(reader: &mut Reader<'_>) -> Result<SnapshotMap, LedgerError> {
    let name = read_map_name(reader)?;
    let map_version = reader.u64("map version")?;
    let body_start = reader.offset().saturating_add(8);
    let body = reader.blob("map entries")?;
    let mut entries = Vec::new();
    let mut body_reader = Reader::new(body);
    while !body_reader.is_empty() {
        let entry = read_snapshot_entry(&mut body_reader).map_err(|e| match e {
            // Inside the map body, running out of bytes means overrunning the declared map size.
            LedgerError::Truncated { offset, .. } => LedgerError::SnapshotMapOverrun {
                offset,
                map_end: to_u64(body.len()),
            },
            other => other,
        });
        entries.push(entry.map_err(|e| e.shifted(body_start))?);
    }
    Ok(SnapshotMap {
        name,
        map_version,
        entries,
    })
}

fn read_snapshot_entry(reader: &mut Reader<'_>) -> Result<SnapshotEntry, LedgerError> {
    let key = reader.blob("snapshot key")?.to_vec();
    skip_padding(reader, key.len())?;
    let size_offset = reader.offset();
    let value_size = reader.u64("snapshot value size")?;
    if value_size < VALUE_VERSION_BYTES {
        return Err(LedgerError::SnapshotValueTooShort {
            offset: size_offset,
            size: value_size,
        });
    }
    let version = reader.u64("snapshot value version")?;
    let value = reader
        .take(value_size - VALUE_VERSION_BYTES, "snapshot value")?
        .to_vec();
    skip_padding(reader, value.len())?;
    Ok(SnapshotEntry {
        key,
        version,
        value,
    })
}

/// Zero bytes up to the next multiple of 8 after a field of `len` bytes.
fn pad(out: &mut Vec<u8>, len: usize) {
    out.resize(out.len() + padding_for(len), 0);
}

fn skip_padding(reader: &mut Reader<'_>, len: usize) -> Result<(), LedgerError> {
    let offset = reader.offset();
    let padding = reader.take(to_u64(padding_for(len)), "snapshot padding")?;
    match padding.iter().position(|b| *b != 0) {
        None => Ok(()),
        Some(at) => Err(LedgerError::NonZeroPadding {
            offset: offset + to_u64(at),
        }),
    }
}

fn padding_for(len: usize) -> usize {
    (PAD_BYTES - len % PAD_BYTES) % PAD_BYTES
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn one_map() -> SnapshotMap {
        SnapshotMap {
            name: "public:m".into(),
            map_version: 7,
            entries: vec![SnapshotEntry {
                key: b"abc".to_vec(),
                version: 6,
                value: b"v".to_vec(),
            }],
        }
    }

    #[test]
    fn keys_and_values_are_padded_to_eight_bytes() {
        let mut out = Vec::new();
        write_snapshot_maps(&mut out, &[one_map()]);
        let mut expected = Vec::new();
        put_blob(&mut expected, b"public:m");
        put_u64(&mut expected, 7);
        put_u64(&mut expected, 8 + 8 + 8 + 8 + 8); // key len, key+pad, value size, version, value+pad
        put_u64(&mut expected, 3);
        expected.extend_from_slice(b"abc\0\0\0\0\0");
        put_u64(&mut expected, 9);
        put_u64(&mut expected, 6);
        expected.extend_from_slice(b"v\0\0\0\0\0\0\0");
        assert_eq!(out, expected);
        assert_eq!(parse_snapshot_maps(&out).unwrap(), vec![one_map()]);
    }

    #[test]
    fn header_layout_matches_spec_8_2() {
        let header = SnapshotHeader {
            version: 61,
            hash_at_snapshot: Some(Sha256Hash([3; 32])),
            view_history: vec![1, 1, 29],
        };
        let bytes = write_snapshot_public_domain(&header, &[]);
        assert_eq!(bytes[0], 1);
        assert_eq!(&bytes[1..9], &61u64.to_le_bytes());
        assert_eq!(&bytes[9..17], &[0; 8]);
        assert_eq!(&bytes[17..25], &32u64.to_le_bytes());
        assert_eq!(&bytes[57..65], &24u64.to_le_bytes());
        assert_eq!(bytes.len(), 65 + 24);
        assert_eq!(
            parse_snapshot_public_domain(&bytes).unwrap(),
            (header, vec![])
        );
    }

    #[test]
    fn an_absent_hash_at_snapshot_is_written_with_size_zero() {
        let header = SnapshotHeader {
            version: 2,
            hash_at_snapshot: None,
            view_history: vec![],
        };
        let bytes = write_snapshot_public_domain(&header, &[]);
        assert_eq!(&bytes[17..25], &[0; 8]);
        assert_eq!(parse_snapshot_public_domain(&bytes).unwrap().0, header);
    }

    #[test]
    fn a_hash_size_other_than_32_is_rejected() {
        let mut bytes = write_snapshot_public_domain(&SnapshotHeader::default(), &[]);
        bytes[17] = 5;
        assert_eq!(
            parse_snapshot_public_domain(&bytes).unwrap_err(),
            LedgerError::BadSnapshotHashSize {
                offset: 17,
                size: 5
            }
        );
    }

    #[test]
    fn a_write_set_is_not_a_snapshot() {
        assert_eq!(
            parse_snapshot_public_domain(&[4; 90]).unwrap_err(),
            LedgerError::UnexpectedEntryType {
                offset: 0,
                found: EntryType::WriteSetWithCommitEvidenceAndClaims
            }
        );
    }

    #[test]
    fn non_zero_padding_is_rejected_at_its_byte() {
        let mut out = Vec::new();
        write_snapshot_maps(&mut out, &[one_map()]);
        // name (8 + 8), map version (8), map size (8), key len (8), "abc" → padding at 43.
        out[45] = 1;
        assert_eq!(
            parse_snapshot_maps(&out).unwrap_err(),
            LedgerError::NonZeroPadding { offset: 45 }
        );
    }

    #[test]
    fn an_entry_running_past_the_map_size_is_an_overrun() {
        let mut out = Vec::new();
        write_snapshot_maps(&mut out, &[one_map()]);
        out[24] -= 8; // map size 40 → 32: the value (at byte 64) no longer fits
        out.truncate(out.len() - 8);
        assert_eq!(
            parse_snapshot_maps(&out).unwrap_err(),
            LedgerError::SnapshotMapOverrun {
                offset: 32 + 32,
                map_end: 32 + 32
            }
        );
    }

    #[test]
    fn a_value_size_below_eight_is_rejected() {
        let mut out = Vec::new();
        write_snapshot_maps(&mut out, &[one_map()]);
        out[48] = 7; // value size 9 → 7
        assert_eq!(
            parse_snapshot_maps(&out).unwrap_err(),
            LedgerError::SnapshotValueTooShort {
                offset: 48,
                size: 7
            }
        );
    }

    fn arb_snapshot_maps() -> impl Strategy<Value = Vec<SnapshotMap>> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..20);
        let entry =
            (bytes(), any::<u64>(), bytes()).prop_map(|(key, version, value)| SnapshotEntry {
                key,
                version,
                value,
            });
        let map = (
            "[a-z:.]{0,12}",
            any::<u64>(),
            proptest::collection::vec(entry, 0..4),
        )
            .prop_map(|(name, map_version, entries)| SnapshotMap {
                name,
                map_version,
                entries,
            });
        proptest::collection::vec(map, 0..4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn snapshot_maps_round_trip(maps in arb_snapshot_maps()) {
            let mut bytes = Vec::new();
            write_snapshot_maps(&mut bytes, &maps);
            prop_assert_eq!(parse_snapshot_maps(&bytes).unwrap(), maps);
        }

        #[test]
        fn snapshot_public_domains_round_trip(
            version in any::<u64>(),
            hash in proptest::option::of(any::<[u8; 32]>()),
            view_history in proptest::collection::vec(any::<u64>(), 0..6),
            maps in arb_snapshot_maps(),
        ) {
            let header = SnapshotHeader { version, hash_at_snapshot: hash.map(Sha256Hash), view_history };
            let bytes = write_snapshot_public_domain(&header, &maps);
            prop_assert_eq!(parse_snapshot_public_domain(&bytes).unwrap(), (header, maps));
        }
    }
}
