//! Drives a `NodeCore` for real (ARCHITECTURE.md): one task owns the node and feeds it requests
//! from the RPC servers, ticks from a timer, and "persisted up to" notices after it has written
//! ledger entries to the chunk files. The node itself never sees a socket, a file or a clock.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cloister_node::core::{Input, LogLevel, NodeCore, Output};
use cloister_node::rpc::{Request, Response};
use cloister_types::{ApiError, NodeId, SeqNo};
use tokio::sync::{mpsc, oneshot};

use crate::handler::{HostRequest, HostResponse, RequestHandler};
use crate::ledger_reader::{LedgerRead, spawn_read};
use crate::ledger_writer::LedgerDirWriter;
use crate::process_launcher::ProcessLauncher;

/// CCF's host ticks the node every 10 ms (`tick_interval`).
const TICK_INTERVAL_MS: u64 = 10;
/// Requests queued for the node before RPC sessions wait (bounded, as every queue is).
const REQUEST_QUEUE_MAX: usize = 4096;
/// Inputs taken in one batch before the ledger is synced and the node told.
const INPUTS_PER_BATCH_MAX: usize = 512;
/// Ledger reads answered and not yet taken by the node (the node bounds its outstanding reads
/// well below this).
const LEDGER_READ_ANSWERS_MAX: usize = 64;

type Pending = (Request, oneshot::Sender<Response>);

/// How the node's task reaches other nodes (the node-to-node channels).
pub trait PeerSend: Send {
    /// Sends one frame to `to`; never blocks (a full queue drops it, as the network may).
    fn send(&self, to: &NodeId, bytes: Vec<u8>);
    /// The nodes to keep channels to, with their node-to-node addresses.
    fn set_peers(&self, peers: Vec<(NodeId, String)>);
}

/// The node's side of the channels: where frames go, and where authenticated frames come from.
pub struct PeerLink {
    pub outgoing: Box<dyn PeerSend>,
    pub incoming: mpsc::Receiver<(NodeId, Vec<u8>)>,
}

impl std::fmt::Debug for PeerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerLink").finish_non_exhaustive()
    }
}

/// The node's task.
pub struct NodeDriver {
    core: NodeCore,
    ledger: LedgerDirWriter,
    peers: Option<PeerLink>,
    /// Where the node's last vote is kept (so a restarted node never votes twice in a view).
    vote_file: Option<std::path::PathBuf>,
    /// Where snapshot files go (`snapshots.directory`).
    snapshot_dir: Option<std::path::PathBuf>,
    requests: mpsc::Receiver<Pending>,
    replies: BTreeMap<u64, oneshot::Sender<Response>>,
    next_request: u64,
    started: Instant,
    /// Where reads of old ledger entries (`Output::ReadLedger`, off this thread) answer.
    ledger_reads: mpsc::Sender<LedgerRead>,
    ledger_answers: mpsc::Receiver<LedgerRead>,
    /// Runs the processes JS handlers ask for (`ccf.host.triggerSubprocess`).
    launcher: ProcessLauncher,
    /// How long each input of the current batch took the node, by its number
    /// (`NodeCore::inputs_handled`): the time of a JS request's metrics line.
    input_times: BTreeMap<u64, Duration>,
}

impl std::fmt::Debug for NodeDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeDriver")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

/// What the RPC servers hold: a way to hand requests to the node's task.
#[derive(Debug, Clone)]
pub struct NodeHandle {
    sender: mpsc::Sender<Pending>,
}

impl NodeDriver {
    /// A driver writing `core`'s ledger into `ledger_dir` (a new ledger), and the handle the RPC
    /// servers use.
    pub fn new(core: NodeCore, ledger_dir: &Path) -> anyhow::Result<(NodeDriver, NodeHandle)> {
        Ok(NodeDriver::with_ledger(
            core,
            LedgerDirWriter::create(ledger_dir, 1)?,
        ))
    }

    /// A driver continuing `ledger` (a restarted node's, from [`LedgerDirWriter::resume`]).
    pub fn with_ledger(core: NodeCore, ledger: LedgerDirWriter) -> (NodeDriver, NodeHandle) {
        let (sender, requests) = mpsc::channel(REQUEST_QUEUE_MAX);
        let (ledger_reads, ledger_answers) = mpsc::channel(LEDGER_READ_ANSWERS_MAX);
        let driver = NodeDriver {
            core,
            ledger,
            peers: None,
            vote_file: None,
            snapshot_dir: None,
            requests,
            replies: BTreeMap::new(),
            next_request: 0,
            started: Instant::now(),
            ledger_reads,
            ledger_answers,
            launcher: ProcessLauncher::default(),
            input_times: BTreeMap::new(),
        };
        (driver, NodeHandle { sender })
    }

