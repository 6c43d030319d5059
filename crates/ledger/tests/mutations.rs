//! Fuzz-as-test (TESTING.md): seeded mutations of real chunks, entries and snapshots — byte
//! flips, truncations, insertions and tampered length fields. The parsers must never panic,
//! whatever they accept must be self-consistent, and every error must point inside the input.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use cloister_ledger::{
    ChunkParse, LedgerError, PUBLIC_DOMAIN_OFFSET, parse_chunk, parse_entry, parse_map_records,
    parse_public_domain, parse_snapshot_file, write_entry, write_public_domain,
};
use common::{ledger_files, snapshot_files};

/// SplitMix64: a tiny seeded generator, so every run replays the same mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Places where a length lives: chunk header, entry sizes, public lengths, table slots.
fn length_fields(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut fields = vec![(0, 8)];
    if let Ok(parse) = parse_chunk(bytes) {
        for e in &parse.entries {
            let at = e.offset as usize;
            fields.push((at + 2, 6));
            fields.push((at + 36, 8));
            fields.push((at + 44 + 9 + 64 + 8, 8)); // first map-name length of a type-4 entry
        }
    }
    let n = bytes.len();
    fields.extend([(n.saturating_sub(4), 4), (n.saturating_sub(8), 4)]);
    fields
}

fn mutate(rng: &mut Rng, original: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    let fields = length_fields(original);
    for _ in 0..1 + rng.below(3) {
        let len = bytes.len();
        match rng.below(5) {
            0 if len > 0 => {
                let at = rng.below(len);
                bytes[at] ^= 1 << rng.below(8);
            }
            1 => bytes.truncate(rng.below(len + 1)),
            2 => {
                let at = rng.below(len + 1);
                let extra: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, extra);
            }
            3 | 4 => {
                let (at, width) = fields[rng.below(fields.len())];
                let interesting = [
                    0,
                    1,
                    len as u64,
                    (len as u64).wrapping_sub(1),
                    (len as u64) + 1,
                    u64::MAX,
                    1 << 32,
                    (1 << 48) - 1,
                    rng.next(),
                ];
                let value = interesting[rng.below(interesting.len())].to_le_bytes();
                if at + width <= bytes.len() {
                    bytes[at..at + width].copy_from_slice(&value[..width]);
                }
            }
            _ => {}
        }
    }
    bytes
}

/// Errors must point inside the input (an offset may equal its length: "ran out here").
fn assert_points_inside(error: &LedgerError, len: usize) {
    for e in [error, error.root_cause()] {
        if let Some(offset) = e.offset() {
            assert!(offset <= len as u64, "{e} points past {len} bytes");
        }
    }
}

fn check_chunk(bytes: &[u8]) -> bool {
    match parse_chunk(bytes) {
        Ok(parse) => {
            check_chunk_consistency(&parse, bytes.len());
            for entry in &parse.entries {
                if let Err(e) = entry.decode() {
                    assert_points_inside(&e, bytes.len());
                }
            }
            true
        }
        Err(e) => {
            assert_points_inside(&e, bytes.len());
            false
        }
    }
}

/// Accepted entries tile the file from byte 8, each inside it (an empty file has none).
fn check_chunk_consistency(parse: &ChunkParse<'_>, len: usize) {
    let mut cursor = 8u64;
    for entry in &parse.entries {
        assert_eq!(entry.offset, cursor);
        cursor += entry.bytes.len() as u64;
        assert!(cursor <= len as u64);
    }
    if let Some(partial) = parse.trailing_partial {
        assert!(!parse.complete);
        assert_eq!(partial as u64, cursor);
    }
}

