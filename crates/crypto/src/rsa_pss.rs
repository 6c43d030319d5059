//! RSASSA-PSS with a caller-chosen salt length (CCF's `sign`/`verifySignature` with
//! `{name: "RSA-PSS", saltLength}`; MGF1 uses the message hash). aws-lc fixes the salt to the
//! hash length and salts from its own generator, so RustCrypto's `rsa` signs, with the salt and
//! the blinding drawn from the caller's [`Entropy`].

use rsa::pkcs8::DecodePublicKey;
use rsa::{Pss, RsaPublicKey};
use sha2::{Sha256, Sha384, Sha512};

use crate::entropy::Entropy;
use crate::entropy_rng::EntropyRng;
use crate::error::CryptoError;
use crate::hash_alg::HashAlg;
use crate::rsa_keygen::rsa_private_from_pem;

fn padding(hash: HashAlg, salt_len: usize) -> Pss {
    match hash {
        HashAlg::Sha256 => Pss::new_with_salt::<Sha256>(salt_len),
        HashAlg::Sha384 => Pss::new_with_salt::<Sha384>(salt_len),
        HashAlg::Sha512 => Pss::new_with_salt::<Sha512>(salt_len),
    }
}

/// Signs `message` (hashed with `hash`) with the private key PEM (PKCS#8 or PKCS#1).
pub fn rsa_pss_sign(
    private_pem: &str,
    hash: HashAlg,
    salt_len: usize,
    message: &[u8],
    entropy: &mut dyn Entropy,
) -> Result<Vec<u8>, CryptoError> {
    let key = rsa_private_from_pem(private_pem)?;
    let digest = hash.digest(message);
    key.sign_with_rng(&mut EntropyRng(entropy), padding(hash, salt_len), &digest)
        .map_err(|_| CryptoError::SigningFailed)
}

/// Whether `signature` is a PSS signature over `message` with exactly this salt length, for the
/// RSA SubjectPublicKeyInfo `spki_der`. A key that does not parse is an error, a wrong
/// signature is `Ok(false)`.
pub fn rsa_pss_verify(
    spki_der: &[u8],
    hash: HashAlg,
    salt_len: usize,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let key = RsaPublicKey::from_public_key_der(spki_der)
        .map_err(|e| CryptoError::InvalidKey(format!("RSA public key: {e}")))?;
    let digest = hash.digest(message);
    Ok(key
        .verify(padding(hash, salt_len), &digest, signature)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};

    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::pem::first_pem_block;
    use crate::rsa_keygen::generate_rsa_key_pair;

    #[test]
    fn pss_round_trips_and_aws_lc_verifies_hash_length_salts() {
        let mut entropy = SeededEntropy::from_seed(5);
        let pair = generate_rsa_key_pair(2048, 65537, &mut entropy).unwrap();
        let spki = first_pem_block(&pair.public_pem, &["PUBLIC KEY"])
            .unwrap()
            .der;
        for (hash, salt) in [
            (HashAlg::Sha256, 0),
            (HashAlg::Sha384, 48),
            (HashAlg::Sha512, 20),
        ] {
            let sig = rsa_pss_sign(&pair.private_pem, hash, salt, b"msg", &mut entropy).unwrap();
            assert_eq!(sig.len(), 256);
            assert!(rsa_pss_verify(&spki, hash, salt, b"msg", &sig).unwrap());
            assert!(!rsa_pss_verify(&spki, hash, salt, b"other", &sig).unwrap());
        }
        // An independent verifier: aws-lc checks PSS-SHA256 with a 32-byte salt.
        let sig = rsa_pss_sign(&pair.private_pem, HashAlg::Sha256, 32, b"x", &mut entropy).unwrap();
        UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, rsa_public_pkcs1(&spki))
            .verify(b"x", &sig)
            .unwrap();
        assert!(rsa_pss_verify(b"junk", HashAlg::Sha256, 0, b"x", &sig).is_err());
    }

    /// aws-lc's RSA verification keys are the PKCS#1 `RSAPublicKey` inside the SPKI.
    fn rsa_public_pkcs1(spki: &[u8]) -> Vec<u8> {
        use x509_parser::prelude::FromDer;
        let (_, info) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki).unwrap();
        info.subject_public_key.data.to_vec()
    }
}
