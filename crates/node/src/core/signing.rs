//! The write path's bookkeeping: committing a transaction into the ledger and the Merkle history,
//! signature transactions on CCF's cadence (every `sig_tx_interval` transactions or
//! `sig_ms_interval` ms), and commit once the host has persisted a signature (one node).

use cloister_crypto::Sha256Hash;
use cloister_kv::Tx;
use cloister_ledger::EntryFlags;
use cloister_types::{SeqNo, TxId};

use crate::core::{NodeCore, Output};
use crate::error::NodeError;
use crate::signature::write_signature;

/// Where the node is in its signature cadence.
#[derive(Debug, Clone)]
pub struct SigningState {
    unsigned_count: u64,
    last_signature_ms: u64,
    last_signature: SeqNo,
    latest_root: Option<Sha256Hash>,
    chunk_bytes: u64,
    /// Signatures written but not yet known to be persisted.
    unpersisted_signatures: Vec<TxId>,
}

impl SigningState {
    pub fn new(now_ms: u64) -> SigningState {
        SigningState {
            unsigned_count: 0,
            last_signature_ms: now_ms,
            last_signature: SeqNo(0),
            latest_root: None,
            chunk_bytes: 0,
            unpersisted_signatures: Vec::new(),
        }
    }

    pub fn last_signature(&self) -> SeqNo {
        self.last_signature
    }

    pub fn latest_root(&self) -> Option<Sha256Hash> {
        self.latest_root
    }
}

impl NodeCore {
    /// Commits `tx` into the store and the history, and asks the host to append its entry.
    /// `None` for a transaction that wrote nothing.
    pub(crate) fn commit_tx(
        &mut self,
        tx: Tx,
        flags: EntryFlags,
        committable: bool,
        claims: Option<Sha256Hash>,
    ) -> Result<Option<TxId>, NodeError> {
        let Some(entry) = self.store.commit(tx, self.view, claims, flags)? else {
            return Ok(None);
        };
        let txid = entry.tx_id();
        self.history.append(entry.leaf());
        self.statuses.append(txid.view, txid.seqno);
        self.receipts.record(
            txid.seqno,
            entry.write_set_digest,
            entry.commit_evidence.clone(),
            entry.claims_digest,
        );
        let signing = &mut self.signing;
        signing.chunk_bytes += entry.bytes.len() as u64;
        if committable {
            signing.unsigned_count = 0;
            signing.last_signature_ms = self.now_ms;
            signing.last_signature = txid.seqno;
            signing.unpersisted_signatures.push(txid);
            if flags.force_chunk_after() {
                signing.chunk_bytes = 0;
            }
            self.receipts
                .record_signature(txid.seqno, entry.bytes.clone());
        } else {
            signing.unsigned_count += 1;
        }
        self.outputs.push_back(Output::AppendLedger {
            seqno: txid.seqno,
            entry: entry.bytes,
            flags,
            committable,
        });
        Ok(Some(txid))
    }

    /// Writes a signature transaction over everything so far.
    pub(crate) fn emit_signature(&mut self) -> Result<TxId, NodeError> {
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
        let flags = if self.signing.chunk_bytes >= self.settings.chunk_threshold_bytes {
            EntryFlags(EntryFlags::FORCE_LEDGER_CHUNK_AFTER)
        } else {
            EntryFlags(0)
        };
        self.commit_tx(tx, flags, true, None)?;
        self.signing.latest_root = Sha256Hash::from_hex(&signature.root);
        Ok(txid)
    }

    /// After a write: sign once `sig_tx_interval` transactions are unsigned.
    pub(crate) fn after_write(&mut self) -> Result<(), NodeError> {
        if self.signing.unsigned_count >= self.settings.sig_tx_interval {
            self.emit_signature()?;
        }
        Ok(())
    }

    pub(crate) fn on_tick(&mut self) -> Result<(), NodeError> {
        let due = self.now_ms.saturating_sub(self.signing.last_signature_ms)
            >= self.settings.sig_ms_interval;
        if self.signing.unsigned_count > 0 && due {
            self.emit_signature()?;
        }
        Ok(())
    }

    /// The host wrote everything up to `up_to`: with one node, the last signature at or below it
    /// is committed (CCF commits only at signatures, spec §5.4).
    pub(crate) fn on_persisted(&mut self, up_to: SeqNo) {
        let pending = &mut self.signing.unpersisted_signatures;
        let Some(position) = pending.iter().rposition(|txid| txid.seqno <= up_to) else {
            return;
        };
        let committed = pending[position];
        pending.drain(..=position);
        self.statuses.commit(committed);
        // Proposals bind to the root at their read version; rollback is never below commit.
        let _ = self.history.compact(committed.seqno);
        self.store.compact(committed.seqno);
        self.refresh_service_open();
        self.outputs.push_back(Output::CommitLedger {
            up_to: committed.seqno,
        });
    }
}
