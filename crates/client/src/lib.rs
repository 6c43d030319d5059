//! Cloister's Rust client for CCF-compatible services: HTTPS calls pinned to the service
//! certificate (HTTP/1.1 or HTTP/2, optional client certificate), COSE-signed governance
//! requests, commit polling and receipt verification (spec/ccf-api.md §0–§3, §8).
//!
//! An I/O crate (ARCHITECTURE.md): it uses tokio sockets, timers and the system clock, which the
//! sans-IO crates below it never do.
#![forbid(unsafe_code)]

mod api_error;
mod connection;
mod cose_sign;
mod error;
mod gov;
mod join;
mod receipts;
mod target;
mod tls;
mod tx_status;

pub use connection::{Client, ClientOptions, HttpVersion, Response, TX_ID_HEADER};
pub use cose_sign::{
    CREATED_AT_LABEL, GovMessage, GovMsgType, MSG_TYPE_LABEL, MemberSigner, PROPOSAL_ID_LABEL,
};
pub use error::ClientError;
pub use gov::{
    BALLOT_ACCEPT, BALLOT_REJECT, GOV_API_VERSION, GovClient, Proposal, ProposalState, ServiceInfo,
    StateDigest, Submitted, unix_now,
};
pub use http::Method;
pub use join::{
    JOIN_PATH, JoinAddresses, JoinOut, JoinRequest, NetworkInfo, VIRTUAL_MEASUREMENT, join_in,
    join_once, parse_join_out, virtual_quote_info,
};
pub use receipts::{Frontend, VerifiedReceipt, verify_receipt_json};
pub use tx_status::TX_POLL_INTERVAL_MS;
