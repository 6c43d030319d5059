//! `memory`: sizes of CCF's host–enclave ring buffers (spec/ccf-api.md §7). Cloister has no
//! such ring buffers; the values are read so that CCF configurations parse.

use super::error::ConfigError;
use super::reader::{Fields, Section};

/// The `memory` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// Ring buffer size (a power of 2 in CCF).
    pub circuit_size_bytes: u64,
    pub max_msg_size_bytes: u64,
    pub max_fragment_size_bytes: u64,
}

impl Default for Memory {
    /// 16MB, 64MB, 256KB.
    fn default() -> Memory {
        Memory {
            circuit_size_bytes: 16 * 1024 * 1024,
            max_msg_size_bytes: 64 * 1024 * 1024,
            max_fragment_size_bytes: 256 * 1024,
        }
    }
}

impl Section for Memory {
    const FIELDS: &'static [&'static str] = &["circuit_size", "max_msg_size", "max_fragment_size"];

    fn read(fields: &Fields<'_>) -> Result<Memory, ConfigError> {
        let default = Memory::default();
        Ok(Memory {
            circuit_size_bytes: fields
                .size_bytes("circuit_size")?
                .unwrap_or(default.circuit_size_bytes),
            max_msg_size_bytes: fields
                .size_bytes("max_msg_size")?
                .unwrap_or(default.max_msg_size_bytes),
            max_fragment_size_bytes: fields
                .size_bytes("max_fragment_size")?
                .unwrap_or(default.max_fragment_size_bytes),
        })
    }
}
