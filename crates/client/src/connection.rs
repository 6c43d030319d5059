//! One HTTPS connection to a CCF-compatible node: TLS pinned to the service certificate, an
//! optional client certificate, HTTP/1.1 or HTTP/2, and requests as plain bytes in and out.
//!
//! The connection is opened on first use and kept; a connection the server has closed is
//! replaced before the next request (a request that never left is sent again on the new one).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::{TrySendError, http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;

use cloister_types::{ApiError, TxId};

use crate::error::ClientError;
use crate::target::Target;
use crate::tls::client_config;

/// The response header carrying the transaction id of a write (spec/ccf-api.md §0).
pub const TX_ID_HEADER: &str = "x-ms-ccf-transaction-id";

/// Which HTTP version to speak. CCF interfaces serve one, chosen by `app_protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/1.1, CCF's default.
    #[default]
    Http1,
    /// HTTP/2 (an interface with `app_protocol: "HTTP2"`).
    Http2,
}

/// Limits of one client. Defaults suit CLI use against a local or nearby node.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub http_version: HttpVersion,
    /// TCP connect plus TLS handshake.
    pub connect_timeout_ms: u64,
    /// One request: sending it and reading the whole response.
    pub request_timeout_ms: u64,
    /// Larger response bodies are refused (a node's snapshot is fetched another way).
    pub response_body_bytes_max: usize,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            http_version: HttpVersion::Http1,
            connect_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            response_body_bytes_max: 64 << 20,
        }
    }
}

/// An HTTP response, fully read.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A client of one node. Cheap to share by reference across tasks: HTTP/1.1 requests take turns
/// on the one connection, HTTP/2 requests share it concurrently.
pub struct Client {
    target: Target,
    base_url: String,
    tls: TlsConnector,
    options: ClientOptions,
    connection: Mutex<Option<Sender>>,
}

impl Client {
    /// A client of `base_url` (`https://127.0.0.1:8000`) that trusts only `ca_pem` (the service
    /// certificate) and, given `client_identity = (cert_pem, key_pem)`, presents that
    /// certificate. Nothing is dialled until the first request.
    pub fn new(
        base_url: &str,
        ca_pem: &str,
        client_identity: Option<(&str, &str)>,
    ) -> Result<Client, ClientError> {
        Client::with_options(base_url, ca_pem, client_identity, ClientOptions::default())
    }

    /// As [`Client::new`], with explicit options (HTTP/2, timeouts, body limit).
    pub fn with_options(
        base_url: &str,
        ca_pem: &str,
        client_identity: Option<(&str, &str)>,
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        let target = Target::parse(base_url)?;
        let http2 = options.http_version == HttpVersion::Http2;
        let config = client_config(ca_pem, client_identity, http2)?;
        Ok(Client {
            base_url: format!("https://{}", target.authority),
            target,
            tls: TlsConnector::from(config),
            options,
            connection: Mutex::new(None),
        })
    }

    /// `https://host:port`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Sends one request and reads the whole response, whatever its status.
    /// `path_and_query` starts with `/`; `headers` are added as given.
    pub async fn request(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response, ClientError> {
        let request = self.build_request(method, path_and_query, headers, body)?;
        let deadline_ms = self.options.request_timeout_ms;
        tokio::time::timeout(ms(deadline_ms), self.exchange(request))
            .await
            .map_err(|_| ClientError::Timeout {
                what: "request",
                after_ms: deadline_ms,
            })?
    }

    /// `GET path_and_query`.
    pub async fn get(&self, path_and_query: &str) -> Result<Response, ClientError> {
        self.request(Method::GET, path_and_query, &[], Vec::new())
            .await
    }

    /// `POST path_and_query` with a body of `content_type`.
    pub async fn post(
        &self,
        path_and_query: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Response, ClientError> {
        self.request(
            Method::POST,
            path_and_query,
            &[(CONTENT_TYPE.as_str(), content_type)],
            body,
        )
        .await
    }

    fn build_request(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        if !path_and_query.starts_with('/') {
            return Err(ClientError::InvalidRequest(format!(
                "path {path_and_query:?} does not start with '/'"
            )));
        }
        // HTTP/2 carries the authority in the URI (`:authority`); HTTP/1.1 in `Host`.
        let uri = match self.options.http_version {
            HttpVersion::Http1 => path_and_query.to_owned(),
            HttpVersion::Http2 => format!("{}{path_and_query}", self.base_url),
        };
        let mut builder = Request::builder().method(method).uri(uri);
        if self.options.http_version == HttpVersion::Http1 {
            builder = builder.header(HOST, self.target.authority.as_str());
        }
        for (name, value) in headers {
            let name = HeaderName::try_from(*name)
                .map_err(|e| ClientError::InvalidRequest(format!("header {name:?}: {e}")))?;
            let value = HeaderValue::try_from(*value)
                .map_err(|e| ClientError::InvalidRequest(format!("header {name}: {e}")))?;
            builder = builder.header(name, value);
        }
        builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))
    }

