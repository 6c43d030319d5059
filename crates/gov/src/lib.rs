//! Cloister governance (spec/ccf-api.md §1.2, §3, §4, §5): COSE Sign1 member requests and their
//! authentication, the replay window, the proposal and ballot lifecycle over the governance
//! tables, and member acks. The constitution runs behind [`ConstitutionEngine`].
//!
//! Sans-IO: no clock is read (CCF's replay window compares the signed `created_at` values with
//! each other, not with a clock); the Merkle roots come in as arguments.
//!
//! How callers treat the transaction after an entry point:
//! - `Err(ApiError)`: answer it and do not commit (CCF applies a handler's writes only on 2xx).
//!   Every refusal of a client's request happens before anything is written.
//! - [`ProposalOutcome::Discard`]: answer the 500 and drop the transaction: a proposal failed
//!   during the request, and `apply` may have stopped halfway (spec §3 "Lifecycle" 4).
//! - Anything else: answer it and commit, then carry out the collected [`NodeAction`]s.
//!
//! A typical `/gov` POST: [`authenticate_member`], then [`create_proposal`],
//! [`submit_ballot`], [`withdraw_proposal`], [`update_state_digest`] or [`ack`].
#![forbid(unsafe_code)]

mod acks;
mod ballots;
mod cose_request;
mod engine;
mod error;
mod ids;
mod kv_json;
mod lifecycle;
mod member_auth;
mod proposals;
mod queries;
mod records;
mod replay;
pub mod tables;

pub use acks::{AckOutcome, StateDigest, ack, get_state_digest, update_state_digest};
pub use ballots::submit_ballot;
pub use cose_request::{
    COSE_CONTENT_TYPE, CREATED_AT_MAX, GovRequest, HEADER_MSG_CREATED_AT, HEADER_MSG_PROPOSAL_ID,
    HEADER_MSG_TYPE, created_at_text,
};
pub use engine::{ConstitutionEngine, GovHost, JsFailure, NodeAction, Validation};
pub use error::{GovError, codes};
pub use ids::{ProposalId, member_id_from_path};
pub use lifecycle::ProposalOutcome;
pub use member_auth::{
    ACTIVE_MEMBER_COSE_SIGN1, AuthenticatedMember, MEMBER_COSE_SIGN1, WWW_AUTHENTICATE_COSE_SIGN1,
    authenticate_member, authenticate_member_any_type, is_active_member,
};
pub use proposals::{create_proposal, withdraw_proposal};
pub use queries::{
    get_ballot, get_proposal, get_proposal_actions, list_proposals, proposal_list_json,
};
pub use records::{Failure, MemberAck, ProposalInfo, ProposalState, ProposalView};
pub use replay::{
    RECENT_COSE_PROPOSALS_WINDOW_SIZE_DEFAULT, admit_submission, replay_key, window_size,
};
