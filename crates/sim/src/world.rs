//! The world: nodes, the network, disks and a clock in one thread, driven by an agenda of timed
//! events. One step handles one event (a tick, a delivery, an fsync completing, a restart…) and
//! everything it causes; the invariants are checked after every step.

use std::collections::BTreeMap;

use cloister_check::invariants::{Checker, LogEntry, NodeState, Violation};
use cloister_node::core::{Input, Output, SessionId};
use cloister_node::rpc::{Request, Response};
use cloister_types::SeqNo;

use crate::client::{Client, Pending};
use crate::config::{NOW_UNIX, RunConfig, TICK_MS};
use crate::faults::FaultPlan;
use crate::network::{Network, NetworkFaults, Packet, Sent};
use crate::node::{Life, SimNode};
use crate::random::SimRng;
use crate::trace::Trace;

/// The invariants' view of every node taking part (joined at some point).
fn states_of(nodes: &[SimNode]) -> Vec<NodeState<'_>> {
    nodes
        .iter()
        .filter(|n| n.life != Life::Outside)
        .map(SimNode::state)
        .collect()
}

/// A node id's first 8 hex digits, for traces.
pub fn short(id: &cloister_types::NodeId) -> &str {
    id.as_str().get(..8).unwrap_or(id.as_str())
}

/// A node flagged an entry committable that is not a signature transaction, or the reverse.
pub const SIGNATURE_FLAG: &str = "SignatureFlag";

/// Something scheduled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A node's clock ticks (ignored if the node restarted since it was scheduled).
    Tick { node: usize, incarnation: u64 },
    /// A node's running fsync may have completed.
    Fsync { node: usize },
    /// A crashed node starts again.
    Restart { node: usize },
    /// A paused node resumes.
    Resume { node: usize },
    /// The fault schedule decides what goes wrong next.
    Chaos,
    /// The client acts.
    Client,
    /// Topology changes advance (and, during the safety phase, start).
    Topology,
}

/// Why a run stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub step: u64,
    pub time_ms: u64,
    pub violation: Violation,
}

/// Everything simulated.
#[derive(Debug)]
pub struct World {
    pub config: RunConfig,
    pub now_ms: u64,
    pub rng: SimRng,
    agenda: BTreeMap<(u64, u64), Event>,
    sequence: u64,
    pub nodes: Vec<SimNode>,
    pub network: Network,
    /// The network's behaviour now (the plan's during the safety phase, healthy after).
    pub net_faults: NetworkFaults,
    pub plan: FaultPlan,
    pub checker: Checker,
    pub client: Client,
    pub trace: Trace,
    pub steps: u64,
    pub failure: Option<Failure>,
    pub chaos: crate::chaos::ChaosState,
    pub topology: crate::topology::TopologyState,
    /// An injected bug, active during the safety phase.
    pub bug: Option<crate::config::Bug>,
    /// The service's one member (governance), once set up.
    pub member: Option<(cloister_crypto::EcKeyPair, cloister_crypto::Certificate)>,
    /// The client acts while this holds.
    pub workload_on: bool,
    /// Messages delivered, dropped.
    pub delivered: u64,
    pub dropped: u64,
}

impl World {
    pub fn new(config: RunConfig, rng: SimRng, plan: FaultPlan, client: Client) -> World {
        let trace = Trace::new(config.keep_trace);
        World {
            config,
            now_ms: 0,
            rng,
            agenda: BTreeMap::new(),
            sequence: 0,
            nodes: Vec::new(),
            network: Network::new(),
            net_faults: NetworkFaults::HEALTHY,
            plan,
            checker: Checker::new(),
            client,
            trace,
            steps: 0,
            failure: None,
            chaos: crate::chaos::ChaosState::default(),
            member: None,
            topology: crate::topology::TopologyState::default(),
            bug: None,
            workload_on: false,
            delivered: 0,
            dropped: 0,
        }
    }

    /// Wall-clock seconds now.
    pub fn now_unix(&self) -> i64 {
        NOW_UNIX + (self.now_ms / 1_000) as i64
    }

    pub fn schedule(&mut self, at_ms: u64, event: Event) {
        self.sequence += 1;
        self.agenda.insert((at_ms, self.sequence), event);
    }

