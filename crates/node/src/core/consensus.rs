//! The node's side of consensus: hands locally executed entries to Raft, applies entries Raft
//! accepted from the primary, and turns Raft's outputs into the host's (ledger appends,
//! truncations, commits, peer messages). ARCHITECTURE.md "The path of one write", steps 4–7.

use std::collections::BTreeSet;

use cloister_crypto::Sha256Hash;
use cloister_kv::commit_evidence;
use cloister_ledger::{EntryFlags, EntryHeader};
use cloister_raft::{Entry, EntryKind, Input as RaftInput, Output as RaftOutput};
use cloister_types::{NodeId, SeqNo, TxId};
use serde_json::Value;

use crate::core::{LogLevel, NodeCore, Output, PeerInfo};
use crate::error::NodeError;
use crate::peer_wire::{PeerMessage, encode};
use crate::tables::{NODES_INFO, SNAPSHOT_EVIDENCE};

/// Raft outputs handled per drain; Raft bounds its own queue, this bounds one call.
const RAFT_OUTPUTS_PER_DRAIN_MAX: usize = 1_000_000;

impl NodeCore {
    /// Hands one locally committed entry to Raft (the primary's path).
    pub(crate) fn replicate(
        &mut self,
        txid: TxId,
        kind: EntryKind,
        bytes: Vec<u8>,
    ) -> Result<(), NodeError> {
        let entry = Entry {
            txid,
            kind,
            data: bytes,
        };
        self.raft
            .handle(RaftInput::Replicate {
                entries: vec![entry],
            })
            .map_err(|error| NodeError::Invalid(format!("consensus refused {txid}: {error}")))?;
        self.drain_raft();
        Ok(())
    }

    /// What consensus means by this entry: a signature, a change of the trusted node set, or
    /// an ordinary transaction. Called after the store applied or committed the entry.
    pub(crate) fn entry_kind(&self, committable: bool, wrote_nodes: bool) -> EntryKind {
        if committable {
            return EntryKind::Signature;
        }
        if wrote_nodes {
            let trusted = self.trusted_nodes();
            let latest = self.raft.configurations().last().map(|c| &c.nodes);
            if latest != Some(&trusted) && !trusted.is_empty() {
                return EntryKind::Reconfiguration(trusted);
            }
        }
        EntryKind::Normal
    }

    /// The nodes `public:ccf.gov.nodes.info` says are Trusted: the consensus configuration.
    pub(crate) fn trusted_nodes(&self) -> BTreeSet<NodeId> {
        self.node_records()
            .into_iter()
            .filter(|(_, info)| info["status"] == "Trusted")
            .map(|(id, _)| id)
            .collect()
    }

    /// Every node record, by id.
    pub(crate) fn node_records(&self) -> Vec<(NodeId, Value)> {
        self.store
            .begin()
            .iter(NODES_INFO)
            .into_iter()
            .filter_map(|(key, value)| {
                let id = std::str::from_utf8(&key).ok()?.parse::<NodeId>().ok()?;
                let info = serde_json::from_slice::<Value>(&value).ok()?;
                Some((id, info))
            })
            .collect()
    }

    /// Feeds a message from a peer (already authenticated by the channel).
    pub(crate) fn on_peer_message(&mut self, from: NodeId, message: PeerMessage) {
        match message {
            PeerMessage::Raft(message) => {
                let _ = self.raft.handle(RaftInput::Message { from, message });
                self.drain_raft();
            }
            PeerMessage::Forward { id, request } => self.execute_forwarded(from, id, &request),
            PeerMessage::ForwardResponse { id, response } => {
                self.on_forward_response(&from, id, response)
            }
        }
    }

    /// Carries out everything Raft asked for, in order.
    pub(crate) fn drain_raft(&mut self) {
        for _ in 0..RAFT_OUTPUTS_PER_DRAIN_MAX {
            let Some(output) = self.raft.poll_output() else {
                // A new configuration (appended, not only committed) changes whom to talk to:
                // a joiner must reach the primary to acknowledge the entry that adds it.
                self.announce_peers();
                return;
            };
            match output {
                RaftOutput::Send { to, message } => {
                    let bytes = encode(&PeerMessage::Raft(message));
                    self.outputs.push_back(Output::SendPeer { to, bytes });
                }
                RaftOutput::Persist { entries } => {
                    for entry in entries {
                        self.persist_entry(entry);
                    }
                }
                RaftOutput::Truncate { after } => self.truncate(after),
                RaftOutput::Commit { up_to } => self.on_commit(up_to),
                RaftOutput::BecameLeader { view } => self.on_became_leader(view),
                RaftOutput::Voted { view, voted_for } => {
                    self.outputs.push_back(Output::Voted { view, voted_for });
                }
                RaftOutput::BecameFollower { view, leader } => {
                    let primary = leader
                        .as_ref()
                        .map_or_else(|| "unknown".to_owned(), |id| id.to_string());
                    self.log(
                        LogLevel::Info,
                        format!("backup in view {}, primary {primary}", view.0),
                    );
                    self.view = view;
                    self.primary = leader;
                    self.fail_forwards_on_role_change();
                }
            }
        }
    }

