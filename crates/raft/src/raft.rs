//! One node's consensus state and its public API. The protocol itself lives in the sibling
//! modules (`replication`, `follower`, `election`, `membership`), each an `impl Raft` block.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cloister_types::{NodeId, SeqNo, TxId, View};
use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg32;

use crate::log::Log;
use crate::{
    Configuration, Entry, Input, Leadership, Membership, Message, Output, RaftConfig, RaftError,
    Retirement,
};

/// CCF's `starting_view_change`: the genesis node adds 2 to its view, so a fresh service
/// starts in view 2 (spec §5.1).
pub const STARTING_VIEW: View = View(2);

/// Sends allowed in the output queue at once; further sends are dropped, which Raft tolerates
/// as message loss (a driver that stops polling must not make memory grow without bound).
pub const QUEUED_SENDS_MAX: usize = 10_000;

/// AppendEntries batches sent to one peer per flush; the rest follow on later heartbeats.
pub const APPEND_ENTRIES_BATCHES_PER_FLUSH_MAX: usize = 16;

/// Where a backup joining from a snapshot starts (spec §8.3): the snapshot's TxID, the view
/// history up to it and the configuration in force at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinPoint {
    /// The snapshot's TxID: everything up to it counts as committed.
    pub txid: TxId,
    /// `(view, first seqno)` of every view with entries up to the snapshot, ascending.
    pub view_history: Vec<(View, SeqNo)>,
    /// The nodes of the configuration in force at the snapshot.
    pub configuration: BTreeSet<NodeId>,
}

/// One node's consensus state (CCF's `aft::Aft`), sans-IO: feed [`Input`]s to
/// [`Raft::handle`], then drain [`Raft::poll_output`].
#[derive(Debug)]
pub struct Raft {
    pub(crate) id: NodeId,
    pub(crate) config: RaftConfig,
    pub(crate) rng: Pcg32,

    pub(crate) view: View,
    pub(crate) voted_for: Option<NodeId>,
    pub(crate) leader: Option<NodeId>,
    pub(crate) leadership: Leadership,
    pub(crate) membership: Membership,
    /// Set on a new view; allows one rollback of a conflicting suffix (spec §5.3 step 4).
    pub(crate) is_new_follower: bool,
    /// A new primary must sign before it can commit anything (spec §5.4).
    pub(crate) should_sign: bool,
    /// Elections are armed once the node has seen a signature while in the latest
    /// configuration (CCF `start_ticking_if_necessary`; TLA `Timeout` precondition).
    pub(crate) ticking: bool,

    pub(crate) log: Log,
    pub(crate) commit_idx: SeqNo,
    /// Signature seqnos above the commit seqno, ascending (CCF `committable_indices`).
    pub(crate) committable: VecDeque<SeqNo>,
    pub(crate) persisted_idx: SeqNo,

    /// Active configurations, oldest first (spec §5.6).
    pub(crate) configurations: Vec<Configuration>,
    /// Every other node of an active configuration, plus retired ones until their
    /// `retired_committed` is committed.
    pub(crate) peers: BTreeMap<NodeId, Peer>,
    /// Nodes dropped from every configuration by a commit, awaiting `retired_committed`.
    pub(crate) retiring_peers: BTreeSet<NodeId>,
    /// Votes received, per configuration (keyed by its seqno).
    pub(crate) votes_for_me: BTreeMap<SeqNo, BTreeSet<NodeId>>,

    pub(crate) clock_ms: Option<u64>,
    pub(crate) timeout_elapsed_ms: u64,
    /// Payload bytes appended by the primary since the last flush.
    pub(crate) unsent_bytes: usize,
    /// A backup's acknowledgement waiting for persistence.
    pub(crate) pending_ack: Option<PendingAck>,

    pub(crate) outputs: VecDeque<Output>,
    pub(crate) queued_sends: usize,
    pub(crate) announced: Option<Output>,
}