    /// Sends on the live connection (opening one if needed) and reads the response.
    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Response, ClientError> {
        let mut slot = self.connection.lock().await;
        let sender = match slot.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.connect().await?,
        };
        let response = match sender {
            Sender::Http2(mut h2) => {
                // HTTP/2 multiplexes: put the connection back at once so other tasks share it.
                *slot = Some(Sender::Http2(h2.clone()));
                drop(slot);
                let head = match h2.try_send_request(request).await {
                    Err(error) => self.resend_h2(error).await?,
                    Ok(head) => head,
                };
                self.read_body(head).await?
            }
            Sender::Http1(mut h1) => {
                // HTTP/1.1 carries one exchange at a time: keep the lock until it is done, and
                // keep the connection only if the exchange completed cleanly.
                let head = match h1.try_send_request(request).await {
                    Err(error) => {
                        let (head, fresh) = self.resend_h1(error).await?;
                        h1 = fresh;
                        head
                    }
                    Ok(head) => head,
                };
                let response = self.read_body(head).await?;
                *slot = Some(Sender::Http1(h1));
                response
            }
        };
        Ok(response)
    }

    /// The connection closed before the request left (a keep-alive connection the server
    /// dropped while idle): send it once more on a fresh connection. Any other error is final,
    /// since the server may have acted on the request.
    async fn resend_h1(
        &self,
        mut error: TrySendError<Request<Full<Bytes>>>,
    ) -> Result<(http::Response<Incoming>, http1::SendRequest<Full<Bytes>>), ClientError> {
        let Some(request) = error.take_message() else {
            return Err(ClientError::Http(error.into_error()));
        };
        match self.connect().await? {
            Sender::Http1(mut h1) => {
                let head = h1.send_request(request).await?;
                Ok((head, h1))
            }
            Sender::Http2(_) => Err(ClientError::InvalidRequest(
                "HTTP/1.1 client opened an HTTP/2 connection".into(),
            )),
        }
    }

    async fn resend_h2(
        &self,
        mut error: TrySendError<Request<Full<Bytes>>>,
    ) -> Result<http::Response<Incoming>, ClientError> {
        let Some(request) = error.take_message() else {
            return Err(ClientError::Http(error.into_error()));
        };
        match self.connect().await? {
            Sender::Http2(mut h2) => {
                *self.connection.lock().await = Some(Sender::Http2(h2.clone()));
                Ok(h2.send_request(request).await?)
            }
            Sender::Http1(_) => Err(ClientError::InvalidRequest(
                "HTTP/2 client opened an HTTP/1.1 connection".into(),
            )),
        }
    }

    async fn read_body(&self, head: http::Response<Incoming>) -> Result<Response, ClientError> {
        let (parts, body) = head.into_parts();
        let limit_bytes = self.options.response_body_bytes_max;
        let body = Limited::new(body, limit_bytes)
            .collect()
            .await
            .map_err(|error| match error.downcast::<hyper::Error>() {
                Ok(error) => ClientError::Http(*error),
                // Limited's only other error is LengthLimitError.
                Err(_) => ClientError::BodyTooLarge { limit_bytes },
            })?
            .to_bytes();
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_vec(),
        })
    }

    /// TCP, TLS (the server certificate checked against the pinned CA), then the HTTP
    /// handshake; the connection's driver runs as a background task until either side closes.
    async fn connect(&self) -> Result<Sender, ClientError> {
        let deadline_ms = self.options.connect_timeout_ms;
        tokio::time::timeout(ms(deadline_ms), self.connect_now())
            .await
            .map_err(|_| ClientError::Timeout {
                what: "connect",
                after_ms: deadline_ms,
            })?
    }

    async fn connect_now(&self) -> Result<Sender, ClientError> {
        let address = self.target.address();
        let tcp = TcpStream::connect((self.target.host.as_str(), self.target.port))
            .await
            .map_err(|source| ClientError::Connect {
                address: address.clone(),
                source,
            })?;
        // Requests are small and latency-bound (CCF answers each at once).
        tcp.set_nodelay(true)
            .map_err(|source| ClientError::Connect {
                address: address.clone(),
                source,
            })?;
        let tls = self
            .tls
            .connect(self.target.server_name.clone(), tcp)
            .await
            .map_err(|source| ClientError::TlsHandshake { address, source })?;
        let io = TokioIo::new(tls);
        match self.options.http_version {
            HttpVersion::Http1 => {
                let (sender, connection) = http1::handshake(io).await?;
                tokio::spawn(async move {
                    // The error, if any, reaches the caller through the next request.
                    let _ = connection.await;
                });
                Ok(Sender::Http1(sender))
            }
            HttpVersion::Http2 => {
                let (sender, connection) = http2::handshake(TokioExecutor::new(), io).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok(Sender::Http2(sender))
            }
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The transaction id of a write, from `x-ms-ccf-transaction-id` (spec/ccf-api.md §0).
    pub fn tx_id(&self) -> Option<TxId> {
        self.header(TX_ID_HEADER)?.parse().ok()
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body as CCF's error (`{"error": {"code", "message", "details"?}}`); a body of
    /// another shape becomes an error with an empty code and the body (lossily as UTF-8) as
    /// its message.
    pub fn api_error(&self) -> ApiError {
        crate::api_error::parse(self.status, &self.body)
    }
}

/// The request half of an HTTP connection.
#[derive(Debug)]
enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::Http1(sender) => sender.is_closed(),
            Sender::Http2(sender) => sender.is_closed(),
        }
    }
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}
