//! Injected bugs, for tests that show the checks catch them (never on by default). Each is
//! switched on in the real commit path of every node's Raft (`RaftConfig::injected_bug`), from
//! the start of the safety phase, and in every node created after it (restarts, joiners):
//!
//! - `commit-without-quorum`: a primary commits what it holds itself, not what a quorum holds.
//!   The Replication invariant must object.
//! - `commit-unsigned`: a primary commits the agreed index even when it is not a signature.
//!   SignatureAtCommit must object.

use cloister_raft::InjectedBug;

use crate::config::Bug;
use crate::world::World;

/// The Raft bug a simulator bug stands for.
pub fn injected(bug: Option<Bug>) -> Option<InjectedBug> {
    bug.map(|bug| match bug {
        Bug::CommitWithoutQuorum => InjectedBug::CommitWithoutQuorum,
        Bug::CommitUnsigned => InjectedBug::CommitUnsignedSuffix,
    })
}

/// Switches the world's bug on in every running node.
pub fn inject_into_running_nodes(world: &mut World) {
    let bug = injected(world.bug);
    for node in &mut world.nodes {
        if let Some(core) = node.core.as_mut() {
            core.inject_bug(bug);
        }
    }
}
