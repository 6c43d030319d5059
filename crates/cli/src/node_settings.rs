//! A node's `NodeSettings` from CCF's node configuration: the genesis of a Start node (files it
//! names are read here), the signature cadence, chunk size, RPC interfaces, consensus timers and
//! the node-to-node address; and the subject alternative names of the node certificate.

use std::fs;

use anyhow::Context;
use cloister_crypto::{Entropy, OsEntropy};
use cloister_node::config::{NodeConfig, StartCommand, SubjectAltName};
use cloister_node::core::NodeSettings;
use cloister_node::{CoseSignaturesConfig, GenesisConfig, GenesisMember};

/// Settings around `genesis` (only a Start node writes it; others pass [`no_genesis`]).
pub fn node_settings(config: &NodeConfig, genesis: GenesisConfig) -> NodeSettings {
    let mut settings = NodeSettings::with_genesis(genesis);
    settings.sig_tx_interval = config.ledger_signatures.tx_count;
    settings.sig_ms_interval = config.ledger_signatures.delay_ms;
    settings.chunk_threshold_bytes = config.ledger.chunk_size_bytes;
    settings.rpc_interfaces = config
        .network
        .rpc_interfaces
        .iter()
        .map(|(n, i)| {
            (
                n.clone(),
                i.published_address.clone(),
                i.app_protocol.as_str().to_owned(),
            )
        })
        .collect();
    settings.consensus.election_timeout_ms = config.consensus.election_timeout_ms;
    settings.consensus.message_timeout_ms = config.consensus.message_timeout_ms;
    settings.consensus.max_uncommitted_tx_count = config.consensus.max_uncommitted_tx_count;
    settings.snapshot_tx_interval = config.snapshots.tx_count;
    let mut seed = [0u8; 8];
    OsEntropy.fill_bytes(&mut seed);
    settings.consensus_seed = u64::from_le_bytes(seed);
    OsEntropy.fill_bytes(&mut settings.entropy_seed);
    settings
        .node_to_node_address
        .clone_from(&config.network.node_to_node_interface.published_address);
    settings
}

/// The COSE signature claims a Start configuration asks for (CCF's defaults otherwise).
pub fn cose_config(start: Option<&StartCommand>) -> CoseSignaturesConfig {
    let defaults = CoseSignaturesConfig::default();
    match start.and_then(|start| start.cose_signatures.as_ref()) {
        Some(cose) => CoseSignaturesConfig {
            issuer: cose.issuer.clone().unwrap_or(defaults.issuer),
            subject: cose.subject.clone().unwrap_or(defaults.subject),
        },
        None => defaults,
    }
}

/// The genesis records of a Start node: members, constitution, the node's own addresses.
pub fn genesis_config(config: &NodeConfig, start: &StartCommand) -> anyhow::Result<GenesisConfig> {
    let mut constitution = String::new();
    for file in &start.constitution_files {
        constitution.push_str(
            &fs::read_to_string(file)
                .with_context(|| format!("reading constitution file {file}"))?,
        );
        constitution.push('\n');
    }
    let mut members = Vec::new();
    for (index, member) in start.members.iter().enumerate() {
        let field = format!("command.start.members[{index}]");
        let cert_pem = fs::read_to_string(&member.certificate_file).with_context(|| {
            format!(
                "{field}.certificate_file: reading {}",
                member.certificate_file
            )
        })?;
        let encryption_public_key_pem =
            match &member.encryption_public_key_file {
                Some(file) => Some(fs::read_to_string(file).with_context(|| {
                    format!("{field}.encryption_public_key_file: reading {file}")
                })?),
                None => None,
            };
        let member_data = match &member.data_json_file {
            Some(file) => {
                let text = fs::read_to_string(file)
                    .with_context(|| format!("{field}.data_json_file: reading {file}"))?;
                Some(
                    serde_json::from_str(&text)
                        .with_context(|| format!("{field}.data_json_file: {file} is not JSON"))?,
                )
            }
            None => None,
        };
        members.push(GenesisMember {
            cert_pem,
            encryption_public_key_pem,
            member_data,
        });
    }
    Ok(GenesisConfig {
        members,
        constitution,
        recovery_threshold: start.service_configuration.recovery_threshold,
        ..no_genesis(config)?
    })
}

/// What a joining or restarting node passes as genesis: only its addresses (it never writes one).
pub fn no_genesis(config: &NodeConfig) -> anyhow::Result<GenesisConfig> {
    let (_, main) = config
        .main_rpc_interface()
        .context("network.rpc_interfaces must name at least one interface")?;
    Ok(GenesisConfig {
        members: Vec::new(),
        constitution: String::new(),
        recovery_threshold: 0,
        rpc_address: main.published_address.clone(),
        node_to_node_address: config
            .network
            .node_to_node_interface
            .published_address
            .clone(),
        node_encryption_public_key_pem: None,
    })
}

/// `node_certificate.subject_alt_names`, or the main RPC interface's published host (CCF's default).
pub fn subject_alt_names(config: &NodeConfig) -> Vec<String> {
    if !config.node_certificate.subject_alt_names.is_empty() {
        return config
            .node_certificate
            .subject_alt_names
            .iter()
            .map(|san| match san {
                SubjectAltName::IpAddress(ip) => ip.to_string(),
                SubjectAltName::DnsName(name) => name.clone(),
            })
            .collect();
    }
    config
        .main_rpc_interface()
        .map(|(_, interface)| {
            interface
                .published_address
                .rsplit_once(':')
                .map_or(interface.published_address.clone(), |(host, _)| {
                    host.to_owned()
                })
        })
        .into_iter()
        .collect()
}
