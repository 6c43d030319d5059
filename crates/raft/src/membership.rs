//! The log's effects on membership: appending an entry (configuration hooks, signatures),
//! commit (popping configurations, retirement phases) and rollback (undoing them).
//! Spec §5.4 `commit`, §5.6 one-transaction reconfiguration, §5.7 retirement.

use std::collections::BTreeSet;

use cloister_types::{NodeId, SeqNo};

use crate::raft::{Peer, Raft};
use crate::{
    Configuration, Entry, EntryKind, Leadership, Membership, Message, Output, ProposeRequestVote,
    Retirement,
};

impl Raft {
    /// Appends one entry (seqno and view already checked), running its hooks as CCF does: a
    /// reconfiguration takes effect before the entry is appended, a signature after.
    pub(crate) fn append_entry(&mut self, entry: Entry) {
        let seqno = entry.seqno();
        let is_signature = entry.is_signature();
        if let EntryKind::Reconfiguration(nodes) = &entry.kind {
            self.add_configuration(seqno, nodes.clone());
        }
        self.log.append(entry);
        if is_signature {
            self.on_signature_appended(seqno);
        }
    }

    /// Nodes other than this one in any active configuration (CCF
    /// `other_nodes_in_active_configs`): who votes, and who counts for CheckQuorum.
    pub(crate) fn other_nodes_in_active_configs(&self) -> BTreeSet<NodeId> {
        self.configurations
            .iter()
            .flat_map(|configuration| configuration.nodes.iter())
            .filter(|node| **node != self.id)
            .cloned()
            .collect()
    }

    pub(crate) fn is_in_latest_configuration(&self) -> bool {
        self.configurations
            .last()
            .is_some_and(|configuration| configuration.nodes.contains(&self.id))
    }

    /// Commits up to `idx` (a signature): CCF `commit`.
    pub(crate) fn commit(&mut self, idx: SeqNo) {
        if idx <= self.commit_idx || idx > self.log.last_idx() {
            return;
        }
        let previous = self.commit_idx;
        while self.committable.front().is_some_and(|seqno| *seqno <= idx) {
            self.committable.pop_front();
        }
        self.commit_idx = idx;
        if let Membership::Retired(Retirement::Signed {
            retirement_committable_idx,
            ..
        }) = self.membership
        {
            if idx >= retirement_committable_idx {
                self.membership = Membership::Retired(Retirement::Completed);
            }
        }
        self.emit(Output::Commit { up_to: idx });
        self.pop_committed_configurations(idx);
        self.apply_committed_retirements(previous, idx);
    }

    /// Rolls back to `idx` (never below the commit seqno): drops entries, signatures,
    /// configurations and retirement progress after it. CCF `rollback`.
    pub(crate) fn rollback(&mut self, idx: SeqNo) {
        if idx < self.commit_idx || idx >= self.log.last_idx() {
            return;
        }
        self.log.truncate(idx);
        self.persisted_idx = self.persisted_idx.min(idx);
        while self.committable.back().is_some_and(|seqno| *seqno > idx) {
            self.committable.pop_back();
        }
        self.roll_back_retirement(idx);
        let before = self.configurations.len();
        self.configurations
            .retain(|configuration| configuration.idx <= idx);
        if self.configurations.len() != before {
            self.sync_peers();
        }
        for peer in self.peers.values_mut() {
            peer.sent_idx = peer.sent_idx.min(idx);
            peer.match_idx = peer.match_idx.min(idx);
        }
        if let Some(pending) = &mut self.pending_ack {
            pending.matched = pending.matched.min(idx);
        }
        self.unsent_bytes = 0;
        self.emit(Output::Truncate { after: idx });
    }

    /// Adds and removes peers to match the active configurations (CCF
    /// `create_and_remove_node_state`). A new peer is sent only future entries: it NACKs if it
    /// needs older ones (spec §5.6).
    pub(crate) fn sync_peers(&mut self) {
        let active = self.other_nodes_in_active_configs();
        let retiring = &self.retiring_peers;
        self.peers
            .retain(|node, _| active.contains(node) || retiring.contains(node));
        let last = self.log.last_idx();
        for node in active {
            if self.peers.contains_key(&node) {
                continue;
            }
            self.peers.insert(
                node.clone(),
                Peer {
                    sent_idx: last,
                    ..Peer::default()
                },
            );
            if self.is_primary() {
                self.send_append_entries(&node);
            }
        }
    }

