//! `enclave`: which trusted execution environment the node runs in (spec/ccf-api.md §7). CCF 6
//! knows SEV-SNP and the virtual platform (SGX was removed in 6.0).

use super::error::ConfigError;
use super::reader::{Fields, Section, config_enum};

config_enum! {
    /// `enclave.platform`.
    pub enum Platform {
        /// AMD SEV-SNP.
        Snp = "SNP",
        /// No hardware protection; attestation is a placeholder (`Insecure_Virtual`).
        Virtual = "Virtual",
    }
}

config_enum! {
    /// `enclave.type`: a leftover of SGX; `"Virtual"` is deprecated in favour of the platform.
    pub enum EnclaveType {
        Release = "Release",
        Debug = "Debug",
        Virtual = "Virtual",
    }
}

/// The `enclave` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enclave {
    /// Deprecated in CCF 6 (replaced by `--enclave-file`): the application library.
    pub file: Option<String>,
    pub platform: Platform,
    pub enclave_type: EnclaveType,
}

impl Section for Enclave {
    const FIELDS: &'static [&'static str] = &["file", "platform", "type"];

    fn read(fields: &Fields<'_>) -> Result<Enclave, ConfigError> {
        // Both are required by the schema, although it also lists defaults for them.
        Ok(Enclave {
            file: fields.string("file")?,
            platform: fields.required_choice("platform", Platform::CHOICES)?,
            enclave_type: fields.required_choice("type", EnclaveType::CHOICES)?,
        })
    }
}
