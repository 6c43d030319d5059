//! One accepted TCP connection: TLS handshake, then HTTP/1.1 or HTTP/2 until the client leaves,
//! the session must close after an error, or the server shuts down (gracefully: the requests
//! in flight are answered first).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use tokio_rustls::TlsAcceptor;

use crate::config::AppProtocol;
use crate::dispatch::{Interface, Session};
use crate::linger::Lingering;

/// A client that has not finished the TLS handshake by then is dropped, so half-open
/// connections cannot hold session slots for ever.
const TLS_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;
/// hyper's default, made explicit: an HTTP/1 client must send a whole request head this fast.
const HEADER_READ_TIMEOUT_MS: u64 = 30_000;

/// Everything a connection task needs besides its socket.
pub(crate) struct Connection {
    pub(crate) interface: Arc<Interface>,
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) session_id: u64,
    pub(crate) capped: bool,
    pub(crate) max_concurrent_streams: u32,
    /// Becomes `true` when the server shuts down.
    pub(crate) stop: watch::Receiver<bool>,
}

impl Connection {
    pub(crate) async fn serve(mut self, tcp: TcpStream) {
        // Responses are small and latency matters more than packet count.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(session = self.session_id, %error, "set_nodelay failed");
        }
        let handshake = tokio::time::timeout(
            Duration::from_millis(TLS_HANDSHAKE_TIMEOUT_MS),
            self.acceptor.accept(tcp),
        );
        let tls = tokio::select! {
            _ = self.stop.wait_for(|stopped| *stopped) => return,
            result = handshake => match result {
                Ok(Ok(tls)) => tls,
                Ok(Err(error)) => {
                    tracing::debug!(session = self.session_id, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(session = self.session_id, "TLS handshake timed out");
                    return;
                }
            },
        };
        let client_cert_der = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|leaf| leaf.as_ref().to_vec());
        let close = Arc::new(Notify::new());
        let linger = Arc::new(AtomicBool::new(false));
        let session = Arc::new(Session {
            linger: Arc::clone(&linger),
            interface: Arc::clone(&self.interface),
            id: self.session_id,
            capped: self.capped,
            client_cert_der,
            close: Arc::clone(&close),
        });
        let service = service_fn(move |request| {
            let session = Arc::clone(&session);
            async move { Ok::<_, Infallible>(session.respond(request).await) }
        });
        let builder = self.http_builder();
        let stream = Lingering::new(tls, linger);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        let mut closing = false;
        loop {
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(session = self.session_id, %error, "session ended with an error");
                    }
                    return;
                }
                _ = self.stop.wait_for(|stopped| *stopped), if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
                () = close.notified(), if !closing => {
                    // An error answer ends the session (the stream lingers: see `linger`).
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }

    /// One HTTP version per interface, as CCF (`app_protocol`), with hyper's own parsing bounds
    /// above CCF's limits (see `limits`).
    fn http_builder(&self) -> auto::Builder<TokioExecutor> {
        let limits = &self.interface.limits;
        let head_bytes_max = limits.hyper_head_bytes_max();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(HEADER_READ_TIMEOUT_MS))
            .max_buf_size(head_bytes_max)
            .max_headers(limits.hyper_headers_count_max());
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.max_concurrent_streams)
            .max_header_list_size(u32::try_from(head_bytes_max).unwrap_or(u32::MAX));
        match self.interface.app_protocol {
            AppProtocol::Http1 => builder.http1_only(),
            AppProtocol::Http2 => builder.http2_only(),
        }
    }
}
