//! AMD SEV-SNP attestation for Cloister, sans-IO (no clocks, files or sockets): the 1184-byte
//! report parsed at its fixed layout ([`SnpReport`]) and verified as CCF 6 verifies it
//! ([`verify_snp_report`]): the endorsement chain ARK → ASK → VCEK against AMD's pinned root key
//! for the report's product, the report's ECDSA P-384 signature by the VCEK, CCF's policy checks
//! (VCEK signer, unmasked chip key, guest VMPL, no debug, no migration agent), the VCEK's TCB and
//! chip-id extensions, and an optional endorsed TCB.

#![forbid(unsafe_code)]

mod chain;
mod error;
mod product;
mod report;
mod tcb;
mod vcek;
mod verify;

pub use error::SnpError;
pub use product::{Product, amd_root_public_key_pem};
pub use report::{REPORT_SIZE, SIGNED_LEN, SnpReport};
pub use tcb::TcbVersion;
pub use verify::{verify_snp_report, verify_snp_report_with_endorsed_tcb};
