//! The configuration of a node's node-to-node interface (CCF's `node_to_node_interface`) and
//! the bounds that keep one peer from exhausting the host.

use std::net::SocketAddr;

use crate::error::HostError;

/// Default bound on one frame's payload: 64 MiB (a larger announced length closes the
/// connection).
pub const PEER_FRAME_BYTES_MAX_DEFAULT: usize = 64 * 1024 * 1024;
/// Default bound on the frames waiting for one peer (and on the frames received but not yet
/// taken by the node).
pub const PEER_QUEUE_FRAMES_MAX_DEFAULT: usize = 8192;
/// Default bound on simultaneously accepted (incoming) connections.
pub const PEER_INCOMING_CONNECTIONS_MAX_DEFAULT: usize = 64;

/// How a node listens for and dials its peers.
#[derive(Clone)]
pub struct PeerConfig {
    /// `node_to_node_interface.bind_address` (port 0 picks one).
    pub bind: SocketAddr,
    /// This node's certificate, endorsed by the service identity (PEM; the first block is used
    /// as the leaf, further blocks are sent as the chain).
    pub node_cert_pem: String,
    /// Its private key: P-384, PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY` PEM.
    pub node_key_pem: String,
    /// The service certificate: the one trust anchor for peers.
    pub service_cert_pem: String,
    /// Largest frame payload accepted (and sent); a larger one closes the connection.
    pub frame_bytes_max: usize,
    /// Per-peer outgoing queue bound: when full, the newest frame is dropped. Also the bound of
    /// the incoming channel handed to the node (a full one pauses reading, which pushes back on
    /// the senders through TCP).
    pub queue_frames_max: usize,
    /// Bound on simultaneously accepted connections; more are closed at once.
    pub incoming_connections_max: usize,
}

impl PeerConfig {
    /// A configuration with the default bounds.
    pub fn new(
        bind: SocketAddr,
        node_cert_pem: String,
        node_key_pem: String,
        service_cert_pem: String,
    ) -> PeerConfig {
        PeerConfig {
            bind,
            node_cert_pem,
            node_key_pem,
            service_cert_pem,
            frame_bytes_max: PEER_FRAME_BYTES_MAX_DEFAULT,
            queue_frames_max: PEER_QUEUE_FRAMES_MAX_DEFAULT,
            incoming_connections_max: PEER_INCOMING_CONNECTIONS_MAX_DEFAULT,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), HostError> {
        if self.frame_bytes_max == 0 || u32::try_from(self.frame_bytes_max).is_err() {
            return Err(HostError::InvalidConfig(format!(
                "frame_bytes_max must be between 1 and {} (got {})",
                u32::MAX,
                self.frame_bytes_max
            )));
        }
        if self.queue_frames_max == 0 {
            return Err(HostError::InvalidConfig(
                "queue_frames_max must be at least 1".into(),
            ));
        }
        if self.incoming_connections_max == 0 {
            return Err(HostError::InvalidConfig(
                "incoming_connections_max must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Debug for PeerConfig {
    // The key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConfig")
            .field("bind", &self.bind)
            .field("frame_bytes_max", &self.frame_bytes_max)
            .field("queue_frames_max", &self.queue_frames_max)
            .field("incoming_connections_max", &self.incoming_connections_max)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> PeerConfig {
        PeerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            String::new(),
            "secret".into(),
            String::new(),
        )
    }

    #[test]
    fn defaults_are_valid_and_zero_bounds_are_not() {
        assert!(config().validate().is_ok());
        for broken in [
            PeerConfig {
                frame_bytes_max: 0,
                ..config()
            },
            PeerConfig {
                frame_bytes_max: usize::MAX,
                ..config()
            },
            PeerConfig {
                queue_frames_max: 0,
                ..config()
            },
            PeerConfig {
                incoming_connections_max: 0,
                ..config()
            },
        ] {
            assert!(matches!(
                broken.validate(),
                Err(HostError::InvalidConfig(_))
            ));
        }
    }

    #[test]
    fn debug_output_leaves_the_key_out() {
        assert!(!format!("{:?}", config()).contains("secret"));
    }
}
