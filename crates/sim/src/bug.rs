//! Injected bugs, for tests that show the checks catch them (never on by default).
//!
//! `commit-without-quorum` is injected in the simulator's own wiring, as a Byzantine network
//! would: whenever the primary writes a signature, every other node of its configuration
//! "acknowledges" it at once with a forged AppendEntriesResponse, before any of them holds it.
//! The primary then commits on its own disk alone — the Replication invariant must object.
//!
//! `commit-unsigned` has no way in through messages (a correct node never commits an entry that
//! is not a signature, whatever it is told), so it is injected where the simulator reports the
//! node's commit: when the primary commits, its commit is reported at its last unsigned entry
//! past the commit. SignatureAtCommit must object. (Until NodeCore grows a test-only hook
//! that makes the node itself do it, this shows the check, not the node, at work.)

use cloister_node::core::Input;
use cloister_node::peer_wire::{PeerMessage, encode};
use cloister_raft::{AppendEntriesResponse, Message};
use cloister_types::SeqNo;

use crate::config::Bug;
use crate::world::World;

/// Called after node `index` appended `seqno`: queues forged inputs if a bug says so.
pub fn after_append(world: &mut World, index: usize, seqno: SeqNo, committable: bool) {
    if world.bug != Some(Bug::CommitWithoutQuorum) || !committable {
        return;
    }
    let node = &world.nodes[index];
    let Some(summary) = node.summary.as_ref() else {
        return;
    };
    if summary.role != cloister_raft::Leadership::Leader {
        return;
    }
    let forged = encode(&PeerMessage::Raft(Message::AppendEntriesResponse(
        AppendEntriesResponse {
            term: summary.view,
            last_log_idx: seqno,
            success: true,
        },
    )));
    let others: Vec<_> = summary
        .configurations
        .iter()
        .flatten()
        .filter(|id| **id != node.id)
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for from in others {
        world.forged.push((
            index,
            Input::Peer {
                from,
                bytes: forged.clone(),
            },
        ));
    }
}

/// Called when node `index` reports a commit: the `commit-unsigned` bug claims more.
pub fn after_commit(world: &mut World, index: usize) {
    if world.bug != Some(Bug::CommitUnsigned) {
        return;
    }
    let node = &mut world.nodes[index];
    let primary = node
        .summary
        .as_ref()
        .is_some_and(|s| s.role == cloister_raft::Leadership::Leader);
    let commit = node
        .summary
        .as_ref()
        .map(|s| s.commit.seqno)
        .unwrap_or_default();
    let unsigned = node
        .disk
        .logs()
        .iter()
        .rev()
        .find(|e| !e.committable && e.txid.seqno > commit)
        .map(|e| e.txid.seqno);
    if primary && unsigned.is_some() {
        node.forged_commit = unsigned;
    }
}
