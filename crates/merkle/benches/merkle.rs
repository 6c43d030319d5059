//! Merkle tree costs: appends/s up to 1 M leaves, root and path at 1 M leaves, flush, and the
//! serialisation a signature transaction stores.

use std::hint::black_box;

use cloister_crypto::{Sha256Hash, sha256};
use cloister_merkle::MerkleTree;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const MILLION: u64 = 1_000_000;

fn leaf(i: u64) -> Sha256Hash {
    sha256(&i.to_le_bytes())
}

fn tree_of(n: u64) -> MerkleTree {
    let mut tree = MerkleTree::new();
    (0..n).for_each(|i| tree.append(leaf(i)));
    tree
}

fn appends(c: &mut Criterion) {
    // The floor: one inner node is one SHA-256 over 64 bytes.
    let pair = [7u8; 64];
    c.bench_function("sha256 of 64 bytes", |b| {
        b.iter(|| black_box(sha256(black_box(&pair))))
    });
    let mut group = c.benchmark_group("append");
    group.sample_size(10);
    for n in [1_000, 100_000, MILLION] {
        let leaves: Vec<Sha256Hash> = (0..n).map(leaf).collect();
        group.throughput(Throughput::Elements(n));
        group.bench_function(format!("{n} leaves"), |b| {
            b.iter(|| {
                let mut tree = MerkleTree::new();
                leaves.iter().for_each(|l| tree.append(*l));
                black_box(tree.num_leaves())
            })
        });
    }
    group.finish();
}

fn root_and_path(c: &mut Criterion) {
    let mut tree = tree_of(MILLION - 1);
    let mut group = c.benchmark_group("at 1M leaves");
    // What a signature costs: one append, then the root (the cache is cold after the append).
    // The tree grows by a few thousand leaves while this runs, which does not change its cost.
    let mut grower = tree.clone();
    let mut next = MILLION;
    group.bench_function("append + root", |b| {
        b.iter(|| {
            next += 1;
            grower.append(leaf(next));
            black_box(grower.root().ok())
        })
    });
    drop(grower);
    tree.append(leaf(MILLION));
    group.bench_function("root (cached)", |b| b.iter(|| black_box(tree.root().ok())));
    let mut i = 0u64;
    group.bench_function("path (warm root)", |b| {
        b.iter(|| {
            i = (i + 7919) % MILLION;
            black_box(tree.path(i).ok())
        })
    });
    group.bench_function("serialise last 5000", |b| {
        b.iter(|| black_box(tree.serialise(MILLION - 5_000, MILLION - 1).ok()))
    });
    let bytes = tree
        .serialise(MILLION - 5_000, MILLION - 1)
        .unwrap_or_default();
    group.bench_function("deserialise 5000", |b| {
        b.iter(|| black_box(MerkleTree::deserialise(&bytes).ok()))
    });
    group.sample_size(10);
    group.bench_function("flush_to 999_990", |b| {
        b.iter_batched_ref(
            || tree.clone(),
            |t| black_box(t.flush_to(MILLION - 10).ok()),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, appends, root_and_path);
criterion_main!(benches);
