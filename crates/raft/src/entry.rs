//! Ledger entries as consensus sees them: a TxID, what the entry means to consensus, and opaque
//! bytes (the serialised transaction, which only the node layer understands).

use std::collections::BTreeSet;

use cloister_types::{NodeId, SeqNo, TxId, View};

/// One ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `view.seqno` of the entry.
    pub txid: TxId,
    /// What the entry means to consensus.
    pub kind: EntryKind,
    /// The serialised transaction (opaque here).
    pub data: Vec<u8>,
}

/// What an entry means to consensus (CCF's hooks and `ApplyResult::PASS_SIGNATURE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// An ordinary transaction.
    Normal,
    /// A signature transaction: the only commit points (spec §5.1, §5.4).
    Signature,
    /// A transaction that changed `public:ccf.gov.nodes.info`: the new set of trusted nodes,
    /// effective at once (one-transaction reconfiguration, spec §5.6).
    Reconfiguration(BTreeSet<NodeId>),
    /// A transaction setting `retired_committed = true` for a node; acted on once committed
    /// (spec §5.7).
    RetiredCommitted(NodeId),
}

impl Entry {
    /// An entry with the given kind and payload.
    pub fn new(view: View, seqno: SeqNo, kind: EntryKind, data: Vec<u8>) -> Entry {
        Entry {
            txid: TxId { view, seqno },
            kind,
            data,
        }
    }

    /// The entry's seqno.
    pub fn seqno(&self) -> SeqNo {
        self.txid.seqno
    }

    /// The entry's view.
    pub fn view(&self) -> View {
        self.txid.view
    }

    /// Whether the entry is a signature (a commit point).
    pub fn is_signature(&self) -> bool {
        self.kind == EntryKind::Signature
    }
}
