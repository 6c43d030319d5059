//! Which settings of a valid CCF configuration this version of Cloister would not honour.
//!
//! The rule, decided conservatively so that nothing is silently ignored:
//! - A feature Cloister lacks (SEV-SNP, joining, recovery, ACME, redirections, endpoint filters,
//!   snapshots from peers, sealed secrets, …) is listed whenever the configuration asks for it.
//! - A tuning value Cloister does not apply is listed when it differs from CCF's default: at the
//!   default, the operator asked for nothing in particular. (The host-enclave ring buffer sizes
//!   of `memory` are such values: Cloister has no ring buffer.)
//! - Settings the host applies (`tick_interval`, `logging`, `output_files`, session caps, request
//!   limits) and settings with no effect on a single-node service (Raft timing in `consensus`,
//!   `forwarding_timeout_ms`, `client_connection_timeout`) are not listed.
//!
//! Entries come in the order of the schema, so the list is stable.

use std::fmt;

use super::command::{
    Command, CommandKind, ReconfigurationType, RecoverCommand, RecoveryRole, ServiceConfiguration,
    StartCommand,
};
use super::enclave::Platform;
use super::memory::Memory;
use super::network::{AppProtocol, Authority, HttpConfiguration, RpcInterface, TransportProtocol};
use super::node_certificate::{CurveId, NodeCertificate};
use super::reader::{child, index};
use super::{Jwt, NodeConfig};

/// One setting Cloister would not honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// JSON path of the setting.
    pub path: String,
    /// The value asked for, as JSON (`"SNP"`, `true`), or with its unit (`131072 bytes`); `None`
    /// when the presence of a whole section is the problem.
    pub value: Option<String>,
    pub reason: &'static str,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{} = {value}: {}", self.path, self.reason),
            None => write!(f, "{}: {}", self.path, self.reason),
        }
    }
}

/// Lists every setting of `config` that Cloister would not honour; `Ok` when there is none.
pub fn check_supported(config: &NodeConfig) -> Result<(), Vec<Unsupported>> {
    let mut found = Findings::default();
    enclave(config, &mut found);
    network(config, &mut found);
    command(&config.command, &mut found);
    node_certificate(&config.node_certificate, &mut found);
    files_and_storage(config, &mut found);
    host_settings(config, &mut found);
    if found.0.is_empty() {
        Ok(())
    } else {
        Err(found.0)
    }
}

const NO_SNP: &str = "only the virtual platform runs on this machine";
const NO_ACME: &str = "ACME certificates are not supported";
const DEFAULT_ONLY: &str = "only CCF's default is applied";

#[derive(Default)]
struct Findings(Vec<Unsupported>);

impl Findings {
    fn value(&mut self, path: impl Into<String>, value: impl Into<String>, reason: &'static str) {
        self.0.push(Unsupported {
            path: path.into(),
            value: Some(value.into()),
            reason,
        });
    }

    fn text(&mut self, path: impl Into<String>, text: &str, reason: &'static str) {
        self.value(path, json_string(text), reason);
    }

    fn section(&mut self, path: impl Into<String>, reason: &'static str) {
        self.0.push(Unsupported {
            path: path.into(),
            value: None,
            reason,
        });
    }

    /// A tuning value, listed only when it differs from CCF's default.
    fn non_default(
        &mut self,
        path: impl Into<String>,
        value: u64,
        default: u64,
        unit: &str,
        reason: &'static str,
    ) {
        if value != default {
            self.value(path, format!("{value}{unit}"), reason);
        }
    }
}

fn enclave(config: &NodeConfig, found: &mut Findings) {
    if config.enclave.platform == Platform::Snp {
        found.text("enclave.platform", Platform::Snp.as_str(), NO_SNP);
    }
    if let Some(file) = &config.enclave.file {
        // Cloister is CCF's JavaScript generic application; a C++ application cannot run here.
        let name = file.rsplit('/').next().unwrap_or(file);
        if !name.starts_with("libjs_generic") {
            found.text(
                "enclave.file",
                file,
                "Cloister runs CCF's JavaScript generic application (libjs_generic) only",
            );
        }
    }
    let attestation = &config.attestation;
    let files = [
        (
            "snp_security_policy_file",
            &attestation.snp_security_policy_file,
        ),
        (
            "snp_uvm_endorsements_file",
            &attestation.snp_uvm_endorsements_file,
        ),
        ("snp_endorsements_file", &attestation.snp_endorsements_file),
    ];
    for (key, file) in files {
        if let Some(file) = file {
            found.text(child("attestation", key), file, NO_SNP);
        }
    }
    if !attestation.snp_endorsements_servers.is_empty() {
        found.section("attestation.snp_endorsements_servers", NO_SNP);
    }
}

