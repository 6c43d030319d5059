//! Applying ledger entries written elsewhere: the backup path and replay (spec/ccf-internals.md
//! §2, §5.3). Everything is checked before anything is applied, so a bad entry leaves the store
//! exactly as it was.

use cloister_crypto::{Sha256Hash, sha256};
use cloister_ledger::{
    EntryFlags, EntryType, MapChanges, PublicHeader, leaf_from_digests, parse_entry,
    parse_map_records, parse_public_domain,
};
use cloister_types::{SeqNo, TxId, View};

use crate::commit_evidence::commit_evidence_digest;
use crate::encryptor::open;
use crate::error::KvError;
use crate::map::{Domain, SIGNATURES_MAP};
use crate::store::Store;

/// What one applied entry was, and what its Merkle leaf is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedEntry {
    pub seqno: SeqNo,
    /// The view from the IV (spec §2.2).
    pub view: View,
    pub entry_type: EntryType,
    pub flags: EntryFlags,
    /// Names of the maps the entry carries records for, public then private, as serialised.
    /// Private maps are missing when they were skipped (`apply_entry_public_only`).
    pub maps: Vec<String>,
    /// Whether it wrote `public:ccf.internal.signatures`, i.e. is a signature transaction.
    pub is_signature: bool,
    /// Whether a private domain was present but not applied (public-only mode).
    pub private_skipped: bool,
    /// SHA-256 of the whole entry (spec §3.1).
    pub write_set_digest: Sha256Hash,
    pub claims_digest: Option<Sha256Hash>,
    pub commit_evidence_digest: Option<Sha256Hash>,
}

impl AppliedEntry {
    pub fn tx_id(&self) -> TxId {
        TxId {
            view: self.view,
            seqno: self.seqno,
        }
    }

    /// The Merkle leaf of this entry, with the legacy forms of older entry types (spec §3.1).
    pub fn leaf(&self) -> Sha256Hash {
        leaf_from_digests(
            &self.write_set_digest,
            self.commit_evidence_digest.as_ref(),
            self.claims_digest.as_ref(),
        )
    }
}

/// Whether the private domain is decrypted and applied, or skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Full,
    /// For ledgers whose secrets we lack: apply public maps, skip the ciphertext unchecked.
    PublicOnly,
}

impl Store {
    /// Applies the entry for seqno `current_version() + 1`: decrypts its private domain with the
    /// ledger secret in force there (authenticating the public domain too), checks its commit
    /// evidence digest, and applies all its maps atomically.
    pub fn apply_entry(&mut self, bytes: &[u8]) -> Result<AppliedEntry, KvError> {
        self.apply(bytes, Mode::Full)
    }

    /// As `apply_entry`, for ledgers whose secrets are unknown: applies the public maps only and
    /// neither decrypts nor authenticates anything. The private maps of such a store are stale.
    pub fn apply_entry_public_only(&mut self, bytes: &[u8]) -> Result<AppliedEntry, KvError> {
        self.apply(bytes, Mode::PublicOnly)
    }

    fn apply(&mut self, bytes: &[u8], mode: Mode) -> Result<AppliedEntry, KvError> {
        let parts = parse_entry(bytes)?;
        let (header, public) = parse_public_domain(parts.public_domain)?;
        let seqno = self.check_header(&header, parts.gcm.seqno(), parts.gcm.is_snapshot())?;
        check_domain(names(&public), Domain::Public)?;
        let view = View(u64::from(parts.gcm.view()));
        let private = match mode {
            Mode::PublicOnly => Vec::new(),
            Mode::Full => {
                let secret = self
                    .secrets
                    .secret_for(seqno)
                    .ok_or(KvError::NoLedgerSecret { seqno: seqno.0 })?;
                let plain = open(
                    secret,
                    &parts.gcm,
                    parts.public_domain,
                    parts.private_ciphertext,
                )?;
                let private = parse_map_records(&plain)?;
                check_domain(names(&private), Domain::Private)?;
                let expected = commit_evidence_digest(secret, TxId { view, seqno });
                if header.commit_evidence_digest.is_some_and(|d| d != expected) {
                    return Err(KvError::CommitEvidenceMismatch { seqno: seqno.0 });
                }
                private
            }
        };
        let maps: Vec<String> = public
            .iter()
            .chain(&private)
            .map(|m| m.name.clone())
            .collect();
        self.advance(seqno, public.iter().chain(&private));
        Ok(AppliedEntry {
            seqno,
            view,
            entry_type: header.entry_type,
            flags: parts.flags,
            is_signature: maps.iter().any(|m| m == SIGNATURES_MAP),
            maps,
            private_skipped: mode == Mode::PublicOnly && !parts.private_ciphertext.is_empty(),
            write_set_digest: sha256(bytes),
            claims_digest: header.claims_digest,
            commit_evidence_digest: header.commit_evidence_digest,
        })
    }

    /// The entry must be for exactly the next seqno, and its IV must say so too (the parser
    /// already refused snapshots).
    fn check_header(
        &self,
        header: &PublicHeader,
        iv_seqno: u64,
        iv_snapshot: bool,
    ) -> Result<SeqNo, KvError> {
        let expected = self.next_version()?;
        if header.version != expected.0 {
            return Err(KvError::UnexpectedVersion {
                expected: expected.0,
                found: header.version,
            });
        }
        if iv_seqno != header.version || iv_snapshot {
            return Err(KvError::IvMismatch {
                iv_seqno,
                iv_snapshot,
                version: header.version,
            });
        }
        Ok(expected)
    }
}

/// A map record must sit in the domain its name puts it in, or a private map could be leaked
/// into plaintext (or a public one hidden) by a faulty primary.
pub(crate) fn check_domain<'a>(
    names: impl IntoIterator<Item = &'a str>,
    domain: Domain,
) -> Result<(), KvError> {
    match names.into_iter().find(|name| Domain::of(name) != domain) {
        Some(name) => Err(KvError::DomainMismatch {
            map: name.to_owned(),
        }),
        None => Ok(()),
    }
}

fn names(maps: &[MapChanges]) -> impl Iterator<Item = &str> {
    maps.iter().map(|m| m.name.as_str())
}
