//! A backup receiving AppendEntries (spec §5.3, CCF `recv_append_entries`), and its
//! acknowledgements, which wait until the acknowledged entries are persisted.

use std::cmp::Ordering;

use cloister_types::{NodeId, SeqNo, View};

use crate::raft::{PendingAck, Raft};
use crate::rules::highest_committable_at_most;
use crate::{AppendEntries, AppendEntriesResponse, EntryKind, Leadership, Message, Output};

impl Raft {
    pub(crate) fn recv_append_entries(&mut self, from: NodeId, ae: AppendEntries) {
        // 1. Views: a newer view (or a primary of our view while we campaign) makes us its
        //    follower; an older one is refused.
        match self.view.cmp(&ae.term) {
            Ordering::Less => self.become_aware_of_new_term(ae.term),
            Ordering::Equal if self.is_campaigning() => self.become_aware_of_new_term(ae.term),
            Ordering::Equal if self.is_primary() => return, // no second primary in a view
            Ordering::Equal => {}
            Ordering::Greater => return self.nack_behind(from),
        }
        if !is_well_formed(&ae) {
            return;
        }
        // 2. The entry before the batch must match; otherwise tell the primary where we might.
        match self.log.view_at(ae.prev_idx) {
            None => return self.nack_behind(from),
            Some(view) if view != ae.prev_term => {
                return self.nack_mismatch(from, ae.prev_term, ae.prev_idx);
            }
            Some(_) => {}
        }
        // 3. This is our primary.
        self.restart_election_timeout();
        self.leader = Some(from.clone());
        if self.is_backup() {
            self.announce(Output::BecameFollower {
                view: self.view,
                leader: Some(from.clone()),
            });
        }
        if ae.prev_idx < self.commit_idx {
            return;
        }
        // 4–5. Skip what we hold, roll back a conflicting suffix once per view, append the rest.
        if !self.append_from_primary(&ae) {
            return;
        }
        // Only entries up to ae.idx are known to match the primary's log: commit no further
        // (Raft: commitIndex = min(leaderCommit, index of last new entry)).
        self.commit_if_possible(ae.leader_commit_idx.min(ae.idx));
        self.ack(from, ae.idx);
    }

    /// A backup's acknowledgement, once entries up to what it acknowledges are persisted.
    pub(crate) fn ack_persisted(&mut self) {
        let Some(pending) = self.pending_ack.clone() else {
            return;
        };
        if pending.view != self.view || self.leader.as_ref() != Some(&pending.leader) {
            self.pending_ack = None;
            return;
        }
        let ackable = pending.matched.min(self.persisted_idx);
        if ackable == pending.matched {
            self.pending_ack = None;
        }
        self.send_ae_response(pending.leader, self.view, ackable, true);
    }

    fn is_campaigning(&self) -> bool {
        matches!(
            self.leadership,
            Leadership::Candidate | Leadership::PreVoteCandidate
        )
    }

    /// Returns false if the batch conflicts with our suffix and we may not roll it back: the
    /// whole AppendEntries is then ignored, unanswered (CCF keeps the divergent suffix).
    fn append_from_primary(&mut self, ae: &AppendEntries) -> bool {
        let mut appended = Vec::new();
        for entry in &ae.entries {
            let seqno = entry.seqno();
            if seqno <= self.log.last_idx() {
                if self.log.view_at(seqno) == Some(entry.view()) {
                    continue;
                }
                if !self.is_new_follower {
                    return false;
                }
                self.rollback(SeqNo(seqno.0 - 1));
                self.is_new_follower = false;
            }
            self.append_entry(entry.clone());
            appended.push(entry.clone());
        }
        if !appended.is_empty() {
            self.emit(Output::Persist { entries: appended });
        }
        true
    }

    /// Backups commit the highest signature ≤ `idx` (CCF `commit_if_possible`).
    fn commit_if_possible(&mut self, idx: SeqNo) {
        if idx <= self.commit_idx {
            return;
        }
        if let Some(target) = highest_committable_at_most(&self.committable, idx) {
            self.commit(target);
        }
    }

    fn ack(&mut self, leader: NodeId, idx: SeqNo) {
        let matched = match &self.pending_ack {
            Some(p) if p.leader == leader && p.view == self.view => p.matched.max(idx),
            _ => idx,
        };
        if matched <= self.persisted_idx {
            self.pending_ack = None;
            self.send_ae_response(leader, self.view, matched, true);
        } else {
            self.pending_ack = Some(PendingAck {
                leader,
                view: self.view,
                matched,
            });
        }
    }

    /// NACK when the AppendEntries is from an older view or starts past our log.
    fn nack_behind(&mut self, to: NodeId) {
        let last = self.log.last_idx();
        self.send_ae_response(to, self.view, last, false);
    }

    /// NACK with the highest TxID that may still match the primary's log.
    fn nack_mismatch(&mut self, to: NodeId, prev_term: View, prev_idx: SeqNo) {
        let idx = self.log.find_highest_possible_match(prev_term, prev_idx);
        let term = self.log.view_at(idx).unwrap_or(View(0));
        self.send_ae_response(to, term, idx, false);
    }

    fn send_ae_response(&mut self, to: NodeId, term: View, last_log_idx: SeqNo, success: bool) {
        let response = AppendEntriesResponse {
            term,
            last_log_idx,
            success,
        };
        self.send(to, Message::AppendEntriesResponse(response));
    }
}

/// Entries `prev_idx + 1 ..= idx`, consecutive, all of view `term_of_idx`, which lies between
/// `prev_term` and `term`; no empty reconfiguration. Anything else is dropped unanswered.
fn is_well_formed(ae: &AppendEntries) -> bool {
    let count_ok = ae.idx.0.checked_sub(ae.prev_idx.0) == Some(ae.entries.len() as u64);
    if !count_ok {
        return false;
    }
    if ae.entries.is_empty() {
        return true;
    }
    let views_ok = ae.term_of_idx <= ae.term && ae.term_of_idx >= ae.prev_term;
    views_ok
        && ae.entries.iter().enumerate().all(|(i, entry)| {
            entry.seqno().0 == ae.prev_idx.0 + 1 + i as u64
                && entry.view() == ae.term_of_idx
                && !matches!(&entry.kind, EntryKind::Reconfiguration(nodes) if nodes.is_empty())
        })
}
