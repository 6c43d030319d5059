//! The SEV-SNP attestation report (ABI spec 56860, table 21; CCF's `snp::Attestation`): 1184
//! bytes at fixed offsets, little-endian. Parsing only reads fields; verification is
//! `verify.rs`.

use crate::error::SnpError;
use crate::tcb::TcbVersion;

/// The size of a report.
pub const REPORT_SIZE: usize = 0x4A0;
/// The signed part: everything before the signature at 0x2A0.
pub const SIGNED_LEN: usize = 0x2A0;

/// Every field CCF's `snp_attestation.verifySnpAttestation` exposes, as raw values; the bit
/// fields have accessors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnpReport {
    pub version: u32,
    pub guest_svn: u32,
    /// The guest policy (table 8); see `policy_*`.
    pub policy: u64,
    pub family_id: [u8; 16],
    pub image_id: [u8; 16],
    pub vmpl: u32,
    pub signature_algo: u32,
    pub platform_version: TcbVersion,
    /// Table 22; see `platform_smt_en` / `platform_tsme_en`.
    pub platform_info: u64,
    /// See `flags_*`.
    pub flags: u32,
    pub report_data: [u8; 64],
    pub measurement: [u8; 48],
    pub host_data: [u8; 32],
    pub id_key_digest: [u8; 48],
    pub author_key_digest: [u8; 48],
    pub report_id: [u8; 32],
    pub report_id_ma: [u8; 32],
    pub reported_tcb: TcbVersion,
    /// Zero in version 2 reports (the CPUID fields came with version 3).
    pub cpuid_fam_id: u8,
    pub cpuid_mod_id: u8,
    pub cpuid_step: u8,
    pub chip_id: [u8; 64],
    pub committed_tcb: TcbVersion,
    pub current_minor: u8,
    pub current_build: u8,
    pub current_major: u8,
    pub committed_build: u8,
    pub committed_minor: u8,
    pub committed_major: u8,
    pub launch_tcb: TcbVersion,
    /// ECDSA r and s, little-endian, zero-padded to 72 bytes.
    pub signature_r: [u8; 72],
    pub signature_s: [u8; 72],
}

impl SnpReport {
    /// Reads a report's fields without checking anything but its size.
    pub fn parse(bytes: &[u8]) -> Result<SnpReport, SnpError> {
        if bytes.len() != REPORT_SIZE {
            return Err(SnpError::WrongSize(bytes.len()));
        }
        let r = Reader(bytes);
        Ok(SnpReport {
            version: r.u32(0x000),
            guest_svn: r.u32(0x004),
            policy: r.u64(0x008),
            family_id: r.array(0x010),
            image_id: r.array(0x020),
            vmpl: r.u32(0x030),
            signature_algo: r.u32(0x034),
            platform_version: TcbVersion(r.array(0x038)),
            platform_info: r.u64(0x040),
            flags: r.u32(0x048),
            report_data: r.array(0x050),
            measurement: r.array(0x090),
            host_data: r.array(0x0C0),
            id_key_digest: r.array(0x0E0),
            author_key_digest: r.array(0x110),
            report_id: r.array(0x140),
            report_id_ma: r.array(0x160),
            reported_tcb: TcbVersion(r.array(0x180)),
            cpuid_fam_id: r.u8(0x188),
            cpuid_mod_id: r.u8(0x189),
            cpuid_step: r.u8(0x18A),
            chip_id: r.array(0x1A0),
            committed_tcb: TcbVersion(r.array(0x1E0)),
            current_minor: r.u8(0x1E8),
            current_build: r.u8(0x1E9),
            current_major: r.u8(0x1EA),
            committed_build: r.u8(0x1EC),
            committed_minor: r.u8(0x1ED),
            committed_major: r.u8(0x1EE),
            launch_tcb: TcbVersion(r.array(0x1F0)),
            signature_r: r.array(0x2A0),
            signature_s: r.array(0x2E8),
        })
    }

    pub fn policy_abi_minor(&self) -> u8 {
        self.policy as u8
    }
    pub fn policy_abi_major(&self) -> u8 {
        (self.policy >> 8) as u8
    }
    pub fn policy_smt(&self) -> bool {
        self.policy >> 16 & 1 == 1
    }
    pub fn policy_migrate_ma(&self) -> bool {
        self.policy >> 18 & 1 == 1
    }
    pub fn policy_debug(&self) -> bool {
        self.policy >> 19 & 1 == 1
    }
    pub fn policy_single_socket(&self) -> bool {
        self.policy >> 20 & 1 == 1
    }
    pub fn platform_smt_en(&self) -> bool {
        self.platform_info & 1 == 1
    }
    pub fn platform_tsme_en(&self) -> bool {
        self.platform_info >> 1 & 1 == 1
    }
    pub fn flags_author_key_en(&self) -> bool {
        self.flags & 1 == 1
    }
    pub fn flags_mask_chip_key(&self) -> bool {
        self.flags >> 1 & 1 == 1
    }
    /// 0 = VCEK, 1 = VLEK, 7 = none.
    pub fn flags_signing_key(&self) -> u8 {
        (self.flags >> 2 & 0b111) as u8
    }
}

/// Fixed-offset reads from a slice already known to be `REPORT_SIZE` long.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = self.0.get(at..at + N) {
            out.copy_from_slice(src);
        }
        out
    }
    fn u8(&self, at: usize) -> u8 {
        self.0.get(at).copied().unwrap_or_default()
    }
    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.array(at))
    }
    fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.array(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_their_offsets() {
        let mut bytes = vec![0u8; REPORT_SIZE];
        bytes[0] = 3;
        bytes[0x008..0x010].copy_from_slice(&0x001f_0003_0000u64.to_le_bytes()[..8]);
        bytes[0x048] = 0b1_0110; // author key, signing key 0b101
        bytes[0x090] = 0xAA;
        bytes[0x188] = 0x19;
        bytes[0x189] = 0x11;
        bytes[0x2E8] = 0x55;
        let report = SnpReport::parse(&bytes).unwrap();
        assert_eq!(report.version, 3);
        assert_eq!(report.policy_abi_major(), 0);
        assert_eq!(report.policy_abi_minor(), 0);
        assert!(report.policy_smt());
        assert!(!report.policy_debug());
        assert!(!report.flags_author_key_en());
        assert!(report.flags_mask_chip_key());
        assert_eq!(report.flags_signing_key(), 0b101);
        assert_eq!(report.measurement[0], 0xAA);
        assert_eq!((report.cpuid_fam_id, report.cpuid_mod_id), (0x19, 0x11));
        assert_eq!(report.signature_s[0], 0x55);
    }

    #[test]
    fn wrong_sizes_are_refused_with_ccfs_text() {
        let error = SnpReport::parse(&[0u8; 100]).unwrap_err();
        assert_eq!(error, SnpError::WrongSize(100));
        assert_eq!(
            error.to_string(),
            "Input SEV-SNP attestation report is not of expected size 1184: 100"
        );
    }
}
