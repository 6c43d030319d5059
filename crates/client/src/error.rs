//! The one error type of the client.

use cloister_crypto::CryptoError;
use cloister_merkle::MerkleError;
use cloister_types::{ApiError, TxId, TxStatus};

/// Why a client call failed. Everything the network sends ends up here, never in a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL is not `https://host[:port]` with nothing after the authority.
    #[error("invalid base URL {url:?}: {why}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// A PEM certificate or key given to the client does not parse, or is not of a usable kind.
    #[error("bad {what}: {why}")]
    Credentials {
        /// Which input (`CA certificate`, `client certificate`, `client key`, …).
        what: &'static str,
        /// Why it was refused.
        why: String,
    },
    /// rustls refused the TLS configuration (for example a client key that does not match its
    /// certificate).
    #[error("TLS configuration: {0}")]
    TlsConfig(#[from] rustls::Error),
    /// The TCP connection to the service could not be made.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// `host:port` that was dialled.
        address: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// The TLS handshake failed: most often the server certificate does not chain to the pinned
    /// service certificate, or does not name the host (`invalid peer certificate: …`).
    #[error("TLS handshake with {address} failed: {source}")]
    TlsHandshake {
        /// `host:port` of the server.
        address: String,
        /// The handshake error (rustls' error inside an `io::Error`).
        source: std::io::Error,
    },
    /// HTTP framing or connection error from hyper.
    #[error("HTTP error: {0}")]
    Http(#[from] hyper::Error),
    /// A request could not be built (bad method, path or header value).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// No answer within the deadline.
    #[error("{what} timed out after {after_ms} ms")]
    Timeout {
        /// What was being waited for.
        what: &'static str,
        /// The deadline that passed.
        after_ms: u64,
    },
    /// The response body is larger than the client accepts.
    #[error("response body exceeds {limit_bytes} bytes")]
    BodyTooLarge {
        /// The limit.
        limit_bytes: usize,
    },
    /// The service answered with a status the call does not expect; CCF's error body when it
    /// sent one (spec/ccf-api.md §0 "Error body").
    #[error("{method} {path} returned {error}")]
    Service {
        /// HTTP method of the request.
        method: String,
        /// Path and query of the request.
        path: String,
        /// Status, CCF error code and message (code `""` and the raw body when not CCF-shaped).
        /// Boxed to keep every `Result` of this crate small.
        error: Box<ApiError>,
    },
    /// A 2xx response whose body or headers are not what the API documents.
    #[error("unexpected response from {path}: {why}")]
    UnexpectedResponse {
        /// Path and query of the request.
        path: String,
        /// What was wrong.
        why: String,
    },
    /// Signing or a certificate operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A receipt did not parse or did not verify.
    #[error("receipt: {0}")]
    Receipt(#[from] MerkleError),
    /// The transaction will never commit (rolled back by an election): resubmit it (§2).
    #[error("transaction {0} is Invalid: it was rolled back and will never commit")]
    TxInvalid(TxId),
    /// The transaction did not reach a terminal status before the deadline.
    #[error("transaction {tx_id} still {last_status:?} after {after_ms} ms")]
    CommitTimeout {
        /// The transaction waited for.
        tx_id: TxId,
        /// Its status at the last poll.
        last_status: TxStatus,
        /// The deadline that passed.
        after_ms: u64,
    },
}
