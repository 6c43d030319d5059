//! `NodeCore`: the whole node, sans-IO (ARCHITECTURE.md "Inputs and outputs of NodeCore").
//! Requests, ticks, peer messages and "persisted up to" notices come in; responses, ledger
//! writes, truncations, commits and peer messages go out. Consensus is CCF's Raft
//! (cloister-raft): a transaction commits once a quorum holds a later signature.

mod consensus;
mod execute;
mod forwarding;
mod frontends;
mod gov_host;
mod historical;
mod historical_cache;
mod historical_fetch;
mod js_app;
mod settings;
mod signing;
mod snapshots;
mod status;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cloister_crypto::Sha256Hash;
use cloister_gov::ConstitutionEngine;
pub use cloister_js::LogLevel;
use cloister_kv::{LedgerSecrets, Store};
use cloister_ledger::EntryFlags;
use cloister_raft::{Leadership, Membership, Raft};
use cloister_types::{NodeId, SeqNo, TxId, View};

pub use frontends::{Frontend, Frontends, route};
pub use gov_host::NodeGovHost;
pub use settings::NodeSettings;
pub use snapshots::CommittedSnapshot;
pub use status::TxStatusIndex;

use crate::error::NodeError;
use crate::genesis::write_genesis;
use crate::history::MerkleHistory;
use crate::identity::{NodeIdentity, ServiceIdentity};
use crate::receipt_index::ReceiptIndex;
use crate::rpc::{Request, Response};

/// A fresh service starts in view 2 (CCF's `starting_view_change`, spec/ccf-internals.md §5.1).
pub const STARTING_VIEW: View = View(2);

/// A host-assigned id for one client session (TLS connection).
pub type SessionId = u64;

/// What the host tells the node.
#[derive(Debug, Clone)]
pub enum Input {
    /// Time passes: milliseconds of a monotonic clock and wall-clock seconds.
    Tick { now_ms: u64, now_unix: i64 },
    /// A client request on a session.
    Request {
        session: SessionId,
        request: Request,
    },
    /// Every ledger entry up to `up_to` is written to disk.
    Persisted { up_to: SeqNo },
    /// Bytes another node's `SendPeer` produced, from the channel that authenticated `from`.
    Peer { from: NodeId, bytes: Vec<u8> },
    /// The answer to [`Output::ReadLedger`] `{ from, to }`: every entry from `from` to `to` in
    /// seqno order, read back from the ledger files, or why the host could not read them. The
    /// node checks each entry against its Merkle history before using it.
    LedgerEntries {
        from: SeqNo,
        to: SeqNo,
        entries: Result<Vec<Vec<u8>>, String>,
    },
}

/// What the node asks the host to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Respond {
        session: SessionId,
        response: Response,
    },
    /// Append this entry to the ledger (the host writes entries in seqno order).
    AppendLedger {
        seqno: SeqNo,
        entry: Vec<u8>,
        flags: EntryFlags,
        committable: bool,
    },
    /// Everything up to `up_to` is committed: complete chunks may be renamed `.committed`.
    CommitLedger { up_to: SeqNo },
    /// Drop every ledger entry after `after` (an uncommitted suffix rolled back).
    TruncateLedger { after: SeqNo },
    /// Send these bytes to another node (best effort).
    SendPeer { to: NodeId, bytes: Vec<u8> },
    /// The nodes this node talks to changed: their node-to-node addresses.
    Peers { nodes: Vec<PeerInfo> },
    /// Write a snapshot file (uncommitted) named `name` into the snapshots directory.
    WriteSnapshot { name: String, bytes: Vec<u8> },
    /// Append `receipt` to snapshot `name` and rename it `<name>.committed`.
    CommitSnapshot { name: String, receipt: Vec<u8> },
    /// Launch a process on the host, fire and forget: a JS handler called
    /// `ccf.host.triggerSubprocess(args[, stdin])` (CCF 6.x). Sent as CCF does, while the request
    /// runs: whether or not its transaction commits, and again if a conflict re-runs it.
    LaunchProcess {
        args: Vec<String>,
        stdin: Option<Vec<u8>>,
    },
    /// The node voted in `view`: persist it before carrying out later outputs, and give it
    /// back to [`NodeCore::restart`] (a node must never vote twice in one view).
    Voted { view: View, voted_for: NodeId },
    /// Read the committed entries `from..=to` back from the ledger files (off the node's
    /// thread) and answer with [`Input::LedgerEntries`]: historical queries of entries consensus
    /// no longer holds in memory. At most a few are outstanding, never two for one seqno.
    ReadLedger { from: SeqNo, to: SeqNo },
    /// A line for the node's log about the node itself: its role changing, a rollback, a
    /// snapshot.
    NodeLog { level: LogLevel, text: String },
    /// A line for the node's log from the application: a JS handler's `console.*` output, or
    /// the details of its exception when `log_exception_details` is set.
    AppLog { level: LogLevel, text: String },
    /// A JS request ran (CCF logs `JS execution complete: Method=…, Path=…, Status=…,
    /// ExecMilliseconds=…` unless the app turned metrics logging off). The node has no clock:
    /// `input` is the number of the [`NodeCore::handle`] call that ran it (counting from 1),
    /// so the host, which times its calls, can tell how long it took.
    JsExecuted {
        input: u64,
        method: String,
        route: String,
        status: u16,
    },
}

