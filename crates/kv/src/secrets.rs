//! Ledger secrets: 32-byte AES-256-GCM keys, each in force from a start seqno until the next
//! one starts (spec/ccf-internals.md §6.1). Secrets are inputs: the caller owns randomness.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use cloister_crypto::{Aes256GcmKey, hmac_sha256};
use cloister_types::SeqNo;

use crate::error::KvError;

/// The 8-byte label of the commit secret: literally `Commit S` (spec §3.2; CCF once passed
/// `sizeof(const char*)` bytes of "Commit Secret Label" and keeps those 8 bytes for old ledgers).
const COMMIT_SECRET_LABEL: &[u8; 8] = b"Commit S";

/// One ledger secret, with the AES key and commit secret derived from it once.
/// `Debug` never prints key material.
#[derive(Clone)]
pub struct LedgerSecret {
    raw: [u8; 32],
    key: Arc<Aes256GcmKey>,
    commit_secret: [u8; 32],
}

impl LedgerSecret {
    pub fn new(raw: [u8; 32]) -> LedgerSecret {
        LedgerSecret {
            raw,
            key: Arc::new(Aes256GcmKey::new(&raw)),
            commit_secret: hmac_sha256(&raw, COMMIT_SECRET_LABEL),
        }
    }

    /// The raw 32 bytes (for wrapping into recovery shares and `encrypted_ledger_secrets`).
    pub fn raw(&self) -> &[u8; 32] {
        &self.raw
    }

    /// HMAC-SHA256(raw secret, "Commit S"), the key of commit-evidence nonces (spec §3.2).
    pub fn commit_secret(&self) -> &[u8; 32] {
        &self.commit_secret
    }

    pub(crate) fn key(&self) -> &Aes256GcmKey {
        &self.key
    }
}

impl fmt::Debug for LedgerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LedgerSecret(<secret>)")
    }
}

/// The ordered map start seqno → secret. The secret for seqno v is the one with the greatest
/// start ≤ v (spec §6.1). A rekey at seqno V adds a secret starting at V + 1 (spec §6.2).
#[derive(Clone, Debug, Default)]
pub struct LedgerSecrets {
    by_start: BTreeMap<SeqNo, LedgerSecret>,
}

impl LedgerSecrets {
    pub fn new() -> LedgerSecrets {
        LedgerSecrets::default()
    }

    /// Secrets holding one secret in force from seqno 1: a new service's first secret.
    pub fn with_first(raw: [u8; 32]) -> LedgerSecrets {
        let mut by_start = BTreeMap::new();
        by_start.insert(SeqNo(1), LedgerSecret::new(raw));
        LedgerSecrets { by_start }
    }

    /// Adds a secret in force from `start`; starts must strictly increase.
    pub fn add(&mut self, start: SeqNo, raw: [u8; 32]) -> Result<(), KvError> {
        if let Some((&last, _)) = self.by_start.last_key_value() {
            if start <= last {
                return Err(KvError::SecretOutOfOrder {
                    start: start.0,
                    last: last.0,
                });
            }
        }
        self.by_start.insert(start, LedgerSecret::new(raw));
        Ok(())
    }

    /// The secret in force at `seqno`, if any secret starts at or before it.
    pub fn secret_for(&self, seqno: SeqNo) -> Option<&LedgerSecret> {
        self.by_start
            .range(..=seqno)
            .next_back()
            .map(|(_, secret)| secret)
    }

    /// Forgets secrets that start after `seqno`, as CCF does when rolling back; the earliest
    /// secret is always kept (CCF never rolls back below the set it was initialised with).
    pub fn rollback(&mut self, seqno: SeqNo) {
        let first = self.by_start.first_key_value().map(|(&start, _)| start);
        let keep_from = first.map_or(seqno, |first| seqno.max(first));
        let _dropped = self.by_start.split_off(&keep_from.next());
    }

    /// Start seqnos of the secrets, in order.
    pub fn starts(&self) -> impl Iterator<Item = SeqNo> + '_ {
        self.by_start.keys().copied()
    }

    pub fn len(&self) -> usize {
        self.by_start.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_start.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_for_picks_the_greatest_start_at_or_before() {
        let mut secrets = LedgerSecrets::with_first([1; 32]);
        secrets.add(SeqNo(10), [2; 32]).unwrap();
        assert!(secrets.secret_for(SeqNo(0)).is_none());
        assert_eq!(secrets.secret_for(SeqNo(1)).unwrap().raw(), &[1; 32]);
        assert_eq!(secrets.secret_for(SeqNo(9)).unwrap().raw(), &[1; 32]);
        assert_eq!(secrets.secret_for(SeqNo(10)).unwrap().raw(), &[2; 32]);
        assert_eq!(secrets.secret_for(SeqNo(u64::MAX)).unwrap().raw(), &[2; 32]);
    }

    #[test]
    fn add_refuses_starts_that_do_not_increase() {
        let mut secrets = LedgerSecrets::with_first([1; 32]);
        assert_eq!(
            secrets.add(SeqNo(1), [2; 32]),
            Err(KvError::SecretOutOfOrder { start: 1, last: 1 })
        );
        assert_eq!(secrets.len(), 1);
    }

    #[test]
    fn rollback_drops_later_secrets_but_keeps_the_first() {
        let mut secrets = LedgerSecrets::with_first([1; 32]);
        secrets.add(SeqNo(5), [2; 32]).unwrap();
        secrets.add(SeqNo(9), [3; 32]).unwrap();
        secrets.rollback(SeqNo(5));
        assert_eq!(
            secrets.starts().collect::<Vec<_>>(),
            vec![SeqNo(1), SeqNo(5)]
        );
        secrets.rollback(SeqNo(0));
        assert_eq!(secrets.starts().collect::<Vec<_>>(), vec![SeqNo(1)]);
    }

    #[test]
    fn commit_secret_matches_spec_worked_example() {
        // spec §2.5: commit_secret = e1b0511c…2bd478ed for the secret 00 01 .. 1f.
        let secret = LedgerSecret::new(std::array::from_fn(|i| i as u8));
        let text = hex::encode(secret.commit_secret());
        assert!(
            text.starts_with("e1b0511c") && text.ends_with("2bd478ed"),
            "{text}"
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let text = format!("{:?}", LedgerSecrets::with_first([0xab; 32]));
        assert!(!text.contains("171") && !text.contains("ab, "), "{text}");
    }
}
