//! The write path's bookkeeping: committing a transaction into the store and the Merkle history
//! and handing it to consensus, and signature transactions on CCF's cadence (every
//! `sig_tx_interval` transactions or `sig_ms_interval` ms), which only the primary writes.

use std::collections::BTreeMap;

use cloister_crypto::Sha256Hash;
use cloister_kv::Tx;
use cloister_ledger::EntryFlags;
use cloister_raft::EntryKind;
use cloister_types::{SeqNo, TxId};
use serde_json::Value;

use crate::core::NodeCore;
use crate::error::NodeError;
use crate::signature::write_signature;
use crate::tables::{NODES_INFO, SIGNATURES, SINGLETON_KEY, SNAPSHOT_EVIDENCE};

/// Where the node is in its signature cadence, and the signatures it holds above its commit.
#[derive(Debug, Clone)]
pub struct SigningState {
    unsigned_count: u64,
    last_signature_ms: u64,
    /// Signature seqnos with their signed roots: every uncommitted one and the last committed.
    signatures: BTreeMap<SeqNo, Option<Sha256Hash>>,
    chunk_bytes: u64,
}

impl SigningState {
    pub fn new(now_ms: u64) -> SigningState {
        SigningState {
            unsigned_count: 0,
            last_signature_ms: now_ms,
            signatures: BTreeMap::new(),
            chunk_bytes: 0,
        }
    }

    pub fn last_signature(&self) -> SeqNo {
        self.signatures
            .last_key_value()
            .map_or(SeqNo(0), |(seqno, _)| *seqno)
    }

    pub fn latest_root(&self) -> Option<Sha256Hash> {
        self.signatures.last_key_value().and_then(|(_, root)| *root)
    }

    /// A signature this node wrote or received from the primary.
    pub(crate) fn record_signature(&mut self, seqno: SeqNo, root: Option<Sha256Hash>, now_ms: u64) {
        self.unsigned_count = 0;
        self.last_signature_ms = now_ms;
        self.signatures.insert(seqno, root);
    }

    /// Keeps only the last signature at or below `committed` and those above it.
    pub(crate) fn compact(&mut self, committed: SeqNo) {
        let keep_from = self
            .signatures
            .range(..=committed)
            .next_back()
            .map(|(seqno, _)| *seqno);
        if let Some(keep_from) = keep_from {
            self.signatures = self.signatures.split_off(&keep_from);
        }
    }

    /// Forgets signatures rolled back with every entry after `after`.
    pub(crate) fn truncate(&mut self, after: SeqNo) {
        self.signatures.retain(|seqno, _| *seqno <= after);
        self.unsigned_count = 0;
    }
}

impl NodeCore {
    /// Commits `tx` into the store and the history and hands its entry to consensus. `None` for
    /// a transaction that wrote nothing.
    pub(crate) fn commit_tx(
        &mut self,
        tx: Tx,
        flags: EntryFlags,
        committable: bool,
        claims: Option<Sha256Hash>,
    ) -> Result<Option<TxId>, NodeError> {
        let wrote_nodes = tx.written_maps().any(|map| map == NODES_INFO);
        self.commit_tx_with(tx, flags, claims, |core| {
            core.entry_kind(committable, wrote_nodes)
        })
    }

    /// Commits `tx` as an entry of the given consensus kind (e.g. `retired_committed`).
    pub(crate) fn commit_tx_as(
        &mut self,
        tx: Tx,
        kind: EntryKind,
    ) -> Result<Option<TxId>, NodeError> {
        self.commit_tx_with(tx, EntryFlags(0), None, |_| kind)
    }

