//! [`PeerNetwork`]: a node's set of channels. It listens for peers (incoming, read only), keeps
//! one dialled channel per configured peer (outgoing, write only), and never blocks the caller:
//! `send` queues or drops.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cloister_types::NodeId;
use tokio::net::TcpListener;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::config::PeerConfig;
use super::dialer::Outgoing;
use super::listener::{Incoming, accept_loop};
use super::tls::PeerTls;
use crate::error::HostError;

/// A node's node-to-node channels. Cheap to clone (clones share the channels); the tasks stop
/// on [`PeerNetwork::shutdown`] or when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct PeerNetwork {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    local_addr: SocketAddr,
    runtime: Handle,
    tls: Arc<PeerTls>,
    frame_bytes_max: usize,
    queue_frames_max: usize,
    state: Mutex<State>,
    dropped: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    listener: Option<JoinHandle<()>>,
    peers: BTreeMap<NodeId, Peer>,
    stopped: bool,
}

/// One configured peer: its address, its queue, and the task that dials and writes.
#[derive(Debug)]
struct Peer {
    address: String,
    queue: mpsc::Sender<Vec<u8>>,
    task: JoinHandle<()>,
}

impl PeerNetwork {
    /// Binds `config.bind` and starts accepting peers. Frames received come out of the returned
    /// receiver as `(sender's authenticated NodeId, payload)`. Must be called inside a tokio
    /// runtime; later calls may come from any thread.
    pub async fn start(
        config: PeerConfig,
    ) -> Result<(PeerNetwork, mpsc::Receiver<(NodeId, Vec<u8>)>), HostError> {
        config.validate()?;
        let tls = Arc::new(PeerTls::from_pem(
            &config.node_cert_pem,
            &config.node_key_pem,
            &config.service_cert_pem,
        )?);
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|e| HostError::io(format!("binding {}", config.bind), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| HostError::io("reading the bound address", e))?;
        let (inbound, receiver) = mpsc::channel(config.queue_frames_max);
        let incoming = Incoming {
            acceptor: TlsAcceptor::from(tls.server_config()),
            inbound,
            frame_bytes_max: config.frame_bytes_max,
            connections_max: config.incoming_connections_max,
        };
        tracing::info!(%local_addr, node = %tls.own_id(), "node-to-node interface bound");
        let runtime = Handle::current();
        let listener = runtime.spawn(accept_loop(listener, incoming));
        let inner = Inner {
            local_addr,
            runtime,
            tls,
            frame_bytes_max: config.frame_bytes_max,
            queue_frames_max: config.queue_frames_max,
            state: Mutex::new(State {
                listener: Some(listener),
                ..State::default()
            }),
            dropped: AtomicU64::new(0),
        };
        Ok((
            PeerNetwork {
                inner: Arc::new(inner),
            },
            receiver,
        ))
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// This node's id, from its certificate.
    pub fn node_id(&self) -> &NodeId {
        self.inner.tls.own_id()
    }

    /// Makes the set of peers exactly `peers` ("host:port" each): new ones are dialled, removed
    /// ones stopped (their queued frames dropped), ones whose address changed redialled. This
    /// node's own id is ignored.
    pub fn set_peers(&self, peers: Vec<(NodeId, String)>) {
        let wanted: BTreeMap<NodeId, String> = peers
            .into_iter()
            .filter(|(id, _)| id != self.node_id())
            .collect();
        let mut state = self.inner.state();
        if state.stopped {
            return;
        }
        let stale: Vec<NodeId> = state
            .peers
            .iter()
            .filter(|(id, peer)| wanted.get(*id) != Some(&peer.address))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            if let Some(peer) = state.peers.remove(&id) {
                peer.task.abort();
            }
        }
        for (id, address) in wanted {
            if state.peers.contains_key(&id) {
                continue;
            }
            let (queue, receiver) = mpsc::channel(self.inner.queue_frames_max);
            let outgoing = Outgoing {
                peer: id.clone(),
                address: address.clone(),
                tls: self.inner.tls.clone(),
                queue: receiver,
            };
            let task = self.inner.runtime.spawn(outgoing.run());
            state.peers.insert(
                id,
                Peer {
                    address,
                    queue,
                    task,
                },
            );
        }
    }

    /// Queues `bytes` for `to`. Never blocks: the frame is dropped (and counted) if `to` is not
    /// a configured peer, its queue is full, or it exceeds `frame_bytes_max`.
    pub fn send(&self, to: &NodeId, bytes: Vec<u8>) {
        let sent = if bytes.len() > self.inner.frame_bytes_max {
            false
        } else {
            let state = self.inner.state();
            match state.peers.get(to) {
                Some(peer) => match peer.queue.try_send(bytes) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_) | TrySendError::Closed(_)) => false,
                },
                None => false,
            }
        };
        if !sent {
            self.inner.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Frames queued for `to` and not yet taken by its connection (`None` for an unknown
    /// peer). At most `queue_frames_max`.
    pub fn queued(&self, to: &NodeId) -> Option<usize> {
        let state = self.inner.state();
        state
            .peers
            .get(to)
            .map(|peer| peer.queue.max_capacity() - peer.queue.capacity())
    }

    /// Frames `send` has dropped since start.
    pub fn dropped_frames(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Stops listening (the port closes), closes every channel and drops queued frames. Later
    /// `set_peers` and `send` do nothing.
    pub fn shutdown(&self) {
        self.inner.state().stop();
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // No code path panics while holding the lock; if one ever did, the map is still sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn stop(&mut self) {
        self.stopped = true;
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
        for (_, peer) in std::mem::take(&mut self.peers) {
            peer.task.abort();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.state().stop();
    }
}
