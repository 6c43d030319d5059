//! Snapshots as CCF 6 makes them (spec/ccf-internals.md §8): at a signature `s` at least
//! `snapshot_tx_interval` after the last snapshot, every node serialises its store; once `s`
//! commits the primary writes the evidence transaction `E` (claims digest = the snapshot's
//! SHA-256); each node then writes `snapshot_<s>_<E>`, and once a signature after `E` commits,
//! appends E's receipt and renames the file `.committed`. The latest committed snapshot is what
//! `/node/snapshot` serves and what a joiner starts from.

use cloister_crypto::{Sha256Hash, sha256};
use cloister_types::{SeqNo, View};
use serde_json::{Value, json};

use crate::core::{JoinSecrets, NodeCore, NodeEnv, Output};
use crate::error::NodeError;
use crate::tables::{SINGLETON_KEY, SNAPSHOT_EVIDENCE};

/// A committed snapshot file: its name (with `.committed`) and bytes (entry, then receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedSnapshot {
    pub seqno: SeqNo,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Where the node is in making snapshots.
#[derive(Debug, Clone, Default)]
pub(crate) struct SnapshotState {
    /// The seqno of the last snapshot made (or started from).
    last: SeqNo,
    /// A snapshot made at a signature, waiting for its evidence transaction.
    pending: Option<Pending>,
    /// A snapshot with its evidence, waiting for a signature after the evidence to commit.
    evidenced: Option<Evidenced>,
    /// The latest committed snapshot.
    pub(crate) latest: Option<CommittedSnapshot>,
    /// The primary wrote the evidence for this seqno already.
    evidence_written_for: Option<SeqNo>,
    /// The snapshot the node started from (0: it has the whole ledger).
    started_after: SeqNo,
}

#[derive(Debug, Clone)]
struct Pending {
    seqno: SeqNo,
    bytes: Vec<u8>,
    hash: Sha256Hash,
}

#[derive(Debug, Clone)]
struct Evidenced {
    seqno: SeqNo,
    evidence: SeqNo,
    bytes: Vec<u8>,
}

impl SnapshotState {
    /// A node that started from the snapshot at `seqno`.
    pub(crate) fn starting_from(snapshot: CommittedSnapshot) -> SnapshotState {
        SnapshotState {
            last: snapshot.seqno,
            started_after: snapshot.seqno,
            latest: Some(snapshot),
            ..SnapshotState::default()
        }
    }

    /// Forgets what a rollback to `after` undid.
    pub(crate) fn truncate(&mut self, after: SeqNo) {
        if self.pending.as_ref().is_some_and(|p| p.seqno > after) {
            self.pending = None;
            self.last = self.latest.as_ref().map_or(SeqNo(0), |s| s.seqno);
        }
        if self.evidenced.as_ref().is_some_and(|e| e.evidence > after) {
            self.evidenced = None;
        }
        if self.evidence_written_for.is_some_and(|s| s > after) {
            self.evidence_written_for = None;
        }
    }
}

impl NodeCore {
    /// The seqno of the last snapshot made.
    pub(crate) fn snapshots_last(&self) -> SeqNo {
        self.snapshots.last
    }

    /// A signature was just appended at `seqno` (the store is at `seqno`): make a snapshot if
    /// one is due.
    pub(crate) fn after_signature_appended(&mut self, seqno: SeqNo, leaf: Sha256Hash) {
        let interval = self.settings.snapshot_tx_interval;
        let due = interval > 0 && seqno.0.saturating_sub(self.snapshots.last.0) >= interval;
        if !due || self.snapshots.pending.is_some() || self.store.current_version() != seqno {
            return;
        }
        let view_history = self.view_history_by_view();
        match self.store.snapshot(leaf, &view_history) {
            Ok(bytes) => {
                self.snapshots.last = seqno;
                self.snapshots.pending = Some(Pending {
                    seqno,
                    hash: sha256(&bytes),
                    bytes,
                });
            }
            Err(_) => self.signing_failures += 1,
        }
    }

    /// `views[v - 1]` = the first seqno of view v, for every view up to the last (CCF's
    /// `ViewHistory`: a view without entries starts where the next one does).
    pub(crate) fn view_history_by_view(&self) -> Vec<u64> {
        let starts = self.statuses.view_history(View(0));
        let Some(last) = starts.last() else {
            return Vec::new();
        };
        (1..=last.view.0)
            .map(|view| {
                starts
                    .iter()
                    .find(|start| start.view.0 >= view)
                    .map_or(0, |start| start.seqno.0)
            })
            .collect()
    }

