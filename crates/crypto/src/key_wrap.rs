//! CCF's `wrapKey`/`unwrapKey` compositions: RSA-OAEP-AES-KWP wraps `key` under a fresh AES key
//! of `aes_key_bits`, and that AES key under RSA-OAEP-SHA256: output RSA-OAEP(temp) ‖
//! AES-KWP(temp, key) (PKCS#11 CKM_RSA_AES_KEY_WRAP).

use crate::aes_kwp::{aes_kwp_unwrap, aes_kwp_wrap};
use crate::entropy::Entropy;
use crate::error::CryptoError;
use crate::rsa_keygen::rsa_private_from_pem;
use crate::rsa_oaep::{rsa_oaep_decrypt, rsa_oaep_encrypt};

/// RSA-OAEP(temp AES key) ‖ AES-KWP(temp, key); the temporary key comes from `entropy`.
pub fn rsa_aes_kwp_wrap(
    public_pem: &str,
    aes_key_bits: i32,
    key: &[u8],
    label: &[u8],
    entropy: &mut dyn Entropy,
) -> Result<Vec<u8>, CryptoError> {
    if !matches!(aes_key_bits, 128 | 192 | 256) {
        return Err(CryptoError::InvalidKey(format!(
            "AES key size {aes_key_bits} is not one of 128, 192, 256"
        )));
    }
    // The size was checked just above.
    let mut temp = vec![0u8; (aes_key_bits / 8) as usize];
    entropy.fill_bytes(&mut temp);
    let wrapped_temp = rsa_oaep_encrypt(public_pem, &temp, label, entropy);
    let wrapped_key = aes_kwp_wrap(&temp, key);
    temp.fill(0);
    let mut out = wrapped_temp?;
    out.extend(wrapped_key?);
    Ok(out)
}

/// The inverse of [`rsa_aes_kwp_wrap`], with the RSA private key PEM.
pub fn rsa_aes_kwp_unwrap(
    private_pem: &str,
    wrapped: &[u8],
    label: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    use rsa::traits::PublicKeyParts;
    let modulus_len = rsa_private_from_pem(private_pem)?.size();
    if wrapped.len() <= modulus_len {
        return Err(CryptoError::InvalidKey(format!(
            "{} bytes are too few for RSA-OAEP-AES-KWP under a {}-bit key",
            wrapped.len(),
            modulus_len * 8
        )));
    }
    let (wrapped_temp, wrapped_key) = wrapped.split_at(modulus_len);
    let mut temp = rsa_oaep_decrypt(private_pem, wrapped_temp, label)?;
    let key = aes_kwp_unwrap(&temp, wrapped_key);
    temp.fill(0);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::rsa_keygen::generate_rsa_key_pair;

    #[test]
    fn round_trips_for_every_aes_size_and_checks_the_label() {
        let mut entropy = SeededEntropy::from_seed(8);
        let pair = generate_rsa_key_pair(2048, 65537, &mut entropy).unwrap();
        let key = [7u8; 40];
        for bits in [128, 192, 256] {
            let w = rsa_aes_kwp_wrap(&pair.public_pem, bits, &key, b"l", &mut entropy).unwrap();
            assert_eq!(w.len(), 256 + 48);
            assert_eq!(
                rsa_aes_kwp_unwrap(&pair.private_pem, &w, b"l").unwrap(),
                key
            );
            assert!(rsa_aes_kwp_unwrap(&pair.private_pem, &w, b"m").is_err());
        }
        assert!(rsa_aes_kwp_wrap(&pair.public_pem, 100, &key, b"", &mut entropy).is_err());
        assert!(rsa_aes_kwp_unwrap(&pair.private_pem, &[0; 256], b"").is_err());
    }
}