fn network(config: &NodeConfig, found: &mut Findings) {
    if config.network.rpc_interfaces.is_empty() {
        found.section(
            "network.rpc_interfaces",
            "a node needs at least one RPC interface",
        );
    }
    for (name, interface) in &config.network.rpc_interfaces {
        rpc_interface(&child("network.rpc_interfaces", name), interface, found);
    }
    if config.network.acme.is_some() {
        found.section("network.acme", NO_ACME);
    }
}

fn rpc_interface(path: &str, interface: &RpcInterface, found: &mut Findings) {
    if interface.protocol == TransportProtocol::Udp {
        found.text(
            child(path, "protocol"),
            interface.protocol.as_str(),
            "only TCP interfaces are supported",
        );
    }
    if interface.app_protocol == AppProtocol::Http2 {
        http2_settings(
            &child(path, "http_configuration"),
            &interface.http_configuration,
            found,
        );
    }
    let authority = interface.endorsement.authority;
    let reason = match authority {
        Authority::Service => None,
        Authority::Node => {
            Some("interfaces presenting the node's self-signed certificate are not served yet")
        }
        Authority::Acme => Some(NO_ACME),
        Authority::Unsecured => {
            Some("unencrypted interfaces are not supported: every interface is TLS")
        }
    };
    if let Some(reason) = reason {
        found.text(
            child(path, "endorsement.authority"),
            authority.as_str(),
            reason,
        );
    }
    if interface.accepted_endpoints.is_some() {
        found.section(
            child(path, "accepted_endpoints"),
            "per-interface endpoint filters are not applied yet: every endpoint would be served",
        );
    }
    for (i, feature) in interface.enabled_operator_features.iter().enumerate() {
        found.text(
            index(&child(path, "enabled_operator_features"), i),
            feature,
            "operator endpoints (snapshot and ledger chunk download) are not served",
        );
    }
    if interface.redirections.is_some() {
        found.section(
            child(path, "redirections"),
            "redirect responses are not produced: requests are served or forwarded",
        );
    }
}

/// HTTP/2 settings (they have no effect on HTTP/1.1 interfaces, in CCF as here).
fn http2_settings(path: &str, http: &HttpConfiguration, found: &mut Findings) {
    const REASON: &str = "HTTP/2 stream and flow-control settings are not applied yet";
    let default = HttpConfiguration::default();
    let settings = [
        (
            "max_concurrent_streams_count",
            http.max_concurrent_streams_count,
            default.max_concurrent_streams_count,
            "",
        ),
        (
            "initial_window_size",
            http.initial_window_size_bytes,
            default.initial_window_size_bytes,
            " bytes",
        ),
        (
            "max_frame_size",
            http.max_frame_size_bytes,
            default.max_frame_size_bytes,
            " bytes",
        ),
    ];
    for (key, value, default, unit) in settings {
        found.non_default(child(path, key), value, default, unit, REASON);
    }
}

fn command(command: &Command, found: &mut Findings) {
    let command_type = command.command_type().as_str();
    match &command.kind {
        CommandKind::Start(start) => start_command(start, found),
        CommandKind::Join(_) => {}
        CommandKind::Recover(recover) => {
            found.text(
                "command.type",
                command_type,
                "disaster recovery is not supported yet",
            );
            recover_command(recover, found);
        }
    }
}

fn start_command(start: &StartCommand, found: &mut Findings) {
    for (i, member) in start.members.iter().enumerate() {
        let path = index("command.start.members", i);
        match member.recovery_role {
            Some(RecoveryRole::Owner) => found.text(
                child(&path, "recovery_role"),
                RecoveryRole::Owner.as_str(),
                "recovery owners (full recovery keys) are not supported",
            ),
            Some(RecoveryRole::NonParticipant) if member.encryption_public_key_file.is_some() => {
                found.text(
                    child(&path, "recovery_role"),
                    RecoveryRole::NonParticipant.as_str(),
                    "every member with an encryption key is a recovery participant",
                )
            }
            _ => {}
        }
    }
    service_configuration(&start.service_configuration, found);
    if start.service_subject_name != "CN=CCF Service" {
        found.text(
            "command.start.service_subject_name",
            &start.service_subject_name,
            "the service certificate's subject is always CN=CCF Service",
        );
    }
}

fn service_configuration(config: &ServiceConfiguration, found: &mut Findings) {
    let path = "command.start.service_configuration";
    let default = ServiceConfiguration::default();
    let settings = [
        (
            "maximum_node_certificate_validity_days",
            config.maximum_node_certificate_validity_days,
            default.maximum_node_certificate_validity_days,
        ),
        (
            "maximum_service_certificate_validity_days",
            config.maximum_service_certificate_validity_days,
            default.maximum_service_certificate_validity_days,
        ),
        (
            "recent_cose_proposals_window_size",
            config.recent_cose_proposals_window_size,
            default.recent_cose_proposals_window_size,
        ),
    ];
    for (key, value, default) in settings {
        found.non_default(child(path, key), value, default, "", DEFAULT_ONLY);
    }
    if config.reconfiguration_type == Some(ReconfigurationType::TwoTransaction) {
        found.text(
            child(path, "reconfiguration_type"),
            ReconfigurationType::TwoTransaction.as_str(),
            "only one-transaction reconfiguration exists (as in CCF 6)",
        );
    }
}

