//! Invariants of a running service as pure functions, named after CCF's TLA+ specification
//! (`tla/consensus/ccfraft.tla`, `tla/consistency`) where it has one (TESTING.md "Invariants").
//!
//! A driver (the simulator) describes each node after every step as a [`NodeState`]: role,
//! view, commit and the log it wrote, each entry summarised by a running hash
//! ([`LogEntry::next`]). Every check is `fn(&Ghost, &[NodeState]) -> Result<(), Violation>`
//! over the current states and the [`Ghost`] of what earlier steps showed; [`Checker`] runs
//! them all and then folds the step into the ghost. Checks look only at entries changed since
//! the previous step, so a step costs O(nodes + new entries).

mod client;
mod commit;
mod election;
mod ghost;
mod log;
mod model;
mod monotonic;
mod storage;
#[cfg(test)]
mod testkit;

pub use client::{CLIENT_STATUS, ClientHistory, NO_LOST_WRITES, check_status, no_lost_writes};
pub use commit::{
    COMMITTED_PREFIX, LEADER_COMPLETENESS, REPLICATION, SIGNATURE_AT_COMMIT, committed_prefix,
    leader_completeness, replication, signature_at_commit,
};
pub use election::{ELECTION_SAFETY, election_safety};
pub use ghost::{Ghost, NodeGhost};
pub use log::{LOG_MATCHING, MONO_LOG, log_matching, mono_log};
pub use model::{LogEntry, NodeState, Role, Violation, quorum};
pub use monotonic::{MONOTONIC_COMMIT, MONOTONIC_VIEW, monotonic};
pub use storage::{
    DAMAGE_DETECTED, Durable, RESTART_REMEMBERS, restart_keeps_only_intact, restart_remembers,
};

/// One invariant over a step.
pub type Check = fn(&Ghost, &[NodeState<'_>]) -> Result<(), Violation>;

/// Every per-step invariant, in the order they are checked.
pub const CHECKS: &[Check] = &[
    election_safety,
    log_matching,
    mono_log,
    monotonic,
    committed_prefix,
    signature_at_commit,
    replication,
    leader_completeness,
];

/// Runs [`CHECKS`] after every step and keeps the ghost.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    ghost: Ghost,
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    /// Checks one step; on success folds it into the ghost.
    pub fn step(&mut self, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
        for check in CHECKS {
            check(&self.ghost, nodes)?;
        }
        self.ghost.observe(nodes);
        Ok(())
    }

    pub fn ghost(&self) -> &Ghost {
        &self.ghost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariants::testkit::{Node, log, states};

    #[test]
    fn a_checker_follows_a_run_and_stops_at_the_first_bad_step() {
        let mut checker = Checker::new();
        let entries = log(&[(2, false), (2, true)], 1);
        let step1 = [
            Node::new(0, 2, entries.clone()).primary().commit(2),
            Node::new(1, 2, entries.clone()),
            Node::new(2, 2, vec![]),
        ];
        checker.step(&states(&step1)).unwrap();
        assert_eq!(checker.ghost().commit().0, 2);
        // Node 1 becomes primary in view 2 too: caught, whatever else is fine.
        let step2 = [
            Node::new(0, 2, entries.clone()).primary().commit(2),
            Node::new(1, 2, entries).primary(),
            Node::new(2, 2, vec![]),
        ];
        let err = checker.step(&states(&step2)).unwrap_err();
        assert_eq!(err.invariant, ELECTION_SAFETY);
    }
}