/// What the primary knows about one peer.
#[derive(Clone, Debug, Default)]
pub(crate) struct Peer {
    /// The highest seqno sent.
    pub(crate) sent_idx: SeqNo,
    /// The highest seqno acknowledged as matching (and persisted).
    pub(crate) match_idx: SeqNo,
    /// Time since the last response, for CheckQuorum.
    pub(crate) last_ack_elapsed_ms: u64,
}

/// A backup accepted entries up to `matched` from `leader` in `view`, but has not persisted
/// them all yet.
#[derive(Clone, Debug)]
pub(crate) struct PendingAck {
    pub(crate) leader: NodeId,
    pub(crate) view: View,
    pub(crate) matched: SeqNo,
}

impl Raft {
    /// A node with no state yet. `rng_seed` seeds the randomised election timeouts, so a
    /// simulation replays byte for byte.
    pub fn new(id: NodeId, config: RaftConfig, rng_seed: u64) -> Raft {
        Raft {
            id,
            config,
            rng: Pcg32::seed_from_u64(rng_seed),
            view: View(0),
            voted_for: None,
            leader: None,
            leadership: Leadership::Follower,
            membership: Membership::Active,
            is_new_follower: false,
            should_sign: false,
            ticking: false,
            log: Log::default(),
            commit_idx: SeqNo(0),
            committable: VecDeque::new(),
            persisted_idx: SeqNo(0),
            configurations: Vec::new(),
            peers: BTreeMap::new(),
            retiring_peers: BTreeSet::new(),
            votes_for_me: BTreeMap::new(),
            clock_ms: None,
            timeout_elapsed_ms: 0,
            unsent_bytes: 0,
            pending_ack: None,
            outputs: VecDeque::new(),
            queued_sends: 0,
            announced: None,
        }
    }

    /// The genesis node: primary in view 2 of a configuration of `nodes` (which must contain
    /// it), with an empty log. The caller then replicates the genesis transaction and a
    /// signature (CCF `force_become_primary`).
    pub fn bootstrap_primary(&mut self, nodes: BTreeSet<NodeId>) -> Result<(), RaftError> {
        self.check_fresh()?;
        if !nodes.contains(&self.id) {
            return Err(RaftError::InvalidConfiguration);
        }
        self.view = STARTING_VIEW;
        self.configurations.push(Configuration {
            idx: SeqNo(0),
            nodes,
        });
        self.sync_peers();
        self.become_leader(true);
        Ok(())
    }

    /// A backup: empty (it learns the configuration from the entries it receives; a node that
    /// was never started is already such a backup) or starting from a snapshot. It starts
    /// elections only once in the latest configuration.
    pub fn join_as_backup(&mut self, from: Option<JoinPoint>) -> Result<(), RaftError> {
        self.check_fresh()?;
        let Some(point) = from else {
            return Ok(());
        };
        check_view_history(&point)?;
        let seqno = point.txid.seqno;
        self.log = Log::starting_after(seqno, point.view_history);
        self.commit_idx = seqno;
        self.persisted_idx = seqno;
        if !point.configuration.is_empty() {
            self.configurations.push(Configuration {
                idx: seqno,
                nodes: point.configuration,
            });
        }
        self.sync_peers();
        self.become_aware_of_new_term(point.txid.view);
        if self.is_in_latest_configuration() {
            self.start_ticking();
        }
        Ok(())
    }

