//! Store commits per second, one thread: one key per transaction, 100-byte values, alternating
//! public and private maps (so half the entries carry AES-GCM ciphertext, all carry a tag).

use std::hint::black_box;

use cloister_kv::{EntryFlags, LedgerSecrets, Store};
use cloister_types::View;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const VALUE_BYTES: usize = 100;
const TXS_PER_BATCH: u64 = 1_000;

fn commits(c: &mut Criterion) {
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(TXS_PER_BATCH));
    group.bench_function("commit_1k_mixed_public_private_100B", |b| {
        b.iter_batched(
            || Store::new(LedgerSecrets::with_first([7; 32])),
            |mut store| {
                for i in 0..TXS_PER_BATCH {
                    let mut tx = store.begin();
                    let map = if i % 2 == 0 { "public:bench" } else { "bench" };
                    tx.put(map, i.to_be_bytes(), [i as u8; VALUE_BYTES]);
                    let entry = store.commit(tx, View(2), None, EntryFlags::default());
                    black_box(entry.ok().flatten());
                }
                store
            },
            BatchSize::LargeInput,
        );
    });
    group.bench_function("read_modify_write_1k_on_10k_keys", |b| {
        let mut seeded = Store::new(LedgerSecrets::with_first([7; 32]));
        for i in 0..10_000u64 {
            let mut tx = seeded.begin();
            tx.put("bench", i.to_be_bytes(), [0u8; VALUE_BYTES]);
            let _ = seeded.commit(tx, View(2), None, EntryFlags::default());
        }
        seeded.compact(seeded.current_version());
        b.iter(|| {
            for i in 0..TXS_PER_BATCH {
                let key = (i * 7919 % 10_000).to_be_bytes();
                let mut tx = seeded.begin();
                let old = tx.get("bench", &key).unwrap_or_default();
                tx.put(
                    "bench",
                    key,
                    [old.first().copied().unwrap_or(0).wrapping_add(1); VALUE_BYTES],
                );
                black_box(seeded.commit(tx, View(2), None, EntryFlags::default()).ok());
            }
        });
    });
    group.bench_function("apply_1k_mixed_public_private_100B", |b| {
        let mut primary = Store::new(LedgerSecrets::with_first([7; 32]));
        let entries: Vec<Vec<u8>> = (0..TXS_PER_BATCH)
            .filter_map(|i| {
                let mut tx = primary.begin();
                let map = if i % 2 == 0 { "public:bench" } else { "bench" };
                tx.put(map, i.to_be_bytes(), [i as u8; VALUE_BYTES]);
                let entry = primary.commit(tx, View(2), None, EntryFlags::default());
                entry.ok().flatten().map(|e| e.bytes)
            })
            .collect();
        b.iter_batched(
            || Store::new(LedgerSecrets::with_first([7; 32])),
            |mut backup| {
                for bytes in &entries {
                    black_box(backup.apply_entry(bytes).ok());
                }
                backup
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, commits);
criterion_main!(benches);
