//! What a node is told at start: the genesis records, the signature cadence and chunk size, and
//! what it reports about itself. Built from CCF's node configuration by the CLI.

use cloister_raft::RaftConfig;
use serde_json::Value;

use crate::genesis::GenesisConfig;
use crate::signature::CoseSignaturesConfig;

/// A node's settings.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    pub genesis: GenesisConfig,
    /// A signature after this many unsigned transactions (`ledger_signatures.tx_count`).
    pub sig_tx_interval: u64,
    /// A signature after this long with unsigned transactions (`ledger_signatures.delay`).
    pub sig_ms_interval: u64,
    /// A chunk ends at the first signature past this size (`ledger.chunk_size`).
    pub chunk_threshold_bytes: u64,
    pub cose: CoseSignaturesConfig,
    /// RPC interfaces by name: (name, published address, app protocol).
    pub rpc_interfaces: Vec<(String, String, String)>,
    pub node_data: Value,
    pub service_data: Value,
    /// Consensus timers and bounds (`consensus.*`).
    pub consensus: RaftConfig,
    /// Seeds the randomised election timeouts (from the host's entropy; the simulator's seed).
    pub consensus_seed: u64,
    /// Secret seed of the randomness JS applications get through `ccf.crypto` (keys, salts):
    /// the host fills it from the operating system, the simulator from its seed; tests keep zeros.
    pub entropy_seed: [u8; 32],
    /// Where other nodes reach this one (`network.node_to_node_interface.published_address`).
    pub node_to_node_address: String,
    /// A snapshot at the first signature this many transactions after the last one
    /// (`snapshots.tx_count`; 0 = never).
    pub snapshot_tx_interval: u64,
    /// Committed entries consensus keeps in memory below the latest committed snapshot.
    pub raft_log_retained_entries: u64,
}

impl NodeSettings {
    /// CCF's defaults around a genesis configuration.
    pub fn with_genesis(genesis: GenesisConfig) -> NodeSettings {
        let rpc = genesis.rpc_address.clone();
        NodeSettings {
            genesis,
            sig_tx_interval: 5000,
            sig_ms_interval: 1000,
            chunk_threshold_bytes: 5 * 1024 * 1024,
            cose: CoseSignaturesConfig::default(),
            rpc_interfaces: vec![("primary_rpc_interface".to_owned(), rpc, "HTTP1".to_owned())],
            node_data: Value::Null,
            service_data: Value::Null,
            consensus: RaftConfig::default(),
            consensus_seed: 0,
            entropy_seed: [0; 32],
            node_to_node_address: String::new(),
            snapshot_tx_interval: 10_000,
            raft_log_retained_entries: 100_000,
        }
    }
}
