//! What the invariants look at: each node's log as the simulator (or any driver) saw it written,
//! summarised per entry by a running hash, plus the node's role, view, commit and durability.
//! The types are plain values so that cloister-check needs neither Raft nor the node.

use std::collections::BTreeSet;

use cloister_crypto::{Sha256Hash, sha256, sha256_concat};
use cloister_types::{NodeId, SeqNo, TxId, View};

/// One ledger entry as the invariants see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// `view.seqno` of the entry (from its GCM header).
    pub txid: TxId,
    /// A signature transaction: the only place commit may land.
    pub committable: bool,
    /// SHA-256 of the entry's bytes.
    pub digest: Sha256Hash,
    /// SHA-256 over the previous entry's `chain` and this entry: equal chains at a seqno mean
    /// byte-identical prefixes up to it.
    pub chain: Sha256Hash,
}

impl LogEntry {
    /// The entry following `previous` (`None` for seqno 1).
    pub fn next(
        previous: Option<&LogEntry>,
        txid: TxId,
        committable: bool,
        bytes: &[u8],
    ) -> LogEntry {
        let digest = sha256(bytes);
        let before = previous.map(|entry| entry.chain).unwrap_or_default();
        let chain = sha256_concat(&[
            &before.0,
            &txid.view.0.to_le_bytes(),
            &txid.seqno.0.to_le_bytes(),
            &[u8::from(committable)],
            &digest.0,
        ]);
        LogEntry {
            txid,
            committable,
            digest,
            chain,
        }
    }
}

/// A node's role, as far as the invariants care.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Primary,
    Backup,
    Candidate,
    /// Retired from the service: no role any more.
    Retired,
    /// The process is not running (crashed, not yet restarted); its disk is still there.
    Down,
}

/// One node at one instant.
#[derive(Clone, Copy, Debug)]
pub struct NodeState<'a> {
    pub id: &'a NodeId,
    /// Bumped at every restart: commit is monotonic within one incarnation.
    pub incarnation: u64,
    pub role: Role,
    pub view: View,
    pub commit: SeqNo,
    /// The ledger as written, seqno `i + 1` at index `i` (durable or not). For a node that is
    /// down: what its disk still holds.
    pub log: &'a [LogEntry],
    /// `log[..durable]` is on disk for good (fsync completed).
    pub durable: SeqNo,
    /// The lowest seqno appended or truncated since the previous check (`log.len() + 1` when
    /// nothing changed): incremental checks look only from here.
    pub changed_from: SeqNo,
    /// Active configurations, oldest first, as this node sees them.
    pub configurations: &'a [BTreeSet<NodeId>],
}

impl NodeState<'_> {
    /// The entry at `seqno` (1-based), if the log holds it.
    pub fn entry(&self, seqno: SeqNo) -> Option<&LogEntry> {
        let index = usize::try_from(seqno.0).ok()?.checked_sub(1)?;
        self.log.get(index)
    }

    /// The last seqno of the log.
    pub fn last(&self) -> SeqNo {
        SeqNo(self.log.len() as u64)
    }

    /// Whether the process is running.
    pub fn is_up(&self) -> bool {
        self.role != Role::Down
    }
}

/// Why a run is wrong: the invariant (named after CCF's TLA+ where it has one) and what broke it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: &'static str,
    pub detail: String,
}

impl Violation {
    pub fn new(invariant: &'static str, detail: impl Into<String>) -> Violation {
        Violation {
            invariant,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.invariant, self.detail)
    }
}

/// A majority of `nodes` (CCF's `n / 2 + 1`).
pub fn quorum(nodes: usize) -> usize {
    nodes / 2 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_differ_when_any_earlier_entry_differs() {
        let a1 = LogEntry::next(None, TxId::new(2, 1), false, b"one");
        let b1 = LogEntry::next(None, TxId::new(2, 1), false, b"uno");
        let a2 = LogEntry::next(Some(&a1), TxId::new(2, 2), true, b"two");
        let b2 = LogEntry::next(Some(&b1), TxId::new(2, 2), true, b"two");
        assert_eq!(a2.digest, b2.digest);
        assert_ne!(a2.chain, b2.chain);
        let a2_again = LogEntry::next(Some(&a1), TxId::new(2, 2), true, b"two");
        assert_eq!(a2, a2_again);
        let unsigned = LogEntry::next(Some(&a1), TxId::new(2, 2), false, b"two");
        assert_ne!(a2.chain, unsigned.chain);
    }

    #[test]
    fn quorum_is_a_majority() {
        assert_eq!(
            [1, 2, 3, 4, 5].map(quorum),
            [1, 2, 2, 3, 3],
            "n / 2 + 1 for n = 1..5"
        );
    }
}
