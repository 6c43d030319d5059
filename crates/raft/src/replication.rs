//! The primary's side of replication (spec §5.3, §5.4): appending entries, AppendEntries
//! batches (one view each, bounded in bytes), responses, heartbeats, CheckQuorum and commit.

use cloister_types::{NodeId, SeqNo, View};

use crate::raft::{APPEND_ENTRIES_BATCHES_PER_FLUSH_MAX, Raft};
use crate::rules::{agreement_index, leader_commit_target, quorum};
use crate::{
    AppendEntries, AppendEntriesResponse, Entry, EntryKind, InjectedBug, Message, Output, RaftError,
};

impl Raft {
    /// [`crate::Input::Replicate`]: CCF `replicate`. All entries are checked before any is
    /// appended, so a refused batch changes nothing.
    pub(crate) fn replicate(&mut self, entries: Vec<Entry>) -> Result<(), RaftError> {
        self.check_can_append(&entries)?;
        if entries.is_empty() {
            return Ok(());
        }
        for entry in &entries {
            self.unsent_bytes = self.unsent_bytes.saturating_add(entry.data.len());
            self.append_entry(entry.clone());
        }
        self.emit(Output::Persist { entries });
        if self.unsent_bytes >= self.config.append_entries_bytes_max {
            self.flush_append_entries();
        }
        if self.other_nodes_in_active_configs().is_empty() {
            self.update_commit();
        }
        Ok(())
    }

    /// Sends every peer what it has not been sent yet (an empty AppendEntries is a heartbeat).
    pub(crate) fn flush_append_entries(&mut self) {
        self.unsent_bytes = 0;
        let peers: Vec<NodeId> = self.peers.keys().cloned().collect();
        for peer in peers {
            self.send_append_entries(&peer);
        }
    }

    /// Sends `peer` batches from its `sent_idx + 1`, at most
    /// [`APPEND_ENTRIES_BATCHES_PER_FLUSH_MAX`] of them; a heartbeat if it is up to date.
    pub(crate) fn send_append_entries(&mut self, peer: &NodeId) {
        let Some(state) = self.peers.get(peer) else {
            return;
        };
        let last = self.log.last_idx();
        let mut prev = state.sent_idx.min(last);
        for _ in 0..APPEND_ENTRIES_BATCHES_PER_FLUSH_MAX {
            if prev < last && prev.next() < self.log.first_held() {
                // Compacted away: this peer needs a snapshot, not entries.
                return;
            }
            let end = self.batch_end(prev);
            self.send_append_entries_range(peer, prev, end);
            if end >= last {
                return;
            }
            prev = end;
        }
    }

    /// Leader part of `periodic`: heartbeats every `message_timeout_ms`, then CheckQuorum.
    pub(crate) fn leader_periodic(&mut self, elapsed_ms: u64) {
        if self.timeout_elapsed_ms >= self.config.message_timeout_ms {
            self.timeout_elapsed_ms = 0;
            self.flush_append_entries();
        }
        for peer in self.peers.values_mut() {
            peer.last_ack_elapsed_ms = peer.last_ack_elapsed_ms.saturating_add(elapsed_ms);
        }
        if !self.every_configuration_has_a_live_quorum() {
            // CheckQuorum (spec §5.5): a primary cut off from a quorum steps down in its view.
            self.become_follower();
        }
    }

    pub(crate) fn recv_append_entries_response(
        &mut self,
        from: NodeId,
        response: AppendEntriesResponse,
    ) {
        if !self.is_primary() || !self.peers.contains_key(&from) {
            return;
        }
        if let Some(peer) = self.peers.get_mut(&from) {
            peer.last_ack_elapsed_ms = 0;
        }
        if self.view < response.term {
            self.become_aware_of_new_term(response.term);
            return;
        }
        if response.success {
            self.on_ack(from, response);
        } else {
            self.on_nack(from, response);
        }
    }

    /// CCF `update_commit`: commit the highest signature of the current view that a quorum of
    /// every active configuration holds. The primary counts itself up to what it persisted.
    pub(crate) fn update_commit(&mut self) {
        if !self.is_primary() {
            return;
        }
        let own = self.log.last_idx().min(self.persisted_idx);
        let agreement = agreement_index(&self.configurations, |node| {
            if *node == self.id {
                own
            } else {
                self.peers.get(node).map_or(SeqNo(0), |peer| peer.match_idx)
            }
        });
        let agreement = match self.config.injected_bug {
            Some(InjectedBug::CommitWithoutQuorum) => Some(own),
            _ => agreement,
        };
        let Some(agreement) = agreement else {
            return;
        };
        if self.config.injected_bug == Some(InjectedBug::CommitUnsignedSuffix)
            && agreement > self.commit_idx
            && self.log.view_at(agreement) == Some(self.view)
        {
            self.commit(agreement);
            return;
        }
        let target = leader_commit_target(
            agreement,
            &self.committable,
            |s| self.log.view_at(s),
            self.view,
        );
        if let Some(target) = target {
            self.commit(target);
        }
    }

