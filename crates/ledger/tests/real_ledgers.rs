//! Every chunk and snapshot of the five real CCF 6 ledgers in testdata/ccf6 parses, and
//! re-serialising what was parsed gives back the same bytes.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use cloister_crypto::sha256;
use cloister_ledger::{
    ChunkName, EntryType, SnapshotName, order_chunks, parse_chunk, parse_snapshot_file,
    write_chunk, write_entry, write_public_domain, write_snapshot_public_domain,
};
use common::{SERVICES, ledger_files, snapshot_files};

/// What one service's ledger holds, gathered in seqno order.
#[derive(Debug, Default)]
struct Survey {
    entries: u64,
    last_seqno: u64,
    types: BTreeMap<u8, u64>,
    views: Vec<u32>,
    flags: BTreeMap<u8, u64>,
    /// seqno → (hash, version) of each `public:ccf.internal.snapshot_evidence` write.
    snapshot_evidence: BTreeMap<u64, serde_json::Value>,
}

fn survey(service: &str) -> Survey {
    let files = ledger_files(service);
    let names: Vec<ChunkName> = files
        .iter()
        .map(|(name, _)| ChunkName::parse(name).unwrap_or_else(|| panic!("{service}/{name}")))
        .collect();
    let ordered = order_chunks(&names).unwrap_or_else(|e| panic!("{service}: {e}"));
    assert_eq!(
        ordered[0].start, 1,
        "{service}: these ledgers start at seqno 1"
    );
    let by_name: BTreeMap<String, &Vec<u8>> = files.iter().map(|(n, b)| (n.clone(), b)).collect();

    let mut s = Survey::default();
    for name in &ordered {
        let file = name.to_string();
        let bytes = by_name[&file];
        let parse = parse_chunk(bytes).unwrap_or_else(|e| panic!("{service}/{file}: {e}"));
        // In this data every named range is a completed chunk and every open name is in progress.
        assert_eq!(parse.complete, name.end.is_some(), "{file}");
        assert_eq!(parse.trailing_partial, None, "{file}");
        name.check_entry_count(parse.entries.len() as u64).unwrap();
        assert_eq!(
            name.start,
            s.last_seqno + 1,
            "{service}/{file} continues the previous chunk"
        );

        let mut chunk_entries = Vec::new();
        for entry in &parse.entries {
            let decoded = entry
                .decode()
                .unwrap_or_else(|e| panic!("{service}/{file}: {e}"));
            let seqno = s.last_seqno + 1;
            assert_eq!(decoded.parts.gcm.seqno(), seqno, "{file}: IV seqno");
            assert_eq!(
                decoded.header.version, seqno,
                "{file}: public header version"
            );
            assert!(!decoded.parts.gcm.is_snapshot());
            s.last_seqno = seqno;
            s.entries += 1;
            *s.types.entry(decoded.header.entry_type as u8).or_default() += 1;
            *s.flags.entry(decoded.parts.flags.0).or_default() += 1;
            if s.views.last() != Some(&decoded.parts.gcm.view()) {
                s.views.push(decoded.parts.gcm.view());
            }
            for map in &decoded.public_maps {
                if map.name == "public:ccf.internal.snapshot_evidence" {
                    let value = serde_json::from_slice(&map.writes[0].1).unwrap();
                    s.snapshot_evidence.insert(seqno, value);
                }
            }

            // Exactness: what was parsed writes back to the very same bytes.
            let p = &decoded.parts;
            let public = write_public_domain(&decoded.header, &decoded.public_maps);
            assert_eq!(
                public, p.public_domain,
                "{file} seqno {seqno}: public domain"
            );
            let again = write_entry(p.flags, &p.gcm, p.public_domain, p.private_ciphertext);
            assert_eq!(again, entry.bytes, "{file} seqno {seqno}: entry");
            chunk_entries.push(entry.bytes);
        }
        if parse.complete {
            assert_eq!(
                &write_chunk(&chunk_entries).unwrap(),
                bytes,
                "{file}: chunk"
            );
        }
    }
    s
}

