//! `ledger_signatures`: how often the primary emits a signature transaction, which bounds commit
//! latency (spec/ccf-api.md §7). Should be the same on every node of a service.

use super::error::ConfigError;
use super::reader::{Fields, Section};

/// The `ledger_signatures` section: a signature after `tx_count` transactions or `delay_ms`,
/// whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerSignatures {
    pub tx_count: u64,
    pub delay_ms: u64,
}

impl Default for LedgerSignatures {
    fn default() -> LedgerSignatures {
        LedgerSignatures {
            tx_count: 5000,
            delay_ms: 1000,
        }
    }
}

impl Section for LedgerSignatures {
    const FIELDS: &'static [&'static str] = &["tx_count", "delay"];

    fn read(fields: &Fields<'_>) -> Result<LedgerSignatures, ConfigError> {
        let default = LedgerSignatures::default();
        Ok(LedgerSignatures {
            tx_count: fields.integer("tx_count", 1)?.unwrap_or(default.tx_count),
            delay_ms: fields.duration_ms("delay")?.unwrap_or(default.delay_ms),
        })
    }
}
