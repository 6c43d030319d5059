//! The public domain of a write-set entry (spec §2.3) and the map records it and the private
//! plaintext are made of (spec §2.4). Snapshot public domains (entry type 1) live in
//! `snapshot.rs`.

use cloister_crypto::Sha256Hash;
use cloister_merkle::leaf_from_digests;

use crate::error::LedgerError;
use crate::wire::{Reader, put_blob, put_u64, to_u64};

/// Entry types of the public-domain header (spec §2.3). 6.x writes `WriteSetWithCommitEvidenceAndClaims`
/// for every transaction and `Snapshot` for snapshots; the others appear in older ledgers.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryType {
    WriteSet = 0,
    Snapshot = 1,
    WriteSetWithClaims = 2,
    WriteSetWithCommitEvidence = 3,
    WriteSetWithCommitEvidenceAndClaims = 4,
}

impl EntryType {
    /// The type for a byte, `None` above 4 (CCF rejects those: `MAX = 4`).
    pub fn from_u8(value: u8) -> Option<EntryType> {
        match value {
            0 => Some(EntryType::WriteSet),
            1 => Some(EntryType::Snapshot),
            2 => Some(EntryType::WriteSetWithClaims),
            3 => Some(EntryType::WriteSetWithCommitEvidence),
            4 => Some(EntryType::WriteSetWithCommitEvidenceAndClaims),
            _ => None,
        }
    }

    /// Whether the header carries a claims digest (types 2 and 4).
    pub fn has_claims(self) -> bool {
        matches!(
            self,
            EntryType::WriteSetWithClaims | EntryType::WriteSetWithCommitEvidenceAndClaims
        )
    }

    /// Whether the header carries a commit-evidence digest (types 3 and 4).
    pub fn has_commit_evidence(self) -> bool {
        matches!(
            self,
            EntryType::WriteSetWithCommitEvidence | EntryType::WriteSetWithCommitEvidenceAndClaims
        )
    }

    /// Legacy write-set types that 6.x no longer writes (CCF's Python flags them the same way).
    pub fn is_deprecated(self) -> bool {
        matches!(
            self,
            EntryType::WriteSet
                | EntryType::WriteSetWithClaims
                | EntryType::WriteSetWithCommitEvidence
        )
    }
}

/// One map's changes in a write set (spec §2.4). Keys and values are raw bytes; their encoding
/// (blit, JSON, …) is the caller's business (spec §2.6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MapChanges {
    pub name: String,
    pub writes: Vec<(Vec<u8>, Vec<u8>)>,
    pub removes: Vec<Vec<u8>>,
}

/// Public-domain header of a write-set entry (spec §2.3). Digests are present exactly when
/// `entry_type` says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicHeader {
    pub entry_type: EntryType,
    /// The seqno of this transaction.
    pub version: u64,
    /// Present for types 2 and 4 (6.x: 32 zero bytes when the application gave no claims).
    pub claims_digest: Option<Sha256Hash>,
    /// Present for types 3 and 4: SHA-256 of the commit-evidence string (spec §3.1).
    pub commit_evidence_digest: Option<Sha256Hash>,
    /// Always written 0 by CCF; kept so that re-serialising reproduces the bytes read.
    pub max_conflict_version: u64,
}

impl PublicHeader {
    /// The Merkle leaf of the entry this header belongs to, given the SHA-256 of the whole entry
    /// (spec §3.1, legacy forms included).
    pub fn leaf(&self, write_set_digest: &Sha256Hash) -> Sha256Hash {
        leaf_from_digests(
            write_set_digest,
            self.commit_evidence_digest.as_ref(),
            self.claims_digest.as_ref(),
        )
    }
}

