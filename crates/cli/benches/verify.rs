//! `cloister ledger verify` throughput beside raw SHA-256 on the same bytes, on this machine.
//!
//! Writes a sample ledger (default 100,000 transactions of 1 KiB values; override with
//! `CLOISTER_BENCH_TRANSACTIONS`), then prints MB/s of: SHA-256 over every chunk file on one
//! core; the full verifier (read files, hash every entry, rebuild the Merkle tree, check every
//! node and COSE signature); and parsing alone. Run: `cargo bench -p cloister --bench verify`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cloister::sample_ledger::{SampleSpec, write_sample_ledger};
use cloister_check::{LedgerOptions, collect_chunks, verify_ledger};
use cloister_crypto::sha256;

const RUNS: usize = 5;

fn main() -> anyhow::Result<()> {
    let transactions = std::env::var("CLOISTER_BENCH_TRANSACTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // CCF's default cadence (a signature every 5,000 transactions), then a dense one where the
    // public-key operations of ~1,000 signatures weigh more than the hashing.
    for sig_tx_interval in [5_000, 100] {
        println!("--- a signature every {sig_tx_interval} transactions");
        run(transactions, sig_tx_interval)?;
    }
    Ok(())
}

fn run(transactions: u64, sig_tx_interval: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let spec = SampleSpec {
        transactions,
        sig_tx_interval,
        chunk_threshold_bytes: 5 * 1000 * 1000,
        value_bytes: 1024,
        seed: 3,
        ..SampleSpec::default()
    };
    let started = Instant::now();
    let sample = write_sample_ledger(dir.path(), &spec)?;
    let written = started.elapsed();
    let chunks = collect_chunks(
        &[dir.path().to_path_buf()],
        LedgerOptions {
            uncommitted: true,
            recovery: false,
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let paths: Vec<PathBuf> = chunks.iter().map(|c| c.path.clone()).collect();
    let bytes: u64 = paths
        .iter()
        .map(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let mb = bytes as f64 / 1e6;
    println!(
        "ledger: {} transactions, {} signatures, {} chunks, {mb:.1} MB (written in {:.1} s: {:.0} tx/s)",
        sample.last_seqno,
        sample.signatures,
        chunks.len(),
        written.as_secs_f64(),
        sample.last_seqno as f64 / written.as_secs_f64()
    );

    let contents: Vec<Vec<u8>> = paths.iter().map(fs::read).collect::<Result<_, _>>()?;
    let sha = best(|| {
        for file in &contents {
            std::hint::black_box(sha256(file));
        }
    });
    let verify = best(|| {
        let report = verify_ledger(&chunks, true, &mut |_| {});
        assert!(report.complete, "{:?}", report.error);
    });
    let parse_only = best(|| {
        let report = verify_ledger(&chunks, false, &mut |_| {});
        assert!(report.complete);
    });
    let rate = |d: Duration| mb / d.as_secs_f64();
    println!("raw SHA-256, one core, in memory:  {:>8.1} MB/s", rate(sha));
    println!(
        "cloister ledger verify:             {:>8.1} MB/s  ({:.2}x raw SHA-256)",
        rate(verify),
        rate(verify) / rate(sha)
    );
    println!(
        "read + hash + parse, no checks:     {:>8.1} MB/s",
        rate(parse_only)
    );
    Ok(())
}

/// The fastest of `RUNS` runs (the least disturbed by the rest of the machine).
fn best(mut run: impl FnMut()) -> Duration {
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}
