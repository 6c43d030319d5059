//! The crate's one error type. Only local calls fail: messages from peers never produce an
//! error (a malformed or stale message is dropped, as CCF does).

use cloister_types::{SeqNo, View};

/// Why a local call into [`crate::Raft`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RaftError {
    /// Only the primary appends entries.
    #[error("this node is not the primary")]
    NotPrimary,
    /// The node's retirement is committed: it appends nothing more (CCF `can_replicate`).
    #[error("this node's retirement is committed")]
    RetiredCommitted,
    /// Entries must extend the log one seqno at a time.
    #[error("expected seqno {expected}, got {got}")]
    UnexpectedSeqNo {
        /// The next seqno of the log.
        expected: SeqNo,
        /// The seqno the entry carried.
        got: SeqNo,
    },
    /// The primary only appends entries of its current view.
    #[error("expected view {expected}, got {got}")]
    WrongView {
        /// The primary's current view.
        expected: View,
        /// The view the entry carried.
        got: View,
    },
    /// `bootstrap_primary` / `join_as_backup` on a node that already has consensus state.
    #[error("this node has already started")]
    AlreadyStarted,
    /// A configuration that is empty or does not contain the bootstrapping node.
    #[error("the configuration is empty or does not contain this node")]
    InvalidConfiguration,
    /// A view history that is not ascending or does not end at or before the join point.
    #[error("the view history is not ascending or goes past the join point")]
    InvalidViewHistory,
    /// Log compaction past the commit point (uncommitted entries may still be rolled back).
    #[error("cannot compact past the commit seqno {commit}")]
    CompactPastCommit {
        /// The commit seqno.
        commit: SeqNo,
    },
}
