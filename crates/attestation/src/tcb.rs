//! SNP TCB versions (ABI spec table 3, Milan/Genoa layout): eight bytes holding the security
//! patch levels of the boot loader, the PSP OS (TEE), the SNP firmware and the microcode.

/// One TCB version, kept as its raw bytes (byte 0 boot loader, 1 TEE, 6 SNP, 7 microcode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcbVersion(pub [u8; 8]);

impl TcbVersion {
    pub fn boot_loader(&self) -> u8 {
        self.0[0]
    }
    pub fn tee(&self) -> u8 {
        self.0[1]
    }
    pub fn snp(&self) -> u8 {
        self.0[6]
    }
    pub fn microcode(&self) -> u8 {
        self.0[7]
    }

    /// CCF's `TcbVersionRaw::to_hex`: the bytes reversed (the little-endian u64 in hex), as AMD
    /// and Azure print TCBs ("db18000000000004": microcode 0xdb, SNP 0x18, boot loader 4).
    pub fn to_hex(&self) -> String {
        self.0.iter().rev().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses [`TcbVersion::to_hex`]'s form; `None` unless it is 16 hex digits.
    pub fn from_hex(text: &str) -> Option<TcbVersion> {
        let bytes = decode_hex(text)?;
        let mut raw: [u8; 8] = bytes.try_into().ok()?;
        raw.reverse();
        Some(TcbVersion(raw))
    }

    /// Whether every component is at least `minimum`'s (CCF's `TcbVersionPolicy::is_valid`).
    pub fn meets(&self, minimum: &TcbVersion) -> bool {
        self.boot_loader() >= minimum.boot_loader()
            && self.tee() >= minimum.tee()
            && self.snp() >= minimum.snp()
            && self.microcode() >= minimum.microcode()
    }

    /// CCF's JSON policy form, for error texts.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{{\"boot_loader\":{},\"hexstring\":\"{}\",\"microcode\":{},\"snp\":{},\"tee\":{}}}",
            self.boot_loader(),
            self.to_hex(),
            self.microcode(),
            self.snp(),
            self.tee()
        )
    }
}

/// Lower- or upper-case hex to bytes; `None` on an odd length or a non-hex digit.
pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_the_reversed_bytes_as_ccf_prints_them() {
        let tcb = TcbVersion([4, 0, 0, 0, 0, 0, 0x18, 0xdb]);
        assert_eq!(tcb.to_hex(), "db18000000000004");
        assert_eq!(TcbVersion::from_hex("db18000000000004"), Some(tcb));
        assert_eq!(TcbVersion::from_hex("DB18000000000004"), Some(tcb));
        assert_eq!(
            (tcb.boot_loader(), tcb.tee(), tcb.snp(), tcb.microcode()),
            (4, 0, 0x18, 0xdb)
        );
        assert_eq!(TcbVersion::from_hex("db180000000000"), None);
        assert_eq!(TcbVersion::from_hex("zz18000000000004"), None);
    }

    #[test]
    fn meets_compares_every_component() {
        let reported = TcbVersion::from_hex("db18000000000004").unwrap();
        assert!(reported.meets(&TcbVersion::from_hex("d315000000000004").unwrap()));
        assert!(reported.meets(&reported));
        assert!(!reported.meets(&TcbVersion::from_hex("dc18000000000004").unwrap()));
        assert!(!reported.meets(&TcbVersion::from_hex("db18000000000005").unwrap()));
    }
}