fn check_entry(bytes: &[u8]) -> bool {
    match parse_entry(bytes) {
        Ok(parts) => {
            let again = write_entry(
                parts.flags,
                &parts.gcm,
                parts.public_domain,
                parts.private_ciphertext,
            );
            assert_eq!(
                again, bytes,
                "an accepted entry is exactly what write_entry produces"
            );
            match parse_public_domain(parts.public_domain) {
                Ok((header, maps)) => {
                    assert_eq!(
                        write_public_domain(&header, &maps).len(),
                        parts.public_domain.len()
                    );
                }
                Err(e) => {
                    assert_points_inside(&e.shifted(PUBLIC_DOMAIN_OFFSET), bytes.len());
                }
            }
            // The private domain is ciphertext; parsing it as records must still be safe.
            if let Err(e) = parse_map_records(parts.private_ciphertext) {
                assert_points_inside(&e, parts.private_ciphertext.len());
            }
            true
        }
        Err(e) => {
            assert_points_inside(&e, bytes.len());
            false
        }
    }
}

fn check_snapshot(bytes: &[u8]) -> bool {
    match parse_snapshot_file(bytes) {
        Ok(snap) => {
            assert_eq!(snap.entry.len() + snap.receipt.len(), bytes.len());
            true
        }
        Err(e) => {
            assert_points_inside(&e, bytes.len());
            false
        }
    }
}

/// Small chunks from each service (with the in-progress ones), to keep the run short.
fn chunk_corpus() -> Vec<Vec<u8>> {
    let mut corpus = Vec::new();
    for service in common::SERVICES {
        let mut files = ledger_files(service);
        files.sort_by_key(|(_, b)| b.len());
        corpus.extend(files.iter().take(3).map(|(_, b)| b.clone()));
        corpus.extend(
            files
                .iter()
                .filter(|(n, _)| !n.contains('-'))
                .map(|(_, b)| b.clone()),
        );
    }
    corpus
}

fn entry_corpus(chunks: &[Vec<u8>]) -> Vec<Vec<u8>> {
    chunks
        .iter()
        .flat_map(|c| {
            parse_chunk(c)
                .unwrap()
                .entries
                .into_iter()
                .map(|e| e.bytes.to_vec())
        })
        .collect()
}

#[test]
fn mutated_real_chunks_never_panic_the_parser() {
    let corpus = chunk_corpus();
    let mut rng = Rng(0xC10157E5);
    let mut accepted = 0;
    let cases = 6_000;
    for _ in 0..cases {
        let original = &corpus[rng.below(corpus.len())];
        if check_chunk(&mutate(&mut rng, original)) {
            accepted += 1;
        }
    }
    // Both outcomes must be exercised, or the mutations are too weak or too strong to mean much.
    assert!(
        accepted > cases / 20 && accepted < cases - cases / 20,
        "accepted {accepted}"
    );
}

#[test]
fn mutated_real_entries_never_panic_the_parser() {
    let corpus = entry_corpus(&chunk_corpus());
    let mut rng = Rng(0x5EED_0002);
    let mut accepted = 0;
    let cases = 6_000;
    for _ in 0..cases {
        let original = &corpus[rng.below(corpus.len())];
        if check_entry(&mutate(&mut rng, original)) {
            accepted += 1;
        }
    }
    assert!(
        accepted > cases / 20 && accepted < cases - cases / 20,
        "accepted {accepted}"
    );
}

#[test]
fn mutated_real_snapshots_never_panic_the_parser() {
    let corpus: Vec<Vec<u8>> = common::SERVICES
        .iter()
        .flat_map(|s| snapshot_files(s).into_iter().map(|(_, b)| b))
        .collect();
    let mut rng = Rng(0x5EED_0003);
    let mut accepted = 0;
    let cases = 1_000;
    for _ in 0..cases {
        let original = &corpus[rng.below(corpus.len())];
        if check_snapshot(&mutate(&mut rng, original)) {
            accepted += 1;
        }
    }
    assert!(accepted > 0 && accepted < cases, "accepted {accepted}");
}

#[test]
fn unmutated_corpus_is_accepted() {
    // The positive control for the three tests above.
    let chunks = chunk_corpus();
    assert!(chunks.iter().all(|c| check_chunk(c)));
    assert!(entry_corpus(&chunks).iter().all(|e| check_entry(e)));
}
