//! Builders for the invariants' unit tests: logs from `(view, signature?)` lists and node
//! states around them.

use std::collections::BTreeSet;

use cloister_types::{NodeId, SeqNo, TxId, View};

use crate::invariants::model::{LogEntry, NodeState, Role};

pub fn node_id(byte: u8) -> NodeId {
    NodeId::from_digest(&[byte; 32])
}

/// A log whose entry `i` has view `views[i].0`, is a signature iff `views[i].1`, and bytes
/// `tag` followed by the seqno (so two logs with different tags differ everywhere).
pub fn log(views: &[(u64, bool)], tag: u8) -> Vec<LogEntry> {
    let mut out: Vec<LogEntry> = Vec::new();
    for (i, (view, sig)) in views.iter().enumerate() {
        let seqno = i as u64 + 1;
        let bytes = [tag, seqno as u8];
        let entry = LogEntry::next(out.last(), TxId::new(*view, seqno), *sig, &bytes);
        out.push(entry);
    }
    out
}

/// Owns what a [`NodeState`] borrows.
pub struct Node {
    pub id: NodeId,
    pub incarnation: u64,
    pub role: Role,
    pub view: View,
    pub commit: SeqNo,
    pub log: Vec<LogEntry>,
    pub durable: SeqNo,
    pub changed_from: SeqNo,
    pub configurations: Vec<BTreeSet<NodeId>>,
}

impl Node {
    /// A backup with `log`, all of it durable and new, in a configuration of nodes 0..3.
    pub fn new(byte: u8, view: u64, log: Vec<LogEntry>) -> Node {
        Node {
            id: node_id(byte),
            incarnation: 0,
            role: Role::Backup,
            view: View(view),
            commit: SeqNo(0),
            durable: SeqNo(log.len() as u64),
            changed_from: SeqNo(1),
            log,
            configurations: vec![(0..3).map(node_id).collect()],
        }
    }

    pub fn primary(mut self) -> Node {
        self.role = Role::Primary;
        self
    }

    pub fn commit(mut self, seqno: u64) -> Node {
        self.commit = SeqNo(seqno);
        self
    }

    pub fn durable(mut self, seqno: u64) -> Node {
        self.durable = SeqNo(seqno);
        self
    }

    pub fn state(&self) -> NodeState<'_> {
        NodeState {
            id: &self.id,
            incarnation: self.incarnation,
            role: self.role,
            view: self.view,
            commit: self.commit,
            log: &self.log,
            durable: self.durable,
            changed_from: self.changed_from,
            configurations: &self.configurations,
        }
    }
}

pub fn states(nodes: &[Node]) -> Vec<NodeState<'_>> {
    nodes.iter().map(Node::state).collect()
}
