//! RSA-OAEP with SHA-256 (and MGF1-SHA-256) and an optional label of any bytes, as CCF's
//! `wrapKey`/`unwrapKey` `{name: "RSA-OAEP", label}` use it. Encryption pads here (RFC 8017
//! §7.1.1) with the seed from the caller's [`Entropy`], then raises to e: a public operation,
//! so no secret meets the big-integer code. aws-lc decrypts.

use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};

use crate::entropy::Entropy;
use crate::error::CryptoError;
use crate::hash::sha256;
use crate::pem::first_pem_block;
use crate::rsa_keygen::rsa_private_pkcs8;

const HASH_LEN: usize = 32;

fn invalid(why: impl std::fmt::Display) -> CryptoError {
    CryptoError::InvalidKey(why.to_string())
}

/// MGF1 with SHA-256 (RFC 8017 §B.2.1), XORed into `out`.
fn mgf1_xor(seed: &[u8], out: &mut [u8]) {
    for (counter, chunk) in out.chunks_mut(HASH_LEN).enumerate() {
        let mut input = seed.to_vec();
        // A chunk index fits in u32: the output is at most a modulus long.
        input.extend_from_slice(&(counter as u32).to_be_bytes());
        let mask = sha256(&input);
        for (byte, m) in chunk.iter_mut().zip(mask.as_bytes()) {
            *byte ^= m;
        }
    }
}

/// Encrypts `message` to the RSA public key PEM (SubjectPublicKeyInfo `PUBLIC KEY`).
pub fn rsa_oaep_encrypt(
    public_pem: &str,
    message: &[u8],
    label: &[u8],
    entropy: &mut dyn Entropy,
) -> Result<Vec<u8>, CryptoError> {
    let der = first_pem_block(public_pem, &["PUBLIC KEY"])?.der;
    let key = RsaPublicKey::from_public_key_der(&der).map_err(invalid)?;
    let k = key.size();
    if k < 2 * HASH_LEN + 2 || message.len() > k - 2 * HASH_LEN - 2 {
        return Err(invalid(format!(
            "{} bytes do not fit RSA-OAEP-SHA256 under a {}-bit key",
            message.len(),
            k * 8
        )));
    }
    // EM = 0x00 ‖ maskedSeed ‖ maskedDB, DB = lHash ‖ PS ‖ 0x01 ‖ M.
    let mut em = vec![0u8; k];
    let (seed, db) = em[1..].split_at_mut(HASH_LEN);
    db[..HASH_LEN].copy_from_slice(sha256(label).as_bytes());
    let one_at = db.len() - message.len() - 1;
    db[one_at] = 1;
    db[one_at + 1..].copy_from_slice(message);
    entropy.fill_bytes(seed);
    mgf1_xor(seed, db);
    mgf1_xor(db, seed);
    let c = BigUint::from_bytes_be(&em).modpow(key.e(), key.n());
    let c = c.to_bytes_be();
    let mut out = vec![0u8; k - c.len()];
    out.extend_from_slice(&c);
    Ok(out)
}

/// Decrypts with the RSA private key PEM (PKCS#8 or PKCS#1); a wrong key, label or ciphertext
/// is an error.
pub fn rsa_oaep_decrypt(
    private_pem: &str,
    ciphertext: &[u8],
    label: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let pkcs8 = rsa_private_pkcs8(private_pem)?;
    let key = PrivateDecryptingKey::from_pkcs8(&pkcs8).map_err(|e| invalid(format!("{e}")))?;
    let key = OaepPrivateDecryptingKey::new(key).map_err(|e| invalid(format!("{e}")))?;
    let mut out = vec![0u8; key.min_output_size()];
    let plain = key
        .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, Some(label))
        .map_err(|_| CryptoError::BadSignature)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::rsa::{RsaKeyPair, RsaPublicKey as AwsPublic};
    use crate::rsa_keygen::generate_rsa_key_pair;

    #[test]
    fn padding_here_decrypts_in_aws_lc_with_its_label() {
        let mut entropy = SeededEntropy::from_seed(6);
        let pair = generate_rsa_key_pair(2048, 65537, &mut entropy).unwrap();
        let c = rsa_oaep_encrypt(&pair.public_pem, b"secret", b"label", &mut entropy).unwrap();
        assert_eq!(c.len(), 256);
        assert_eq!(
            rsa_oaep_decrypt(&pair.private_pem, &c, b"label").unwrap(),
            b"secret"
        );
        assert!(rsa_oaep_decrypt(&pair.private_pem, &c, b"other").is_err());
        // No label: aws-lc's own decryption (existing façade) reads it.
        let c = rsa_oaep_encrypt(&pair.public_pem, b"k", b"", &mut entropy).unwrap();
        let aws = RsaKeyPair::from_pem(&pair.private_pem).unwrap();
        assert_eq!(aws.decrypt_oaep_sha256(&c).unwrap(), b"k");
        // And the reverse: aws-lc encrypts, we decrypt.
        let c = AwsPublic::from_pem(&pair.public_pem)
            .unwrap()
            .encrypt_oaep_sha256(b"back")
            .unwrap();
        assert_eq!(
            rsa_oaep_decrypt(&pair.private_pem, &c, b"").unwrap(),
            b"back"
        );
    }

    #[test]
    fn too_long_messages_are_refused() {
        let mut entropy = SeededEntropy::from_seed(7);
        let pair = generate_rsa_key_pair(2048, 65537, &mut entropy).unwrap();
        assert!(rsa_oaep_encrypt(&pair.public_pem, &[0; 190], b"", &mut entropy).is_ok());
        assert!(rsa_oaep_encrypt(&pair.public_pem, &[0; 191], b"", &mut entropy).is_err());
    }
}
