//! The seam between the transport and the node: the host parses and bounds each request, hands
//! it to a [`RequestHandler`] and writes back whatever [`HostResponse`] comes out. Later the
//! handler is the adapter to `NodeCore` (ARCHITECTURE.md, "The path of one write", steps 1–2).

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use cloister_types::ApiError;

/// One complete request, body already read (and within `max_body_size`).
#[derive(Debug, Clone)]
pub struct HostRequest {
    /// Unique per accepted connection on this server; HTTP/2 streams of one connection share it
    /// (CCF's session id, which forwarding and session consistency key on).
    pub session_id: u64,
    /// Name of the RPC interface the request came in on.
    pub interface: String,
    pub method: http::Method,
    /// The request target's path, still percent-encoded.
    pub path: String,
    /// The query string without `?` (empty when there is none).
    pub query: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// The leaf certificate the client presented during the TLS handshake, if any. It is well
    /// formed but NOT chain-verified: CCF authenticates callers by looking the certificate up
    /// (user_cert, member_cert auth policies), not by a CA.
    pub client_cert_der: Option<Vec<u8>>,
    /// Whether the request arrived over HTTP/2.
    pub http2: bool,
}

/// What to send back. `content-length` is set by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HostResponse {
    /// CCF's error answer: the status, `content-type: application/json` and the OData-style body
    /// (spec/ccf-api.md §0 "Error body").
    pub fn from_api_error(error: &ApiError) -> HostResponse {
        HostResponse {
            status: error.status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: error.body(),
        }
    }
}

/// Answers requests. Called concurrently (one call per request, several per HTTP/2 session), so
/// implementations synchronise internally.
pub trait RequestHandler: Send + Sync + 'static {
    fn handle(
        &self,
        request: HostRequest,
    ) -> Pin<Box<dyn Future<Output = HostResponse> + Send + '_>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_becomes_a_json_response_with_its_status() {
        let error = ApiError::new(404, "ResourceNotFound", "Unknown path: /x.");
        let response = HostResponse::from_api_error(&error);
        assert_eq!(response.status, 404);
        assert_eq!(
            response.headers,
            vec![("content-type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(response.body, error.body());
    }
}
