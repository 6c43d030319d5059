//! CCF 6's node configuration file (`cchost --config`, spec/ccf-api.md §7 and
//! spec/schemas/cchost_config.json), parsed sans-IO from text the CLI has read.
//!
//! Two steps:
//! 1. [`parse_node_config`] checks the document against CCF's schema — required fields, types,
//!    enumerations, minimums, size and time strings, unknown fields — and fills in CCF's defaults.
//!    Every [`ConfigError`] names the JSON path at fault. Paths to other files (constitution,
//!    member certificates, …) stay paths.
//! 2. [`check_supported`] lists, by path and with a reason, every setting of a valid CCF
//!    configuration that this version of Cloister would not honour, so the CLI can refuse it
//!    instead of silently running something else.

mod attestation;
mod command;
mod consensus;
mod enclave;
mod error;
mod jwt;
mod ledger;
mod ledger_signatures;
mod logging;
mod memory;
mod network;
mod node_certificate;
mod output_files;
mod reader;
mod snapshots;
mod supported;
mod units;

pub use attestation::{Attestation, EndorsementServer, EndorsementServerType};
pub use command::{
    Command, CommandKind, CommandType, CoseSignatures, JoinCommand, Member, ReconfigurationType,
    RecoverCommand, RecoveryRole, ServiceConfiguration, StartCommand,
};
pub use consensus::Consensus;
pub use enclave::{Enclave, EnclaveType, Platform};
pub use error::ConfigError;
pub use jwt::Jwt;
pub use ledger::Ledger;
pub use ledger_signatures::LedgerSignatures;
pub use logging::{LogFormat, LogLevel, Logging};
pub use memory::Memory;
pub use network::{
    Acme, AcmeConfiguration, AppProtocol, Authority, Endorsement, HttpConfiguration, Network,
    NodeRole, NodeToNodeInterface, RedirectionResolver, Redirections, RpcInterface,
    TransportProtocol,
};
pub use node_certificate::{CurveId, NodeCertificate, SubjectAltName};
pub use output_files::OutputFiles;
pub use snapshots::Snapshots;
pub use supported::{Unsupported, check_supported};
pub use units::{parse_duration_ms, parse_duration_us, parse_size_bytes};

use reader::{Fields, Section, parse_document};

/// A node configuration, with CCF's defaults filled in. Durations are in milliseconds and sizes
/// in bytes (the unit ends each name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    pub enclave: Enclave,
    pub network: Network,
    pub command: Command,
    pub node_certificate: NodeCertificate,
    /// JSON file whose content becomes this node's `node_data`.
    pub node_data_json_file: Option<String>,
    /// JSON file whose content becomes the service's `service_data` (Start and Recover).
    pub service_data_json_file: Option<String>,
    pub attestation: Attestation,
    pub ledger: Ledger,
    pub snapshots: Snapshots,
    pub logging: Logging,
    pub consensus: Consensus,
    pub ledger_signatures: LedgerSignatures,
    pub jwt: Jwt,
    pub output_files: OutputFiles,
    /// How often the host hands the node the time.
    pub tick_interval_ms: u64,
    /// Ledger and snapshot I/O slower than this is logged.
    pub slow_io_logging_threshold_ms: u64,
    /// Address to bind outgoing node-to-node connections to.
    pub node_client_interface: Option<String>,
    /// Unestablished outgoing node-to-node connections time out after this.
    pub client_connection_timeout_ms: u64,
    /// Idle client connections are closed after this; `None` keeps them forever.
    pub idle_connection_timeout_ms: Option<u64>,
    /// Experimental in CCF: extra threads executing client requests.
    pub worker_threads: u64,
    pub memory: Memory,
    /// Ignore the first SIGTERM, setting `stop_notice` in `/node/state` instead.
    pub ignore_first_sigterm: bool,
    /// Node-to-node channels are re-keyed after this many messages.
    pub node_to_node_message_limit: Option<u64>,
    pub historical_cache_soft_limit_bytes: u64,
}

impl NodeConfig {
    /// CCF's default `tick_interval`.
    pub const DEFAULT_TICK_INTERVAL_MS: u64 = 10;
    /// CCF's default `slow_io_logging_threshold` (`"10000us"`).
    pub const DEFAULT_SLOW_IO_LOGGING_THRESHOLD_MS: u64 = 10;
    /// CCF's default `client_connection_timeout`.
    pub const DEFAULT_CLIENT_CONNECTION_TIMEOUT_MS: u64 = 2000;
    /// CCF's default `idle_connection_timeout` (`"60s"`).
    pub const DEFAULT_IDLE_CONNECTION_TIMEOUT_MS: u64 = 60_000;
    /// CCF's default `historical_cache_soft_limit` (`"512MB"`).
    pub const DEFAULT_HISTORICAL_CACHE_SOFT_LIMIT_BYTES: u64 = 512 * 1024 * 1024;