    /// Keeps the node's votes in `path` (written and synced before anything after the vote).
    pub fn with_vote_file(mut self, path: &Path) -> NodeDriver {
        self.vote_file = Some(path.to_path_buf());
        self
    }

    /// Writes the node's snapshots into `dir` (created if missing).
    pub fn with_snapshot_dir(mut self, dir: &Path) -> NodeDriver {
        self.snapshot_dir = Some(dir.to_path_buf());
        self
    }

    /// Connects the node to other nodes.
    pub fn with_peers(mut self, peers: PeerLink) -> NodeDriver {
        self.peers = Some(peers);
        self
    }

    /// Runs the node until `shutdown` resolves (or a ledger write fails: the node must stop
    /// rather than run ahead of its ledger).
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        self.drain()?;
        let mut ticker = tokio::time::interval(Duration::from_millis(TICK_INTERVAL_MS));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                request = self.requests.recv() => {
                    let Some((request, reply)) = request else { break };
                    self.next_request += 1;
                    self.replies.insert(self.next_request, reply);
                    self.feed(Input::Request { session: self.next_request, request });
                }
                frame = next_frame(&mut self.peers) => {
                    let Some((from, bytes)) = frame else { break };
                    self.feed(Input::Peer { from, bytes });
                }
                Some((from, to, entries)) = self.ledger_answers.recv() => {
                    self.feed(Input::LedgerEntries { from, to, entries });
                }
                _ = ticker.tick() => {
                    let now_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
                    self.feed(Input::Tick { now_ms, now_unix: unix_now() });
                }
                () = &mut shutdown => break,
            }
            self.take_waiting_inputs();
            self.drain()?;
        }
        self.ledger.flush()?;
        Ok(())
    }

    /// Feeds the node every request and peer frame already waiting (at most
    /// [`INPUTS_PER_BATCH_MAX`]), so that one ledger sync covers the whole batch (group commit).
    fn take_waiting_inputs(&mut self) {
        for _ in 0..INPUTS_PER_BATCH_MAX {
            let mut took = false;
            if let Ok((request, reply)) = self.requests.try_recv() {
                self.next_request += 1;
                self.replies.insert(self.next_request, reply);
                self.feed(Input::Request {
                    session: self.next_request,
                    request,
                });
                took = true;
            }
            if let Some(peers) = &mut self.peers
                && let Ok((from, bytes)) = peers.incoming.try_recv()
            {
                self.feed(Input::Peer { from, bytes });
                took = true;
            }
            if !took {
                return;
            }
        }
    }

    /// Gives the node one input, timing it.
    fn feed(&mut self, input: Input) {
        let started = Instant::now();
        self.core.handle(input);
        self.input_times
            .insert(self.core.inputs_handled(), started.elapsed());
    }

    /// Carries out everything the node asked for; after writing entries, tells it they are
    /// persisted (which may commit, and so ask for more).
    fn drain(&mut self) -> anyhow::Result<()> {
        let drained = self.drain_outputs();
        self.input_times.clear();
        drained
    }

    fn drain_outputs(&mut self) -> anyhow::Result<()> {
        loop {
            let mut appended = None;
            while let Some(output) = self.core.poll_output() {
                match output {
                    Output::Respond { session, response } => {
                        if let Some(reply) = self.replies.remove(&session) {
                            let _ = reply.send(response); // the client may have gone
                        }
                    }
                    Output::AppendLedger {
                        seqno,
                        entry,
                        flags,
                        committable,
                    } => {
                        self.ledger.append(&entry, flags, committable)?;
                        appended = Some(seqno);
                    }
                    Output::CommitLedger { up_to } => self.ledger.commit(up_to.0)?,
                    Output::TruncateLedger { after } => {
                        self.ledger.truncate(after.0)?;
                        appended = appended.filter(|seqno| *seqno <= after);
                    }
                    Output::SendPeer { to, bytes } => {
                        if let Some(peers) = &self.peers {
                            peers.outgoing.send(&to, bytes);
                        }
                    }
                    Output::WriteSnapshot { name, bytes } => {
                        if let Some(dir) = &self.snapshot_dir {
                            crate::snapshot_files::write_snapshot(dir, &name, &bytes)?;
                        }
                    }
                    Output::CommitSnapshot { name, receipt } => {
                        if let Some(dir) = &self.snapshot_dir {
                            crate::snapshot_files::commit_snapshot(dir, &name, &receipt)?;
                        }
                    }
                    Output::Voted { view, voted_for } => {
                        if let Some(path) = &self.vote_file {
                            write_vote(path, view.0, voted_for.as_str())?;
                        }
                    }
                    Output::LaunchProcess { args, stdin } => self.launcher.launch(args, stdin),
                    Output::ReadLedger { from, to } => {
                        // The entries asked for are committed, so persisted here; what the
                        // writer still buffers goes to the file before another thread reads it.
                        self.ledger.flush()?;
                        let dir = self.ledger.dir().to_path_buf();
                        spawn_read(dir, from, to, self.ledger_reads.clone());
                    }
                    Output::AppLog { level, text } => app_log(level, &text),
                    Output::NodeLog { level, text } => node_log(level, &text),
                    Output::JsExecuted {
                        input,
                        method,
                        route,
                        status,
                    } => {
                        let took = self.input_times.get(&input).copied().unwrap_or_default();
                        tracing::info!(
                            target: "js",
                            "JS execution complete: Method={method}, Path={route}, \
                             Status={status}, ExecMilliseconds={}",
                            took.as_millis()
                        );
                    }
                    Output::Peers { nodes } => {
                        if let Some(peers) = &self.peers {
                            let nodes = nodes
                                .into_iter()
                                .map(|peer| (peer.id, peer.node_to_node_address))
                                .collect();
                            peers.outgoing.set_peers(nodes);
                        }
                    }
                }
            }
            let Some(up_to) = appended else { return Ok(()) };
            self.ledger.flush()?;
            self.feed(Input::Persisted {
                up_to: SeqNo(up_to.0),
            });
        }
    }
}

