//! `output_files`: files the node writes at startup (spec/ccf-api.md §7).

use super::error::ConfigError;
use super::reader::{Fields, Section};

/// The `output_files` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFiles {
    /// The node's self-signed certificate.
    pub node_certificate_file: String,
    pub pid_file: String,
    /// The node-to-node address actually bound (useful with port 0); none if absent.
    pub node_to_node_address_file: Option<String>,
    /// Every RPC address actually bound; none if absent.
    pub rpc_addresses_file: Option<String>,
    /// Folder where the node seals its ledger secrets.
    pub sealed_ledger_secret_location: Option<String>,
}

impl Default for OutputFiles {
    fn default() -> OutputFiles {
        OutputFiles {
            node_certificate_file: "nodecert.pem".to_owned(),
            pid_file: "cchost.pid".to_owned(),
            node_to_node_address_file: None,
            rpc_addresses_file: None,
            sealed_ledger_secret_location: None,
        }
    }
}

impl Section for OutputFiles {
    const FIELDS: &'static [&'static str] = &[
        "node_certificate_file",
        "pid_file",
        "node_to_node_address_file",
        "rpc_addresses_file",
        "sealed_ledger_secret_location",
    ];

    fn read(fields: &Fields<'_>) -> Result<OutputFiles, ConfigError> {
        let default = OutputFiles::default();
        Ok(OutputFiles {
            node_certificate_file: fields
                .string("node_certificate_file")?
                .unwrap_or(default.node_certificate_file),
            pid_file: fields.string("pid_file")?.unwrap_or(default.pid_file),
            node_to_node_address_file: fields.string("node_to_node_address_file")?,
            rpc_addresses_file: fields.string("rpc_addresses_file")?,
            sealed_ledger_secret_location: fields.string("sealed_ledger_secret_location")?,
        })
    }
}
