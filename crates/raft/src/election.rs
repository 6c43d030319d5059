//! Timers and elections (spec §5.5): randomised election timeouts, (pre-)candidates, the vote
//! rule on the last committable TxID, becoming primary or backup, ProposeRequestVote.

use cloister_types::{NodeId, View};

use crate::raft::Raft;
use crate::rules::{candidate_log_is_up_to_date, quorum};
use crate::{Leadership, Message, Output, ProposeRequestVote, RequestVote, VoteResponse};

impl Raft {
    /// CCF `periodic`: `elapsed_ms` of the caller's clock went by.
    pub(crate) fn periodic(&mut self, elapsed_ms: u64) {
        self.timeout_elapsed_ms = self.timeout_elapsed_ms.saturating_add(elapsed_ms);
        match self.leadership {
            Leadership::Leader => self.leader_periodic(elapsed_ms),
            Leadership::None => {}
            Leadership::Follower | Leadership::Candidate | Leadership::PreVoteCandidate => {
                let timed_out = self.timeout_elapsed_ms >= self.config.election_timeout_ms;
                if self.ticking && timed_out && self.may_stand_for_election() {
                    if self.config.pre_vote_enabled {
                        self.become_pre_vote_candidate();
                    } else {
                        self.become_candidate();
                    }
                }
            }
        }
    }

    /// A new view: forget the vote, become a backup (rolling back to the last signature) and
    /// allow one conflict rollback (CCF `become_aware_of_new_term`).
    pub(crate) fn become_aware_of_new_term(&mut self, view: View) {
        self.view = view;
        self.voted_for = None;
        self.reset_votes_for_me();
        self.become_follower();
        self.is_new_follower = true;
    }

    /// Backup in the current view (also CheckQuorum's step-down): drop the unsigned suffix,
    /// keep every signed entry (CCF `become_follower`).
    pub(crate) fn become_follower(&mut self) {
        self.leader = None;
        self.restart_election_timeout();
        self.reset_last_acks();
        self.rollback(self.last_committable());
        self.pending_ack = None;
        if self.is_retired_committed() {
            self.leadership = Leadership::None;
            return;
        }
        self.leadership = Leadership::Follower;
        self.announce(Output::BecameFollower {
            view: self.view,
            leader: None,
        });
    }

    /// CCF `become_leader`. Except at bootstrap (`forced`), the unsigned suffix is rolled back:
    /// it was never signed, so no one can have committed it.
    pub(crate) fn become_leader(&mut self, forced: bool) {
        if self.is_retired_committed() {
            return;
        }
        if !forced {
            self.rollback(self.last_committable());
        }
        self.leadership = Leadership::Leader;
        self.leader = Some(self.id.clone());
        self.should_sign = true;
        self.timeout_elapsed_ms = 0;
        self.pending_ack = None;
        self.unsent_bytes = 0;
        let last = self.log.last_idx();
        for peer in self.peers.values_mut() {
            peer.sent_idx = last;
            peer.match_idx = Default::default();
            peer.last_ack_elapsed_ms = 0;
        }
        self.announce(Output::BecameLeader { view: self.view });
        if self.other_nodes_in_active_configs().is_empty() {
            self.update_commit();
        }
        self.flush_append_entries();
    }

    pub(crate) fn recv_request_vote(&mut self, from: NodeId, request: RequestVote, pre_vote: bool) {
        if self.view > request.term {
            return self.send_vote_response(from, false, pre_vote);
        }
        if self.view < request.term {
            // Even a pre-vote from a newer view shows that view had a candidate: catch up.
            self.become_aware_of_new_term(request.term);
        }
        let mine = (
            self.log.view_at(self.last_committable()).unwrap_or(View(0)),
            self.last_committable(),
        );
        let theirs = (
            request.term_of_last_committable_idx,
            request.last_committable_idx,
        );
        let voted_for_other = self.voted_for.as_ref().is_some_and(|voted| *voted != from);
        let grant = candidate_log_is_up_to_date(theirs, mine)
            && (pre_vote || (self.leader.is_none() && !voted_for_other));
        if grant && !pre_vote {
            self.restart_election_timeout();
            self.voted_for = Some(from.clone());
            self.emit(Output::Voted {
                view: self.view,
                voted_for: from.clone(),
            });
        }
        self.send_vote_response(from, grant, pre_vote);
    }