    fn commit_tx_with(
        &mut self,
        tx: Tx,
        flags: EntryFlags,
        claims: Option<Sha256Hash>,
        kind: impl FnOnce(&NodeCore) -> EntryKind,
    ) -> Result<Option<TxId>, NodeError> {
        let wrote_evidence = tx.written_maps().any(|map| map == SNAPSHOT_EVIDENCE);
        let Some(entry) = self.store.commit(tx, self.view, claims, flags)? else {
            return Ok(None);
        };
        let txid = entry.tx_id();
        let leaf = entry.leaf();
        self.last_leaf = leaf;
        self.history.append(leaf);
        self.statuses.append(txid.view, txid.seqno);
        self.receipts.record(
            txid.seqno,
            entry.write_set_digest,
            entry.commit_evidence.clone(),
            entry.claims_digest,
        );
        let kind = kind(self);
        let signing = &mut self.signing;
        signing.chunk_bytes += entry.bytes.len() as u64;
        if kind == EntryKind::Signature {
            if flags.force_chunk_after() {
                signing.chunk_bytes = 0;
            }
            self.receipts
                .record_signature(txid.seqno, entry.bytes.clone());
        } else {
            signing.unsigned_count += 1;
        }
        let is_signature = kind == EntryKind::Signature;
        if let Err(error) = self.replicate(txid, kind, entry.bytes) {
            // Consensus refused it (no longer primary): undo everything the entry did here.
            self.undo_local_entry(txid.seqno);
            return Err(error);
        }
        if is_signature {
            self.after_signature_appended(txid.seqno, leaf);
        }
        if wrote_evidence {
            self.on_snapshot_evidence(txid.seqno);
        }
        Ok(Some(txid))
    }

    /// Removes a just-committed local entry that consensus did not take.
    fn undo_local_entry(&mut self, seqno: SeqNo) {
        let before = SeqNo(seqno.0.saturating_sub(1));
        let _ = self.store.rollback_to(before);
        let _ = self.history.rollback(before);
        self.statuses.truncate(before);
        self.receipts.truncate(before);
        self.signing.truncate(before);
    }

    /// Writes a signature transaction over everything so far (the primary only).
    pub(crate) fn emit_signature(&mut self) -> Result<TxId, NodeError> {
        if !self.raft.can_sign() {
            return Err(NodeError::Invalid(
                "only the primary writes signatures".to_owned(),
            ));
        }
        let txid = TxId {
            view: self.view,
            seqno: self.store.current_version().next(),
        };
        let mut tx = self.store.begin();
        let signature = write_signature(
            &mut tx,
            &mut self.history,
            txid,
            &self.node,
            &self.service,
            &self.settings.cose,
            self.now_unix,
        )?;
        // The primary decides where chunks end, so every node's files match (spec §1.4).
        // A snapshot's signature ends its chunk too (spec §8.1).
        let interval = self.settings.snapshot_tx_interval;
        let snapshot_due =
            interval > 0 && txid.seqno.0.saturating_sub(self.snapshots_last().0) >= interval;
        let flags =
            if self.signing.chunk_bytes >= self.settings.chunk_threshold_bytes || snapshot_due {
                EntryFlags(EntryFlags::FORCE_LEDGER_CHUNK_AFTER)
            } else {
                EntryFlags(0)
            };
        let root = Sha256Hash::from_hex(&signature.root);
        self.commit_tx(tx, flags, true, None)?;
        self.signing.record_signature(txid.seqno, root, self.now_ms);
        Ok(txid)
    }

    /// After a write: sign once `sig_tx_interval` transactions are unsigned.
    pub(crate) fn after_write(&mut self) -> Result<(), NodeError> {
        if self.signing.unsigned_count >= self.settings.sig_tx_interval && self.raft.can_sign() {
            self.emit_signature()?;
        }
        Ok(())
    }

    pub(crate) fn on_tick(&mut self) -> Result<(), NodeError> {
        let due = self.now_ms.saturating_sub(self.signing.last_signature_ms)
            >= self.settings.sig_ms_interval;
        if self.raft.can_sign()
            && (self.raft.should_sign() || (self.signing.unsigned_count > 0 && due))
        {
            self.emit_signature()?;
        }
        Ok(())
    }

    /// The root signed by the signature transaction the store holds last.
    pub(crate) fn signed_root_in_store(&self) -> Option<Sha256Hash> {
        let raw = self.store.get(SIGNATURES, &SINGLETON_KEY)?;
        let signature: Value = serde_json::from_slice(&raw).ok()?;
        Sha256Hash::from_hex(signature["root"].as_str()?)
    }

    /// Records a signature received from the primary.
    pub(crate) fn record_replicated_signature(&mut self, seqno: SeqNo, root: Option<Sha256Hash>) {
        self.signing.record_signature(seqno, root, self.now_ms);
    }
}
