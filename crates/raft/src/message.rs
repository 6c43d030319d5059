//! Messages between nodes, with the fields of CCF's `raft_types.h` (spec §5.3). Encoding them
//! for the node-to-node channel is the node layer's job; entries travel inside AppendEntries.

use cloister_types::{SeqNo, View};

use crate::Entry;

/// A consensus message between two nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Primary → backup: entries (possibly none: a heartbeat). CCF message type 0.
    AppendEntries(AppendEntries),
    /// Backup → primary: ACK or NACK of an AppendEntries. CCF message type 1.
    AppendEntriesResponse(AppendEntriesResponse),
    /// Candidate → every node of its active configurations. CCF message type 3.
    RequestVote(RequestVote),
    /// Answer to a RequestVote. CCF message type 4.
    RequestVoteResponse(VoteResponse),
    /// A retiring primary nudges its successor to start an election at once. CCF type 5.
    ProposeRequestVote(ProposeRequestVote),
    /// Pre-vote: a speculative RequestVote that changes no vote. CCF message type 6.
    RequestPreVote(RequestVote),
    /// Answer to a RequestPreVote. CCF message type 7.
    RequestPreVoteResponse(VoteResponse),
}

/// AppendEntries: entries `(prev_idx, idx]`, all of view `term_of_idx` (one view per message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendEntries {
    /// The sender's current view.
    pub term: View,
    /// The entry just before the first one carried.
    pub prev_idx: SeqNo,
    /// The view of `prev_idx` in the sender's log.
    pub prev_term: View,
    /// The sender's commit seqno.
    pub leader_commit_idx: SeqNo,
    /// The view of every carried entry (of `idx` for a heartbeat).
    pub term_of_idx: View,
    /// The last seqno covered: `prev_idx + entries.len()`.
    pub idx: SeqNo,
    /// The entries `prev_idx + 1 ..= idx`.
    pub entries: Vec<Entry>,
}

/// ACK (`success`) or NACK of an AppendEntries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendEntriesResponse {
    /// ACK: the responder's view. NACK: the view of `last_log_idx` in the responder's log
    /// (the highest possibly matching TxID), or its view if it is simply behind.
    pub term: View,
    /// ACK: the seqno up to which the responder's log matches the sender's and is persisted.
    /// NACK: the highest seqno that may still match.
    pub last_log_idx: SeqNo,
    /// ACK or NACK.
    pub success: bool,
}

/// RequestVote and RequestPreVote: elections compare the last **committable** index (the last
/// signature), not the last index (spec §5.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestVote {
    /// The candidate's view (for a pre-vote: the view it would leave).
    pub term: View,
    /// The candidate's last signature seqno.
    pub last_committable_idx: SeqNo,
    /// The view of that signature.
    pub term_of_last_committable_idx: View,
}

/// Answer to a RequestVote or RequestPreVote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteResponse {
    /// The voter's view.
    pub term: View,
    /// Whether the vote is granted.
    pub vote_granted: bool,
}

/// A retiring primary asks the receiver to start an election in the next view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposeRequestVote {
    /// The sender's view; ignored unless it is the receiver's view.
    pub term: View,
}

impl Message {
    /// The message type number on CCF's wire (`RaftMsgType`).
    pub fn wire_type(&self) -> u64 {
        match self {
            Message::AppendEntries(_) => 0,
            Message::AppendEntriesResponse(_) => 1,
            Message::RequestVote(_) => 3,
            Message::RequestVoteResponse(_) => 4,
            Message::ProposeRequestVote(_) => 5,
            Message::RequestPreVote(_) => 6,
            Message::RequestPreVoteResponse(_) => 7,
        }
    }

    /// The variant's name, for traces and scenario assertions.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::AppendEntries(_) => "AppendEntries",
            Message::AppendEntriesResponse(_) => "AppendEntriesResponse",
            Message::RequestVote(_) => "RequestVote",
            Message::RequestVoteResponse(_) => "RequestVoteResponse",
            Message::ProposeRequestVote(_) => "ProposeRequestVote",
            Message::RequestPreVote(_) => "RequestPreVote",
            Message::RequestPreVoteResponse(_) => "RequestPreVoteResponse",
        }
    }
}
