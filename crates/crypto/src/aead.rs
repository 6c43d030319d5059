//! AES-256-GCM with a caller-chosen 12-byte IV and a detached 16-byte tag: the shape of CCF's
//! ledger-entry encryption (spec/ccf-internals.md §2.1–§2.2, §6.1), where tag and IV are stored
//! ahead of the ciphertext and the public domain is the AAD.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::error::CryptoError;

/// Bytes in an AES-256 key.
pub const AES_256_KEY_BYTES: usize = 32;
/// Bytes in a GCM IV as CCF uses it.
pub const GCM_IV_BYTES: usize = 12;
/// Bytes in a GCM tag.
pub const GCM_TAG_BYTES: usize = 16;

/// An AES-256-GCM key. `Debug` never prints the key.
pub struct Aes256GcmKey(LessSafeKey);

impl Aes256GcmKey {
    pub fn new(raw: &[u8; 32]) -> Aes256GcmKey {
        let key = UnboundKey::new(&AES_256_GCM, raw);
        // aws-lc refuses a key only for a wrong length, and the type fixes it at 32 bytes.
        let Ok(key) = key else {
            unreachable!("AES-256-GCM accepts every 32-byte key")
        };
        Aes256GcmKey(LessSafeKey::new(key))
    }

    /// A key from a slice that must be exactly 32 bytes (e.g. a decoded `raw_key`).
    pub fn from_slice(raw: &[u8]) -> Result<Aes256GcmKey, CryptoError> {
        let raw: &[u8; 32] = raw.try_into().map_err(|_| CryptoError::KeyLength {
            expected: AES_256_KEY_BYTES,
            actual: raw.len(),
        })?;
        Ok(Aes256GcmKey::new(raw))
    }

    /// Encrypts in place; returns the 16-byte tag. Works with empty plaintext (tag over AAD only),
    /// which is how CCF authenticates entries with no private writes (§2.1).
    pub fn encrypt_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; 16], CryptoError> {
        let nonce = Nonce::assume_unique_for_key(*iv);
        let tag = self
            .0
            .seal_in_place_separate_tag(nonce, Aad::from(aad), in_out)
            .map_err(|_| CryptoError::AeadEncryption)?;
        let mut out = [0u8; GCM_TAG_BYTES];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts in place after checking the tag. On failure `in_out` is zeroed, so that no
    /// unauthenticated plaintext is ever left behind.
    pub fn decrypt_in_place(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        let nonce = Nonce::assume_unique_for_key(*iv);
        let opened = self
            .0
            .open_in_place_separate_tag(nonce, Aad::from(aad), tag, in_out);
        if opened.is_err() {
            in_out.fill(0);
            return Err(CryptoError::AeadAuthentication);
        }
        Ok(())
    }
}

