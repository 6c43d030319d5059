//! Why a report was refused. Each variant's text is CCF's (`src/pal/attestation.h`), which
//! `snp_attestation.verifySnpAttestation` throws as a RangeError.

use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SnpError {
    #[error("Input SEV-SNP attestation report is not of expected size 1184: {0}")]
    WrongSize(usize),
    #[error("SEV-SNP: Attestation version is {0} not >= expected minimum 2")]
    VersionTooOld(u32),
    #[error("SEV-SNP: Attestation report must be signed by VCEK: {0}")]
    NotSignedByVcek(u8),
    #[error("SEV-SNP: Mask chip key must not be set")]
    MaskChipKey,
    #[error("SEV-SNP: VMPL for guest attestations must be in 0-3 range, not {0}")]
    HostGenerated(u32),
    #[error("Expected 3 endorsement certificates but got {0}")]
    EndorsementCount(usize),
    #[error("SEV-SNP: endorsement certificate {index} is malformed: {reason}")]
    BadCertificate { index: usize, reason: String },
    #[error("SEV-SNP: Unsupported CPUID family {family} model {model}")]
    UnsupportedCpuid { family: u8, model: u8 },
    #[error(
        "SEV-SNP: The root of trust public key for this attestation was not the expected one \
         for {family} {model}:  {found} != {expected}"
    )]
    UnexpectedRoot {
        family: u8,
        model: u8,
        found: String,
        expected: String,
    },
    #[error(
        "SEV-SNP: The root of trust public key for this attestation was not self signed as expected"
    )]
    RootNotSelfSigned,
    #[error(
        "SEV-SNP: The chain of signatures from the root of trust to this attestation is broken"
    )]
    ChainBroken,
    #[error("SEV-SNP: Unsupported signature algorithm: {0} (supported: 1)")]
    UnsupportedSignatureAlgorithm(u32),
    #[error("SEV-SNP: Chip certificate (VCEK) did not sign this attestation")]
    BadReportSignature,
    #[error("SEV-SNP: SNP attestation report guest policy debugging must not be enabled")]
    DebugEnabled,
    #[error("SEV-SNP: Migration agents must not be enabled")]
    MigrationAgent,
    #[error("SEV-SNP: Reported TCB {reported} does not meet or exceed the endorsed TCB {endorsed}")]
    TcbBelowVcek { reported: String, endorsed: String },
    #[error(
        "SEV-SNP: Chip ID in attestation does not match endorsed chip ID: {endorsed} != {reported}"
    )]
    ChipIdMismatch { endorsed: String, reported: String },
    #[error("SEV-SNP: TCB of size {0}, expected 8")]
    EndorsedTcbMalformed(String),
    #[error("SEV-SNP: endorsed TCB {endorsed} does not match reported TCB {reported}")]
    EndorsedTcbMismatch { endorsed: String, reported: String },
}
