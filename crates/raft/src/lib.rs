//! CCF's Raft variant ("aft", spec/ccf-internals.md §5), sans-IO.
//!
//! What sets it apart from textbook Raft, and is pinned down by this crate's tests:
//! - commit only at signature transactions, and a primary only commits a signature of its own
//!   view (so a new primary commits nothing before its first signature is replicated);
//! - votes compare the candidate's last **committable** TxID, not its last entry;
//! - a node rolls back to its last signature on every view change, and a new primary drops
//!   its unsigned suffix;
//! - AppendEntries carry entries of one view only; a backup rolls back a conflicting suffix
//!   only once per view (`is_new_follower`);
//! - CheckQuorum: a primary without a quorum of acks within an election timeout steps down;
//! - one-transaction reconfiguration: a new configuration applies at once and commit needs a
//!   quorum in every active configuration; retirement goes Ordered → Signed → Completed →
//!   RetiredCommitted, and a retiring primary nudges a successor with ProposeRequestVote.
//!
//! The caller owns the clock ([`Input::Tick`]), the network ([`Output::Send`],
//! [`Input::Message`]), the disk ([`Output::Persist`], [`Input::Persisted`]) and the seed of
//! the randomised election timeouts. Nothing here reads a clock, a file or a socket.
#![forbid(unsafe_code)]

mod config;
mod election;
mod entry;
mod error;
mod follower;
mod io;
mod log;
mod membership;
mod message;
mod raft;
mod replication;
pub mod rules;
mod state;

pub use config::{InjectedBug, RaftConfig};
pub use entry::{Entry, EntryKind};
pub use error::RaftError;
pub use io::{Input, Output};
pub use message::{
    AppendEntries, AppendEntriesResponse, Message, ProposeRequestVote, RequestVote, VoteResponse,
};
pub use raft::{
    APPEND_ENTRIES_BATCHES_PER_FLUSH_MAX, JoinPoint, QUEUED_SENDS_MAX, Raft, STARTING_VIEW,
};
pub use rules::Configuration;
pub use state::{Leadership, Membership, Retirement};
