//! Node-to-node channels: mutually authenticated TLS 1.3 between the nodes of one service, each
//! side presenting its service-endorsed node certificate; frames of opaque bytes (u32
//! big-endian length + payload). Like CCF's outgoing/incoming channel pair, a node writes only
//! on the connection it dialled and only reads from connections it accepted, and attributes an
//! incoming frame to the authenticated NodeId of its connection. Everything is bounded: frame
//! size, per-peer queues, accepted connections.

mod config;
mod dialer;
mod driver_link;
mod frame;
mod listener;
mod network;
mod tls;
mod verify;

pub use config::{
    PEER_FRAME_BYTES_MAX_DEFAULT, PEER_INCOMING_CONNECTIONS_MAX_DEFAULT,
    PEER_QUEUE_FRAMES_MAX_DEFAULT, PeerConfig,
};
pub use network::PeerNetwork;
