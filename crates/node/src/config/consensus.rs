//! `consensus`: Raft timing and back-pressure (spec/ccf-api.md §7). Should be the same on every
//! node of a service.

use super::error::ConfigError;
use super::reader::{Fields, Section};

/// The `consensus` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consensus {
    /// Longest gap between the primary's messages to backups.
    pub message_timeout_ms: u64,
    /// A backup that hears nothing for this long starts an election.
    pub election_timeout_ms: u64,
    /// The primary refuses new transactions beyond this many uncommitted ones; 0 is no limit.
    pub max_uncommitted_tx_count: u64,
}

impl Default for Consensus {
    fn default() -> Consensus {
        Consensus {
            message_timeout_ms: 100,
            election_timeout_ms: 5000,
            max_uncommitted_tx_count: 10_000,
        }
    }
}

impl Section for Consensus {
    const FIELDS: &'static [&'static str] = &[
        "message_timeout",
        "election_timeout",
        "max_uncommitted_tx_count",
    ];

    fn read(fields: &Fields<'_>) -> Result<Consensus, ConfigError> {
        let default = Consensus::default();
        Ok(Consensus {
            message_timeout_ms: fields
                .duration_ms("message_timeout")?
                .unwrap_or(default.message_timeout_ms),
            election_timeout_ms: fields
                .duration_ms("election_timeout")?
                .unwrap_or(default.election_timeout_ms),
            max_uncommitted_tx_count: fields
                .integer("max_uncommitted_tx_count", 0)?
                .unwrap_or(default.max_uncommitted_tx_count),
        })
    }
}