/// Appends the serialised map records (spec §2.4): the private plaintext, or the tail of the
/// public domain. The caller passes maps sorted by name and entries sorted by key (CCF's order);
/// this function writes them in the order given.
pub fn write_map_records(out: &mut Vec<u8>, maps: &[MapChanges]) {
    for map in maps {
        put_blob(out, map.name.as_bytes());
        put_u64(out, 0); // read_version: NoVersion in 6.x
        put_u64(out, 0); // read_count: reads are never serialised
        put_u64(out, to_u64(map.writes.len()));
        for (key, value) in &map.writes {
            put_blob(out, key);
            put_blob(out, value);
        }
        put_u64(out, to_u64(map.removes.len()));
        for key in &map.removes {
            put_blob(out, key);
        }
    }
}

/// Public domain = header fields + map records of the public maps (spec §2.3).
///
/// # Panics
/// If `header` is inconsistent (a digest present or missing against what `entry_type` says, or
/// `entry_type` is `Snapshot`): that is a caller bug, and writing would produce an entry no
/// reader could parse back to the same header.
pub fn write_public_domain(header: &PublicHeader, maps: &[MapChanges]) -> Vec<u8> {
    assert!(
        header.entry_type != EntryType::Snapshot,
        "snapshots use write_snapshot_public_domain"
    );
    assert_eq!(
        header.claims_digest.is_some(),
        header.entry_type.has_claims(),
        "claims digest presence must match entry type {:?}",
        header.entry_type
    );
    assert_eq!(
        header.commit_evidence_digest.is_some(),
        header.entry_type.has_commit_evidence(),
        "commit evidence digest presence must match entry type {:?}",
        header.entry_type
    );
    let mut out = Vec::new();
    out.push(header.entry_type as u8);
    put_u64(&mut out, header.version);
    if let Some(claims) = &header.claims_digest {
        out.extend_from_slice(claims.as_bytes());
    }
    if let Some(evidence) = &header.commit_evidence_digest {
        out.extend_from_slice(evidence.as_bytes());
    }
    put_u64(&mut out, header.max_conflict_version);
    write_map_records(&mut out, maps);
    out
}

/// Parses a write-set public domain (entry types 0, 2, 3, 4). A snapshot public domain is
/// `UnexpectedEntryType`: use `parse_snapshot_public_domain`.
pub fn parse_public_domain(public: &[u8]) -> Result<(PublicHeader, Vec<MapChanges>), LedgerError> {
    let mut reader = Reader::new(public);
    let entry_type = read_entry_type(&mut reader)?;
    if entry_type == EntryType::Snapshot {
        return Err(LedgerError::UnexpectedEntryType {
            offset: 0,
            found: entry_type,
        });
    }
    let version = reader.u64("version")?;
    let claims_digest = if entry_type.has_claims() {
        Some(reader.hash("claims digest")?)
    } else {
        None
    };
    let commit_evidence_digest = if entry_type.has_commit_evidence() {
        Some(reader.hash("commit evidence digest")?)
    } else {
        None
    };
    let max_conflict_version = reader.u64("max_conflict_version")?;
    let header = PublicHeader {
        entry_type,
        version,
        claims_digest,
        commit_evidence_digest,
        max_conflict_version,
    };
    let maps = read_map_records(&mut reader)?;
    Ok((header, maps))
}

/// Parses a sequence of map records to the end of `bytes` (the private plaintext).
pub fn parse_map_records(bytes: &[u8]) -> Result<Vec<MapChanges>, LedgerError> {
    read_map_records(&mut Reader::new(bytes))
}

/// The first byte of every public domain.
pub(crate) fn read_entry_type(reader: &mut Reader<'_>) -> Result<EntryType, LedgerError> {
    let offset = reader.offset();
    let value = reader.u8("entry type")?;
    EntryType::from_u8(value).ok_or(LedgerError::UnknownEntryType { offset, value })
}

/// A map name: u64 length + UTF-8 bytes.
pub(crate) fn read_map_name(reader: &mut Reader<'_>) -> Result<String, LedgerError> {
    let offset = reader.offset();
    let bytes = reader.blob("map name")?;
    let name = std::str::from_utf8(bytes).map_err(|_| LedgerError::MapNameNotUtf8 { offset })?;
    Ok(name.to_owned())
}