    /// An entry Raft wants on disk. The primary executed it already; a backup applies it to
    /// its store and history first (spec §5.3: backups deserialise and apply).
    fn persist_entry(&mut self, entry: Entry) {
        let seqno = entry.seqno();
        if seqno > self.store.current_version() && !self.apply_from_primary(&entry) {
            return;
        }
        let flags = EntryHeader::parse(&entry.data)
            .map(|header| header.flags)
            .unwrap_or(EntryFlags(0));
        self.outputs.push_back(Output::AppendLedger {
            seqno,
            entry: entry.data,
            flags,
            committable: entry.kind == EntryKind::Signature,
        });
    }

    /// Applies a replicated entry; `false` (and the node stops applying) if it does not apply.
    fn apply_from_primary(&mut self, entry: &Entry) -> bool {
        if self.apply_failed {
            return false;
        }
        if self
            .apply_entry_bytes(&entry.data, Some(entry.txid))
            .is_none()
        {
            // A primary sent an entry this node cannot apply (or one for another TxID): it
            // must not pretend to hold it. Raft resends it after a rollback; `apply_failed`
            // shows in the node's state.
            self.apply_failed = true;
            return false;
        }
        true
    }

    /// Applies one serialised entry to the store, the history and the indexes (a backup's
    /// replication, a restart's replay). `None`, with nothing changed, if it does not apply.
    pub(crate) fn apply_entry_bytes(
        &mut self,
        data: &[u8],
        expected: Option<TxId>,
    ) -> Option<cloister_kv::AppliedEntry> {
        let applied = match self.store.apply_entry(data) {
            Ok(applied) if expected.is_none_or(|txid| txid == applied.tx_id()) => applied,
            Ok(applied) => {
                let _ = self
                    .store
                    .rollback_to(SeqNo(applied.seqno.0.saturating_sub(1)));
                return None;
            }
            Err(_) => return None,
        };
        self.history.append(applied.leaf());
        self.statuses.append(applied.view, applied.seqno);
        let evidence = self
            .store
            .secrets()
            .secret_for(applied.seqno)
            .map(|secret| commit_evidence(secret, applied.tx_id()))
            .unwrap_or_default();
        self.receipts.record(
            applied.seqno,
            applied.write_set_digest,
            evidence,
            applied.claims_digest.unwrap_or(Sha256Hash([0; 32])),
        );
        self.last_leaf = applied.leaf();
        if applied.is_signature {
            self.receipts.record_signature(applied.seqno, data.to_vec());
            let root = self.signed_root_in_store();
            self.record_replicated_signature(applied.seqno, root);
            if !self.replaying {
                self.after_signature_appended(applied.seqno, applied.leaf());
            }
        }
        if !self.replaying && applied.maps.iter().any(|map| map == SNAPSHOT_EVIDENCE) {
            self.on_snapshot_evidence(applied.seqno);
        }
        Some(applied)
    }

    /// Drops every entry after `after` (never at or below the commit seqno).
    fn truncate(&mut self, after: SeqNo) {
        if self.store.current_version() > after {
            self.log(
                LogLevel::Info,
                format!(
                    "rolled back the uncommitted entries {}..={}",
                    after.0 + 1,
                    self.store.current_version().0
                ),
            );
            let _ = self.store.rollback_to(after);
            self.store.secrets_mut().rollback(after);
        }
        let _ = self.history.rollback(after);
        self.statuses.truncate(after);
        self.receipts.truncate(after);
        self.signing.truncate(after);
        self.snapshots.truncate(after);
        self.apply_failed = false;
        self.outputs.push_back(Output::TruncateLedger { after });
    }