    /// The primary writes the evidence of a snapshot whose seqno committed.
    pub(crate) fn write_snapshot_evidence(&mut self, committed: SeqNo) {
        let Some(pending) = &self.snapshots.pending else {
            return;
        };
        let (seqno, hash) = (pending.seqno, pending.hash);
        if seqno > committed || self.snapshots.evidence_written_for == Some(seqno) {
            return;
        }
        if !self.raft.can_replicate() {
            return;
        }
        let evidence = json!({ "hash": hash.to_hex(), "version": seqno.0 });
        let mut tx = self.store.begin();
        tx.put(SNAPSHOT_EVIDENCE, SINGLETON_KEY, evidence.to_string());
        self.snapshots.evidence_written_for = Some(seqno);
        let flags = cloister_ledger::EntryFlags(0);
        if self.commit_tx(tx, flags, false, Some(hash)).is_err() {
            self.snapshots.evidence_written_for = None;
            self.signing_failures += 1;
        }
    }

    /// An entry writing `snapshot_evidence` was appended at `evidence`: the matching snapshot
    /// goes to disk (uncommitted).
    pub(crate) fn on_snapshot_evidence(&mut self, evidence: SeqNo) {
        let Some(raw) = self.store.get(SNAPSHOT_EVIDENCE, &SINGLETON_KEY) else {
            return;
        };
        let Ok(value) = serde_json::from_slice::<Value>(&raw) else {
            return;
        };
        let Some(pending) = self.snapshots.pending.take() else {
            return;
        };
        let matches = value["version"].as_u64() == Some(pending.seqno.0)
            && value["hash"].as_str() == Some(pending.hash.to_hex().as_str());
        if !matches {
            self.snapshots.pending = Some(pending);
            return;
        }
        let name = format!("snapshot_{}_{}", pending.seqno.0, evidence.0);
        self.log(
            cloister_js::LogLevel::Info,
            format!("snapshot {name} written ({} bytes)", pending.bytes.len()),
        );
        self.outputs.push_back(Output::WriteSnapshot {
            name,
            bytes: pending.bytes.clone(),
        });
        self.snapshots.evidenced = Some(Evidenced {
            seqno: pending.seqno,
            evidence,
            bytes: pending.bytes,
        });
    }

    /// Once a signature after the evidence committed: append the evidence's receipt and mark
    /// the snapshot committed.
    pub(crate) fn commit_snapshot(&mut self, committed: SeqNo) {
        let Some(evidenced) = &self.snapshots.evidenced else {
            return;
        };
        if evidenced.evidence >= committed {
            return;
        }
        let receipt = match self.receipts.receipt(evidenced.evidence, committed) {
            Ok(receipt) => receipt,
            Err(NodeError::NotYetSigned(_)) => return,
            Err(_) => {
                self.snapshots.evidenced = None;
                return;
            }
        };
        let Some(evidenced) = self.snapshots.evidenced.take() else {
            return;
        };
        let name = format!("snapshot_{}_{}", evidenced.seqno.0, evidenced.evidence.0);
        let receipt = receipt.to_json().into_bytes();
        let mut bytes = evidenced.bytes;
        bytes.extend_from_slice(&receipt);
        self.outputs.push_back(Output::CommitSnapshot {
            name: name.clone(),
            receipt,
        });
        self.snapshots.latest = Some(CommittedSnapshot {
            seqno: evidenced.seqno,
            name: format!("{name}.committed"),
            bytes,
        });
    }
}

impl NodeCore {
    /// A trusted joiner starting from a committed snapshot (CCF's join with
    /// `fetch_recent_snapshot`, spec §8.3): the snapshot's receipt must verify under the service
    /// certificate and prove the snapshot's digest; the store, the Merkle history and the view
    /// history come from the snapshot, and consensus resumes after it. `name` is the file name
    /// (`snapshot_<s>_<E>.committed`), served again by `/node/snapshot`.
    pub fn join_from_snapshot(
        env: NodeEnv,
        secrets: JoinSecrets,
        name: &str,
        snapshot: &[u8],
    ) -> Result<NodeCore, NodeError> {
        let (mut core, point) = NodeCore::from_snapshot(env, secrets, name, snapshot)?;
        core.raft
            .join_as_backup(Some(point))
            .map_err(|error| NodeError::Invalid(format!("snapshot {name}: consensus: {error}")))?;
        core.drain_raft();
        Ok(core)
    }

