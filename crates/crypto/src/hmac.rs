//! HMAC-SHA256 (commit-evidence nonces, spec/ccf-internals.md §3.2) and HKDF-SHA256 (the
//! recovery-share wrapping key, §6.4).

use aws_lc_rs::{hkdf, hmac};

use crate::error::CryptoError;

/// HMAC-SHA256 of `msg` under `key` (any key length).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// HKDF-SHA256 (RFC 5869) filling all of `out`. An empty `salt` is HashLen zero bytes, as
/// RFC 5869 §2.2 says and as CCF relies on for the wrapping key (§6.4).
pub fn hkdf_sha256(
    ikm: &[u8],
    salt: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let too_long = |_| CryptoError::HkdfOutputLength(out.len());
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info_parts = [info];
    let okm = prk
        .expand(&info_parts, OutputLength(out.len()))
        .map_err(too_long)?;
    okm.fill(out)
        .map_err(|_| CryptoError::HkdfOutputLength(out.len()))
}

/// aws-lc's HKDF wants the output length as a `KeyType`.
struct OutputLength(usize);

impl hkdf::KeyType for OutputLength {
    fn len(&self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger_secret() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    #[test]
    fn commit_secret_matches_spec_worked_example() {
        // spec/ccf-internals.md §2.5: commit_secret = HMAC(ledger secret 00..1f, "Commit S").
        let commit_secret = hmac_sha256(&ledger_secret(), b"Commit S");
        let text = hex::encode(commit_secret);
        assert!(text.starts_with("e1b0511c"), "{text}");
        assert!(text.ends_with("2bd478ed"), "{text}");
    }

    #[test]
    fn commit_nonce_gives_spec_commit_evidence() {
        let commit_secret = hmac_sha256(&ledger_secret(), b"Commit S");
        let nonce = hmac_sha256(&commit_secret, b"2.5");
        assert_eq!(
            format!("ce:2.5:{}", hex::encode(nonce)),
            "ce:2.5:187ceea26f3f7d44a5e204750ce5782e98493a457a60d17119486e8bf7f211ea"
        );
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hkdf_matches_rfc_5869_case_1() {
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let mut okm = [0u8; 42];
        hkdf_sha256(&ikm, &salt, &info, &mut okm).unwrap();
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn hkdf_with_empty_salt_matches_rfc_5869_case_3() {
        let mut okm = [0u8; 42];
        hkdf_sha256(&[0x0b; 22], &[], &[], &mut okm).unwrap();
        assert_eq!(
            hex::encode(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        );
    }

    #[test]
    fn hkdf_refuses_more_than_255_blocks() {
        let mut okm = vec![0u8; 255 * 32 + 1];
        assert_eq!(
            hkdf_sha256(b"ikm", b"", b"", &mut okm),
            Err(CryptoError::HkdfOutputLength(255 * 32 + 1))
        );
        let mut max = vec![0u8; 255 * 32];
        assert!(hkdf_sha256(b"ikm", b"", b"", &mut max).is_ok());
    }
}
