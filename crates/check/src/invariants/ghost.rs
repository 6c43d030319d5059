//! What has been seen so far (TLA+ calls such bookkeeping "ghost" variables): the primary of
//! every view, the committed prefix across all nodes, every TxId's running hash, and per node
//! its view and commit in its current incarnation. The checks read it; [`Ghost::observe`] folds in one step.

use std::collections::BTreeMap;

use cloister_crypto::Sha256Hash;
use cloister_types::{NodeId, SeqNo, TxId, View};

use crate::invariants::model::{LogEntry, NodeState, Role};

/// Per node: what monotonicity is checked against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeGhost {
    /// The incarnation `view` and `commit` belong to.
    pub incarnation: u64,
    /// The node's view in that incarnation.
    pub view: View,
    /// The node's commit in that incarnation.
    pub commit: SeqNo,
}

/// Facts learned from every step so far.
#[derive(Clone, Debug, Default)]
pub struct Ghost {
    /// The primary of each view.
    pub primaries: BTreeMap<View, NodeId>,
    /// The committed prefix (the longest any node committed): seqno `i + 1` at index `i`.
    pub committed: Vec<LogEntry>,
    /// Where the committed prefix advanced, with the view of the signature it advanced to
    /// (the committing primary's view): views never decrease along this list.
    pub commit_points: Vec<(SeqNo, View)>,
    /// The running hash of every TxId ever written by any node.
    pub chains: BTreeMap<TxId, Sha256Hash>,
    pub nodes: BTreeMap<NodeId, NodeGhost>,
}

impl Ghost {
    pub fn new() -> Ghost {
        Ghost::default()
    }

    /// The committed entry at `seqno`, if the prefix reaches it.
    pub fn committed_at(&self, seqno: SeqNo) -> Option<&LogEntry> {
        let index = usize::try_from(seqno.0).ok()?.checked_sub(1)?;
        self.committed.get(index)
    }

    /// The length of the committed prefix.
    pub fn commit(&self) -> SeqNo {
        SeqNo(self.committed.len() as u64)
    }

    /// The last point committed by a primary of a view below `view`: every primary of `view`
    /// must hold the prefix up to it (LeaderCompleteness).
    pub fn committed_before_view(&self, view: View) -> Option<SeqNo> {
        let below = self.commit_points.partition_point(|(_, v)| *v < view);
        below
            .checked_sub(1)
            .and_then(|i| self.commit_points.get(i))
            .map(|(seqno, _)| *seqno)
    }

    /// Folds in one step, after the checks passed.
    pub fn observe(&mut self, nodes: &[NodeState<'_>]) {
        for node in nodes {
            if node.role == Role::Primary {
                self.primaries
                    .entry(node.view)
                    .or_insert_with(|| node.id.clone());
            }
            let first = node.changed_from.0.max(1);
            for seqno in first..=node.last().0 {
                if let Some(entry) = node.entry(SeqNo(seqno)) {
                    self.chains.entry(entry.txid).or_insert(entry.chain);
                }
            }
            let ghost = self.nodes.entry(node.id.clone()).or_default();
            if node.is_up() {
                if ghost.incarnation != node.incarnation {
                    *ghost = NodeGhost {
                        incarnation: node.incarnation,
                        view: node.view,
                        commit: node.commit,
                    };
                } else {
                    ghost.view = ghost.view.max(node.view);
                    ghost.commit = ghost.commit.max(node.commit);
                }
            }
        }
        self.extend_committed(nodes);
    }

    /// Extends the committed prefix from the up node with the highest commit.
    fn extend_committed(&mut self, nodes: &[NodeState<'_>]) {
        let Some(leading) = nodes
            .iter()
            .filter(|node| node.is_up())
            .max_by_key(|node| (node.commit, node.role == Role::Primary))
        else {
            return;
        };
        if leading.commit <= self.commit() {
            return;
        }
        let from = self.committed.len();
        let to = usize::try_from(leading.commit.0)
            .unwrap_or(usize::MAX)
            .min(leading.log.len());
        if let Some(new) = leading.log.get(from..to) {
            self.committed.extend_from_slice(new);
        }
        if let Some(last) = self.committed.last() {
            self.commit_points.push((last.txid.seqno, last.txid.view));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_points_answer_which_prefix_a_later_primary_must_hold() {
        let mut ghost = Ghost::new();
        ghost.commit_points = vec![
            (SeqNo(2), View(2)),
            (SeqNo(5), View(2)),
            (SeqNo(9), View(4)),
        ];
        assert_eq!(ghost.committed_before_view(View(2)), None);
        assert_eq!(ghost.committed_before_view(View(3)), Some(SeqNo(5)));
        assert_eq!(ghost.committed_before_view(View(4)), Some(SeqNo(5)));
        assert_eq!(ghost.committed_before_view(View(5)), Some(SeqNo(9)));
    }
}