    /// A node restarting with the log it persisted (a crash, then a restart with the same
    /// identity): the snapshot it started from if any (`from`), `entries` from the next seqno,
    /// `commit` as far as the node knows it committed (0 if unknown), and its last
    /// [`Output::Voted`]. It comes back a backup in the latest view it saw, with every entry it
    /// persisted.
    pub fn restore(
        &mut self,
        from: Option<JoinPoint>,
        entries: Vec<Entry>,
        commit: SeqNo,
        vote: Option<(View, NodeId)>,
    ) -> Result<(), RaftError> {
        self.check_fresh()?;
        let base = from.as_ref().map_or(SeqNo(0), |point| point.txid.seqno);
        if let Some(point) = from {
            check_view_history(&point)?;
            self.log = Log::starting_after(base, point.view_history);
            self.commit_idx = base;
            if !point.configuration.is_empty() {
                self.configurations.push(Configuration {
                    idx: base,
                    nodes: point.configuration,
                });
            }
        }
        for (index, entry) in entries.iter().enumerate() {
            let in_order = entry.seqno().0 == base.0 + index as u64 + 1;
            if !in_order || entry.view() < self.log.last_view() {
                return Err(RaftError::InvalidViewHistory);
            }
        }
        for entry in entries {
            self.append_entry(entry);
        }
        let last = self.log.last_idx();
        self.persisted_idx = last;
        let commit = commit.min(self.last_committable());
        if commit > self.commit_idx {
            self.commit_idx = commit;
            while self
                .committable
                .front()
                .is_some_and(|seqno| *seqno <= commit)
            {
                self.committable.pop_front();
            }
            self.pop_committed_configurations_after_restore(commit);
        }
        let view = match &vote {
            Some((voted_view, _)) => (*voted_view).max(self.log.last_view()),
            None => self.log.last_view(),
        };
        // A backup in that view, keeping its whole log: entries it persisted may have been
        // acknowledged and counted towards a commit, so unlike a view change, a restart drops
        // nothing (a new primary's AppendEntries rolls back what conflicts).
        self.view = view;
        self.voted_for = match vote {
            Some((voted_view, voted_for)) if voted_view == view => Some(voted_for),
            _ => None,
        };
        self.leader = None;
        self.leadership = Leadership::Follower;
        self.is_new_follower = true;
        self.restart_election_timeout();
        self.outputs.clear();
        self.queued_sends = 0;
        self.announce(Output::BecameFollower { view, leader: None });
        Ok(())
    }

    /// Processes one input. Only local inputs ([`Input::Replicate`]) can fail; messages from
    /// peers that are stale, malformed or from unknown nodes are dropped.
    pub fn handle(&mut self, input: Input) -> Result<(), RaftError> {
        match input {
            Input::Tick { now_ms } => {
                self.tick(now_ms);
                Ok(())
            }
            Input::Message { from, message } => {
                if from != self.id {
                    self.receive(from, message);
                }
                Ok(())
            }
            Input::Replicate { entries } => self.replicate(entries),
            Input::Persisted { up_to } => {
                self.persisted(up_to);
                Ok(())
            }
        }
    }

    /// The next thing to do, in order; `None` once the queue is empty.
    pub fn poll_output(&mut self) -> Option<Output> {
        let output = self.outputs.pop_front()?;
        if matches!(output, Output::Send { .. }) {
            self.queued_sends = self.queued_sends.saturating_sub(1);
        }
        Some(output)
    }

    /// Forgets entries up to `up_to` (at most the commit seqno), for example after a snapshot.
    /// A backup that needs them afterwards must catch up from a snapshot.
    pub fn compact_log(&mut self, up_to: SeqNo) -> Result<(), RaftError> {
        if up_to > self.commit_idx {
            return Err(RaftError::CompactPastCommit {
                commit: self.commit_idx,
            });
        }
        self.log.compact(up_to);
        Ok(())
    }

    /// Switches an injected bug on or off (tests only; see [`RaftConfig::injected_bug`]).
    #[doc(hidden)]
    pub fn set_injected_bug(&mut self, bug: Option<crate::InjectedBug>) {
        self.config.injected_bug = bug;
    }

    /// This node.
    pub fn id(&self) -> &NodeId {
        &self.id
    }

    /// The current view (Raft term).
    pub fn view(&self) -> View {
        self.view
    }

    /// The primary of the current view, if known.
    pub fn leader(&self) -> Option<&NodeId> {
        self.leader.as_ref()
    }

