//! What goes into a [`crate::Raft`] and what comes out (quinn-proto style: `handle` then
//! `poll_output` until `None`).

use cloister_types::{NodeId, SeqNo, TxId, View};

use crate::{Entry, Message};

/// Something that happened to this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The caller's monotonic clock, in milliseconds. The first tick only sets the origin.
    Tick {
        /// Milliseconds since an arbitrary origin; never decreasing.
        now_ms: u64,
    },
    /// A message from a peer, already authenticated by the node-to-node channel.
    Message {
        /// The sender.
        from: NodeId,
        /// The message.
        message: Message,
    },
    /// The primary appends entries it executed, in order, all of its current view. Signatures
    /// are flagged by [`crate::EntryKind::Signature`]; a reconfiguration carries the new node
    /// set and takes effect at once.
    Replicate {
        /// Entries `last_seqno + 1 ..`.
        entries: Vec<Entry>,
    },
    /// The host has durably written every entry up to and including `up_to`. A backup
    /// acknowledges, and a primary counts itself, only up to what is persisted (ARCHITECTURE.md
    /// step 7; stricter than CCF 6.x, which does not fsync, spec §1.5).
    ///
    /// The driver executes outputs in order and reports persistence only of writes made after
    /// every earlier [`Output::Truncate`] was executed. Naming the TxID rather than the seqno
    /// makes a report about an entry since rolled back and replaced by another one harmless
    /// (ignored); it cannot detect a report about a write that a queued, not yet executed
    /// truncation is about to undo, hence the ordering rule.
    Persisted {
        /// The last persisted entry.
        up_to: TxId,
    },
}

/// Something this node asks its driver to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Send a message to a peer (best effort: consensus tolerates loss, duplication, reorder).
    Send {
        /// The peer.
        to: NodeId,
        /// The message.
        message: Message,
    },
    /// Append these entries to the ledger, then report [`Input::Persisted`].
    Persist {
        /// Consecutive entries following what was persisted or truncated before.
        entries: Vec<Entry>,
    },
    /// Roll back: drop every entry with seqno > `after` (never at or below the commit seqno).
    Truncate {
        /// The last entry kept.
        after: SeqNo,
    },
    /// Everything up to and including `up_to` (a signature) is committed.
    Commit {
        /// The new commit seqno.
        up_to: SeqNo,
    },
    /// This node voted for `voted_for` in `view` (itself, as a candidate). A driver that lets
    /// a node restart with its log must persist this before sending anything after it, and
    /// give it back to [`crate::Raft::restore`]: a node must never vote twice in one view.
    Voted {
        /// The view of the vote.
        view: View,
        /// The candidate voted for.
        voted_for: NodeId,
    },
    /// This node became primary in `view`.
    BecameLeader {
        /// The view it leads.
        view: View,
    },
    /// This node is a backup in `view`, following `leader` if one is known.
    BecameFollower {
        /// The node's view.
        view: View,
        /// The primary, once an AppendEntries from it was accepted.
        leader: Option<NodeId>,
    },
}
