//! Named states of one node (CCF's `LeadershipState`, `MembershipState`, `RetirementPhase`).

use cloister_types::SeqNo;

/// Role in the current view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Leadership {
    /// Follows a primary (or waits for one).
    Follower,
    /// Asking for pre-votes without changing view (pre-vote enabled only).
    PreVoteCandidate,
    /// Asking for votes in a new view.
    Candidate,
    /// The primary.
    Leader,
    /// Retirement committed: no role any more.
    None,
}

/// Whether the node belongs to the service, and how far its retirement went (spec §5.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// In the latest configuration (or not yet in any).
    Active,
    /// A configuration without this node followed one with it.
    Retired(Retirement),
}

/// The retirement phases, each with the seqnos that got it there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retirement {
    /// The reconfiguration removing this node is at `retirement_idx` (RI); reverts to Active if
    /// that entry is rolled back.
    Ordered {
        /// Seqno of the reconfiguration without this node.
        retirement_idx: SeqNo,
    },
    /// A signature at `retirement_committable_idx` (RCI) ≥ RI was appended.
    Signed {
        /// RI.
        retirement_idx: SeqNo,
        /// RCI: commit at or past it completes the retirement.
        retirement_committable_idx: SeqNo,
    },
    /// Commit reached RCI. A primary keeps leading until RetiredCommitted, so that it can
    /// write the `retired_committed` transactions; every node still answers messages.
    Completed,
    /// The transaction marking this node `retired_committed` is committed: no role any more.
    RetiredCommitted,
}

impl Retirement {
    /// CCF's phase name.
    pub fn name(&self) -> &'static str {
        match self {
            Retirement::Ordered { .. } => "Ordered",
            Retirement::Signed { .. } => "Signed",
            Retirement::Completed => "Completed",
            Retirement::RetiredCommitted => "RetiredCommitted",
        }
    }
}