    /// The main RPC interface: the first by name, as CCF takes it (its published address is
    /// the node certificate's default subject alternative name).
    pub fn main_rpc_interface(&self) -> Option<(&str, &RpcInterface)> {
        self.network
            .rpc_interfaces
            .iter()
            .next()
            .map(|(name, interface)| (name.as_str(), interface))
    }
}

/// Parses a CCF node configuration file's text.
pub fn parse_node_config(text: &str) -> Result<NodeConfig, ConfigError> {
    let document = parse_document(text)?;
    NodeConfig::read(&Fields::of(&document, String::new(), NodeConfig::FIELDS)?)
}

impl Section for NodeConfig {
    const FIELDS: &'static [&'static str] = &[
        "enclave",
        "network",
        "command",
        "node_certificate",
        "node_data_json_file",
        "service_data_json_file",
        "attestation",
        "ledger",
        "snapshots",
        "logging",
        "consensus",
        "ledger_signatures",
        "jwt",
        "output_files",
        "tick_interval",
        "slow_io_logging_threshold",
        "node_client_interface",
        "client_connection_timeout",
        "idle_connection_timeout",
        "worker_threads",
        "memory",
        "ignore_first_sigterm",
        "node_to_node_message_limit",
        "historical_cache_soft_limit",
    ];

    fn read(fields: &Fields<'_>) -> Result<NodeConfig, ConfigError> {
        // Required sections first, in the schema's order, so the first thing missing is named.
        for key in ["enclave", "network", "command"] {
            fields.required(key)?;
        }
        Ok(NodeConfig {
            enclave: fields.read_section("enclave")?,
            network: fields.read_section("network")?,
            command: fields.read_section("command")?,
            node_certificate: fields.read_section("node_certificate")?,
            node_data_json_file: fields.nullable_string("node_data_json_file")?,
            service_data_json_file: fields.nullable_string("service_data_json_file")?,
            attestation: fields.read_section("attestation")?,
            ledger: fields.read_section("ledger")?,
            snapshots: fields.read_section("snapshots")?,
            logging: fields.read_section("logging")?,
            consensus: fields.read_section("consensus")?,
            ledger_signatures: fields.read_section("ledger_signatures")?,
            jwt: fields.read_section("jwt")?,
            output_files: fields.read_section("output_files")?,
            tick_interval_ms: fields
                .duration_ms("tick_interval")?
                .unwrap_or(Self::DEFAULT_TICK_INTERVAL_MS),
            slow_io_logging_threshold_ms: fields
                .duration_ms("slow_io_logging_threshold")?
                .unwrap_or(Self::DEFAULT_SLOW_IO_LOGGING_THRESHOLD_MS),
            node_client_interface: fields.nullable_string("node_client_interface")?,
            client_connection_timeout_ms: fields
                .duration_ms("client_connection_timeout")?
                .unwrap_or(Self::DEFAULT_CLIENT_CONNECTION_TIMEOUT_MS),
            idle_connection_timeout_ms: idle_connection_timeout_ms(fields)?,
            worker_threads: fields.integer("worker_threads", 0)?.unwrap_or(0),
            memory: fields.read_section("memory")?,
            ignore_first_sigterm: fields.boolean("ignore_first_sigterm")?.unwrap_or(false),
            node_to_node_message_limit: fields.integer("node_to_node_message_limit", 0)?,
            historical_cache_soft_limit_bytes: fields
                .size_bytes("historical_cache_soft_limit")?
                .unwrap_or(Self::DEFAULT_HISTORICAL_CACHE_SOFT_LIMIT_BYTES),
        })
    }
}

/// `idle_connection_timeout` is the one time string that may be `null`: idle connections are
/// then kept forever.
fn idle_connection_timeout_ms(fields: &Fields<'_>) -> Result<Option<u64>, ConfigError> {
    if fields
        .get("idle_connection_timeout")
        .is_some_and(serde_json::Value::is_null)
    {
        return Ok(None);
    }
    Ok(Some(
        fields
            .duration_ms("idle_connection_timeout")?
            .unwrap_or(NodeConfig::DEFAULT_IDLE_CONNECTION_TIMEOUT_MS),
    ))
}

#[cfg(test)]
mod tests;