    /// The node this node voted for in the current view.
    pub fn voted_for(&self) -> Option<&NodeId> {
        self.voted_for.as_ref()
    }

    /// Role in the current view.
    pub fn leadership(&self) -> Leadership {
        self.leadership
    }

    /// Whether this node is the primary.
    pub fn is_primary(&self) -> bool {
        self.leadership == Leadership::Leader
    }

    /// Whether this node is a backup.
    pub fn is_backup(&self) -> bool {
        self.leadership == Leadership::Follower
    }

    /// Membership and retirement phase.
    pub fn membership(&self) -> Membership {
        self.membership
    }

    /// The commit seqno (always a signature, or a join point).
    pub fn commit_seqno(&self) -> SeqNo {
        self.commit_idx
    }

    /// The last seqno of the log.
    pub fn last_seqno(&self) -> SeqNo {
        self.log.last_idx()
    }

    /// The last signature seqno, or the commit seqno without uncommitted signatures.
    pub fn last_committable(&self) -> SeqNo {
        self.committable.back().copied().unwrap_or(self.commit_idx)
    }

    /// Signature seqnos above the commit seqno, ascending.
    pub fn committable_seqnos(&self) -> Vec<SeqNo> {
        self.committable.iter().copied().collect()
    }

    /// The highest seqno the host reported persisted (and still in the log).
    pub fn persisted_seqno(&self) -> SeqNo {
        self.persisted_idx
    }

    /// The view of `seqno`: `View(0)` for seqno 0, `None` past the last seqno.
    pub fn view_at(&self, seqno: SeqNo) -> Option<View> {
        self.log.view_at(seqno)
    }

    /// `(view, first seqno)` of every view with entries, ascending (stored in snapshots).
    pub fn view_history(&self) -> &[(View, SeqNo)] {
        self.log.views()
    }

    /// The first seqno whose entry is still held in memory (entries below were compacted).
    pub fn first_held_seqno(&self) -> SeqNo {
        self.log.first_held()
    }

    /// The entry at `seqno`, if held in memory.
    pub fn entry(&self, seqno: SeqNo) -> Option<&Entry> {
        self.log.entry(seqno)
    }

    /// Active configurations, oldest first: more than one while a reconfiguration is
    /// uncommitted.
    pub fn configurations(&self) -> &[Configuration] {
        &self.configurations
    }

    /// The other nodes this node talks to, with the seqno each is known to match (primary).
    pub fn peer_matches(&self) -> BTreeMap<NodeId, SeqNo> {
        self.peers
            .iter()
            .map(|(id, peer)| (id.clone(), peer.match_idx))
            .collect()
    }

    /// Whether new transactions may be executed here: primary, not retiring (a retiring
    /// primary stops taking transactions once its retirement is signed, spec §5.7), and under
    /// `max_uncommitted_tx_count`. Signatures and `retired_committed` transactions may still be
    /// replicated while [`Raft::can_sign`] holds.
    pub fn can_replicate(&self) -> bool {
        let retiring = matches!(
            self.membership,
            Membership::Retired(Retirement::Signed { .. } | Retirement::Completed)
        );
        self.can_sign() && !retiring && !self.is_at_max_capacity()
    }

    /// Whether this node may append entries at all: primary and retirement not committed.
    pub fn can_sign(&self) -> bool {
        self.is_primary() && !self.is_retired_committed()
    }

    /// Whether a new primary has not yet signed in its view (CCF `SHOULD_SIGN`): the node
    /// layer should emit a signature at once, since nothing commits before it.
    pub fn should_sign(&self) -> bool {
        self.should_sign && self.can_sign()
    }

    /// Whether the primary holds `max_uncommitted_tx_count` or more uncommitted entries.
    pub fn is_at_max_capacity(&self) -> bool {
        let max = self.config.max_uncommitted_tx_count;
        max != 0 && self.is_primary() && self.log.last_idx().0 - self.commit_idx.0 >= max
    }