impl fmt::Debug for Aes256GcmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Aes256GcmKey(<secret>)")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hash::sha256;
    use crate::hmac::hmac_sha256;

    const KEY: [u8; 32] = [0x42; 32];
    const IV: [u8; 12] = [7; 12];

    fn seal(plain: &[u8], aad: &[u8]) -> (Vec<u8>, [u8; 16]) {
        let mut buf = plain.to_vec();
        let tag = Aes256GcmKey::new(&KEY)
            .encrypt_in_place(&IV, aad, &mut buf)
            .unwrap();
        (buf, tag)
    }

    #[test]
    fn round_trip_restores_plaintext() {
        let (mut ct, tag) = seal(b"private domain", b"public domain");
        assert_ne!(ct, b"private domain");
        Aes256GcmKey::new(&KEY)
            .decrypt_in_place(&IV, b"public domain", &mut ct, &tag)
            .unwrap();
        assert_eq!(ct, b"private domain");
    }

    #[test]
    fn tampered_tag_aad_or_ciphertext_fail() {
        let key = Aes256GcmKey::new(&KEY);
        let (ct, tag) = seal(b"private domain", b"public domain");

        let mut bad_tag = tag;
        bad_tag[0] ^= 1;
        let mut buf = ct.clone();
        assert_eq!(
            key.decrypt_in_place(&IV, b"public domain", &mut buf, &bad_tag),
            Err(CryptoError::AeadAuthentication)
        );
        assert!(
            buf.iter().all(|b| *b == 0),
            "failed decryption must not leave plaintext"
        );

        let mut buf = ct.clone();
        assert!(
            key.decrypt_in_place(&IV, b"public domaiN", &mut buf, &tag)
                .is_err()
        );

        let mut buf = ct.clone();
        buf[3] ^= 0x80;
        assert!(
            key.decrypt_in_place(&IV, b"public domain", &mut buf, &tag)
                .is_err()
        );

        let mut buf = ct;
        assert!(
            key.decrypt_in_place(&[8; 12], b"public domain", &mut buf, &tag)
                .is_err()
        );
    }

    #[test]
    fn empty_plaintext_yields_a_tag_over_aad() {
        let (ct, tag) = seal(b"", b"public domain");
        assert!(ct.is_empty());
        let key = Aes256GcmKey::new(&KEY);
        key.decrypt_in_place(&IV, b"public domain", &mut [], &tag)
            .unwrap();
        assert!(
            key.decrypt_in_place(&IV, b"public domain!", &mut [], &tag)
                .is_err()
        );
        assert_ne!(tag, seal(b"", b"other").1);
    }

    #[test]
    fn from_slice_refuses_wrong_length() {
        assert_eq!(
            Aes256GcmKey::from_slice(&[0; 16]).map(|_| ()),
            Err(CryptoError::KeyLength {
                expected: 32,
                actual: 16
            })
        );
        assert!(Aes256GcmKey::from_slice(&[0; 32]).is_ok());
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let text = format!("{:?}", Aes256GcmKey::new(&[0xab; 32]));
        assert!(!text.contains("ab") && !text.contains("171"), "{text}");
    }

    /// Rebuilds the 149-byte public domain of spec/ccf-internals.md §2.5 from its rules.
    fn spec_public_domain() -> Vec<u8> {
        let commit_secret =
            hmac_sha256(&std::array::from_fn::<u8, 32, _>(|i| i as u8), b"Commit S");
        let nonce = hmac_sha256(&commit_secret, b"2.5");
        let evidence = format!("ce:2.5:{}", hex::encode(nonce));
        let mut pd = vec![4u8];
        pd.extend(5u64.to_le_bytes());
        pd.extend([0u8; 32]);
        let evidence_digest = sha256(evidence.as_bytes());
        // §2.5 lists this digest as d1 37 11 bf … 94 ce e5 8d.
        assert!(evidence_digest.to_hex().starts_with("d13711bf"));
        assert!(evidence_digest.to_hex().ends_with("94cee58d"));
        pd.extend(evidence_digest.0);
        pd.extend(0u64.to_le_bytes());
        let len_prefixed = |pd: &mut Vec<u8>, bytes: &[u8]| {
            pd.extend((bytes.len() as u64).to_le_bytes());
            pd.extend(bytes);
        };
        len_prefixed(&mut pd, b"public:app");
        pd.extend(0u64.to_le_bytes()); // read_version
        pd.extend(0u64.to_le_bytes()); // read_count
        pd.extend(1u64.to_le_bytes()); // write_count
        len_prefixed(&mut pd, b"k");
        len_prefixed(&mut pd, b"v");
        pd.extend(0u64.to_le_bytes()); // remove_count
        pd
    }

    #[test]
    fn spec_worked_example_tag_matches() {
        // spec/ccf-internals.md §2.5: ledger secret 00..1f, IV = seqno 5 LE ‖ view 2 LE.
        let public_domain = spec_public_domain();
        assert_eq!(public_domain.len(), 149);
        let secret: [u8; 32] = std::array::from_fn(|i| i as u8);
        let mut iv = [0u8; 12];
        iv[..8].copy_from_slice(&5u64.to_le_bytes());
        iv[8..].copy_from_slice(&2u32.to_le_bytes());
        let tag = Aes256GcmKey::new(&secret)
            .encrypt_in_place(&iv, &public_domain, &mut [])
            .unwrap();
        assert_eq!(hex::encode(tag), "8f4489974a0edc9fa9cfc8a11f08fe79");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn any_plaintext_round_trips(plain in prop::collection::vec(any::<u8>(), 0..300),
                                     aad in prop::collection::vec(any::<u8>(), 0..64),
                                     iv: [u8; 12]) {
            let key = Aes256GcmKey::new(&KEY);
            let mut buf = plain.clone();
            let tag = key.encrypt_in_place(&iv, &aad, &mut buf).unwrap();
            key.decrypt_in_place(&iv, &aad, &mut buf, &tag).unwrap();
            prop_assert_eq!(buf, plain);
        }
    }
}