    /// Starts node `index`'s clock.
    pub fn schedule_ticks(&mut self, index: usize) {
        let node = &self.nodes[index];
        let phase = node.tick_phase_ms;
        let incarnation = node.incarnation;
        let at = self.now_ms - self.now_ms % TICK_MS + TICK_MS + phase;
        self.schedule(
            at,
            Event::Tick {
                node: index,
                incarnation,
            },
        );
    }

    pub fn line(&mut self, text: impl AsRef<str>) {
        self.trace.line(self.now_ms, text);
    }

    /// Records a violation (the first one wins) and stops the run.
    pub fn fail(&mut self, violation: Violation) {
        if self.failure.is_none() {
            let text = format!("VIOLATION {violation}");
            self.line(text);
            self.failure = Some(Failure {
                step: self.steps,
                time_ms: self.now_ms,
                violation,
            });
        }
    }

    /// Handles the next event; `false` when nothing is left before `until_ms`.
    pub fn step(&mut self, until_ms: u64) -> bool {
        let agenda_next = self.agenda.keys().next().map(|(at, _)| *at);
        let network_next = self.network.next_arrival_ms();
        let next = match (agenda_next, network_next) {
            (Some(a), Some(n)) => a.min(n),
            (Some(a), None) => a,
            (None, Some(n)) => n,
            (None, None) => return false,
        };
        if next > until_ms {
            self.now_ms = self.now_ms.max(until_ms);
            return false;
        }
        self.now_ms = self.now_ms.max(next);
        self.steps += 1;
        if agenda_next == Some(next) {
            if let Some((_, event)) = self.agenda.pop_first() {
                self.handle_event(event);
            }
        } else if let Some(arrival) = self.network.pop_due(self.now_ms) {
            match arrival {
                Ok(packet) => self.deliver(packet),
                Err(packet) => {
                    self.dropped += 1;
                    let text = format!("lost n{}->n{} (cut)", packet.from, packet.to);
                    self.line(text);
                }
            }
        }
        self.check();
        true
    }

    /// Runs until `until_ms`, a failure, or `done` holds (checked after every step).
    pub fn run_until(&mut self, until_ms: u64, mut done: impl FnMut(&World) -> bool) -> bool {
        while self.failure.is_none() {
            if done(self) {
                return true;
            }
            if !self.step(until_ms) {
                return done(self);
            }
        }
        false
    }

    fn handle_event(&mut self, event: Event) {
        match event {
            Event::Tick { node, incarnation } => self.tick(node, incarnation),
            Event::Fsync { node } => self.fsync(node),
            Event::Restart { node } => crate::chaos::restart(self, node),
            Event::Resume { node } => crate::chaos::resume(self, node),
            Event::Chaos => crate::chaos::chaos_tick(self),
            Event::Client => crate::workload::client_tick(self),
            Event::Topology => crate::topology::topology_tick(self),
        }
    }

    fn tick(&mut self, index: usize, incarnation: u64) {
        let node = &self.nodes[index];
        if node.incarnation != incarnation || !node.is_member() || node.life == Life::Down {
            return;
        }
        let next = self.now_ms + TICK_MS;
        self.schedule(
            next,
            Event::Tick {
                node: index,
                incarnation,
            },
        );
        if self.nodes[index].is_running() {
            let text = format!("n{index} tick");
            self.line(text);
            let input = Input::Tick {
                now_ms: self.now_ms,
                now_unix: self.now_unix(),
            };
            self.input(index, input);
        }
    }

    fn fsync(&mut self, index: usize) {
        let delay = self.fsync_delay();
        let now = self.now_ms;
        let Some((synced, next)) = self.nodes[index].disk.complete_fsync(now, delay) else {
            return;
        };
        if let Some(at) = next {
            self.schedule(at, Event::Fsync { node: index });
        }
        let node = &mut self.nodes[index];
        if node.is_running() {
            self.input(index, Input::Persisted { up_to: synced });
        } else if matches!(node.life, Life::Paused { .. }) {
            node.persisted_pending = true;
        }
    }

    pub fn fsync_delay(&mut self) -> u64 {
        let (low, high) = self.plan.fsync_ms;
        self.rng.range(low, high)
    }