/// What a node that crashed finds on its disk.
#[derive(Debug, Clone, Default)]
pub struct PersistedState {
    /// Its ledger entries from seqno 1, in order (a torn or damaged tail is dropped).
    pub entries: Vec<Vec<u8>>,
    /// The last seqno it knows committed (from `.committed` chunks), or 0.
    pub committed: SeqNo,
    /// Its last vote.
    pub vote: Option<(View, NodeId)>,
    /// The committed snapshot its ledger starts after (file name and bytes), if it joined from
    /// one; `entries` then start one after the snapshot's seqno.
    pub snapshot: Option<(String, Vec<u8>)>,
}

/// Another node and where to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub id: NodeId,
    pub node_to_node_address: String,
}

/// What a joining node receives once trusted (JoinOut's `network_info`), or a restarting node
/// reads back from its own directory.
#[derive(Debug)]
pub struct JoinSecrets {
    /// The node's key and its service-endorsed certificate.
    pub node: NodeIdentity,
    pub service: ServiceIdentity,
    pub ledger_secrets: LedgerSecrets,
}

/// The node's consensus state, for `/node/*` answers, tests and the simulator's invariants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsensusSummary {
    pub view: View,
    pub role: Leadership,
    pub primary: Option<NodeId>,
    pub commit: TxId,
    pub last: TxId,
    pub persisted: SeqNo,
    /// Active configurations, oldest first.
    pub configurations: Vec<BTreeSet<NodeId>>,
    /// The seqno each of `configurations` took effect at (0 for the genesis node's first).
    pub configuration_seqnos: Vec<SeqNo>,
    pub membership: Membership,
    /// The first seqno whose entry consensus still holds in memory.
    pub log_first_held: SeqNo,
}

/// What handlers may read about the node.
#[derive(Debug)]
pub struct NodeView<'a> {
    pub node_id: &'a NodeId,
    pub pems: &'a NodePems,
    pub view: View,
    pub commit: TxId,
    pub last_signed: SeqNo,
    /// The Merkle root signed by the latest signature (for state digests).
    pub latest_signed_root: Option<Sha256Hash>,
    /// The Merkle root over every transaction so far (proposal ids bind to it).
    pub root_at_read_version: Option<Sha256Hash>,
    pub statuses: &'a TxStatusIndex,
    pub receipts: &'a ReceiptIndex,
    pub now_unix: i64,
    pub settings: &'a NodeSettings,
    /// Whether `public:ccf.gov.service.info` says Open at the committed level.
    pub service_open: bool,
    /// The service identity (its key endorses joining nodes' certificates).
    pub service: &'a ServiceIdentity,
    /// Every ledger secret of the service (a trusted joiner receives them).
    pub ledger_secrets: &'a LedgerSecrets,
    /// The primary as this node knows it (itself when it is the primary).
    pub primary: Option<&'a NodeId>,
    /// Whether this node is the primary.
    pub is_primary: bool,
    /// Consensus as this node sees it (read on demand: most requests never look).
    pub raft: &'a Raft,
    /// The latest committed snapshot (`/node/snapshot`).
    pub snapshot: Option<&'a CommittedSnapshot>,
}

/// The keys a starting node creates its service with (drawn by the host from its entropy).
#[derive(Debug)]
pub struct NodeSecrets {
    pub node: NodeIdentity,
    pub service: ServiceIdentity,
    pub ledger_secret: [u8; 32],
}

/// What every node is built with besides its identity and its state: its settings, the
/// constitution's interpreter, its frontends, and the time it starts at.
pub struct NodeEnv {
    pub settings: NodeSettings,
    pub engine: Box<dyn ConstitutionEngine + Send>,
    pub frontends: Frontends,
    pub now_ms: u64,
    pub now_unix: i64,
}

impl std::fmt::Debug for NodeEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeEnv")
            .field("now_ms", &self.now_ms)
            .field("now_unix", &self.now_unix)
            .finish_non_exhaustive()
    }
}

