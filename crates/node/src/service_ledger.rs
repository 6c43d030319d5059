//! A single-node service writing its ledger: genesis, application transactions, signature
//! transactions on CCF's cadence, and the chunking decision. This is the write path a node's
//! primary runs (ARCHITECTURE.md "The path of one write", steps 4 and 6) without consensus: with
//! one node every signature is committed as soon as it is written.
//!
//! Outputs are ledger entries for the host to write into chunk files; nothing here touches a file.

use cloister_kv::{CommittedEntry, LedgerSecrets, Store, Tx};
use cloister_ledger::EntryFlags;
use cloister_types::{SeqNo, TxId, View};
use serde_json::json;

use crate::ccf_json::to_ccf_json;
use crate::error::NodeError;
use crate::genesis::{GenesisConfig, write_genesis};
use crate::history::MerkleHistory;
use crate::identity::{NodeIdentity, ServiceIdentity};
use crate::signature::{CoseSignaturesConfig, write_signature};
use crate::tables::{SERVICE_INFO, SINGLETON_KEY};

/// How the service writes its ledger.
#[derive(Debug, Clone)]
pub struct ServiceLedgerConfig {
    /// A signature after this many unsigned transactions (CCF `ledger_signatures.tx_count`).
    pub sig_tx_interval: u64,
    /// A chunk ends at the first signature once it holds this many bytes (CCF `ledger.chunk_size`).
    pub chunk_threshold_bytes: u64,
    pub cose: CoseSignaturesConfig,
    pub genesis: GenesisConfig,
}

/// One ledger entry for the host to append, in seqno order.
#[derive(Debug, Clone)]
pub struct LedgerOutput {
    pub entry: CommittedEntry,
    /// A signature transaction: the only place a chunk may end and commit may advance.
    pub committable: bool,
    /// The entry header's flags (where the host must end chunks).
    pub flags: EntryFlags,
}

/// The write path of a single-node service.
#[derive(Debug)]
pub struct ServiceLedger {
    store: Store,
    history: MerkleHistory,
    node: NodeIdentity,
    service: ServiceIdentity,
    config: ServiceLedgerConfig,
    view: View,
    unsigned_count: u64,
    chunk_bytes: u64,
    outputs: Vec<LedgerOutput>,
}

/// A fresh service starts in view 2 (CCF's `starting_view_change`, spec/ccf-internals.md §5.1).
pub const STARTING_VIEW: View = View(2);

impl ServiceLedger {
    /// Creates the service: the genesis transaction at 2.1, then a signature at 2.2, as CCF does.
    pub fn start(
        config: ServiceLedgerConfig,
        node: NodeIdentity,
        service: ServiceIdentity,
        secrets: LedgerSecrets,
        now_unix: i64,
    ) -> Result<ServiceLedger, NodeError> {
        let mut ledger = ServiceLedger {
            store: Store::new(secrets),
            history: MerkleHistory::new(),
            node,
            service,
            config,
            view: STARTING_VIEW,
            unsigned_count: 0,
            chunk_bytes: 0,
            outputs: Vec::new(),
        };
        let genesis_txid = TxId {
            view: ledger.view,
            seqno: SeqNo(1),
        };
        let mut tx = ledger.store.begin();
        write_genesis(
            &mut tx,
            genesis_txid,
            &ledger.node,
            &ledger.service,
            &ledger.config.genesis,
        )?;
        ledger.commit(tx, EntryFlags(0), false)?;
        ledger.emit_signature(now_unix)?;
        Ok(ledger)
    }

    /// Runs `write` in a transaction and commits it; emits a signature when the cadence says so.
    /// Returns the transaction id, or `None` for a transaction that wrote nothing.
    pub fn execute(
        &mut self,
        now_unix: i64,
        write: impl FnOnce(&mut Tx),
    ) -> Result<Option<TxId>, NodeError> {
        let mut tx = self.store.begin();
        write(&mut tx);
        let txid = self.commit(tx, EntryFlags(0), false)?;
        if self.unsigned_count >= self.config.sig_tx_interval {
            self.emit_signature(now_unix)?;
        }
        Ok(txid)
    }

    /// Writes a signature transaction over everything so far (CCF also signs on a timer).
    pub fn emit_signature(&mut self, now_unix: i64) -> Result<TxId, NodeError> {
        let txid = TxId {
            view: self.view,
            seqno: self.store.current_version().next(),
        };
        let mut tx = self.store.begin();
        write_signature(
            &mut tx,
            &mut self.history,
            txid,
            &self.node,
            &self.service,
            &self.config.cose,
            now_unix,
        )?;
        // The primary decides where chunks end, so every node's files match (§1.4, primary-led).
        let flags = if self.chunk_bytes >= self.config.chunk_threshold_bytes {
            EntryFlags(EntryFlags::FORCE_LEDGER_CHUNK_AFTER)
        } else {
            EntryFlags(0)
        };
        self.commit(tx, flags, true)?;
        // One node: the signature is committed at once, so the history before it can go.
        self.history.compact(txid.seqno)?;
        self.store.compact(txid.seqno);
        Ok(txid)
    }

    /// Moves the service from `Opening` to `Open`, as `transition_service_to_open` does.
    pub fn open_service(&mut self, now_unix: i64) -> Result<Option<TxId>, NodeError> {
        let info = json!({
            "cert": self.service.cert_pem(),
            "current_service_create_txid": TxId { view: STARTING_VIEW, seqno: SeqNo(1) }.to_string(),
            "recovery_count": 0,
            "status": "Open",
        });
        let value = to_ccf_json(&info)?;
        self.execute(now_unix, |tx| tx.put(SERVICE_INFO, SINGLETON_KEY, value))
    }

    /// The entries committed since the last call, in seqno order.
    pub fn take_outputs(&mut self) -> Vec<LedgerOutput> {
        std::mem::take(&mut self.outputs)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn node(&self) -> &NodeIdentity {
        &self.node
    }

    pub fn service(&self) -> &ServiceIdentity {
        &self.service
    }

    fn commit(
        &mut self,
        tx: Tx,
        flags: EntryFlags,
        committable: bool,
    ) -> Result<Option<TxId>, NodeError> {
        let Some(entry) = self.store.commit(tx, self.view, None, flags)? else {
            return Ok(None);
        };
        let txid = entry.tx_id();
        self.history.append(entry.leaf());
        self.chunk_bytes += entry.bytes.len() as u64;
        if committable {
            self.unsigned_count = 0;
            if flags.force_chunk_after() {
                self.chunk_bytes = 0;
            }
        } else {
            self.unsigned_count += 1;
        }
        self.outputs.push(LedgerOutput {
            entry,
            committable,
            flags,
        });
        Ok(Some(txid))
    }
}
