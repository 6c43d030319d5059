//! The checks catch bugs: with an injected bug, a violation is found within 200 seeds, and the
//! report names the seed, the step, the invariant and the command that replays it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use cloister_sim::{Bug, RunConfig, run};

fn first_failure(bug: Bug, invariant: &str) -> u64 {
    for seed in 0..200 {
        let mut config = RunConfig::new(seed, 3);
        config.safety_ms = 5_000;
        config.bug = Some(bug);
        let report = run(config);
        if let Some(failure) = &report.failure {
            assert_eq!(failure.violation.invariant, invariant, "{failure:?}");
            let text = report.failure_text().unwrap();
            assert!(text.contains(&format!("seed {seed} ")), "{text}");
            assert!(text.contains(&format!("step {}", failure.step)), "{text}");
            assert!(
                text.contains(&format!(
                    "cargo run -p cloister-sim --release -- --seed {seed} --nodes 3 --safety-ms 5000 --bug {bug}"
                )),
                "{text}"
            );
            return seed;
        }
    }
    panic!("{bug} was not caught in 200 seeds");
}

#[test]
fn committing_without_a_quorum_is_caught_by_replication() {
    first_failure(Bug::CommitWithoutQuorum, "Replication");
}

#[test]
fn committing_an_unsigned_entry_is_caught_by_signature_at_commit() {
    first_failure(Bug::CommitUnsigned, "SignatureAtCommit");
}
