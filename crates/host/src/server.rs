//! One listening RPC interface: accept, apply the session caps, spawn a task per connection,
//! and shut down gracefully.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::RpcInterfaceConfig;
use crate::connection::Connection;
use crate::dispatch::Interface;
use crate::error::HostError;
use crate::handler::RequestHandler;
use crate::limits::RequestLimits;
use crate::sessions::{Admission, SessionCounter, SessionGuard};
use crate::tls::TlsIdentity;

/// After a failed `accept` (out of file descriptors, usually), wait this long before trying
/// again rather than spinning.
const ACCEPT_ERROR_BACKOFF_MS: u64 = 50;

/// Session ids are unique across every interface of the process, as CCF's connection ids.
static NEXT_SESSION_ID: AtomicU64 = AtomicU64::new(1);

/// A bound, not yet serving, RPC interface.
pub struct RpcServer {
    listener: TcpListener,
    config: RpcInterfaceConfig,
    interface: Arc<Interface>,
    acceptor: TlsAcceptor,
    sessions: Arc<SessionCounter>,
}

impl RpcServer {
    /// Binds `config.bind_address` (port 0 picks one) and prepares TLS for
    /// `config.app_protocol`. Returns the address actually bound.
    pub async fn bind(
        config: RpcInterfaceConfig,
        tls: &TlsIdentity,
        handler: Arc<dyn RequestHandler>,
    ) -> Result<(SocketAddr, RpcServer), HostError> {
        config.validate()?;
        let acceptor = TlsAcceptor::from(tls.server_config(config.app_protocol)?);
        let listener = TcpListener::bind(&config.bind_address)
            .await
            .map_err(|e| HostError::io(format!("binding {}", config.bind_address), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| HostError::io("reading the bound address", e))?;
        tracing::info!(interface = %config.name, %local_addr, protocol = ?config.app_protocol, "RPC interface bound");
        let interface = Arc::new(Interface {
            name: config.name.clone(),
            app_protocol: config.app_protocol,
            limits: RequestLimits::of(&config),
            handler,
        });
        let server = RpcServer {
            listener,
            config,
            interface,
            acceptor,
            sessions: Arc::new(SessionCounter::default()),
        };
        Ok((local_addr, server))
    }

    /// Serves until `shutdown` resolves; then stops accepting (the port closes, so new
    /// connections are refused), asks every session to finish (HTTP/1: close after the current
    /// response; HTTP/2: GOAWAY), and returns once every session task has ended.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let (stop_sender, stop) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((tcp, peer)) => self.admit(tcp, peer, &stop, &mut tasks),
                    Err(error) => {
                        tracing::warn!(interface = %self.config.name, %error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(ACCEPT_ERROR_BACKOFF_MS)).await;
                    }
                },
                Some(finished) = tasks.join_next(), if !tasks.is_empty() => report(finished),
            }
        }
        let RpcServer {
            listener, config, ..
        } = self;
        drop(listener);
        tracing::info!(interface = %config.name, sessions = tasks.len(), "RPC interface stopping");
        // Every receiver was cloned from `stop`, so the signal reaches sessions still in their
        // handshake too.
        let _ = stop_sender.send(true);
        while let Some(finished) = tasks.join_next().await {
            report(finished);
        }
        tracing::info!(interface = %config.name, "RPC interface stopped");
    }

    fn admit(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        stop: &watch::Receiver<bool>,
        tasks: &mut JoinSet<()>,
    ) {
        let soft = self.config.max_open_sessions_soft;
        let hard = self.config.max_open_sessions_hard;
        let (guard, capped): (SessionGuard, bool) = match self.sessions.admit(soft, hard) {
            Admission::Open(guard) => (guard, false),
            Admission::Capped(guard) => (guard, true),
            Admission::Refused => {
                tracing::info!(interface = %self.config.name, %peer, hard, "refusing connection: hard session cap");
                return; // dropping `tcp` closes it
            }
        };
        let session_id = NEXT_SESSION_ID.fetch_add(1, Ordering::Relaxed);
        if capped {
            tracing::info!(interface = %self.config.name, %peer, soft, session_id, "soft session cap: answering 503");
        } else {
            tracing::debug!(interface = %self.config.name, %peer, session_id, "session accepted");
        }
        let connection = Connection {
            interface: Arc::clone(&self.interface),
            acceptor: self.acceptor.clone(),
            session_id,
            capped,
            max_concurrent_streams: self.config.max_concurrent_streams_count,
            stop: stop.clone(),
        };
        tasks.spawn(async move {
            let _counted = guard;
            connection.serve(tcp).await;
        });
    }
}

impl fmt::Debug for RpcServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpcServer")
            .field("config", &self.config)
            .field("open_sessions", &self.sessions.open())
            .finish_non_exhaustive()
    }
}

fn report(finished: Result<(), tokio::task::JoinError>) {
    if let Err(error) = finished {
        if error.is_panic() {
            tracing::error!(%error, "session task panicked");
        }
    }
}