    fn deliver(&mut self, packet: Packet) {
        let to = packet.to;
        match self.nodes[to].life {
            Life::Up if self.nodes[to].core.is_some() => {
                self.delivered += 1;
                let text = format!(
                    "deliver n{}->n{to} {} bytes",
                    packet.from,
                    packet.bytes.len()
                );
                self.line(text);
                let from = self.nodes[packet.from].id.clone();
                self.input(
                    to,
                    Input::Peer {
                        from,
                        bytes: packet.bytes,
                    },
                );
            }
            Life::Paused { .. } => {
                let text = format!("hold n{}->n{to} (paused)", packet.from);
                self.line(text);
                self.nodes[to].inbox.push((packet.from, packet.bytes));
            }
            _ => {
                self.dropped += 1;
                let text = format!("drop n{}->n{to} (down)", packet.from);
                self.line(text);
            }
        }
    }

    /// Feeds `input` to node `index` and carries out what it asks for.
    pub fn input(&mut self, index: usize, input: Input) {
        let Some(core) = self.nodes[index].core.as_mut() else {
            return;
        };
        core.handle(input);
        self.drain(index);
    }

    /// Sends `request` on `session` to node `index`.
    pub fn request(&mut self, index: usize, session: SessionId, request: Request) {
        if self.nodes[index].is_running() {
            self.input(index, Input::Request { session, request });
        }
    }