/// The PEMs a node serves, kept once rather than re-encoded per request.
#[derive(Debug, Clone)]
pub struct NodePems {
    pub node_cert: String,
    pub self_signed_cert: String,
    pub service_cert: String,
}

/// The node.
pub struct NodeCore {
    settings: NodeSettings,
    pems: NodePems,
    store: Store,
    history: MerkleHistory,
    node: NodeIdentity,
    service: ServiceIdentity,
    frontends: Frontends,
    engine: Box<dyn ConstitutionEngine + Send>,
    view: View,
    statuses: TxStatusIndex,
    receipts: ReceiptIndex,
    signing: signing::SigningState,
    outputs: VecDeque<Output>,
    now_ms: u64,
    now_unix: i64,
    /// `public:ccf.gov.service.info` says Open at the committed level: the app frontend is open.
    service_open: bool,
    /// Signatures that could not be written (reported by `signing_failures`).
    signing_failures: u64,
    /// JS application requests so far: each gets its own `Math.random` seed.
    js_requests: u64,
    /// Compiled modules and interpreters kept between JS requests (QuickJS objects: this makes
    /// `NodeCore` not `Send`; hosts run it on one thread).
    js_app: Option<cloister_js::JsApp>,
    /// Calls of [`NodeCore::handle`] so far (see [`Output::JsExecuted`]).
    inputs: u64,
    /// `ccf.historical`'s state cache and the current historical request's target.
    historical: historical_cache::HistoricalCache,
    raft: Raft,
    /// The primary as this node knows it.
    primary: Option<NodeId>,
    /// Requests forwarded to the primary, by forwarding id.
    forwards: BTreeMap<u64, forwarding::PendingForward>,
    next_forward_id: u64,
    /// The peers last announced to the host.
    announced_peers: Vec<PeerInfo>,
    /// A replicated entry failed to apply: the node stops applying until a rollback.
    apply_failed: bool,
    snapshots: snapshots::SnapshotState,
    /// The Merkle leaf of the last entry appended.
    last_leaf: Sha256Hash,
    /// Replaying its own ledger after a restart: no snapshots are made.
    replaying: bool,
}

/// Whether `data` is a ledger entry cut short (fewer bytes than its header announces).
fn is_torn(data: &[u8]) -> bool {
    match cloister_ledger::EntryHeader::parse(data) {
        Ok(header) => (data.len() as u64) < header.entry_len(),
        Err(_) => data.len() < cloister_ledger::ENTRY_HEADER_BYTES,
    }
}

/// Undo records the store keeps: enough to roll back the most uncommitted entries the primary
/// allows (`max_uncommitted_tx_count`) plus a signature interval.
pub(crate) const STORE_ROLLBACK_VERSIONS_MAX: usize = 20_000;

impl std::fmt::Debug for NodeCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCore")
            .field("node", &self.node.id)
            .field("view", &self.view)
            .finish()
    }
}

impl NodeCore {
    /// Starts a new service (CCF's `command.type = "Start"`): writes the genesis transaction and
    /// the first signature, which the host then persists.
    pub fn start(env: NodeEnv, secrets: NodeSecrets) -> Result<NodeCore, NodeError> {
        let NodeSecrets {
            node,
            service,
            ledger_secret,
        } = secrets;
        let mut core = NodeCore::new(
            env,
            JoinSecrets {
                node,
                service,
                ledger_secrets: LedgerSecrets::with_first(ledger_secret),
            },
        );
        let id = core.node.id.clone();
        core.raft
            .bootstrap_primary(BTreeSet::from([id.clone()]))
            .map_err(|error| NodeError::Invalid(format!("consensus: {error}")))?;
        core.view = STARTING_VIEW;
        core.statuses = TxStatusIndex::new(STARTING_VIEW);
        core.primary = Some(id);
        core.drain_raft();
        let genesis = TxId {
            view: core.view,
            seqno: SeqNo(1),
        };
        let mut tx = core.store.begin();
        write_genesis(
            &mut tx,
            genesis,
            &core.node,
            &core.service,
            &core.settings.genesis,
        )?;
        core.commit_tx(tx, EntryFlags(0), false, None)?;
        core.emit_signature()?;
        Ok(core)
    }

    /// A node joining a service (CCF's `command.type = "Join"`), once trusted: an empty backup
    /// that catches up from the primary through consensus.
    pub fn join(env: NodeEnv, secrets: JoinSecrets) -> Result<NodeCore, NodeError> {
        let mut core = NodeCore::new(env, secrets);
        core.raft
            .join_as_backup(None)
            .map_err(|error| NodeError::Invalid(format!("consensus: {error}")))?;
        core.drain_raft();
        Ok(core)
    }

