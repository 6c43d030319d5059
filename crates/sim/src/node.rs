//! One simulated node: its process (a `NodeCore`, absent while down), its disk, what it keeps
//! in its directory to restart (keys, certificates, ledger secrets), and the latest consensus
//! summary the invariants read.

use cloister_check::invariants::{NodeState, Role};
use cloister_crypto::{Certificate, EcKeyPair};
use cloister_kv::LedgerSecrets;
use cloister_node::core::{ConsensusSummary, JoinSecrets, NodeCore};
use cloister_node::{NodeIdentity, ServiceIdentity};
use cloister_raft::Leadership;
use cloister_types::{NodeId, SeqNo};

use crate::SimError;
use crate::disk::Disk;

/// Whether the process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// Not part of the service yet (or never will be).
    Outside,
    Up,
    /// Running but frozen until the given time: inputs wait.
    Paused {
        until_ms: u64,
    },
    /// Crashed; its disk remains.
    Down,
    /// Retired and stopped for good.
    Stopped,
}

/// What a node keeps on its own disk besides the ledger, to restart (CCF keeps the node key
/// and certificates in its directory and learns the secrets again; here they are kept too).
#[derive(Clone, Debug)]
pub struct NodeDirectory {
    pub node_key_pem: String,
    pub endorsed_cert_pem: String,
    pub self_signed_cert_pem: String,
    pub service_key_pem: String,
    pub service_cert_pem: String,
    pub ledger_secrets: LedgerSecrets,
}

impl NodeDirectory {
    /// Rebuilds the secrets a node starts with; keys sign deterministically (RFC 6979), so a
    /// replayed run writes the same bytes.
    pub fn join_secrets(&self) -> Result<JoinSecrets, SimError> {
        let key = EcKeyPair::from_pem(&self.node_key_pem)?.with_deterministic_signatures()?;
        let id = key.public_key().node_id();
        Ok(JoinSecrets {
            node: NodeIdentity {
                id,
                key,
                endorsed_cert: Certificate::from_pem(&self.endorsed_cert_pem)?,
                self_signed_cert: Certificate::from_pem(&self.self_signed_cert_pem)?,
            },
            service: ServiceIdentity {
                key: EcKeyPair::from_pem(&self.service_key_pem)?.with_deterministic_signatures()?,
                cert: Certificate::from_pem(&self.service_cert_pem)?,
            },
            ledger_secrets: self.ledger_secrets.clone(),
        })
    }
}

/// One node of the world.
#[derive(Debug)]
pub struct SimNode {
    pub index: usize,
    pub id: NodeId,
    /// Its node-to-node address (what the service records).
    pub address: String,
    /// Its own key and self-signed certificate (it joins with these).
    pub key_pem: String,
    pub self_signed: Certificate,
    pub core: Option<NodeCore>,
    pub life: Life,
    /// Bumped at every restart.
    pub incarnation: u64,
    pub disk: Disk,
    /// The lowest seqno appended or truncated since the last check.
    pub changed_from: SeqNo,
    pub summary: Option<ConsensusSummary>,
    pub directory: Option<NodeDirectory>,
    /// Peer messages that arrived while paused: (from, bytes).
    pub inbox: Vec<(usize, Vec<u8>)>,
    /// An fsync completed while paused: report it at resume.
    pub persisted_pending: bool,
    /// Ticks delivered while up (each node's clock phase differs).
    pub tick_phase_ms: u64,
}

impl SimNode {
    pub fn new(
        index: usize,
        key: &EcKeyPair,
        self_signed: Certificate,
        tick_phase_ms: u64,
    ) -> SimNode {
        SimNode {
            index,
            id: key.public_key().node_id(),
            address: format!("10.0.0.{}:8001", index + 1),
            key_pem: key.to_pem(),
            self_signed,
            core: None,
            life: Life::Outside,
            incarnation: 0,
            disk: Disk::new(),
            changed_from: SeqNo(1),
            summary: None,
            directory: None,
            inbox: Vec::new(),
            persisted_pending: false,
            tick_phase_ms,
        }
    }

    /// The node's own key, signing deterministically (RFC 6979) so that what it signs replays.
    pub fn key(&self) -> Result<EcKeyPair, SimError> {
        Ok(EcKeyPair::from_pem(&self.key_pem)?.with_deterministic_signatures()?)
    }

    /// Whether the process takes inputs now.
    pub fn is_running(&self) -> bool {
        self.life == Life::Up && self.core.is_some()
    }

    /// Whether the node takes part (up, paused or down, not outside or stopped).
    pub fn is_member(&self) -> bool {
        matches!(self.life, Life::Up | Life::Paused { .. } | Life::Down)
    }

    /// Marks seqnos from `seqno` on as changed for the next check.
    pub fn changed(&mut self, seqno: SeqNo) {
        self.changed_from = self.changed_from.min(seqno);
    }

    /// Refreshes the consensus summary from the process.
    pub fn refresh(&mut self) {
        if let Some(core) = &self.core {
            self.summary = Some(core.consensus());
        }
    }

    /// The role the invariants see.
    pub fn role(&self) -> Role {
        if self.life == Life::Down || self.core.is_none() {
            return Role::Down;
        }
        match self.summary.as_ref().map(|s| s.role) {
            Some(Leadership::Leader) => Role::Primary,
            Some(Leadership::Candidate) => Role::Candidate,
            Some(Leadership::None) => Role::Retired,
            Some(Leadership::Follower | Leadership::PreVoteCandidate) | None => Role::Backup,
        }
    }

    /// The node as the invariants see it.
    pub fn state(&self) -> NodeState<'_> {
        let summary = self.summary.as_ref();
        let up = self.role() != Role::Down;
        NodeState {
            id: &self.id,
            incarnation: self.incarnation,
            role: self.role(),
            view: summary.map(|s| s.view).unwrap_or_default(),
            commit: if up {
                summary.map(|s| s.commit.seqno).unwrap_or_default()
            } else {
                SeqNo(0)
            },
            log: self.disk.logs(),
            durable: self.disk.synced(),
            changed_from: self.changed_from,
            configurations: summary.map(|s| s.configurations.as_slice()).unwrap_or(&[]),
        }
    }

    /// The short name used in traces.
    pub fn name(&self) -> String {
        format!("n{}", self.index)
    }
}
