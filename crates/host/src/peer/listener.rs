//! The incoming side of channels: accept (at most `incoming_connections_max` at once), complete
//! the TLS handshake within a deadline, then read frames and hand each to the node attributed to
//! the connection's authenticated NodeId. Accepted connections are only ever read from.

use std::time::Duration;

use cloister_types::NodeId;
use tokio::io::{AsyncRead, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::frame::read_frame;
use super::verify::node_id_of_der;

/// A peer that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed `accept` (usually out of file descriptors), wait before trying again.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);
/// Read buffer per connection: many small frames per system call.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// What every accepted connection shares.
#[derive(Clone)]
pub(crate) struct Incoming {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) inbound: mpsc::Sender<(NodeId, Vec<u8>)>,
    pub(crate) frame_bytes_max: usize,
    pub(crate) connections_max: usize,
}

/// Accepts until aborted; aborting drops the reader tasks (and so closes their connections).
pub(crate) async fn accept_loop(listener: TcpListener, incoming: Incoming) {
    let mut readers = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = readers.join_next(), if !readers.is_empty() => continue,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "node-to-node accept failed");
                tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                continue;
            }
        };
        while readers.try_join_next().is_some() {}
        if readers.len() >= incoming.connections_max {
            tracing::warn!(%remote, max = incoming.connections_max, "too many node-to-node connections; closing");
            continue;
        }
        let incoming = incoming.clone();
        readers.spawn(async move {
            match serve(stream, &incoming).await {
                Ok(()) => tracing::debug!(%remote, "node-to-node connection closed"),
                Err(reason) => tracing::info!(%remote, %reason, "node-to-node connection ended"),
            }
        });
    }
}

async fn serve(stream: TcpStream, incoming: &Incoming) -> Result<(), String> {
    // Small frames (heartbeats) should not wait for Nagle.
    let _ = stream.set_nodelay(true);
    let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, incoming.acceptor.accept(stream))
        .await
        .map_err(|_| "handshake timed out".to_owned())?
        .map_err(|e| format!("handshake failed: {e}"))?;
    let peer = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or("no client certificate")
        .and_then(|leaf| node_id_of_der(leaf.as_ref()).map_err(|_| "unreadable certificate"))?;
    tracing::debug!(%peer, "node-to-node connection accepted");
    read_frames(
        BufReader::with_capacity(READ_BUFFER_BYTES, tls),
        &peer,
        incoming,
    )
    .await
}

/// Forwards frames until the stream ends, a frame is malformed or oversized, or the node has
/// dropped its receiver. A full channel pauses reading.
async fn read_frames<R: AsyncRead + Unpin>(
    mut reader: R,
    peer: &NodeId,
    incoming: &Incoming,
) -> Result<(), String> {
    loop {
        match read_frame(&mut reader, incoming.frame_bytes_max).await {
            Ok(Some(payload)) => {
                if incoming
                    .inbound
                    .send((peer.clone(), payload))
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            }
            Ok(None) => return Ok(()),
            Err(error) => return Err(format!("from {peer}: {error}")),
        }
    }
}