/// A JS application's log line at CCF's levels (`console.log`/`info` → info, `warn` → fail,
/// `error` → fatal: tracing's warn and error).
fn app_log(level: LogLevel, text: &str) {
    match level {
        LogLevel::Info => tracing::info!(target: "js", "{text}"),
        LogLevel::Warn => tracing::warn!(target: "js", "{text}"),
        LogLevel::Error => tracing::error!(target: "js", "{text}"),
    }
}

/// A line about the node itself (its role, rollbacks, snapshots).
fn node_log(level: LogLevel, text: &str) {
    match level {
        LogLevel::Info => tracing::info!(target: "node", "{text}"),
        LogLevel::Warn => tracing::warn!(target: "node", "{text}"),
        LogLevel::Error => tracing::error!(target: "node", "{text}"),
    }
}

/// Writes the vote durably: a temporary file, synced, then renamed over the old one.
fn write_vote(path: &Path, view: u64, voted_for: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let body = serde_json::json!({ "view": view, "voted_for": voted_for }).to_string();
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(body.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

/// The last vote written by [`write_vote`], if any.
pub fn read_vote(path: &Path) -> anyhow::Result<Option<(u64, String)>> {
    let raw = match std::fs::read(path) {
        Ok(raw) => raw,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let value: serde_json::Value = serde_json::from_slice(&raw)?;
    let view = value["view"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("{}: no view", path.display()))?;
    let voted_for = value["voted_for"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("{}: no voted_for", path.display()))?;
    Ok(Some((view, voted_for.to_owned())))
}

/// The next authenticated frame, or never without channels.
async fn next_frame(peers: &mut Option<PeerLink>) -> Option<(NodeId, Vec<u8>)> {
    match peers {
        Some(peers) => peers.incoming.recv().await,
        None => std::future::pending().await,
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl RequestHandler for NodeHandle {
    fn handle(
        &self,
        request: HostRequest,
    ) -> Pin<Box<dyn Future<Output = HostResponse> + Send + '_>> {
        Box::pin(async move {
            let request = Request {
                method: request.method.as_str().to_owned(),
                path: request.path,
                query: request.query,
                headers: request
                    .headers
                    .iter()
                    .filter_map(|(name, value)| {
                        Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                    })
                    .collect(),
                body: request.body.to_vec(),
                client_cert_der: request.client_cert_der,
                http2: request.http2,
            };
            let (reply, response) = oneshot::channel();
            let stopped = || {
                HostResponse::from_api_error(&ApiError::new(
                    503,
                    "InternalError",
                    "The node is stopping.",
                ))
            };
            if self.sender.send((request, reply)).await.is_err() {
                return stopped();
            }
            match response.await {
                Ok(response) => HostResponse {
                    status: response.status,
                    headers: response.headers,
                    body: response.body,
                },
                Err(_) => stopped(),
            }
        })
    }
}