    /// Whether the election timer is armed.
    pub fn is_ticking(&self) -> bool {
        self.ticking
    }

    pub(crate) fn is_retired_committed(&self) -> bool {
        self.membership == Membership::Retired(Retirement::RetiredCommitted)
    }

    fn check_fresh(&self) -> Result<(), RaftError> {
        let fresh = self.view == View(0)
            && self.log.last_idx() == SeqNo(0)
            && self.configurations.is_empty();
        if fresh {
            Ok(())
        } else {
            Err(RaftError::AlreadyStarted)
        }
    }

    fn tick(&mut self, now_ms: u64) {
        let elapsed = match self.clock_ms {
            Some(before) => now_ms.saturating_sub(before),
            None => 0,
        };
        self.clock_ms = Some(self.clock_ms.map_or(now_ms, |before| before.max(now_ms)));
        if elapsed > 0 {
            self.periodic(elapsed);
        }
    }

    fn receive(&mut self, from: NodeId, message: Message) {
        match message {
            Message::AppendEntries(ae) => self.recv_append_entries(from, ae),
            Message::AppendEntriesResponse(r) => self.recv_append_entries_response(from, r),
            Message::RequestVote(r) => self.recv_request_vote(from, r, false),
            Message::RequestPreVote(r) => self.recv_request_vote(from, r, true),
            Message::RequestVoteResponse(r) => self.recv_vote_response(from, r, false),
            Message::RequestPreVoteResponse(r) => self.recv_vote_response(from, r, true),
            Message::ProposeRequestVote(r) => self.recv_propose_request_vote(r),
        }
    }

    fn persisted(&mut self, up_to: TxId) {
        let current = self.log.view_at(up_to.seqno) == Some(up_to.view);
        if !current || up_to.seqno <= self.persisted_idx {
            return;
        }
        self.persisted_idx = up_to.seqno;
        if self.is_primary() {
            self.update_commit();
        } else {
            self.ack_persisted();
        }
    }

    /// Queues a message, unless the queue already holds [`QUEUED_SENDS_MAX`] sends.
    pub(crate) fn send(&mut self, to: NodeId, message: Message) {
        if self.queued_sends >= QUEUED_SENDS_MAX {
            return;
        }
        self.queued_sends += 1;
        self.outputs.push_back(Output::Send { to, message });
    }

    pub(crate) fn emit(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    /// Announces a role change once (BecameLeader / BecameFollower).
    pub(crate) fn announce(&mut self, output: Output) {
        if self.announced.as_ref() != Some(&output) {
            self.announced = Some(output.clone());
            self.outputs.push_back(output);
        }
    }

    /// Randomises the election timeout in [0.5, 1] × `election_timeout_ms` by starting the
    /// elapsed time at U[0, timeout/2] (CCF `restart_election_timeout`).
    pub(crate) fn restart_election_timeout(&mut self) {
        let half = self.config.election_timeout_ms / 2;
        self.timeout_elapsed_ms = self.rng.next_u64() % (half + 1);
    }

    pub(crate) fn start_ticking(&mut self) {
        self.ticking = true;
        self.timeout_elapsed_ms = 0;
    }
}

fn check_view_history(point: &JoinPoint) -> Result<(), RaftError> {
    let history = &point.view_history;
    let ascending = history
        .windows(2)
        .all(|pair| pair[0].0 < pair[1].0 && pair[0].1 < pair[1].1);
    let ends_at_point = match history.last() {
        Some((view, start)) => *view == point.txid.view && *start <= point.txid.seqno,
        None => point.txid.seqno == SeqNo(0),
    };
    let starts_positive = history.first().is_none_or(|(_, start)| start.0 > 0);
    if ascending && ends_at_point && starts_positive {
        Ok(())
    } else {
        Err(RaftError::InvalidViewHistory)
    }
}
