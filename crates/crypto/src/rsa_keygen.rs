//! RSA key pairs for CCF's `generateRsaKeyPair(bits[, exponent])`, drawn from a caller-owned
//! [`Entropy`] (aws-lc only generates RSA keys from its own generator, which the sans-IO node
//! may not use). The prime search is RustCrypto's `rsa`; the keys come out as OpenSSL writes
//! them: PKCS#8 `PRIVATE KEY` and SubjectPublicKeyInfo `PUBLIC KEY` PEM.

use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::{BigUint, RsaPrivateKey};

use crate::entropy::Entropy;
use crate::entropy_rng::EntropyRng;
use crate::error::CryptoError;
use crate::pem::{encode_pem, first_pem_block};

/// Smallest modulus generated: below this the `rsa` crate's prime search is not meant to run.
pub const RSA_KEYGEN_BITS_MIN: u32 = 1024;
/// Largest modulus generated: a native call cannot be interrupted by the JavaScript time limit,
/// and 16384-bit keys take minutes.
pub const RSA_KEYGEN_BITS_MAX: u32 = 8192;
/// CCF's default public exponent.
pub const RSA_DEFAULT_EXPONENT: u32 = 65537;

/// A generated key pair as PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct PemKeyPair {
    /// PKCS#8 `PRIVATE KEY`.
    pub private_pem: String,
    /// SubjectPublicKeyInfo `PUBLIC KEY`.
    pub public_pem: String,
}

impl std::fmt::Debug for PemKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemKeyPair")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

fn invalid(why: impl std::fmt::Display) -> CryptoError {
    CryptoError::InvalidKey(why.to_string())
}

/// A fresh `bits`-bit key with public exponent `exponent` (odd, at least 3), every random
/// byte from `entropy`.
pub fn generate_rsa_key_pair(
    bits: u32,
    exponent: u32,
    entropy: &mut dyn Entropy,
) -> Result<PemKeyPair, CryptoError> {
    if !(RSA_KEYGEN_BITS_MIN..=RSA_KEYGEN_BITS_MAX).contains(&bits) {
        return Err(invalid(format!(
            "key size {bits} is not within {RSA_KEYGEN_BITS_MIN}..={RSA_KEYGEN_BITS_MAX}"
        )));
    }
    // An even exponent has no inverse modulo p-1: the prime search would never end.
    if exponent < 3 || exponent % 2 == 0 {
        return Err(invalid(format!(
            "public exponent {exponent} must be odd and at least 3"
        )));
    }
    let key = RsaPrivateKey::new_with_exp(
        &mut EntropyRng(entropy),
        bits as usize,
        &BigUint::from(exponent),
    )
    .map_err(invalid)?;
    rsa_pem_pair(&key)
}

pub(crate) fn rsa_pem_pair(key: &RsaPrivateKey) -> Result<PemKeyPair, CryptoError> {
    let private = key.to_pkcs8_der().map_err(invalid)?;
    let public = key.to_public_key().to_public_key_der().map_err(invalid)?;
    Ok(PemKeyPair {
        private_pem: encode_pem("PRIVATE KEY", private.as_bytes()),
        public_pem: encode_pem("PUBLIC KEY", public.as_bytes()),
    })
}

/// An RSA private key from a PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY` PEM.
pub(crate) fn rsa_private_from_pem(pem: &str) -> Result<RsaPrivateKey, CryptoError> {
    let block = first_pem_block(pem, &["PRIVATE KEY", "RSA PRIVATE KEY"])?;
    if block.label == "PRIVATE KEY" {
        RsaPrivateKey::from_pkcs8_der(&block.der).map_err(invalid)
    } else {
        RsaPrivateKey::from_pkcs1_der(&block.der).map_err(invalid)
    }
}

/// The PKCS#8 DER of an RSA private key PEM (either form), as aws-lc takes it.
pub(crate) fn rsa_private_pkcs8(pem: &str) -> Result<Vec<u8>, CryptoError> {
    let block = first_pem_block(pem, &["PRIVATE KEY", "RSA PRIVATE KEY"])?;
    if block.label == "PRIVATE KEY" {
        return Ok(block.der);
    }
    let key = RsaPrivateKey::from_pkcs1_der(&block.der).map_err(invalid)?;
    Ok(key.to_pkcs8_der().map_err(invalid)?.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::rsa::{RsaKeyPair, RsaPublicKey};

    #[test]
    fn seeded_keys_replay_and_aws_lc_reads_them() {
        let a = generate_rsa_key_pair(2048, 65537, &mut SeededEntropy::from_seed(1)).unwrap();
        let b = generate_rsa_key_pair(2048, 65537, &mut SeededEntropy::from_seed(1)).unwrap();
        assert_eq!(a, b);
        assert!(a.private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(a.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        // aws-lc parses both halves and they match.
        let pair = RsaKeyPair::from_pem(&a.private_pem).unwrap();
        assert_eq!(
            pair.public_key(),
            RsaPublicKey::from_pem(&a.public_pem).unwrap()
        );
        let other = generate_rsa_key_pair(2048, 3, &mut SeededEntropy::from_seed(2)).unwrap();
        assert_ne!(a.public_pem, other.public_pem);
    }

    #[test]
    fn bad_sizes_and_exponents_are_refused() {
        let mut entropy = SeededEntropy::from_seed(3);
        assert!(generate_rsa_key_pair(512, 65537, &mut entropy).is_err());
        assert!(generate_rsa_key_pair(16384, 65537, &mut entropy).is_err());
        assert!(generate_rsa_key_pair(2048, 65536, &mut entropy).is_err());
        assert!(generate_rsa_key_pair(2048, 1, &mut entropy).is_err());
    }

    #[test]
    fn pkcs1_pem_becomes_pkcs8() {
        let pem = include_str!("../../../testdata/ccf6/eol_service/common/member0_enc_privk.pem");
        let der = rsa_private_pkcs8(pem).unwrap();
        assert!(RsaPrivateKey::from_pkcs8_der(&der).is_ok());
        assert!(rsa_private_from_pem(pem).is_ok());
    }
}
