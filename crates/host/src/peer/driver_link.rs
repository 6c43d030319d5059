//! Connects [`PeerNetwork`] to the node's task: the driver's [`PeerSend`] is the network itself
//! (both never block), and [`PeerNetwork::link`] pairs it with the receiver of authenticated
//! frames into the [`PeerLink`] that `NodeDriver::with_peers` takes.

use cloister_types::NodeId;
use tokio::sync::mpsc;

use super::network::PeerNetwork;
use crate::node_driver::{PeerLink, PeerSend};

impl PeerSend for PeerNetwork {
    fn send(&self, to: &NodeId, bytes: Vec<u8>) {
        PeerNetwork::send(self, to, bytes);
    }

    fn set_peers(&self, peers: Vec<(NodeId, String)>) {
        PeerNetwork::set_peers(self, peers);
    }
}

impl PeerNetwork {
    /// The node's side of these channels: frames go out through a clone of this network and
    /// come in from `incoming` (the receiver [`PeerNetwork::start`] returned).
    pub fn link(&self, incoming: mpsc::Receiver<(NodeId, Vec<u8>)>) -> PeerLink {
        PeerLink {
            outgoing: Box::new(self.clone()),
            incoming,
        }
    }
}