    /// A node whose store, history, statuses and signing state come from a committed snapshot
    /// (whose receipt is checked), and where consensus resumes after it; Raft not started yet.
    pub(crate) fn from_snapshot(
        env: NodeEnv,
        secrets: JoinSecrets,
        name: &str,
        snapshot: &[u8],
    ) -> Result<(NodeCore, cloister_raft::JoinPoint), NodeError> {
        let invalid = |message: String| NodeError::Invalid(format!("snapshot {name}: {message}"));
        let header = cloister_ledger::EntryHeader::parse(snapshot)?;
        let entry_len = usize::try_from(header.entry_len())
            .ok()
            .filter(|len| *len <= snapshot.len())
            .ok_or_else(|| invalid("shorter than its entry".to_owned()))?;
        let (entry, receipt) = snapshot.split_at(entry_len);
        let receipt = std::str::from_utf8(receipt)
            .map_err(|_| invalid("its receipt is not UTF-8".to_owned()))?;
        let receipt = cloister_merkle::Receipt::from_json(receipt)
            .map_err(|e| invalid(format!("no valid receipt: {e}")))?;
        receipt
            .verify(&secrets.service.cert)
            .map_err(|e| invalid(format!("its receipt does not verify: {e}")))?;
        let proven = match &receipt.contents {
            cloister_merkle::ReceiptContents::Components(components) => components.claims_digest,
            cloister_merkle::ReceiptContents::Leaf(_) => None,
        };
        if proven != Some(sha256(entry)) {
            return Err(invalid(
                "its receipt proves another snapshot's digest".to_owned(),
            ));
        }
        let ledger_secrets = secrets.ledger_secrets.clone();
        let (store, snapshot_header) = cloister_kv::Store::from_snapshot(entry, ledger_secrets)?;
        let seqno = SeqNo(snapshot_header.version);
        let mut core = NodeCore::new(env, secrets);
        core.store = store.with_history_len_max(crate::core::STORE_ROLLBACK_VERSIONS_MAX);
        let tree = core
            .store
            .get(crate::tables::TREE, &SINGLETON_KEY)
            .ok_or_else(|| invalid("no Merkle tree".to_owned()))?;
        let mut history = crate::history::MerkleHistory::from_serialised_tree(&tree)?;
        if history.next_seqno() != seqno {
            return Err(invalid("its tree does not end before its seqno".to_owned()));
        }
        let leaf = snapshot_header
            .hash_at_snapshot
            .ok_or_else(|| invalid("no hash_at_snapshot".to_owned()))?;
        history.append(leaf);
        core.history = history;
        // Views with entries, from `views[v - 1]` = the first seqno of view v.
        let views = &snapshot_header.view_history;
        let mut starts: Vec<(View, SeqNo)> = Vec::new();
        for (index, first) in views.iter().enumerate() {
            let has_entries = views.get(index + 1).is_none_or(|next| next > first);
            if has_entries && *first > 0 && *first <= seqno.0 {
                starts.push((View(index as u64 + 1), SeqNo(*first)));
            }
        }
        let view = starts
            .last()
            .map(|(view, _)| *view)
            .ok_or_else(|| invalid("no view history".to_owned()))?;
        for (start_view, first) in &starts {
            core.statuses.append(*start_view, *first);
        }
        core.statuses.append(view, seqno);
        let txid = cloister_types::TxId { view, seqno };
        core.statuses.commit(txid);
        core.view = view;
        let root = core.signed_root_in_store();
        core.record_replicated_signature(seqno, root);
        core.last_leaf = leaf;
        let configuration = core.trusted_nodes();
        core.snapshots = SnapshotState::starting_from(CommittedSnapshot {
            seqno,
            name: name.to_owned(),
            bytes: snapshot.to_vec(),
        });
        core.refresh_service_open();
        let point = cloister_raft::JoinPoint {
            txid,
            view_history: starts,
            configuration,
        };
        Ok((core, point))
    }

    /// The first seqno this node's own ledger holds (after the snapshot it started from).
    pub fn first_ledger_seqno(&self) -> SeqNo {
        self.snapshots.started_after.next()
    }
}