    fn on_commit(&mut self, up_to: SeqNo) {
        let Some(view) = self.statuses.view_at(up_to) else {
            return;
        };
        self.statuses.commit(TxId { view, seqno: up_to });
        // Proposals bind to the root at their read version; rollback is never below commit.
        let _ = self.history.compact(up_to);
        self.store.compact(up_to);
        self.signing.compact(up_to);
        self.refresh_service_open();
        self.outputs.push_back(Output::CommitLedger { up_to });
        self.announce_peers();
        if self.raft.is_primary() {
            self.mark_retirements_committed();
            self.write_snapshot_evidence(up_to);
        }
        self.commit_snapshot(up_to);
        self.compact_raft_log();
    }

    /// Forgets Raft's entries `raft_log_retained_entries` below the latest committed snapshot (a
    /// joiner starts from the snapshot), but never what a peer of this primary has yet to
    /// receive: memory stays bounded on a long-running service. A backup further behind than
    /// that after a change of primary cannot be sent what it lacks (sending it a snapshot is not
    /// built yet): start a new node that joins from a snapshot instead.
    fn compact_raft_log(&mut self) {
        let Some(snapshot) = self.snapshots.latest.as_ref().map(|s| s.seqno) else {
            return;
        };
        let mut floor = SeqNo(
            snapshot
                .min(self.raft.commit_seqno())
                .0
                .saturating_sub(self.settings.raft_log_retained_entries),
        );
        if self.raft.is_primary()
            && let Some(lowest) = self.raft.peer_matches().into_values().min()
        {
            floor = floor.min(lowest);
        }
        if floor > SeqNo(0) {
            let _ = self.raft.compact_log(floor);
        }
    }

    fn on_became_leader(&mut self, view: cloister_types::View) {
        self.log(LogLevel::Info, format!("became primary in view {}", view.0));
        self.view = view;
        self.primary = Some(self.node.id.clone());
        self.fail_forwards_on_role_change();
        // Nothing commits in a new view before its first signature (spec §5.4): the next tick
        // writes it (`on_tick`), outside whatever commit this output arrived in.
    }

    /// Tells the host the node-to-node addresses of the nodes this one talks to, when they change.
    pub(crate) fn announce_peers(&mut self) {
        let mut wanted: BTreeSet<NodeId> = self
            .raft
            .configurations()
            .iter()
            .flat_map(|configuration| configuration.nodes.iter().cloned())
            .collect();
        wanted.extend(self.raft.peer_matches().into_keys());
        wanted.remove(&self.node.id);
        let unchanged = wanted.len() == self.announced_peers.len()
            && self
                .announced_peers
                .iter()
                .all(|peer| wanted.contains(&peer.id) && !peer.node_to_node_address.is_empty());
        if unchanged {
            return;
        }
        let records = self.node_records();
        let nodes: Vec<PeerInfo> = wanted
            .into_iter()
            .map(|id| {
                let address = records
                    .iter()
                    .find(|(record_id, _)| *record_id == id)
                    .and_then(|(_, info)| node_to_node_address(info))
                    .unwrap_or_default();
                PeerInfo {
                    id,
                    node_to_node_address: address,
                }
            })
            .collect();
        if nodes != self.announced_peers {
            self.announced_peers = nodes.clone();
            self.outputs.push_back(Output::Peers { nodes });
        }
    }

    /// The primary writes `retired_committed = true` for nodes whose retirement (status
    /// Retired) is committed, as CCF does; consensus then forgets them (spec §5.7).
    fn mark_retirements_committed(&mut self) {
        let committed = self.statuses.committed().seqno;
        let due: Vec<(NodeId, Value)> = self
            .node_records()
            .into_iter()
            .filter(|(id, info)| {
                info["status"] == "Retired"
                    && info["retired_committed"] != Value::Bool(true)
                    && self
                        .store
                        .version_of(NODES_INFO, id.as_str().as_bytes())
                        .is_some_and(|version| version <= committed)
            })
            .collect();
        for (id, mut info) in due {
            if !self.raft.can_sign() {
                return;
            }
            info["retired_committed"] = Value::Bool(true);
            let Ok(value) = serde_json::to_vec(&info) else {
                continue;
            };
            let mut tx = self.store.begin();
            tx.put(NODES_INFO, id.as_str().as_bytes().to_vec(), value);
            if self
                .commit_tx_as(tx, EntryKind::RetiredCommitted(id))
                .is_err()
            {
                self.signing_failures += 1;
            }
        }
    }
}

/// `node_to_node_interface.published_address` from a NodeInfo record.
fn node_to_node_address(info: &Value) -> Option<String> {
    let interface = &info["node_to_node_interface"];
    interface["published_address"]
        .as_str()
        .or_else(|| interface["bind_address"].as_str())
        .map(str::to_owned)
}
