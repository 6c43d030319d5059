//! One ledger entry's write set, read on its own: what CCF's historical store holds for a
//! transaction (spec/ccf-js.md §3.7: `historicalState.kv` shows only what that transaction
//! wrote). The private domain is decrypted with the ledger secret in force at its seqno and the
//! commit evidence digest is checked, as when the entry is applied; nothing touches a store.

use std::collections::BTreeMap;

use cloister_crypto::{Sha256Hash, sha256};
use cloister_ledger::{parse_entry, parse_map_records, parse_public_domain};
use cloister_types::{SeqNo, TxId, View};

use crate::apply::check_domain;
use crate::commit_evidence::commit_evidence_digest;
use crate::encryptor::open;
use crate::error::KvError;
use crate::map::Domain;
use crate::secrets::LedgerSecrets;

/// Table name → key → value: the keys one transaction wrote. Removed keys are absent, as in a
/// store that starts empty and applies only this entry.
pub type WriteSetTables = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// A decrypted, checked write set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryWriteSet {
    pub tx_id: TxId,
    /// Every table the entry carries a record for (a table with only removals is present and
    /// empty), public and private.
    pub tables: WriteSetTables,
    /// SHA-256 of the whole entry.
    pub write_set_digest: Sha256Hash,
    pub claims_digest: Option<Sha256Hash>,
}

/// Reads the entry `bytes` (a whole serialised entry, as Raft and the ledger hold it).
pub fn read_write_set(secrets: &LedgerSecrets, bytes: &[u8]) -> Result<EntryWriteSet, KvError> {
    let parts = parse_entry(bytes)?;
    let (header, public) = parse_public_domain(parts.public_domain)?;
    if parts.gcm.seqno() != header.version || parts.gcm.is_snapshot() {
        return Err(KvError::IvMismatch {
            iv_seqno: parts.gcm.seqno(),
            iv_snapshot: parts.gcm.is_snapshot(),
            version: header.version,
        });
    }
    let seqno = SeqNo(header.version);
    let tx_id = TxId {
        view: View(u64::from(parts.gcm.view())),
        seqno,
    };
    let secret = secrets
        .secret_for(seqno)
        .ok_or(KvError::NoLedgerSecret { seqno: seqno.0 })?;
    // Authenticates the public domain too (it is the AAD), even with no private writes.
    let plain = open(
        secret,
        &parts.gcm,
        parts.public_domain,
        parts.private_ciphertext,
    )?;
    let private = parse_map_records(&plain)?;
    check_domain(public.iter().map(|m| m.name.as_str()), Domain::Public)?;
    check_domain(private.iter().map(|m| m.name.as_str()), Domain::Private)?;
    if header
        .commit_evidence_digest
        .is_some_and(|digest| digest != commit_evidence_digest(secret, tx_id))
    {
        return Err(KvError::CommitEvidenceMismatch { seqno: seqno.0 });
    }
    let mut tables = WriteSetTables::new();
    for map in public.into_iter().chain(private) {
        let table = tables.entry(map.name).or_default();
        for (key, value) in map.writes {
            table.insert(key, value);
        }
    }
    Ok(EntryWriteSet {
        tx_id,
        tables,
        write_set_digest: sha256(bytes),
        claims_digest: header.claims_digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use cloister_ledger::EntryFlags;

    /// A table, a key, and its new value (`None`: removed).
    type Write<'a> = (&'a str, &'a [u8], Option<&'a [u8]>);

    fn committed(store: &mut Store, writes: &[Write<'_>]) -> Vec<u8> {
        let mut tx = store.begin();
        for (map, key, value) in writes {
            match value {
                Some(value) => tx.put(map, key.to_vec(), value.to_vec()),
                None => tx.remove(map, key.to_vec()),
            }
        }
        store
            .commit(tx, View(2), None, EntryFlags(0))
            .unwrap()
            .unwrap()
            .bytes
    }

    #[test]
    fn holds_only_what_the_entry_wrote_private_maps_decrypted() {
        let mut store = Store::new(LedgerSecrets::with_first([9; 32]));
        committed(
            &mut store,
            &[
                ("records", b"1", Some(b"old")),
                ("records", b"2", Some(b"x")),
            ],
        );
        let bytes = committed(
            &mut store,
            &[
                ("records", b"1", Some(b"new")),
                ("records", b"2", None),
                ("public:records", b"3", Some(b"pub")),
            ],
        );
        let read = read_write_set(store.secrets(), &bytes).unwrap();
        assert_eq!(read.tx_id, TxId::new(2, 2));
        assert_eq!(read.write_set_digest, sha256(&bytes));
        let records = &read.tables["records"];
        assert_eq!(records.get(b"1".as_slice()), Some(&b"new".to_vec()));
        assert_eq!(records.get(b"2".as_slice()), None, "a removal is absent");
        assert_eq!(read.tables["public:records"].len(), 1);
    }

    #[test]
    fn a_wrong_secret_or_a_flipped_byte_is_refused() {
        let mut store = Store::new(LedgerSecrets::with_first([9; 32]));
        let bytes = committed(&mut store, &[("records", b"1", Some(b"v"))]);
        assert!(matches!(
            read_write_set(&LedgerSecrets::with_first([8; 32]), &bytes),
            Err(KvError::Decrypt { .. })
        ));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(read_write_set(store.secrets(), &flipped).is_err());
        assert!(matches!(
            read_write_set(&LedgerSecrets::new(), &bytes),
            Err(KvError::NoLedgerSecret { seqno: 1 })
        ));
    }
}
