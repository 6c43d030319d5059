//! Consensus settings (spec/ccf-internals.md §5.2), with CCF 6.x defaults.

/// Timers and bounds of one node's consensus. Times are in milliseconds of the caller's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftConfig {
    /// Follower election timeout and CheckQuorum window (`consensus.election_timeout`, 5000 ms).
    /// The effective timeout is randomised in [0.5, 1] × this value.
    pub election_timeout_ms: u64,
    /// Primary heartbeat / AppendEntries flush period (`consensus.message_timeout`, 100 ms).
    pub message_timeout_ms: u64,
    /// Payload bytes per AppendEntries before a batch is cut, and unsent bytes on the primary
    /// that trigger an early flush (CCF's `append_entries_size_limit`, 20000).
    pub append_entries_bytes_max: usize,
    /// The primary refuses new transactions while `last − commit ≥` this (0 = unlimited).
    pub max_uncommitted_tx_count: u64,
    /// Start elections with a pre-vote round. CCF 6.x answers pre-votes but does not start
    /// them (backport of PR #7436), so this is off by default.
    pub pre_vote_enabled: bool,
    /// A bug switched on in the real commit path, so that tests can show the simulator's
    /// checks catch it. Never set outside tests.
    #[doc(hidden)]
    pub injected_bug: Option<InjectedBug>,
}

/// Bugs [`RaftConfig::injected_bug`] can switch on.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InjectedBug {
    /// The primary commits what it holds itself, without waiting for a quorum.
    CommitWithoutQuorum,
    /// The primary commits the agreed index even when it is not a signature.
    CommitUnsignedSuffix,
}

impl Default for RaftConfig {
    fn default() -> RaftConfig {
        RaftConfig {
            election_timeout_ms: 5000,
            message_timeout_ms: 100,
            append_entries_bytes_max: 20_000,
            max_uncommitted_tx_count: 10_000,
            pre_vote_enabled: false,
            injected_bug: None,
        }
    }
}