    /// A node restarting after a crash with the same identity: replays its ledger, drops a torn
    /// last write (reported by a `TruncateLedger` output), refuses a ledger with any other
    /// damage, and comes back as a backup that catches up from the primary.
    pub fn restart(
        env: NodeEnv,
        secrets: JoinSecrets,
        persisted: PersistedState,
    ) -> Result<NodeCore, NodeError> {
        let (mut core, point) = match &persisted.snapshot {
            Some((name, bytes)) => {
                let (core, point) = NodeCore::from_snapshot(env, secrets, name, bytes)?;
                (core, Some(point))
            }
            None => (NodeCore::new(env, secrets), None),
        };
        let found = persisted.entries.len();
        let mut entries = Vec::with_capacity(found);
        let mut configuration = point
            .as_ref()
            .map(|point| point.configuration.clone())
            .unwrap_or_default();
        let base = point.as_ref().map_or(0, |point| point.txid.seqno.0);
        core.replaying = true;
        for (index, data) in persisted.entries.into_iter().enumerate() {
            let Some(applied) = core.apply_entry_bytes(&data, None) else {
                // Only a torn last write (an entry cut short: never synced, so never
                // acknowledged) may be dropped. Anything else may have been acknowledged and
                // counted towards a commit: refuse to run rather than forget it.
                let seqno = base + index as u64 + 1;
                if index + 1 == found && is_torn(&data) {
                    break;
                }
                return Err(NodeError::Invalid(format!(
                    "the ledger entry at seqno {seqno} is damaged: this node must not restart \
                     from this ledger (start a new node that joins instead)"
                )));
            };
            let kind = if applied.is_signature {
                cloister_raft::EntryKind::Signature
            } else if applied
                .maps
                .iter()
                .any(|map| map == crate::tables::NODES_INFO)
            {
                let trusted = core.trusted_nodes();
                if trusted != configuration && !trusted.is_empty() {
                    configuration = trusted.clone();
                    cloister_raft::EntryKind::Reconfiguration(trusted)
                } else {
                    cloister_raft::EntryKind::Normal
                }
            } else {
                cloister_raft::EntryKind::Normal
            };
            entries.push(cloister_raft::Entry {
                txid: applied.tx_id(),
                kind,
                data,
            });
        }
        core.replaying = false;
        let kept = entries.len();
        core.raft
            .restore(point, entries, persisted.committed, persisted.vote)
            .map_err(|error| NodeError::Invalid(format!("consensus: {error}")))?;
        if kept < found {
            core.outputs.push_back(Output::TruncateLedger {
                after: SeqNo(base + kept as u64),
            });
        }
        let committed = core.raft.commit_seqno();
        if let Some(view) = core.statuses.view_at(committed) {
            core.statuses.commit(TxId {
                view,
                seqno: committed,
            });
        }
        core.view = core.raft.view();
        core.refresh_service_open();
        core.drain_raft();
        core.announce_peers();
        Ok(core)
    }

    fn new(env: NodeEnv, secrets: JoinSecrets) -> NodeCore {
        let NodeEnv {
            settings,
            engine,
            frontends,
            now_ms,
            now_unix,
        } = env;
        let JoinSecrets {
            node,
            service,
            ledger_secrets,
        } = secrets;
        let pems = NodePems {
            node_cert: node.cert_pem(),
            self_signed_cert: node.self_signed_cert.to_pem(),
            service_cert: service.cert_pem(),
        };
        let raft = Raft::new(
            node.id.clone(),
            settings.consensus.clone(),
            settings.consensus_seed,
        );
        NodeCore {
            pems,
            store: Store::new(ledger_secrets).with_history_len_max(STORE_ROLLBACK_VERSIONS_MAX),
            history: MerkleHistory::new(),
            node,
            service,
            frontends,
            engine,
            view: View(0),
            statuses: TxStatusIndex::empty(),
            receipts: ReceiptIndex::default(),
            signing: signing::SigningState::new(now_ms),
            outputs: VecDeque::new(),
            now_ms,
            now_unix,
            service_open: false,
            signing_failures: 0,
            js_requests: 0,
            js_app: None,
            inputs: 0,
            historical: historical_cache::HistoricalCache::default(),
            settings,
            raft,
            primary: None,
            forwards: BTreeMap::new(),
            next_forward_id: 0,
            announced_peers: Vec::new(),
            apply_failed: false,
            snapshots: snapshots::SnapshotState::default(),
            last_leaf: Sha256Hash([0; 32]),
            replaying: false,
        }
    }

