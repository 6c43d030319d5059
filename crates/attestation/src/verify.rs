//! CCF 6's `verify_snp_attestation_report`, check for check and in its order: report shape and
//! policy flags, then the chain ARK → ASK → VCEK against the pinned root of the report's
//! product, then the report signature, then guest policy, then (as newer CCF) the VCEK's
//! endorsed TCB and chip id, then a caller-claimed TCB.
//!
//! Certificate validity periods are not checked: this crate has no clock (CCF's chain check
//! runs through OpenSSL with the host's untrusted time).

use cloister_crypto::{Curve, EcPublicKey, encode_pem, first_pem_block};

use crate::chain::{EndorsementCert, split_endorsements};
use crate::error::SnpError;
use crate::product::{Product, amd_root_public_key_pem};
use crate::report::{SIGNED_LEN, SnpReport};
use crate::tcb::{TcbVersion, encode_hex};
use crate::vcek::{endorsed_chip_id, endorsed_tcb};

const MINIMUM_VERSION: u32 = 2;
const SIGNING_KEY_VCEK: u8 = 0;
const ECDSA_P384_SHA384: u32 = 1;

/// Verifies `evidence` (a raw report) against `endorsements_pem` (VCEK, ASK, ARK in that
/// order) and returns the verified report.
pub fn verify_snp_report(evidence: &[u8], endorsements_pem: &str) -> Result<SnpReport, SnpError> {
    verify_snp_report_with_endorsed_tcb(evidence, endorsements_pem, None)
}

/// [`verify_snp_report`], and the reported TCB must equal `endorsed_tcb` (hex in CCF's
/// `TcbVersionRaw` form, e.g. "db18000000000004"), as when endorsements come with a TCB.
pub fn verify_snp_report_with_endorsed_tcb(
    evidence: &[u8],
    endorsements_pem: &str,
    endorsed_tcb_hex: Option<&str>,
) -> Result<SnpReport, SnpError> {
    let report = SnpReport::parse(evidence)?;
    if report.version < MINIMUM_VERSION {
        return Err(SnpError::VersionTooOld(report.version));
    }
    if report.flags_signing_key() != SIGNING_KEY_VCEK {
        return Err(SnpError::NotSignedByVcek(report.flags_signing_key()));
    }
    if report.flags_mask_chip_key() {
        return Err(SnpError::MaskChipKey);
    }
    // Guests request reports at VMPL 0-3; host-requested reports carry 0xffffffff.
    if report.vmpl > 3 {
        return Err(SnpError::HostGenerated(report.vmpl));
    }

    let (vcek, ask, ark) = split_endorsements(endorsements_pem)?;
    check_root(&report, &ark)?;
    if !ark.issued_by(&ark) {
        return Err(SnpError::RootNotSelfSigned);
    }
    if !ask.issued_by(&ark) || !vcek.issued_by(&ask) {
        return Err(SnpError::ChainBroken);
    }

    if report.signature_algo != ECDSA_P384_SHA384 {
        return Err(SnpError::UnsupportedSignatureAlgorithm(
            report.signature_algo,
        ));
    }
    check_report_signature(&report, evidence, &vcek)?;

    if report.policy_debug() {
        return Err(SnpError::DebugEnabled);
    }
    if report.policy_migrate_ma() {
        return Err(SnpError::MigrationAgent);
    }

    let vcek_tcb =
        endorsed_tcb(&vcek).map_err(|reason| SnpError::BadCertificate { index: 0, reason })?;
    if let Some(minimum) = vcek_tcb {
        if !report.reported_tcb.meets(&minimum) {
            return Err(SnpError::TcbBelowVcek {
                reported: report.reported_tcb.describe(),
                endorsed: minimum.describe(),
            });
        }
    }
    if let Some(chip_id) = endorsed_chip_id(&vcek) {
        if chip_id != report.chip_id.as_slice() {
            return Err(SnpError::ChipIdMismatch {
                endorsed: encode_hex(chip_id),
                reported: encode_hex(&report.chip_id),
            });
        }
    }

    if let Some(claimed) = endorsed_tcb_hex {
        let claimed_tcb = TcbVersion::from_hex(claimed)
            .ok_or_else(|| SnpError::EndorsedTcbMalformed(claimed.len().div_ceil(2).to_string()))?;
        if claimed_tcb != report.reported_tcb {
            return Err(SnpError::EndorsedTcbMismatch {
                endorsed: claimed_tcb.to_hex(),
                reported: report.reported_tcb.to_hex(),
            });
        }
    }
    Ok(report)
}

/// The ARK must carry AMD's pinned key for the report's product. Version 2 reports have no
/// CPUID fields (zero); for them the product is the one whose pinned key the ARK carries.
fn check_root(report: &SnpReport, ark: &EndorsementCert) -> Result<(), SnpError> {
    let (family, model) = (report.cpuid_fam_id, report.cpuid_mod_id);
    let product = if report.version < 3 && family == 0 && model == 0 {
        Product::ALL
            .into_iter()
            .find(|product| pinned_root(*product) == ark.spki)
            .ok_or(SnpError::UnsupportedCpuid { family, model })?
    } else {
        Product::from_cpuid(family, model)?
    };
    let expected = pinned_root(product);
    if ark.spki != expected {
        return Err(SnpError::UnexpectedRoot {
            family,
            model,
            found: encode_pem("PUBLIC KEY", &ark.spki),
            expected: encode_pem("PUBLIC KEY", &expected),
        });
    }
    Ok(())
}

fn pinned_root(product: Product) -> Vec<u8> {
    // The pinned keys are constants checked by the product tests; an unparsable one would
    // match no ARK.
    first_pem_block(amd_root_public_key_pem(product), &["PUBLIC KEY"])
        .map(|block| block.der)
        .unwrap_or_default()
}

/// ECDSA P-384 with SHA-384 by the VCEK over the first 0x2A0 bytes. r and s are stored
/// little-endian in 72 bytes; P-384 uses the low 48 and the rest must be zero.
fn check_report_signature(
    report: &SnpReport,
    evidence: &[u8],
    vcek: &EndorsementCert,
) -> Result<(), SnpError> {
    let key = EcPublicKey::from_spki_der(&vcek.spki).map_err(|_| SnpError::BadReportSignature)?;
    if key.curve() != Curve::P384 {
        return Err(SnpError::BadReportSignature);
    }
    let mut raw = Vec::with_capacity(96);
    for component in [&report.signature_r, &report.signature_s] {
        let (value, padding) = component.split_at(48);
        if padding.iter().any(|b| *b != 0) {
            return Err(SnpError::BadReportSignature);
        }
        raw.extend(value.iter().rev());
    }
    let signed = evidence
        .get(..SIGNED_LEN)
        .ok_or(SnpError::BadReportSignature)?;
    key.verify_cose(signed, &raw)
        .map_err(|_| SnpError::BadReportSignature)
}