    fn check_can_append(&self, entries: &[Entry]) -> Result<(), RaftError> {
        if !self.is_primary() {
            return Err(RaftError::NotPrimary);
        }
        if self.is_retired_committed() {
            return Err(RaftError::RetiredCommitted);
        }
        let mut expected = self.log.last_idx().next();
        for entry in entries {
            if entry.seqno() != expected {
                return Err(RaftError::UnexpectedSeqNo {
                    expected,
                    got: entry.seqno(),
                });
            }
            if entry.view() != self.view {
                return Err(RaftError::WrongView {
                    expected: self.view,
                    got: entry.view(),
                });
            }
            if matches!(&entry.kind, EntryKind::Reconfiguration(nodes) if nodes.is_empty()) {
                return Err(RaftError::InvalidConfiguration);
            }
            expected = expected.next();
        }
        Ok(())
    }

    /// The last seqno of the batch after `prev`: one view only, at most
    /// `append_entries_bytes_max` payload bytes (but at least one entry).
    fn batch_end(&self, prev: SeqNo) -> SeqNo {
        let last = self.log.last_idx();
        if prev >= last {
            return last;
        }
        let first = prev.next();
        let view_end = self.log.end_of_view_at(first);
        let size = |seqno: SeqNo| self.log.entry(seqno).map_or(0, |entry| entry.data.len());
        let mut end = first;
        let mut bytes = size(first);
        while end < view_end {
            let next = size(end.next());
            if bytes.saturating_add(next) > self.config.append_entries_bytes_max {
                break;
            }
            bytes += next;
            end = end.next();
        }
        end
    }

    fn send_append_entries_range(&mut self, peer: &NodeId, prev: SeqNo, end: SeqNo) {
        let message = AppendEntries {
            term: self.view,
            prev_idx: prev,
            prev_term: self.log.view_at(prev).unwrap_or(View(0)),
            leader_commit_idx: self.commit_idx,
            term_of_idx: self.log.view_at(end).unwrap_or(View(0)),
            idx: end,
            entries: self.log.range(prev.next(), end).cloned().collect(),
        };
        self.send(peer.clone(), Message::AppendEntries(message));
        if let Some(state) = self.peers.get_mut(peer) {
            state.sent_idx = end;
        }
    }

    fn on_ack(&mut self, from: NodeId, response: AppendEntriesResponse) {
        let last = self.log.last_idx();
        let Some(peer) = self.peers.get_mut(&from) else {
            return;
        };
        // Stale ACKs (older view, or behind what is already matched) say nothing new; an ACK
        // beyond our log cannot be about our entries.
        let stale = response.term != self.view || response.last_log_idx < peer.match_idx;
        if stale || response.last_log_idx > last {
            return;
        }
        peer.match_idx = response.last_log_idx;
        self.update_commit();
    }

    fn on_nack(&mut self, from: NodeId, response: AppendEntriesResponse) {
        // A NACK's term is that of the backup's highest possibly matching entry, so an older
        // term is expected; retry from the best possible match on the next heartbeat.
        let this_match = self
            .log
            .find_highest_possible_match(response.term, response.last_log_idx);
        if let Some(peer) = self.peers.get_mut(&from) {
            if response.last_log_idx < peer.match_idx {
                // The backup no longer holds what it acknowledged: it restarted and lost a
                // suffix (CCF nodes never restart, so CCF keeps match_idx here). Replicate
                // again from what it may still hold.
                peer.match_idx = this_match;
            }
            peer.sent_idx = this_match.min(peer.sent_idx).max(peer.match_idx);
        }
    }

    fn every_configuration_has_a_live_quorum(&self) -> bool {
        let window = self.config.election_timeout_ms;
        self.configurations.iter().all(|configuration| {
            let live = configuration
                .nodes
                .iter()
                .filter(|node| {
                    **node == self.id
                        || self
                            .peers
                            .get(*node)
                            .is_some_and(|peer| peer.last_ack_elapsed_ms < window)
                })
                .count();
            live >= quorum(configuration.nodes.len())
        })
    }
}