    /// Feeds one input.
    /// Queues a line for the node's log.
    pub(crate) fn log(&mut self, level: LogLevel, text: String) {
        self.outputs.push_back(Output::NodeLog { level, text });
    }

    /// How many inputs [`NodeCore::handle`] took so far (the numbering of
    /// [`Output::JsExecuted`]).
    pub fn inputs_handled(&self) -> u64 {
        self.inputs
    }

    pub fn handle(&mut self, input: Input) {
        self.inputs += 1;
        match input {
            Input::Tick { now_ms, now_unix } => {
                self.now_ms = now_ms.max(self.now_ms);
                self.now_unix = now_unix;
                let _ = self.raft.handle(cloister_raft::Input::Tick {
                    now_ms: self.now_ms,
                });
                self.drain_raft();
                // A signature that fails to be written (a crypto fault) is retried next tick.
                if self.on_tick().is_err() {
                    self.signing_failures += 1;
                }
                self.expire_forwards();
            }
            Input::Request { session, request } => {
                match self.execute(&request) {
                    execute::Dispatch::Respond(response) => {
                        self.outputs
                            .push_back(Output::Respond { session, response });
                    }
                    execute::Dispatch::Forward => self.forward(session, request),
                }
                // Ranges `getStateRange` asked for start their ledger reads now, not at the
                // next request.
                self.fetch_new_historical_ranges();
            }
            Input::Persisted { up_to } => {
                if let Some(view) = self.statuses.view_at(up_to) {
                    let up_to = TxId { view, seqno: up_to };
                    let _ = self.raft.handle(cloister_raft::Input::Persisted { up_to });
                    self.drain_raft();
                }
            }
            Input::Peer { from, bytes } => {
                // Undecodable bytes from an authenticated peer are dropped, like lost messages.
                if let Ok(message) = crate::peer_wire::decode(&bytes) {
                    self.on_peer_message(from, message);
                }
            }
            Input::LedgerEntries { from, to, entries } => {
                self.on_ledger_entries(from, to, entries);
            }
        }
    }

    /// Switches a bug on in the node's consensus (tests only: the simulator shows its checks
    /// catch it).
    #[doc(hidden)]
    pub fn inject_bug(&mut self, bug: Option<cloister_raft::InjectedBug>) {
        self.raft.set_injected_bug(bug);
    }

    /// The node's consensus state.
    pub fn consensus(&self) -> ConsensusSummary {
        let txid_at = |seqno: SeqNo| TxId {
            view: self.raft.view_at(seqno).unwrap_or(View(0)),
            seqno,
        };
        ConsensusSummary {
            view: self.raft.view(),
            role: self.raft.leadership(),
            primary: self.primary.clone(),
            commit: txid_at(self.raft.commit_seqno()),
            last: txid_at(self.raft.last_seqno()),
            persisted: self.raft.persisted_seqno(),
            configurations: self
                .raft
                .configurations()
                .iter()
                .map(|configuration| configuration.nodes.clone())
                .collect(),
            configuration_seqnos: self
                .raft
                .configurations()
                .iter()
                .map(|configuration| configuration.idx)
                .collect(),
            membership: self.raft.membership(),
            log_first_held: self.raft.first_held_seqno(),
        }
    }

    /// Replicated entries that failed to apply here (a fault; see `consensus.rs`).
    pub fn apply_failed(&self) -> bool {
        self.apply_failed
    }

    /// The next thing for the host to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn node_id(&self) -> &NodeId {
        &self.node.id
    }

    pub fn pems(&self) -> &NodePems {
        &self.pems
    }

    /// Signature transactions that failed to be written (a crypto fault; retried on the next tick).
    pub fn signing_failures(&self) -> u64 {
        self.signing_failures
    }

    /// The last committed transaction id.
    pub fn commit(&self) -> TxId {
        self.statuses.committed()
    }

    /// Runs a transaction the node itself writes (no request: tools, samples, internal upkeep),
    /// commits it and signs when the cadence says so. `None` if it wrote nothing.
    pub fn execute_internal(
        &mut self,
        write: impl FnOnce(&mut cloister_kv::Tx),
    ) -> Result<Option<TxId>, NodeError> {
        let mut tx = self.store.begin();
        write(&mut tx);
        let txid = self.commit_tx(tx, EntryFlags(0), false, None)?;
        self.after_write()?;
        Ok(txid)
    }

    /// Writes a signature transaction now (CCF's signature timer does this for unsigned writes).
    pub fn sign_now(&mut self) -> Result<TxId, NodeError> {
        self.emit_signature()
    }
}
