//! RSA for CCF's encryption keys: members' and nodes' recovery keys are RSA (2048 bits from
//! CCF's `keygenerator.sh`), and ledger secrets and recovery shares travel RSA-OAEP-SHA256
//! encrypted to them (spec/ccf-internals.md §6.2, §6.4).
//!
//! Key generation uses the library's own random generator (aws-lc offers no way to pass one in),
//! so only hosts and tools generate RSA keys; the sans-IO node only encrypts to public keys.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};

use crate::error::CryptoError;
use crate::pem::{encode_pem, first_pem_block};

/// An RSA key pair (PKCS#8 inside).
pub struct RsaKeyPair {
    pkcs8: Vec<u8>,
    public_spki: Vec<u8>,
}

impl std::fmt::Debug for RsaKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaKeyPair { .. }")
    }
}

/// An RSA public key (SubjectPublicKeyInfo DER inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    spki: Vec<u8>,
}

fn invalid(what: &str) -> CryptoError {
    CryptoError::InvalidKey(what.to_owned())
}

impl RsaKeyPair {
    /// A new 2048-bit key, as CCF's `keygenerator.sh` makes for members.
    pub fn generate_2048() -> Result<RsaKeyPair, CryptoError> {
        let pair =
            KeyPair::generate(KeySize::Rsa2048).map_err(|_| CryptoError::KeyGenerationFailed(0))?;
        RsaKeyPair::from_pair(&pair)
    }

    fn from_pair(pair: &KeyPair) -> Result<RsaKeyPair, CryptoError> {
        let pkcs8: Pkcs8V1Der<'_> = pair
            .as_der()
            .map_err(|_| invalid("RSA key does not encode"))?;
        let public: PublicKeyX509Der<'_> = pair
            .public_key()
            .as_der()
            .map_err(|_| invalid("RSA public key does not encode"))?;
        Ok(RsaKeyPair {
            pkcs8: pkcs8.as_ref().to_vec(),
            public_spki: public.as_ref().to_vec(),
        })
    }

    /// Parses a PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY") PEM.
    pub fn from_pem(pem: &str) -> Result<RsaKeyPair, CryptoError> {
        let block = first_pem_block(pem, &["PRIVATE KEY", "RSA PRIVATE KEY"])?;
        let pair = if block.label == "PRIVATE KEY" {
            KeyPair::from_pkcs8(&block.der)
        } else {
            KeyPair::from_der(&block.der)
        }
        .map_err(|e| invalid(&format!("RSA private key: {e}")))?;
        RsaKeyPair::from_pair(&pair)
    }

    /// PKCS#8 PEM ("PRIVATE KEY").
    pub fn to_pem(&self) -> String {
        encode_pem("PRIVATE KEY", &self.pkcs8)
    }

    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey {
            spki: self.public_spki.clone(),
        }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWS RS256), for tools and tests that issue tokens.
    /// PKCS#1 v1.5 is deterministic: aws-lc ignores the generator argument, so a fixed one is
    /// passed rather than the OS's.
    pub fn sign_pkcs1_sha256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let pair = KeyPair::from_pkcs8(&self.pkcs8).map_err(|_| invalid("RSA private key"))?;
        let mut signature = vec![0u8; pair.public_modulus_len()];
        let unused = aws_lc_rs::test::rand::FixedByteRandom { byte: 0 };
        pair.sign(&RSA_PKCS1_SHA256, &unused, message, &mut signature)
            .map_err(|_| CryptoError::SigningFailed)?;
        Ok(signature)
    }

    /// RSA-OAEP with SHA-256 and MGF1-SHA-256, no label (CCF's recovery shares).
    pub fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = PrivateDecryptingKey::from_pkcs8(&self.pkcs8)
            .map_err(|_| invalid("RSA private key"))?;
        let key =
            OaepPrivateDecryptingKey::new(key).map_err(|_| invalid("RSA private key for OAEP"))?;
        let mut out = vec![0u8; key.min_output_size()];
        let plain = key
            .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, None)
            .map_err(|_| CryptoError::BadSignature)?;
        Ok(plain.to_vec())
    }
}

impl RsaPublicKey {
    /// Parses a "PUBLIC KEY" (SubjectPublicKeyInfo) PEM.
    pub fn from_pem(pem: &str) -> Result<RsaPublicKey, CryptoError> {
        let block = first_pem_block(pem, &["PUBLIC KEY"])?;
        PublicEncryptingKey::from_der(&block.der)
            .map_err(|e| invalid(&format!("RSA public key: {e}")))?;
        Ok(RsaPublicKey { spki: block.der })
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// "PUBLIC KEY" PEM, as CCF stores members' encryption keys.
    pub fn to_pem(&self) -> String {
        encode_pem("PUBLIC KEY", &self.spki)
    }

    /// RSA-OAEP with SHA-256 and MGF1-SHA-256, no label.
    pub fn encrypt_oaep_sha256(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key =
            PublicEncryptingKey::from_der(&self.spki).map_err(|_| invalid("RSA public key"))?;
        let key =
            OaepPublicEncryptingKey::new(key).map_err(|_| invalid("RSA public key for OAEP"))?;
        let mut out = vec![0u8; key.ciphertext_size()];
        let cipher = key
            .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut out, None)
            .map_err(|_| CryptoError::SigningFailed)?;
        Ok(cipher.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oaep_round_trips_and_pem_forms_parse() {
        let pair = RsaKeyPair::generate_2048().unwrap();
        let public = RsaPublicKey::from_pem(&pair.public_key().to_pem()).unwrap();
        let secret = b"44-byte recovery share, or a 32-byte secret";
        let cipher = public.encrypt_oaep_sha256(secret).unwrap();
        assert_eq!(cipher.len(), 256);
        let again = RsaKeyPair::from_pem(&pair.to_pem()).unwrap();
        assert_eq!(again.decrypt_oaep_sha256(&cipher).unwrap(), secret);
        let mut tampered = cipher.clone();
        tampered[10] ^= 1;
        assert!(again.decrypt_oaep_sha256(&tampered).is_err());
    }

    #[test]
    fn ccf_member_encryption_keys_parse() {
        let pem = include_str!("../../../testdata/ccf6/eol_service/common/member0_enc_pubk.pem");
        assert!(RsaPublicKey::from_pem(pem).is_ok());
        let private =
            include_str!("../../../testdata/ccf6/eol_service/common/member0_enc_privk.pem");
        assert!(RsaKeyPair::from_pem(private).is_ok());
    }
}