    pub(crate) fn recv_vote_response(
        &mut self,
        from: NodeId,
        response: VoteResponse,
        pre_vote: bool,
    ) {
        if !self.peers.contains_key(&from) {
            return;
        }
        if self.view < response.term {
            return self.become_aware_of_new_term(response.term);
        }
        let expected = if pre_vote {
            Leadership::PreVoteCandidate
        } else {
            Leadership::Candidate
        };
        if self.view != response.term || self.leadership != expected || !response.vote_granted {
            return;
        }
        self.add_vote_for_me(from);
    }

    /// Only a node of an active configuration stands for election (TLA `Timeout`: the node is
    /// in its own configuration): once the reconfiguration removing it has committed, a retired
    /// node must not disrupt the others with ever higher views.
    fn may_stand_for_election(&self) -> bool {
        !self.is_retired_committed()
            && self
                .configurations
                .iter()
                .any(|configuration| configuration.nodes.contains(&self.id))
    }

    /// A retiring primary asks us to run at once (spec §5.7).
    pub(crate) fn recv_propose_request_vote(&mut self, request: ProposeRequestVote) {
        let eligible = self.may_stand_for_election() && self.ticking && !self.is_primary();
        if eligible && request.term == self.view {
            self.become_candidate();
        }
    }

    /// CCF `become_candidate` (TLA `Timeout`): next view, vote for self, ask every node of the
    /// active configurations.
    fn become_candidate(&mut self) {
        if self.configurations.is_empty() {
            return;
        }
        self.leadership = Leadership::Candidate;
        self.leader = None;
        self.voted_for = Some(self.id.clone());
        self.reset_votes_for_me();
        self.view = View(self.view.0 + 1);
        self.emit(Output::Voted {
            view: self.view,
            voted_for: self.id.clone(),
        });
        self.restart_election_timeout();
        self.reset_last_acks();
        self.add_vote_for_me(self.id.clone());
        if self.leadership == Leadership::Candidate {
            let request = self.request_vote();
            for node in self.other_nodes_in_active_configs() {
                self.send(node, Message::RequestVote(request.clone()));
            }
        }
    }

    /// A pre-vote round in the current view: no view change, no vote recorded.
    fn become_pre_vote_candidate(&mut self) {
        if self.configurations.is_empty() {
            return;
        }
        self.leadership = Leadership::PreVoteCandidate;
        self.leader = None;
        self.reset_votes_for_me();
        self.restart_election_timeout();
        self.add_vote_for_me(self.id.clone());
        if self.leadership == Leadership::PreVoteCandidate {
            let request = self.request_vote();
            for node in self.other_nodes_in_active_configs() {
                self.send(node, Message::RequestPreVote(request.clone()));
            }
        }
    }

    /// Counts a vote in every configuration holding the voter; elected with a quorum in each.
    fn add_vote_for_me(&mut self, voter: NodeId) {
        for configuration in &self.configurations {
            if configuration.nodes.contains(&voter) {
                self.votes_for_me
                    .entry(configuration.idx)
                    .or_default()
                    .insert(voter.clone());
            }
        }
        let elected = !self.configurations.is_empty()
            && self.configurations.iter().all(|configuration| {
                let votes = self
                    .votes_for_me
                    .get(&configuration.idx)
                    .map_or(0, |votes| votes.len());
                votes >= quorum(configuration.nodes.len())
            });
        if !elected {
            return;
        }
        match self.leadership {
            Leadership::PreVoteCandidate => self.become_candidate(),
            Leadership::Candidate => self.become_leader(false),
            _ => {}
        }
    }

    fn request_vote(&self) -> RequestVote {
        let last_committable = self.last_committable();
        RequestVote {
            term: self.view,
            last_committable_idx: last_committable,
            term_of_last_committable_idx: self.log.view_at(last_committable).unwrap_or(View(0)),
        }
    }

    fn send_vote_response(&mut self, to: NodeId, vote_granted: bool, pre_vote: bool) {
        let response = VoteResponse {
            term: self.view,
            vote_granted,
        };
        let message = if pre_vote {
            Message::RequestPreVoteResponse(response)
        } else {
            Message::RequestVoteResponse(response)
        };
        self.send(to, message);
    }

    fn reset_votes_for_me(&mut self) {
        self.votes_for_me = self
            .configurations
            .iter()
            .map(|configuration| (configuration.idx, Default::default()))
            .collect();
    }

    fn reset_last_acks(&mut self) {
        for peer in self.peers.values_mut() {
            peer.last_ack_elapsed_ms = 0;
        }
    }
}
