//! AES-256-GCM over the private domain of entries and snapshots: key = the ledger secret in force
//! at the seqno, IV = seqno ‖ view (bit 31 marks a snapshot), AAD = the public-domain bytes
//! (spec/ccf-internals.md §2.2, §6.1). An entry with no private writes still gets a tag, over the
//! public domain alone (§2.1), so every entry's public domain is authenticated.

use cloister_ledger::GcmHeader;

use crate::error::KvError;
use crate::secrets::LedgerSecret;

/// Encrypts `plaintext` in place and returns the GCM header (tag then IV) to frame it with.
pub(crate) fn seal(
    secret: &LedgerSecret,
    iv: [u8; 12],
    public_domain: &[u8],
    plaintext: &mut [u8],
) -> Result<GcmHeader, KvError> {
    let seqno = GcmHeader { tag: [0; 16], iv }.seqno();
    let tag = secret
        .key()
        .encrypt_in_place(&iv, public_domain, plaintext)
        .map_err(|_| KvError::Encrypt { seqno })?;
    Ok(GcmHeader { tag, iv })
}

/// Checks the tag over `public_domain` and `ciphertext` and returns the private plaintext.
/// A wrong secret or any tampered byte gives `KvError::Decrypt` and no plaintext.
pub(crate) fn open(
    secret: &LedgerSecret,
    gcm: &GcmHeader,
    public_domain: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, KvError> {
    let mut plaintext = ciphertext.to_vec();
    secret
        .key()
        .decrypt_in_place(&gcm.iv, public_domain, &mut plaintext, &gcm.tag)
        .map_err(|_| KvError::Decrypt { seqno: gcm.seqno() })?;
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_the_same_secret_and_aad() {
        let secret = LedgerSecret::new([7; 32]);
        let iv = GcmHeader::iv_for(9, 2, false);
        let mut data = b"private".to_vec();
        let gcm = seal(&secret, iv, b"public", &mut data).unwrap();
        assert_ne!(data, b"private");
        assert_eq!(open(&secret, &gcm, b"public", &data).unwrap(), b"private");
        let other = LedgerSecret::new([8; 32]);
        assert_eq!(
            open(&other, &gcm, b"public", &data),
            Err(KvError::Decrypt { seqno: 9 })
        );
        assert_eq!(
            open(&secret, &gcm, b"publiC", &data),
            Err(KvError::Decrypt { seqno: 9 })
        );
    }
}
