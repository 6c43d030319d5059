//! `jwt`: automatic refresh of the signing keys of JWT issuers registered with auto-refresh
//! (spec/ccf-api.md §7).

use super::error::ConfigError;
use super::reader::{Fields, Section};

/// The `jwt` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwt {
    pub key_refresh_interval_ms: u64,
}

impl Default for Jwt {
    /// 30 minutes.
    fn default() -> Jwt {
        Jwt {
            key_refresh_interval_ms: 30 * 60 * 1000,
        }
    }
}

impl Section for Jwt {
    const FIELDS: &'static [&'static str] = &["key_refresh_interval"];

    fn read(fields: &Fields<'_>) -> Result<Jwt, ConfigError> {
        Ok(Jwt {
            key_refresh_interval_ms: fields
                .duration_ms("key_refresh_interval")?
                .unwrap_or(Jwt::default().key_refresh_interval_ms),
        })
    }
}
