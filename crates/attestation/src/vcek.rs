//! What the VCEK certificate endorses (AMD spec 57230, table 10, Milan/Genoa): the TCB it was
//! derived for (one DER INTEGER extension per component) and the chip's hardware id.

use crate::chain::EndorsementCert;
use crate::tcb::TcbVersion;

const BL_SPL: &str = "1.3.6.1.4.1.3704.1.3.1";
const TEE_SPL: &str = "1.3.6.1.4.1.3704.1.3.2";
const SNP_SPL: &str = "1.3.6.1.4.1.3704.1.3.3";
const UCODE_SPL: &str = "1.3.6.1.4.1.3704.1.3.8";
const HW_ID: &str = "1.3.6.1.4.1.3704.1.4";

/// Why an endorsed value could not be read (CCF throws on these too).
pub(crate) type Malformed = String;

/// The TCB the VCEK endorses, or `None` if any component extension is absent (CCF then skips
/// the check).
pub(crate) fn endorsed_tcb(vcek: &EndorsementCert) -> Result<Option<TcbVersion>, Malformed> {
    let mut raw = [0u8; 8];
    for (oid, at, name) in [
        (BL_SPL, 0, "boot_loader"),
        (TEE_SPL, 1, "tee"),
        (SNP_SPL, 6, "snp"),
        (UCODE_SPL, 7, "microcode"),
    ] {
        let Some(value) = vcek.extension(oid) else {
            return Ok(None);
        };
        let level = der_integer(value).ok_or_else(|| {
            format!("TCB version OID {oid} in VCEK certificate is not an INTEGER")
        })?;
        raw[at] = u8::try_from(level)
            .map_err(|_| format!("Invalid {name} value in TCB version: {level}"))?;
    }
    Ok(Some(TcbVersion(raw)))
}

/// The chip id the VCEK endorses (the hwID extension's raw contents), if present.
pub(crate) fn endorsed_chip_id(vcek: &EndorsementCert) -> Option<&[u8]> {
    vcek.extension(HW_ID)
}

/// A short non-negative DER INTEGER (tag 2), as AMD encodes SPLs.
fn der_integer(bytes: &[u8]) -> Option<u64> {
    let [0x02, len, body @ ..] = bytes else {
        return None;
    };
    if usize::from(*len) != body.len() || body.is_empty() || body.len() > 8 || body[0] & 0x80 != 0 {
        return None;
    }
    Some(body.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers_of_spls() {
        assert_eq!(der_integer(&[0x02, 0x01, 0x04]), Some(4));
        assert_eq!(der_integer(&[0x02, 0x02, 0x00, 0xdb]), Some(219));
        assert_eq!(der_integer(&[0x02, 0x01, 0x80]), None); // negative
        assert_eq!(der_integer(&[0x04, 0x01, 0x04]), None); // not an INTEGER
        assert_eq!(der_integer(&[0x02, 0x02, 0x04]), None); // short
    }

    #[test]
    fn recorded_milan_vcek_endorses_the_reports_tcb_and_chip() {
        let bundle = include_str!("../../../testdata/snp/milan_endorsements.pem");
        let (vcek, ask, _) = crate::chain::split_endorsements(bundle).unwrap();
        let tcb = endorsed_tcb(&vcek).unwrap().unwrap();
        assert_eq!(tcb.to_hex(), "db18000000000004");
        let report = include_bytes!("../../../testdata/snp/milan_attestation.bin");
        assert_eq!(endorsed_chip_id(&vcek), Some(&report[0x1A0..0x1E0]));
        // The ASK endorses no TCB.
        assert_eq!(endorsed_tcb(&ask).unwrap(), None);
        assert_eq!(endorsed_chip_id(&ask), None);
    }
}
