//! A seed replays exactly: the same seed twice gives the same trace hash (every line of every
//! step: ticks, deliveries, drops, crashes, restarts, commits, role changes), and other seeds
//! give other hashes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::BTreeSet;

use cloister_sim::{RunConfig, run};

#[test]
fn sixteen_seeds_run_twice_give_identical_trace_hashes() {
    let mut hashes = BTreeSet::new();
    let seeds = (100..116).map(|seed| (seed, if seed % 4 == 0 { 5 } else { 3 }));
    for (seed, nodes) in seeds {
        let mut config = RunConfig::new(seed, nodes);
        config.safety_ms = 8_000;
        config.keep_trace = true;
        let first = run(config.clone());
        let second = run(config);
        assert!(
            first.passed(),
            "{}",
            first.failure_text().unwrap_or_default()
        );
        assert_eq!(first.hash, second.hash, "seed {seed} did not replay");
        assert_eq!(first.stats, second.stats);
        assert_eq!(first.trace, second.trace);
        assert!(first.trace.len() > 100);
        hashes.insert(first.hash);
    }
    assert_eq!(hashes.len(), 16, "different seeds, different runs");
}
