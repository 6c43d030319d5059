//! What one run is: the seed, the number of nodes, how long each phase lasts, whether to keep
//! the trace's lines, and an injected bug (tests of the checks only). Plus the simulated
//! service's timers, scaled down from CCF's defaults so that a run sees many elections.

use std::fmt;
use std::str::FromStr;

/// The node clock's tick.
pub const TICK_MS: u64 = 10;
/// Wall-clock seconds at simulated time 0 (certificates are valid around it).
pub const NOW_UNIX: i64 = 1_800_000_000;
/// Raft election timeout (randomised in [0.5, 1] × this by Raft).
pub const ELECTION_TIMEOUT_MS: u64 = 1_000;
/// Raft heartbeat period.
pub const MESSAGE_TIMEOUT_MS: u64 = 100;
/// A signature after this long with unsigned writes (CCF `ledger_signatures.delay`).
pub const SIG_MS_INTERVAL: u64 = 100;
/// A signature after this many unsigned writes (CCF `ledger_signatures.tx_count`).
pub const SIG_TX_INTERVAL: u64 = 50;
/// Liveness: the healed service must elect within this many election timeouts…
pub const ELECTION_TIMEOUTS_TO_ELECT: u64 = 10;
/// …and converge, and commit a new write, within this long.
pub const CONVERGE_MS: u64 = 30_000;

/// A bug the simulator injects so that tests can show the checks catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// The primary commits as soon as it wrote a signature, without waiting for a quorum.
    CommitWithoutQuorum,
    /// The primary commits entries that are not signatures.
    CommitUnsigned,
}

impl FromStr for Bug {
    type Err = String;
    fn from_str(text: &str) -> Result<Bug, String> {
        match text {
            "commit-without-quorum" => Ok(Bug::CommitWithoutQuorum),
            "commit-unsigned" => Ok(Bug::CommitUnsigned),
            other => Err(format!(
                "unknown bug {other:?} (commit-without-quorum or commit-unsigned)"
            )),
        }
    }
}

impl fmt::Display for Bug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bug::CommitWithoutQuorum => "commit-without-quorum",
            Bug::CommitUnsigned => "commit-unsigned",
        })
    }
}

/// One run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunConfig {
    pub seed: u64,
    /// Nodes at the start (3 or 5); topology changes may add more.
    pub nodes: usize,
    /// Simulated time with faults.
    pub safety_ms: u64,
    /// Keep the trace's lines (for printing), not just their hash.
    pub keep_trace: bool,
    pub bug: Option<Bug>,
    /// Faults to use instead of the seed's draw (tests that need a class on; not replayable
    /// from the command line).
    pub faults: Option<crate::faults::FaultPlan>,
}

impl RunConfig {
    /// Seed `seed` with `nodes` nodes and a 30 s safety phase.
    pub fn new(seed: u64, nodes: usize) -> RunConfig {
        RunConfig {
            seed,
            nodes,
            safety_ms: 30_000,
            keep_trace: false,
            bug: None,
            faults: None,
        }
    }

    /// The command that replays this run.
    pub fn command(&self) -> String {
        let mut out = format!(
            "cargo run -p cloister-sim --release -- --seed {} --nodes {}",
            self.seed, self.nodes
        );
        if self.safety_ms != 30_000 {
            out.push_str(&format!(" --safety-ms {}", self.safety_ms));
        }
        if let Some(bug) = self.bug {
            out.push_str(&format!(" --bug {bug}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bugs_parse_and_the_replay_command_names_everything_that_shapes_a_run() {
        assert_eq!("commit-unsigned".parse(), Ok(Bug::CommitUnsigned));
        assert!("commit-never".parse::<Bug>().is_err());
        let mut config = RunConfig::new(17, 5);
        assert_eq!(
            config.command(),
            "cargo run -p cloister-sim --release -- --seed 17 --nodes 5"
        );
        config.bug = Some(Bug::CommitWithoutQuorum);
        config.safety_ms = 5_000;
        assert!(
            config
                .command()
                .ends_with("--safety-ms 5000 --bug commit-without-quorum")
        );
    }
}