    /// Carries out node `index`'s outputs, then refreshes its summary.
    pub fn drain(&mut self, index: usize) {
        let mut outputs = Vec::new();
        if let Some(core) = self.nodes[index].core.as_mut() {
            while let Some(output) = core.poll_output() {
                outputs.push(output);
            }
        }
        let mut reads = Vec::new();
        for output in outputs {
            match output {
                Output::Respond { session, response } => self.respond(session, response),
                Output::AppendLedger {
                    seqno,
                    entry,
                    committable,
                    ..
                } => self.append(index, seqno, entry, committable),
                Output::TruncateLedger { after } => {
                    let node = &mut self.nodes[index];
                    node.disk.truncate(after);
                    node.changed(after.next());
                    let text = format!("{} truncate after {after}", node.name());
                    self.line(text);
                }
                Output::CommitLedger { up_to } => {
                    self.nodes[index].disk.commit(up_to);
                    let text = format!("{} commit {up_to}", self.nodes[index].name());
                    self.line(text);
                }
                Output::Voted { view, voted_for } => {
                    let node = &mut self.nodes[index];
                    let text =
                        format!("{} voted {} in view {view}", node.name(), short(&voted_for));
                    node.disk.vote(view, voted_for);
                    self.line(text);
                }
                Output::SendPeer { to, bytes } => self.send(index, &to, bytes),
                Output::Peers { nodes } => {
                    let text = format!("{} peers {}", self.nodes[index].name(), nodes.len());
                    self.line(text);
                }
                Output::WriteSnapshot { name, .. } | Output::CommitSnapshot { name, .. } => {
                    let text = format!("{} snapshot {name}", self.nodes[index].name());
                    self.line(text);
                }
                // The simulator launches nothing: a host process is outside the simulated world
                // and cannot affect the nodes (CCF's host runs it fire and forget).
                Output::LaunchProcess { .. } => {}
                // Application log lines go nowhere: the simulated hosts keep no logs.
                Output::AppLog { .. } | Output::NodeLog { .. } | Output::JsExecuted { .. } => {}
                Output::ReadLedger { from, to } => reads.push((from, to)),
            }
        }
        // Historical queries older than a node's in-memory log: answered at once from its
        // simulated disk (no randomness drawn; the workload issues none today).
        for (from, to) in reads {
            let disk = &self.nodes[index].disk;
            let entries = (from.0..=to.0)
                .map(|seqno| disk.bytes(SeqNo(seqno)).map(<[u8]>::to_vec))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("seqnos {from} to {to} are not on the simulated disk"));
            self.input(index, Input::LedgerEntries { from, to, entries });
        }
        self.refresh(index);
    }

    fn respond(&mut self, session: SessionId, response: Response) {
        let result = self
            .client
            .on_response(session, response, self.checker.ghost());
        if let Err(violation) = result {
            self.fail(violation);
        }
    }

    fn append(&mut self, index: usize, seqno: SeqNo, entry: Vec<u8>, committable: bool) {
        let expected = SeqNo(self.nodes[index].disk.len() as u64 + 1);
        if seqno != expected {
            let name = self.nodes[index].name();
            self.fail(Violation::new(
                "LedgerContiguous",
                format!("{name} appended seqno {seqno} where {expected} was next"),
            ));
            return;
        }
        let described = match crate::entries::describe(seqno, &entry) {
            Ok(described) => described,
            Err(why) => {
                let name = self.nodes[index].name();
                self.fail(Violation::new(
                    "LedgerContiguous",
                    format!("{name} appended an entry at {seqno} that does not read back: {why}"),
                ));
                return;
            }
        };
        if described.is_signature != committable {
            let name = self.nodes[index].name();
            self.fail(Violation::new(
                SIGNATURE_FLAG,
                format!(
                    "{name} appended {} flagged committable={committable}, but it {} a signature transaction",
                    described.txid,
                    if described.is_signature { "is" } else { "is not" }
                ),
            ));
            return;
        }
        let delay = self.fsync_delay();
        let now = self.now_ms;
        let node = &mut self.nodes[index];
        let log = LogEntry::next(
            node.disk.logs().last(),
            described.txid,
            described.is_signature,
            &entry,
        );
        if let Some(at) = node.disk.append(entry, log, now, delay) {
            self.schedule(at, Event::Fsync { node: index });
        }
    }

    fn send(&mut self, from: usize, to: &cloister_types::NodeId, bytes: Vec<u8>) {
        let Some(to) = self.nodes.iter().position(|n| n.id == *to) else {
            self.dropped += 1;
            return;
        };
        let faults = self.net_faults;
        let packet = Packet { from, to, bytes };
        let sent = self
            .network
            .send(self.now_ms, packet, &faults, &mut self.rng);
        let text = match sent {
            Sent::Dropped => {
                self.dropped += 1;
                format!("drop n{from}->n{to}")
            }
            Sent::Queued {
                at_ms,
                duplicate_at_ms: Some(again),
            } => format!("send n{from}->n{to} at {at_ms} and {again}"),
            Sent::Queued { at_ms, .. } => format!("send n{from}->n{to} at {at_ms}"),
        };
        self.line(text);
    }

    /// Refreshes node `index`'s summary and traces role, view and commit changes.
    pub fn refresh(&mut self, index: usize) {
        let node = &mut self.nodes[index];
        let before = node.summary.as_ref().map(|s| (s.role, s.view, s.commit));
        node.refresh();
        let after = node.summary.as_ref().map(|s| (s.role, s.view, s.commit));
        if before != after
            && let Some((role, view, commit)) = after
        {
            let text = format!("{} {role:?} view {view} commit {commit}", node.name());
            self.line(text);
        }
    }

    /// The invariants over every node taking part.
    pub fn states(&self) -> Vec<NodeState<'_>> {
        states_of(&self.nodes)
    }

    /// Checks the invariants after a step.
    pub fn check(&mut self) {
        if self.failure.is_some() {
            return;
        }
        let result = {
            let states = states_of(&self.nodes);
            self.checker.step(&states)
        };
        if let Err(violation) = result {
            self.fail(violation);
        }
        for node in &mut self.nodes {
            node.changed_from = SeqNo(node.disk.len() as u64 + 1);
        }
    }

    /// Sends `request` to node `index` and waits (running the world) for the answer.
    pub fn call(&mut self, index: usize, request: Request, within_ms: u64) -> Option<Response> {
        let session = self.client.open(index, Pending::Reply);
        self.request(index, session, request);
        let deadline = self.now_ms + within_ms;
        self.run_until(deadline, |w| w.client.replies.contains_key(&session));
        self.client.replies.remove(&session)
    }

    /// The running primary with the highest view, if any.
    pub fn primary(&self) -> Option<usize> {
        self.nodes
            .iter()
            .filter(|n| n.is_running() && n.role() == cloister_check::invariants::Role::Primary)
            .max_by_key(|n| n.summary.as_ref().map(|s| s.view))
            .map(|n| n.index)
    }
}
