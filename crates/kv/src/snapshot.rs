//! Snapshots of the whole store (spec/ccf-internals.md §8.2): a type-1 entry whose public domain
//! holds the snapshot header and the public maps, and whose ciphertext holds the private maps,
//! each map with its version and every key with the version of its last write.

use std::sync::Arc;

use cloister_crypto::Sha256Hash;
use cloister_ledger::{
    EntryFlags, GcmHeader, SnapshotEntry, SnapshotHeader, SnapshotMap, parse_snapshot_file,
    parse_snapshot_maps, write_entry, write_snapshot_maps, write_snapshot_public_domain,
};
use cloister_types::SeqNo;
use imbl::OrdMap;

use crate::apply::check_domain;
use crate::encryptor::{open, seal};
use crate::error::KvError;
use crate::map::{Domain, MapState};
use crate::secrets::LedgerSecrets;
use crate::store::Store;
use crate::version::{State, Versioned};

impl Store {
    /// The snapshot entry of the current state, s = `current_version()`. `hash_at_snapshot` is
    /// the Merkle leaf of s and `view_history[v-1]` the first seqno of view v (§8.2, §8.3). The
    /// private maps are encrypted under the secret in force at s, with the snapshot IV
    /// (s ‖ view 0 with bit 31 set, §2.2).
    pub fn snapshot(
        &self,
        hash_at_snapshot: Sha256Hash,
        view_history: &[u64],
    ) -> Result<Vec<u8>, KvError> {
        let s = self.state.version;
        let secret = self
            .secrets
            .secret_for(s)
            .ok_or(KvError::NoLedgerSecret { seqno: s.0 })?;
        let header = SnapshotHeader {
            version: s.0,
            hash_at_snapshot: Some(hash_at_snapshot),
            view_history: view_history.to_vec(),
        };
        let (public, private) = self.snapshot_maps();
        let public_domain = write_snapshot_public_domain(&header, &public);
        let mut plaintext = Vec::new();
        write_snapshot_maps(&mut plaintext, &private);
        let iv = GcmHeader::try_iv_for(s.0, 0, true)?;
        let gcm = seal(secret, iv, &public_domain, &mut plaintext)?;
        Ok(write_entry(
            EntryFlags::default(),
            &gcm,
            &public_domain,
            &plaintext,
        ))
    }

    /// A store restored from a snapshot file (the entry, optionally followed by its receipt,
    /// which is not checked here), decrypting the private maps with `secrets`, which the store
    /// then keeps. Rollback below the snapshot is impossible.
    pub fn from_snapshot(
        bytes: &[u8],
        secrets: LedgerSecrets,
    ) -> Result<(Store, SnapshotHeader), KvError> {
        restore(bytes, secrets, true)
    }

    /// As `from_snapshot` without secrets: public maps only, nothing authenticated.
    pub fn from_snapshot_public_only(bytes: &[u8]) -> Result<(Store, SnapshotHeader), KvError> {
        restore(bytes, LedgerSecrets::new(), false)
    }

    /// Every map as snapshot dumps, split by domain, in name order.
    fn snapshot_maps(&self) -> (Vec<SnapshotMap>, Vec<SnapshotMap>) {
        let (mut public, mut private) = (Vec::new(), Vec::new());
        for (name, map) in &self.state.maps {
            let dump = SnapshotMap {
                name: name.clone(),
                map_version: map.version.0,
                entries: map
                    .entries
                    .iter()
                    .map(|(key, v)| SnapshotEntry {
                        key: key.to_vec(),
                        version: v.version.0,
                        value: v.value.to_vec(),
                    })
                    .collect(),
            };
            match Domain::of(name) {
                Domain::Public => public.push(dump),
                Domain::Private => private.push(dump),
            }
        }
        (public, private)
    }
}

fn restore(
    bytes: &[u8],
    secrets: LedgerSecrets,
    decrypt: bool,
) -> Result<(Store, SnapshotHeader), KvError> {
    let file = parse_snapshot_file(bytes)?;
    let (header, gcm) = (file.header, file.parts.gcm);
    if gcm.seqno() != header.version || !gcm.is_snapshot() {
        return Err(KvError::IvMismatch {
            iv_seqno: gcm.seqno(),
            iv_snapshot: gcm.is_snapshot(),
            version: header.version,
        });
    }
    check_domain(
        file.public_maps.iter().map(|m| m.name.as_str()),
        Domain::Public,
    )?;
    let private = if decrypt {
        let s = SeqNo(header.version);
        let secret = secrets
            .secret_for(s)
            .ok_or(KvError::NoLedgerSecret { seqno: s.0 })?;
        let plain = open(
            secret,
            &gcm,
            file.parts.public_domain,
            file.parts.private_ciphertext,
        )?;
        let private = parse_snapshot_maps(&plain)?;
        check_domain(private.iter().map(|m| m.name.as_str()), Domain::Private)?;
        private
    } else {
        Vec::new()
    };
    let state = state_from_dumps(
        SeqNo(header.version),
        file.public_maps.into_iter().chain(private),
    )?;
    Ok((Store::at_state(state, secrets), header))
}

/// Rebuilds the state, refusing what a snapshot at `version` cannot contain: a map or key twice,
/// or a version above the snapshot's own.
fn state_from_dumps(
    version: SeqNo,
    dumps: impl Iterator<Item = SnapshotMap>,
) -> Result<State, KvError> {
    let invalid = |reason: String| KvError::InvalidSnapshot { reason };
    let mut maps = OrdMap::new();
    for dump in dumps {
        if dump.map_version > version.0 {
            return Err(invalid(format!(
                "map {:?} has version {}",
                dump.name, dump.map_version
            )));
        }
        let mut entries = OrdMap::new();
        for entry in dump.entries {
            if entry.version > version.0 {
                return Err(invalid(format!(
                    "a key of {:?} has version {}",
                    dump.name, entry.version
                )));
            }
            let value = Versioned {
                version: SeqNo(entry.version),
                value: Arc::from(entry.value),
            };
            if entries
                .insert(Arc::<[u8]>::from(entry.key), value)
                .is_some()
            {
                return Err(invalid(format!("a key of {:?} appears twice", dump.name)));
            }
        }
        let map = MapState {
            version: SeqNo(dump.map_version),
            entries,
        };
        if maps.insert(dump.name.clone(), map).is_some() {
            return Err(invalid(format!("map {:?} appears twice", dump.name)));
        }
    }
    Ok(State { version, maps })
}