#[test]
fn every_chunk_of_every_real_ledger_parses_with_contiguous_seqnos() {
    // (entries, last seqno, entry types, views in order) as CCF's own read_ledger.py sees them.
    type Expected = (&'static str, u64, &'static [(u8, u64)], &'static [u32]);
    let expected: [Expected; 5] = [
        ("cose_flipflop_service", 46, &[(4, 46)], &[2]),
        ("double_sealed_service", 509, &[(4, 509)], &[2, 4, 5]),
        ("eol_service", 500, &[(0, 35), (4, 465)], &[2, 4, 6, 8, 10]),
        ("expired_service", 74, &[(3, 26), (4, 48)], &[2, 4]),
        ("sgx_service", 153, &[(0, 37), (4, 116)], &[2, 4, 6, 8]),
    ];
    for (service, entries, types, views) in expected {
        let s = survey(service);
        assert_eq!(s.entries, entries, "{service}");
        assert_eq!(s.last_seqno, entries, "{service}");
        assert_eq!(s.types.into_iter().collect::<Vec<_>>(), types, "{service}");
        assert_eq!(s.views, views, "{service}");
        // Chunks end at signatures flagged FORCE_LEDGER_CHUNK_AFTER or by size; both flags occur.
        assert!(s.flags.keys().all(|f| *f <= 2), "{service}: {:?}", s.flags);
    }
}

#[test]
fn the_old_ledgers_start_with_legacy_write_set_entries() {
    // sgx_service and eol_service were written by CCF versions that used entry type 0 at first.
    for service in ["eol_service", "sgx_service"] {
        let (_, bytes) = &ledger_files(service)[0];
        let parse = parse_chunk(bytes).unwrap();
        let first = parse.entries[0].decode().unwrap();
        assert_eq!(first.header.entry_type, EntryType::WriteSet, "{service}");
        assert!(first.header.entry_type.is_deprecated());
        assert_eq!(first.header.claims_digest, None);
    }
}

#[test]
fn every_real_snapshot_parses_and_matches_its_name_and_evidence() {
    let mut seen = 0;
    for service in SERVICES {
        let evidence = survey(service).snapshot_evidence;
        for (file, bytes) in snapshot_files(service) {
            let name = SnapshotName::parse(&file).unwrap_or_else(|| panic!("{file}"));
            let snap = parse_snapshot_file(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(snap.entry.len() + snap.receipt.len(), bytes.len());
            assert_eq!(snap.header.version, name.seqno, "{file}");
            assert_eq!(snap.parts.gcm.seqno(), name.seqno, "{file}");
            assert!(snap.parts.gcm.is_snapshot(), "{file}");
            assert_eq!(snap.parts.gcm.view(), 0, "{file}");
            assert!(snap.header.hash_at_snapshot.is_some(), "{file}");
            assert!(!snap.public_maps.is_empty(), "{file}");

            // The evidence transaction at E records SHA-256 of the snapshot entry (spec §8.1).
            let recorded = &evidence[&name.evidence_seqno];
            assert_eq!(recorded["version"], name.seqno, "{file}");
            assert_eq!(recorded["hash"], sha256(snap.entry).to_hex(), "{file}");

            // The receipt is JSON whose claims digest is the same hash (spec §8.2).
            assert!(name.committed);
            let receipt: serde_json::Value = serde_json::from_slice(snap.receipt).unwrap();
            assert_eq!(
                receipt["leaf_components"]["claims_digest"],
                sha256(snap.entry).to_hex(),
                "{file}"
            );

            let public = write_snapshot_public_domain(&snap.header, &snap.public_maps);
            assert_eq!(
                public, snap.parts.public_domain,
                "{file}: public domain round trip"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 4, "eol 1, expired 1, sgx 2");
}

#[test]
fn snapshot_headers_match_what_ccf_python_reports() {
    let expected = [
        (
            "eol_service",
            "snapshot_493_494.committed",
            "4edceab90885d4aebe8c6bae2a75c990c2c2f96e6f9272306afa280650f1d04f",
            &[1u64, 1, 36, 36, 66, 66, 160, 160, 329, 329][..],
            36,
        ),
        (
            "expired_service",
            "snapshot_61_62.committed",
            "88c84983388aafde15fdd7a46ea2589982ea41496c3a0eab7f8ec3cb1617c100",
            &[1, 1, 29, 29][..],
            28,
        ),
        (
            "sgx_service",
            "snapshot_99_100.committed",
            "97883a478d121486a9f089043f2a0aacf4d570681489eb874adcff4c2ffdd56f",
            &[1, 1, 38, 38, 71, 71][..],
            28,
        ),
        (
            "sgx_service",
            "snapshot_138_139.committed",
            "34a0e7e1852a445dc84e53e8b9b65e7b6bec9b9ea80841fd5afb62dc11b0468b",
            &[1, 1, 38, 38, 71, 71, 102, 102][..],
            31,
        ),
    ];
    for (service, file, hash, views, public_maps) in expected {
        let files = snapshot_files(service);
        let (_, bytes) = files.iter().find(|(n, _)| n == file).unwrap();
        let snap = parse_snapshot_file(bytes).unwrap();
        assert_eq!(
            snap.header.hash_at_snapshot.unwrap().to_hex(),
            hash,
            "{file}"
        );
        assert_eq!(snap.header.view_history, views, "{file}");
        assert_eq!(snap.public_maps.len(), public_maps, "{file}");
    }
}
