//! `snapshots`: where snapshots of the store are written and how often (spec/ccf-api.md §7).

use super::error::ConfigError;
use super::reader::{Fields, Section};

/// The `snapshots` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshots {
    pub directory: String,
    /// A snapshot is taken after this many transactions.
    pub tx_count: u64,
    /// Snapshots the node only reads (to start from one).
    pub read_only_directory: Option<String>,
}

impl Default for Snapshots {
    fn default() -> Snapshots {
        Snapshots {
            directory: "snapshots".to_owned(),
            tx_count: 10_000,
            read_only_directory: None,
        }
    }
}

impl Section for Snapshots {
    const FIELDS: &'static [&'static str] = &["directory", "tx_count", "read_only_directory"];

    fn read(fields: &Fields<'_>) -> Result<Snapshots, ConfigError> {
        let default = Snapshots::default();
        Ok(Snapshots {
            directory: fields.string("directory")?.unwrap_or(default.directory),
            tx_count: fields.integer("tx_count", 1)?.unwrap_or(default.tx_count),
            read_only_directory: fields.nullable_string("read_only_directory")?,
        })
    }
}
