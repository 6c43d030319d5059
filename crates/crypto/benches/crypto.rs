//! Throughput of the operations on CCF's hot paths: P-384 root signatures (one per signature
//! transaction, §3.5; randomised aws-lc and RFC 6979 deterministic for seeded keys), their
//! verification (every backup, every receipt), AES-GCM over entry private domains and SHA-256
//! over whole entries (§3.1).

// A benchmark whose fixed setup fails has nothing to measure; stopping loudly is right.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use cloister_crypto::{Aes256GcmKey, Curve, EcKeyPair, SeededEntropy, sha256};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn ecdsa_p384(c: &mut Criterion) {
    // A seeded key signs with RFC 6979 (RustCrypto); the same key read from PEM signs with
    // aws-lc's randomised nonces, as keys from OsEntropy do.
    let seeded = EcKeyPair::generate(Curve::P384, &mut SeededEntropy::from_seed(1)).unwrap();
    let key = EcKeyPair::from_pem(&seeded.to_pem()).unwrap();
    let public = key.public_key();
    let root = sha256(b"merkle root").0;
    let sig = key.sign_prehashed_der(&root).unwrap();
    c.bench_function("p384_sign_prehashed", |b| {
        b.iter(|| key.sign_prehashed_der(black_box(&root)))
    });
    c.bench_function("p384_sign_prehashed_rfc6979", |b| {
        b.iter(|| seeded.sign_prehashed_der(black_box(&root)))
    });
    c.bench_function("p384_verify_prehashed", |b| {
        b.iter(|| public.verify_prehashed_der(black_box(&root), black_box(&sig)))
    });
}

fn aes_gcm(c: &mut Criterion) {
    let key = Aes256GcmKey::new(&[7; 32]);
    let mut group = c.benchmark_group("aes256gcm_encrypt");
    for size in [1024usize, 64 * 1024] {
        let mut buf = vec![0u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("{size}B"), |b| {
            b.iter(|| key.encrypt_in_place(&[1; 12], b"public domain", black_box(&mut buf)))
        });
    }
    group.finish();
}

fn sha(c: &mut Criterion) {
    let mut group = c.benchmark_group("sha256");
    for size in [1024usize, 64 * 1024] {
        let data = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("{size}B"), |b| b.iter(|| sha256(black_box(&data))));
    }
    group.finish();
}

criterion_group!(benches, ecdsa_p384, aes_gcm, sha);
criterion_main!(benches);