    fn add_configuration(&mut self, idx: SeqNo, nodes: BTreeSet<NodeId>) {
        // Retirement is observed when a configuration without this node follows one with it.
        let was_in = self.is_in_latest_configuration();
        if was_in && !nodes.contains(&self.id) && self.membership == Membership::Active {
            self.membership = Membership::Retired(Retirement::Ordered {
                retirement_idx: idx,
            });
        }
        let unchanged = self
            .configurations
            .last()
            .is_some_and(|latest| latest.nodes == nodes);
        if !unchanged {
            self.configurations.push(Configuration { idx, nodes });
            self.sync_peers();
        }
    }

    fn on_signature_appended(&mut self, seqno: SeqNo) {
        if let Membership::Retired(Retirement::Ordered { retirement_idx }) = self.membership {
            self.membership = Membership::Retired(Retirement::Signed {
                retirement_idx,
                retirement_committable_idx: seqno,
            });
        }
        self.committable.push_back(seqno);
        if !self.ticking && self.is_in_latest_configuration() {
            self.start_ticking();
        }
        if self.is_primary() {
            self.should_sign = false;
        }
    }

    fn roll_back_retirement(&mut self, idx: SeqNo) {
        if let Membership::Retired(Retirement::Signed {
            retirement_idx,
            retirement_committable_idx,
        }) = self.membership
        {
            if retirement_committable_idx > idx {
                self.membership = Membership::Retired(Retirement::Ordered { retirement_idx });
            }
        }
        if let Membership::Retired(Retirement::Ordered { retirement_idx }) = self.membership {
            if retirement_idx > idx {
                self.membership = Membership::Active;
            }
        }
    }

    /// After a restore: configurations superseded by a committed one are gone.
    pub(crate) fn pop_committed_configurations_after_restore(&mut self, idx: SeqNo) {
        self.pop_committed_configurations(idx);
    }

    /// Pops the oldest configuration while the next one is committed; nodes left in no
    /// configuration stay peers until their `retired_committed` is committed.
    fn pop_committed_configurations(&mut self, idx: SeqNo) {
        let mut popped = Vec::new();
        while self.configurations.len() > 1 && self.configurations[1].idx <= idx {
            popped.push(self.configurations.remove(0));
        }
        if popped.is_empty() {
            return;
        }
        let active = self.other_nodes_in_active_configs();
        for configuration in popped {
            for node in configuration.nodes {
                if node != self.id && !active.contains(&node) {
                    self.retiring_peers.insert(node);
                }
            }
        }
        self.sync_peers();
    }

    /// Acts on `retired_committed` transactions newly committed in `(previous, idx]`.
    fn apply_committed_retirements(&mut self, previous: SeqNo, idx: SeqNo) {
        let retired: Vec<NodeId> = self
            .log
            .range(previous.next(), idx)
            .filter_map(|entry| match &entry.kind {
                EntryKind::RetiredCommitted(node) => Some(node.clone()),
                _ => None,
            })
            .collect();
        for node in retired {
            if node == self.id {
                self.become_retired_committed();
            } else if !self.other_nodes_in_active_configs().contains(&node) {
                // Every future primary knows this retirement is committed: no one needs to
                // talk to the node any more.
                self.retiring_peers.remove(&node);
                self.peers.remove(&node);
            }
        }
    }

    fn become_retired_committed(&mut self) {
        if !matches!(self.membership, Membership::Retired(_)) {
            return;
        }
        let was_primary = self.is_primary();
        if was_primary {
            self.send_propose_request_vote();
        }
        self.membership = Membership::Retired(Retirement::RetiredCommitted);
        self.leadership = Leadership::None;
        self.leader = None;
        if was_primary {
            self.announce(Output::BecameFollower {
                view: self.view,
                leader: None,
            });
        }
    }

    /// Nudges the successor with the highest match seqno, ties going to the node in the
    /// latest configuration, to start an election at once (spec §5.7).
    fn send_propose_request_vote(&mut self) {
        let candidates = self.other_nodes_in_active_configs();
        let latest_configuration_of = |node: &NodeId| {
            self.configurations
                .iter()
                .rev()
                .find(|configuration| configuration.nodes.contains(node))
                .map_or(SeqNo(0), |configuration| configuration.idx)
        };
        let successor = candidates
            .iter()
            .max_by_key(|node| {
                let matched = self
                    .peers
                    .get(*node)
                    .map_or(SeqNo(0), |peer| peer.match_idx);
                (matched, latest_configuration_of(node))
            })
            .cloned();
        if let Some(successor) = successor {
            let message = Message::ProposeRequestVote(ProposeRequestVote { term: self.view });
            self.send(successor, message);
        }
    }
}
