//! `attestation`: where an SEV-SNP node finds its security policy and endorsements
//! (spec/ccf-api.md §7). Paths may contain environment variables such as
//! `$UVM_SECURITY_CONTEXT_DIR`; they are kept as written (expanding them is the host's job).

use super::error::ConfigError;
use super::reader::{Fields, Section, config_enum};

/// The `attestation` section (SEV-SNP only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attestation {
    pub snp_security_policy_file: Option<String>,
    pub snp_uvm_endorsements_file: Option<String>,
    pub snp_endorsements_file: Option<String>,
    /// Tried in order; the first is used, the others are fallbacks.
    pub snp_endorsements_servers: Vec<EndorsementServer>,
}

impl Attestation {
    /// Whether any field is set.
    pub fn is_empty(&self) -> bool {
        *self == Attestation::default()
    }
}

impl Section for Attestation {
    const FIELDS: &'static [&'static str] = &[
        "snp_security_policy_file",
        "snp_uvm_endorsements_file",
        "snp_endorsements_file",
        "snp_endorsements_servers",
    ];

    fn read(fields: &Fields<'_>) -> Result<Attestation, ConfigError> {
        Ok(Attestation {
            snp_security_policy_file: fields.nullable_string("snp_security_policy_file")?,
            snp_uvm_endorsements_file: fields.nullable_string("snp_uvm_endorsements_file")?,
            snp_endorsements_file: fields.nullable_string("snp_endorsements_file")?,
            snp_endorsements_servers: fields
                .read_list("snp_endorsements_servers")?
                .unwrap_or_default(),
        })
    }
}

config_enum! {
    /// `type` of an endorsement server.
    pub enum EndorsementServerType {
        Azure = "Azure",
        Amd = "AMD",
        Thim = "THIM",
    }
}

/// One entry of `attestation.snp_endorsements_servers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndorsementServer {
    pub server_type: EndorsementServerType,
    pub url: String,
    pub max_retries_count: u64,
}

impl Section for EndorsementServer {
    const FIELDS: &'static [&'static str] = &["type", "url", "max_retries_count"];

    fn read(fields: &Fields<'_>) -> Result<EndorsementServer, ConfigError> {
        Ok(EndorsementServer {
            server_type: fields
                .choice("type", EndorsementServerType::CHOICES)?
                .unwrap_or(EndorsementServerType::Azure),
            url: fields.required_string("url")?,
            max_retries_count: fields.integer("max_retries_count", 0)?.unwrap_or(3),
        })
    }
}