fn read_map_records(reader: &mut Reader<'_>) -> Result<Vec<MapChanges>, LedgerError> {
    let mut maps = Vec::new();
    while !reader.is_empty() {
        maps.push(read_map_record(reader)?);
    }
    Ok(maps)
}

fn read_map_record(reader: &mut Reader<'_>) -> Result<MapChanges, LedgerError> {
    let name = read_map_name(reader)?;
    // read_version: 0 in 6.x, INT64_MIN in 0.x ledgers; CCF's readers ignore it (spec §2.4).
    reader.u64("read_version")?;
    let reads_offset = reader.offset();
    let read_count = reader.u64("read_count")?;
    if read_count != 0 {
        return Err(LedgerError::ReadsPresent {
            offset: reads_offset,
            count: read_count,
        });
    }
    // Counts come from untrusted bytes: never pre-allocate from them. Each iteration consumes
    // at least 8 bytes, so the loops are bounded by the input length.
    let write_count = reader.u64("write_count")?;
    let mut writes = Vec::new();
    for _ in 0..write_count {
        let key = reader.blob("write key")?.to_vec();
        let value = reader.blob("write value")?.to_vec();
        writes.push((key, value));
    }
    let remove_count = reader.u64("remove_count")?;
    let mut removes = Vec::new();
    for _ in 0..remove_count {
        removes.push(reader.blob("remove key")?.to_vec());
    }
    Ok(MapChanges {
        name,
        writes,
        removes,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn header(entry_type: EntryType, version: u64) -> PublicHeader {
        PublicHeader {
            entry_type,
            version,
            claims_digest: entry_type.has_claims().then_some(Sha256Hash([7; 32])),
            commit_evidence_digest: entry_type
                .has_commit_evidence()
                .then_some(Sha256Hash([9; 32])),
            max_conflict_version: 0,
        }
    }

    #[test]
    fn digests_are_present_exactly_for_their_entry_types() {
        for (t, len) in [
            (EntryType::WriteSet, 17),
            (EntryType::WriteSetWithClaims, 49),
            (EntryType::WriteSetWithCommitEvidence, 49),
            (EntryType::WriteSetWithCommitEvidenceAndClaims, 81),
        ] {
            let bytes = write_public_domain(&header(t, 3), &[]);
            assert_eq!(bytes.len(), len, "{t:?}");
            assert_eq!(parse_public_domain(&bytes).unwrap(), (header(t, 3), vec![]));
        }
    }

    #[test]
    fn entry_type_above_four_is_rejected_with_its_offset() {
        assert_eq!(
            parse_public_domain(&[5, 0, 0]).unwrap_err(),
            LedgerError::UnknownEntryType {
                offset: 0,
                value: 5
            }
        );
    }

    #[test]
    fn a_snapshot_public_domain_is_not_a_write_set() {
        let mut bytes = vec![1];
        bytes.extend_from_slice(&[0; 16]);
        assert_eq!(
            parse_public_domain(&bytes).unwrap_err(),
            LedgerError::UnexpectedEntryType {
                offset: 0,
                found: EntryType::Snapshot
            }
        );
    }

    #[test]
    fn map_record_layout_matches_spec_2_4() {
        let maps = [MapChanges {
            name: "m".into(),
            writes: vec![(b"k".to_vec(), b"vv".to_vec())],
            removes: vec![b"r".to_vec()],
        }];
        let mut out = Vec::new();
        write_map_records(&mut out, &maps);
        let mut expected = Vec::new();
        for part in [&1u64.to_le_bytes()[..], b"m", &[0; 16], &1u64.to_le_bytes()] {
            expected.extend_from_slice(part);
        }
        for part in [&1u64.to_le_bytes()[..], b"k", &2u64.to_le_bytes(), b"vv"] {
            expected.extend_from_slice(part);
        }
        for part in [&1u64.to_le_bytes()[..], &1u64.to_le_bytes(), b"r"] {
            expected.extend_from_slice(part);
        }
        assert_eq!(out, expected);
    }

    #[test]
    fn a_nonzero_read_count_is_rejected() {
        let mut bytes = Vec::new();
        put_blob(&mut bytes, b"m");
        put_u64(&mut bytes, 0);
        put_u64(&mut bytes, 1);
        assert_eq!(
            parse_map_records(&bytes).unwrap_err(),
            LedgerError::ReadsPresent {
                offset: 17,
                count: 1
            }
        );
    }

    #[test]
    fn a_non_utf8_map_name_is_rejected() {
        let mut bytes = Vec::new();
        put_blob(&mut bytes, &[0xff, 0xfe]);
        assert_eq!(
            parse_map_records(&bytes).unwrap_err(),
            LedgerError::MapNameNotUtf8 { offset: 0 }
        );
    }

    #[test]
    fn a_huge_write_count_fails_fast_as_truncated() {
        let mut bytes = Vec::new();
        put_blob(&mut bytes, b"m");
        put_u64(&mut bytes, 0);
        put_u64(&mut bytes, 0);
        put_u64(&mut bytes, u64::MAX);
        assert!(matches!(
            parse_map_records(&bytes).unwrap_err(),
            LedgerError::Truncated {
                field: "write key",
                offset: 33,
                ..
            }
        ));
    }

    #[test]
    fn empty_private_plaintext_has_no_maps() {
        assert_eq!(parse_map_records(&[]).unwrap(), vec![]);
    }

    pub(crate) fn arb_maps() -> impl Strategy<Value = Vec<MapChanges>> {
        let bytes = || proptest::collection::vec(any::<u8>(), 0..12);
        let map = (
            "[a-z:.]{0,12}",
            proptest::collection::vec((bytes(), bytes()), 0..4),
            proptest::collection::vec(bytes(), 0..3),
        )
            .prop_map(|(name, writes, removes)| MapChanges {
                name,
                writes,
                removes,
            });
        proptest::collection::vec(map, 0..4)
    }

    fn arb_header() -> impl Strategy<Value = PublicHeader> {
        let types = prop_oneof![
            Just(EntryType::WriteSet),
            Just(EntryType::WriteSetWithClaims),
            Just(EntryType::WriteSetWithCommitEvidence),
            Just(EntryType::WriteSetWithCommitEvidenceAndClaims),
        ];
        (
            types,
            any::<u64>(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            any::<u64>(),
        )
            .prop_map(
                |(entry_type, version, claims, evidence, max_conflict_version)| PublicHeader {
                    entry_type,
                    version,
                    claims_digest: entry_type.has_claims().then_some(Sha256Hash(claims)),
                    commit_evidence_digest: entry_type
                        .has_commit_evidence()
                        .then_some(Sha256Hash(evidence)),
                    max_conflict_version,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn public_domains_round_trip(header in arb_header(), maps in arb_maps()) {
            let bytes = write_public_domain(&header, &maps);
            prop_assert_eq!(parse_public_domain(&bytes).unwrap(), (header, maps));
        }

        #[test]
        fn map_records_round_trip(maps in arb_maps()) {
            let mut bytes = Vec::new();
            write_map_records(&mut bytes, &maps);
            prop_assert_eq!(parse_map_records(&bytes).unwrap(), maps);
        }

        #[test]
        fn whatever_parses_as_map_records_re_serialises_to_the_same_length(
            bytes in proptest::collection::vec(any::<u8>(), 0..200)
        ) {
            // Only read_version is dropped on parsing, and it is written back as 8 bytes.
            if let Ok(maps) = parse_map_records(&bytes) {
                let mut again = Vec::new();
                write_map_records(&mut again, &maps);
                prop_assert_eq!(again.len(), bytes.len());
            }
            if let Ok((header, maps)) = parse_public_domain(&bytes) {
                prop_assert_eq!(write_public_domain(&header, &maps).len(), bytes.len());
            }
        }
    }
}
