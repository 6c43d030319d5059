//! What the node keeps to answer `/receipt` for recent transactions: each transaction's leaf
//! components and each signature transaction's entry (its node signature and stored tree give
//! the proof). Older transactions would be read back from the ledger (not yet: bounded here).

use std::collections::{BTreeMap, VecDeque};

use cloister_crypto::Sha256Hash;
use cloister_merkle::{LeafComponents, Receipt};
use cloister_types::SeqNo;

use crate::error::NodeError;
use crate::receipts::{build_receipt_from_parts, signature_receipt};

/// Transactions kept for receipts (about 200 bytes each).
pub const RECEIPT_INDEX_TRANSACTIONS_MAX: usize = 1_000_000;

/// Recent transactions' receipt material.
#[derive(Debug, Default)]
pub struct ReceiptIndex {
    leaves: VecDeque<(SeqNo, LeafComponents)>,
    signatures: BTreeMap<SeqNo, Vec<u8>>,
}

impl ReceiptIndex {
    /// Records a committed-to-the-ledger transaction.
    pub fn record(
        &mut self,
        seqno: SeqNo,
        write_set_digest: Sha256Hash,
        commit_evidence: String,
        claims_digest: Sha256Hash,
    ) {
        let components = LeafComponents {
            claims_digest: Some(claims_digest),
            commit_evidence,
            write_set_digest,
        };
        self.leaves.push_back((seqno, components));
        if self.leaves.len() > RECEIPT_INDEX_TRANSACTIONS_MAX
            && let Some((oldest, _)) = self.leaves.pop_front()
        {
            self.signatures.retain(|seqno, _| *seqno > oldest);
        }
    }

    /// Forgets every transaction after `after` (a rollback).
    pub fn truncate(&mut self, after: SeqNo) {
        while self.leaves.back().is_some_and(|(seqno, _)| *seqno > after) {
            self.leaves.pop_back();
        }
        self.signatures.retain(|seqno, _| *seqno <= after);
    }

    /// Records a signature transaction's whole entry.
    pub fn record_signature(&mut self, seqno: SeqNo, entry: Vec<u8>) {
        self.signatures.insert(seqno, entry);
    }

    /// The write-set digest (SHA-256 of the whole entry) of the transaction at `seqno`, while
    /// its leaf is held: an entry read back from the ledger files is checked against it.
    pub fn write_set_digest(&self, seqno: SeqNo) -> Option<Sha256Hash> {
        let first = self.leaves.front()?.0;
        let index = usize::try_from(seqno.0.checked_sub(first.0)?).ok()?;
        let (found, components) = self.leaves.get(index)?;
        (*found == seqno).then_some(components.write_set_digest)
    }

    /// The receipt of `seqno` from the first signature after it at or below `committed`.
    /// A signature transaction's receipt is its own signature over the root (CCF: `leaf` = root).
    pub fn receipt(&self, seqno: SeqNo, committed: SeqNo) -> Result<Receipt, NodeError> {
        if seqno > committed {
            return Err(NodeError::NotYetSigned(seqno.0));
        }
        if let Some(entry) = self.signatures.get(&seqno) {
            return signature_receipt(entry);
        }
        let (_, signature_entry) = self
            .signatures
            .range(SeqNo(seqno.0 + 1)..=committed)
            .next()
            .ok_or(NodeError::NotYetSigned(seqno.0))?;
        let held = |message: &str| NodeError::Invalid(format!("seqno {seqno} {message}"));
        let first = self
            .leaves
            .front()
            .map(|(s, _)| *s)
            .ok_or_else(|| held("is not held for receipts"))?;
        let index = seqno
            .0
            .checked_sub(first.0)
            .ok_or_else(|| held("is no longer held for receipts"))?;
        let (found, components) = self
            .leaves
            .get(usize::try_from(index).map_err(|_| held("is out of range"))?)
            .ok_or_else(|| held("is not held for receipts"))?;
        debug_assert_eq!(*found, seqno);
        build_receipt_from_parts(seqno.0, components.clone(), signature_entry)
    }
}
