//! The outgoing side of one channel: dial the peer, check it is the node meant, and write the
//! frames queued for it. When the connection drops (or cannot be made), redial with backoff
//! (50 ms doubling to 1 s); queued frames wait in the bounded queue meanwhile.

use std::sync::Arc;
use std::time::Duration;

use cloister_types::NodeId;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::frame::write_frame;
use super::tls::PeerTls;

pub(crate) const BACKOFF_MIN: Duration = Duration::from_millis(50);
pub(crate) const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// TCP connect plus TLS handshake must finish within this.
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Write buffer: queued small frames go out in few TLS records and system calls.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// One peer's outgoing channel.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) peer: NodeId,
    /// "host:port".
    pub(crate) address: String,
    pub(crate) tls: Arc<PeerTls>,
    pub(crate) queue: mpsc::Receiver<Vec<u8>>,
}

/// Why a connection stopped being used.
enum Ended {
    /// Every sender of the queue is gone: the peer was removed.
    QueueClosed,
    /// The connection failed or the peer closed it.
    Lost(String),
}

/// The next wait after `current`: doubling, at most [`BACKOFF_MAX`].
pub(crate) fn next_backoff(current: Duration) -> Duration {
    (current * 2).min(BACKOFF_MAX)
}

impl Outgoing {
    /// Runs until the queue closes (or the task is aborted).
    pub(crate) async fn run(mut self) {
        let mut backoff = BACKOFF_MIN;
        // A frame taken from the queue whose write failed: sent first on the next connection.
        let mut pending: Option<Vec<u8>> = None;
        loop {
            match self.dial().await {
                Ok(stream) => {
                    tracing::debug!(peer = %self.peer, address = %self.address, "node-to-node channel open");
                    backoff = BACKOFF_MIN;
                    match self.pump(stream, &mut pending).await {
                        Ended::QueueClosed => return,
                        Ended::Lost(reason) => {
                            tracing::info!(peer = %self.peer, %reason, "node-to-node channel lost");
                        }
                    }
                }
                Err(reason) => {
                    tracing::debug!(peer = %self.peer, address = %self.address, %reason, "node-to-node dial failed");
                }
            }
            if self.queue.is_closed() && self.queue.is_empty() {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = next_backoff(backoff);
        }
    }

    async fn dial(&self) -> Result<TlsStream<TcpStream>, String> {
        let host = host_of(&self.address);
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| format!("bad host in {:?}: {e}", self.address))?;
        let config = self
            .tls
            .client_config(&self.peer)
            .map_err(|e| format!("TLS configuration: {e}"))?;
        let connect = async {
            let tcp = TcpStream::connect(self.address.as_str())
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let _ = tcp.set_nodelay(true);
            TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| format!("handshake: {e}"))
        };
        tokio::time::timeout(DIAL_TIMEOUT, connect)
            .await
            .map_err(|_| "dial timed out".to_owned())?
    }

    /// Writes queued frames, batching whatever is already queued before each flush. The peer
    /// never sends application data on this connection, so a read that returns is the peer
    /// closing it: noticed even while idle, so later frames go over a fresh connection.
    async fn pump(&mut self, stream: TlsStream<TcpStream>, pending: &mut Option<Vec<u8>>) -> Ended {
        let (mut reader, writer) = tokio::io::split(stream);
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER_BYTES, writer);
        let mut probe = [0u8; 1];
        loop {
            let frame = match pending.take() {
                Some(frame) => frame,
                None => tokio::select! {
                    frame = self.queue.recv() => match frame {
                        Some(frame) => frame,
                        None => {
                            let _ = writer.shutdown().await;
                            return Ended::QueueClosed;
                        }
                    },
                    read = reader.read(&mut probe) => {
                        return Ended::Lost(match read {
                            Ok(0) => "closed by the peer".to_owned(),
                            Ok(_) => "unexpected data from the peer".to_owned(),
                            Err(e) => e.to_string(),
                        });
                    }
                },
            };
            if let Err(lost) = write_or_keep(&mut writer, frame, pending).await {
                return lost;
            }
            while let Ok(frame) = self.queue.try_recv() {
                if let Err(lost) = write_or_keep(&mut writer, frame, pending).await {
                    return lost;
                }
            }
            if let Err(e) = writer.flush().await {
                return Ended::Lost(format!("flush: {e}"));
            }
        }
    }
}

/// Writes `frame`; if that fails, keeps it in `pending` for the next connection.
async fn write_or_keep<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: Vec<u8>,
    pending: &mut Option<Vec<u8>>,
) -> Result<(), Ended> {
    match write_frame(writer, &frame).await {
        Ok(()) => Ok(()),
        Err(e) => {
            *pending = Some(frame);
            Err(Ended::Lost(format!("write: {e}")))
        }
    }
}

/// The host part of "host:port" (brackets of an IPv6 literal removed).
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_50ms_to_at_most_1s() {
        let mut waits = vec![BACKOFF_MIN];
        while waits.len() < 7 {
            waits.push(next_backoff(*waits.last().unwrap()));
        }
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [50, 100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn host_is_taken_from_host_port() {
        assert_eq!(host_of("127.0.0.1:8001"), "127.0.0.1");
        assert_eq!(host_of("node-1.example:443"), "node-1.example");
        assert_eq!(host_of("[::1]:8001"), "::1");
        assert_eq!(host_of("no-port"), "no-port");
    }
}
