//! A seed replays exactly: the same seed twice gives the same trace hash (every line of every
//! step: ticks, deliveries, drops, crashes, restarts, commits, role changes), and other seeds
//! give other hashes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::BTreeSet;

use cloister_sim::{RunConfig, run};

#[test]
fn four_seeds_run_twice_give_identical_trace_hashes() {
    let mut hashes = BTreeSet::new();
    for (seed, nodes) in [(7, 3), (8, 3), (9, 5), (10, 3)] {
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
    assert_eq!(hashes.len(), 4, "different seeds, different runs");
}
