//! Cloister's host: the real-IO driver of a node (ARCHITECTURE.md). For now it serves CCF's
//! RPC interfaces — TLS with optional, lookup-authenticated client certificates, HTTP/1.1 or
//! HTTP/2 per interface, CCF's session caps and request limits with CCF's JSON errors — and
//! hands each request to a [`RequestHandler`] — and drives `NodeCore`: requests, ticks, ledger
//! files, persistence notices ([`NodeDriver`]).
#![forbid(unsafe_code)]

mod client_auth;
mod config;
mod connection;
mod dispatch;
mod error;
mod handler;
mod ledger_reader;
mod ledger_writer;
mod limits;
mod linger;
mod node_driver;
pub mod peer;
mod process_launcher;
mod response;
mod server;
mod sessions;
mod shutdown;
pub mod snapshot_files;
mod tls;

pub use config::{
    AppProtocol, MAX_BODY_SIZE_BYTES_DEFAULT, MAX_CONCURRENT_STREAMS_COUNT_DEFAULT,
    MAX_HEADER_SIZE_BYTES_DEFAULT, MAX_HEADERS_COUNT_DEFAULT, MAX_OPEN_SESSIONS_HARD_DEFAULT,
    MAX_OPEN_SESSIONS_SOFT_DEFAULT, RpcInterfaceConfig,
};
pub use error::HostError;
pub use handler::{HostRequest, HostResponse, RequestHandler};
pub use ledger_writer::{LedgerDirWriter, LedgerOnDisk};
pub use node_driver::{NodeDriver, NodeHandle, PeerLink, PeerSend, read_vote};
pub use server::RpcServer;
pub use shutdown::{ShutdownSignal, StopSignal};
pub use tls::TlsIdentity;
