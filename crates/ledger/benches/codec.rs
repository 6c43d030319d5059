//! Throughput of the ledger codecs on real data: reading every chunk of a real CCF ledger (what
//! the verifier and a recovering node do), building entries and chunks (what every commit does),
//! and reading a real snapshot (what a joining node does).

// Fixture reading and fixed setup: a benchmark that cannot load its input has nothing to measure.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::hint::black_box;
use std::path::Path;

use cloister_crypto::Sha256Hash;
use cloister_ledger::{
    EntryFlags, EntryType, GcmHeader, MapChanges, PublicHeader, parse_chunk, parse_snapshot_file,
    write_chunk, write_entry, write_public_domain,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn fixture_dir(service: &str, dir: &str) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ccf6")
        .join(service)
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

fn read_real_ledger(c: &mut Criterion) {
    let chunks = fixture_dir("eol_service", "ledger");
    let total: usize = chunks.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("eol_ledger");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("parse_chunks", |b| {
        b.iter(|| {
            chunks
                .iter()
                .map(|c| parse_chunk(black_box(c)).unwrap().entries.len())
                .sum::<usize>()
        })
    });
    group.bench_function("parse_chunks_and_decode_public_domains", |b| {
        b.iter(|| {
            let mut maps = 0;
            for chunk in &chunks {
                for entry in parse_chunk(black_box(chunk)).unwrap().entries {
                    maps += entry.decode().unwrap().public_maps.len();
                }
            }
            maps
        })
    });
    group.finish();
}

fn write_entries(c: &mut Criterion) {
    let header = PublicHeader {
        entry_type: EntryType::WriteSetWithCommitEvidenceAndClaims,
        version: 42,
        claims_digest: Some(Sha256Hash([0; 32])),
        commit_evidence_digest: Some(Sha256Hash([1; 32])),
        max_conflict_version: 0,
    };
    let maps: Vec<MapChanges> = (0..4)
        .map(|m| MapChanges {
            name: format!("public:app.map{m}"),
            writes: (0..16u32)
                .map(|k| (k.to_le_bytes().to_vec(), vec![7; 64]))
                .collect(),
            removes: vec![],
        })
        .collect();
    let gcm = GcmHeader {
        tag: [0; 16],
        iv: GcmHeader::iv_for(42, 2, false),
    };
    let private = vec![3u8; 1024];
    let public = write_public_domain(&header, &maps);
    let entry = write_entry(EntryFlags(0), &gcm, &public, &private);
    let mut group = c.benchmark_group("write");
    group.throughput(Throughput::Bytes(entry.len() as u64));
    group.bench_function("public_domain_and_entry_64_writes", |b| {
        b.iter(|| {
            let public = write_public_domain(black_box(&header), black_box(&maps));
            write_entry(EntryFlags(0), &gcm, &public, &private)
        })
    });
    let entries: Vec<&[u8]> = (0..100).map(|_| entry.as_slice()).collect();
    group.throughput(Throughput::Bytes((entry.len() * 100) as u64));
    group.bench_function("chunk_of_100_entries", |b| {
        b.iter(|| write_chunk(black_box(&entries)).unwrap())
    });
    group.finish();
}

fn read_real_snapshot(c: &mut Criterion) {
    let snapshot = fixture_dir("eol_service", "snapshots").remove(0);
    let mut group = c.benchmark_group("eol_snapshot");
    group.throughput(Throughput::Bytes(snapshot.len() as u64));
    group.bench_function("parse_snapshot_file", |b| {
        b.iter(|| {
            parse_snapshot_file(black_box(&snapshot))
                .unwrap()
                .public_maps
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, read_real_ledger, write_entries, read_real_snapshot);
criterion_main!(benches);