fn recover_command(recover: &RecoverCommand, found: &mut Findings) {
    if let Some(location) = &recover.previous_sealed_ledger_secret_location {
        found.text(
            "command.recover.previous_sealed_ledger_secret_location",
            location,
            "sealed ledger secrets are not supported",
        );
    }
}

fn node_certificate(certificate: &NodeCertificate, found: &mut Findings) {
    let default = NodeCertificate::default();
    if certificate.subject_name != default.subject_name {
        found.text(
            "node_certificate.subject_name",
            &certificate.subject_name,
            "the node certificate's subject is always CN=CCF Node",
        );
    }
    if certificate.curve_id == CurveId::Secp256R1 {
        found.text(
            "node_certificate.curve_id",
            CurveId::Secp256R1.as_str(),
            "node identity keys are P-384 (Secp384R1) only",
        );
    }
}

fn files_and_storage(config: &NodeConfig, found: &mut Findings) {
    if let Some(file) = &config.node_data_json_file {
        found.text("node_data_json_file", file, "node data is not recorded yet");
    }
    if let Some(file) = &config.service_data_json_file {
        found.text(
            "service_data_json_file",
            file,
            "service data is not recorded yet",
        );
    }
    for (i, directory) in config.ledger.read_only_directories.iter().enumerate() {
        found.text(
            index("ledger.read_only_directories", i),
            directory,
            "read-only ledger directories are not read yet",
        );
    }
    let snapshots = &config.snapshots;
    if let Some(directory) = &snapshots.read_only_directory {
        found.text(
            "snapshots.read_only_directory",
            directory,
            "starting from a snapshot is not supported yet",
        );
    }
    if let Some(location) = &config.output_files.sealed_ledger_secret_location {
        found.text(
            "output_files.sealed_ledger_secret_location",
            location,
            "sealing ledger secrets is not supported",
        );
    }
}

fn host_settings(config: &NodeConfig, found: &mut Findings) {
    found.non_default(
        "jwt.key_refresh_interval",
        config.jwt.key_refresh_interval_ms,
        Jwt::default().key_refresh_interval_ms,
        " ms",
        "JWT key auto-refresh is not implemented yet",
    );
    if let Some(address) = &config.node_client_interface {
        found.text(
            "node_client_interface",
            address,
            "node-to-node connections do not exist yet (no replication)",
        );
    }
    match config.idle_connection_timeout_ms {
        None => found.value(
            "idle_connection_timeout",
            "null",
            "idle connection timeouts are not applied yet",
        ),
        Some(ms) => found.non_default(
            "idle_connection_timeout",
            ms,
            NodeConfig::DEFAULT_IDLE_CONNECTION_TIMEOUT_MS,
            " ms",
            "idle connection timeouts are not applied yet",
        ),
    }
    found.non_default(
        "worker_threads",
        config.worker_threads,
        0,
        "",
        "extra worker threads are not supported: the node executes requests in order",
    );
    memory(&config.memory, found);
    if config.ignore_first_sigterm {
        found.value(
            "ignore_first_sigterm",
            "true",
            "ignoring the first SIGTERM (stop_notice) is not supported yet",
        );
    }
    if let Some(limit) = config.node_to_node_message_limit {
        found.value(
            "node_to_node_message_limit",
            limit.to_string(),
            "node-to-node channels do not exist yet (no replication)",
        );
    }
    found.non_default(
        "historical_cache_soft_limit",
        config.historical_cache_soft_limit_bytes,
        NodeConfig::DEFAULT_HISTORICAL_CACHE_SOFT_LIMIT_BYTES,
        " bytes",
        "historical queries are not implemented yet",
    );
}

fn memory(memory: &Memory, found: &mut Findings) {
    const REASON: &str = "Cloister has no host-enclave ring buffer to size";
    let default = Memory::default();
    let settings = [
        (
            "circuit_size",
            memory.circuit_size_bytes,
            default.circuit_size_bytes,
        ),
        (
            "max_msg_size",
            memory.max_msg_size_bytes,
            default.max_msg_size_bytes,
        ),
        (
            "max_fragment_size",
            memory.max_fragment_size_bytes,
            default.max_fragment_size_bytes,
        ),
    ];
    for (key, value, default) in settings {
        found.non_default(child("memory", key), value, default, " bytes", REASON);
    }
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}
