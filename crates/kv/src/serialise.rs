//! From a transaction's write set to a CCF 6 ledger entry (spec/ccf-internals.md §2): type 4
//! (write set with commit evidence and claims), public maps in the plaintext public domain,
//! private maps as map records encrypted under the ledger secret in force at the seqno.

use cloister_crypto::{Sha256Hash, sha256};
use cloister_ledger::{
    EntryFlags, EntryType, GcmHeader, MapChanges, PublicHeader, leaf_from_digests, write_entry,
    write_map_records, write_public_domain,
};
use cloister_types::{SeqNo, TxId, View};

use crate::commit_evidence::commit_evidence;
use crate::encryptor::seal;
use crate::error::KvError;
use crate::map::Domain;
use crate::secrets::LedgerSecret;
use crate::tx::WriteSet;
use crate::version::State;

/// The ledger entry of one committed write transaction, and what its Merkle leaf is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedEntry {
    pub seqno: SeqNo,
    pub view: View,
    /// The whole entry, 8-byte header included, as it goes into a ledger chunk.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes` (spec §3.1).
    pub write_set_digest: Sha256Hash,
    /// `ce:{view}.{seqno}:{hex nonce}`; revealed only in receipts of committed transactions.
    pub commit_evidence: String,
    /// The application's claims digest, or 32 zero bytes when it gave none (spec §2.3).
    pub claims_digest: Sha256Hash,
}

impl CommittedEntry {
    pub fn tx_id(&self) -> TxId {
        TxId {
            view: self.view,
            seqno: self.seqno,
        }
    }

    /// SHA-256 of the commit-evidence string, as stored in the public header.
    pub fn commit_evidence_digest(&self) -> Sha256Hash {
        sha256(self.commit_evidence.as_bytes())
    }

    /// The Merkle leaf: SHA256(write_set_digest ‖ commit_evidence_digest ‖ claims_digest) (§3.1).
    pub fn leaf(&self) -> Sha256Hash {
        let evidence = self.commit_evidence_digest();
        leaf_from_digests(
            &self.write_set_digest,
            Some(&evidence),
            Some(&self.claims_digest),
        )
    }
}

/// A write set as map records, split by domain; each list sorted by map name, keys by bytes.
#[derive(Debug, Default)]
pub(crate) struct MapRecords {
    pub(crate) public: Vec<MapChanges>,
    pub(crate) private: Vec<MapChanges>,
}

impl MapRecords {
    /// Public maps first, then private, the order CCF serialises and applies them in (§2.4).
    pub(crate) fn all(&self) -> impl Iterator<Item = &MapChanges> {
        self.public.iter().chain(&self.private)
    }
}

/// The map records of `writes` against the committed state they will be applied to. A remove
/// is kept only if the key exists there (§2.4); a map whose only changes are such no-op removes
/// still gets a record with no writes and no removes, as CCF writes one for every map in the
/// change set.
pub(crate) fn map_records(writes: &WriteSet, committed: &State) -> MapRecords {
    let mut records = MapRecords::default();
    for (name, changes) in writes.iter().filter(|(_, changes)| !changes.is_empty()) {
        let existing = committed.maps.get(name.as_str());
        let mut record = MapChanges {
            name: name.clone(),
            ..MapChanges::default()
        };
        for (key, value) in changes {
            match value {
                Some(value) => record.writes.push((key.clone(), value.clone())),
                None if existing.is_some_and(|m| m.get(key).is_some()) => {
                    record.removes.push(key.clone());
                }
                None => {}
            }
        }
        match Domain::of(name) {
            Domain::Public => records.public.push(record),
            Domain::Private => records.private.push(record),
        }
    }
    records
}

/// Serialises, encrypts and frames one transaction's entry at `tx_id`.
pub(crate) fn serialise_entry(
    secret: &LedgerSecret,
    tx_id: TxId,
    claims: Option<Sha256Hash>,
    flags: EntryFlags,
    records: &MapRecords,
) -> Result<CommittedEntry, KvError> {
    let view = u32::try_from(tx_id.view.0)
        .ok()
        .filter(|v| *v <= 0x7FFF_FFFF)
        .ok_or(KvError::ViewOutOfRange { view: tx_id.view.0 })?;
    let iv = GcmHeader::try_iv_for(tx_id.seqno.0, view, false)?;
    let commit_evidence = commit_evidence(secret, tx_id);
    let claims_digest = claims.unwrap_or_default();
    let header = PublicHeader {
        entry_type: EntryType::WriteSetWithCommitEvidenceAndClaims,
        version: tx_id.seqno.0,
        claims_digest: Some(claims_digest),
        commit_evidence_digest: Some(sha256(commit_evidence.as_bytes())),
        max_conflict_version: 0,
    };
    let public_domain = write_public_domain(&header, &records.public);
    let mut private = Vec::new();
    write_map_records(&mut private, &records.private);
    let gcm = seal(secret, iv, &public_domain, &mut private)?;
    let bytes = write_entry(flags, &gcm, &public_domain, &private);
    Ok(CommittedEntry {
        seqno: tx_id.seqno,
        view: tx_id.view,
        write_set_digest: sha256(&bytes),
        bytes,
        commit_evidence,
        claims_digest,
    })
}
