//! The hash a caller names for signing or HMAC (`alg.hash` in CCF's JavaScript crypto API):
//! SHA-256, SHA-384 or SHA-512, with the digest and HMAC of each.

use aws_lc_rs::{digest, hmac};

/// SHA-256, SHA-384 or SHA-512.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    /// The algorithm for a WebCrypto name (`"SHA-256"`, `"SHA-384"`, `"SHA-512"`).
    pub fn from_name(name: &str) -> Option<HashAlg> {
        match name {
            "SHA-256" => Some(HashAlg::Sha256),
            "SHA-384" => Some(HashAlg::Sha384),
            "SHA-512" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// Bytes of output.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            HashAlg::Sha256 => &digest::SHA256,
            HashAlg::Sha384 => &digest::SHA384,
            HashAlg::Sha512 => &digest::SHA512,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }

    /// HMAC of `data` under `key` (any length, as RFC 2104 allows).
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            HashAlg::Sha256 => hmac::HMAC_SHA256,
            HashAlg::Sha384 => hmac::HMAC_SHA384,
            HashAlg::Sha512 => hmac::HMAC_SHA512,
        };
        hmac::sign(&hmac::Key::new(algorithm, key), data)
            .as_ref()
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lengths_and_rfc4231_case_2() {
        assert_eq!(HashAlg::from_name("SHA-1"), None);
        for (name, len) in [("SHA-256", 32), ("SHA-384", 48), ("SHA-512", 64)] {
            let alg = HashAlg::from_name(name).unwrap();
            assert_eq!(alg.digest(b"abc").len(), len);
            assert_eq!(alg.output_len(), len);
        }
        // RFC 4231 test case 2 (key "Jefe").
        let mac = HashAlg::Sha256.hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
