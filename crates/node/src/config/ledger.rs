//! `ledger`: where ledger chunks are written and read (spec/ccf-api.md §7).

use super::error::ConfigError;
use super::reader::{Fields, Section};

/// The `ledger` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    /// Main ledger directory, written by this node.
    pub directory: String,
    /// Directories of `.committed` chunks the node only reads.
    pub read_only_directories: Vec<String>,
    /// A chunk is closed at the first signature after it reaches this size.
    pub chunk_size_bytes: u64,
}

impl Default for Ledger {
    fn default() -> Ledger {
        Ledger {
            directory: "ledger".to_owned(),
            read_only_directories: Vec::new(),
            chunk_size_bytes: 5 * 1024 * 1024,
        }
    }
}

impl Section for Ledger {
    const FIELDS: &'static [&'static str] = &["directory", "read_only_directories", "chunk_size"];

    fn read(fields: &Fields<'_>) -> Result<Ledger, ConfigError> {
        let default = Ledger::default();
        Ok(Ledger {
            directory: fields.string("directory")?.unwrap_or(default.directory),
            read_only_directories: fields
                .strings("read_only_directories")?
                .unwrap_or(default.read_only_directories),
            chunk_size_bytes: fields
                .size_bytes("chunk_size")?
                .unwrap_or(default.chunk_size_bytes),
        })
    }
}
