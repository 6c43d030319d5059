//! A deterministic little world of `Raft` nodes for tests: a network of FIFO links that can be
//! cut, a disk per node, a clock per node, and the Raft invariants (spec §5.8, TESTING.md)
//! checked after every step. `run_script` drives it from the scenario language documented in
//! tests/scenarios/README.md; the property tests drive it directly.
//!
//! Shared by two test binaries, each of which uses only part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;

use cloister_raft::{
    Entry, EntryKind, Input, Leadership, Membership, Message, Output, Raft, RaftConfig, Retirement,
};
use cloister_types::{NodeId, SeqNo, TxId, View};

/// Messages queued on one directed link before further sends on it are dropped.
const LINK_QUEUE_MAX: usize = 10_000;
/// Delivery rounds `dispatch_all` runs before declaring a message storm.
const DISPATCH_ROUNDS_MAX: usize = 1_000;

pub type Outcome = Result<(), String>;

/// One simulated node: consensus plus the driver's state (clock, disk).
#[derive(Debug)]
pub struct SimNode {
    pub raft: Raft,
    pub clock_ms: u64,
    /// What the host wrote, in order (a mirror of the ledger).
    pub disk: Vec<Entry>,
    /// Persistence reported so far (a seqno on `disk`).
    pub reported: usize,
    pub auto_persist: bool,
    pub commit: SeqNo,
    pub view: View,
}

/// The world: nodes by name, directed links, and what the invariants remember.
#[derive(Debug)]
pub struct World {
    pub config: RaftConfig,
    pub seed: u64,
    pub nodes: BTreeMap<String, SimNode>,
    names: BTreeMap<NodeId, String>,
    links: BTreeMap<(String, String), VecDeque<Message>>,
    down: BTreeSet<(String, String)>,
    /// ElectionSafety: the one primary of each view.
    leaders: BTreeMap<View, String>,
    /// The longest committed prefix any node has reported (entry of seqno s at s − 1).
    committed: Vec<Entry>,
    pub dropped_messages: u64,
}

impl World {
    pub fn new(config: RaftConfig, seed: u64) -> World {
        World {
            config,
            seed,
            nodes: BTreeMap::new(),
            names: BTreeMap::new(),
            links: BTreeMap::new(),
            down: BTreeSet::new(),
            leaders: BTreeMap::new(),
            committed: Vec::new(),
            dropped_messages: 0,
        }
    }

    /// The NodeId of a node name: numeric names sort like numbers.
    pub fn node_id(name: &str) -> NodeId {
        let mut digest = [0u8; 32];
        match name.parse::<u64>() {
            Ok(n) => digest[24..].copy_from_slice(&n.to_be_bytes()),
            Err(_) => {
                for (slot, byte) in digest.iter_mut().zip(name.bytes()) {
                    *slot = byte;
                }
            }
        }
        NodeId::from_digest(&digest)
    }

    pub fn add_node(&mut self, name: &str) -> Outcome {
        if self.nodes.contains_key(name) {
            return Err(format!("node {name} already exists"));
        }
        let id = World::node_id(name);
        let seed = self
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(self.nodes.len() as u64);
        let mut raft = Raft::new(id.clone(), self.config.clone(), seed);
        raft.join_as_backup(None).map_err(|e| e.to_string())?;
        raft.handle(Input::Tick { now_ms: 0 })
            .map_err(|e| e.to_string())?;
        self.names.insert(id, name.to_owned());
        self.nodes.insert(
            name.to_owned(),
            SimNode {
                raft,
                clock_ms: 0,
                disk: Vec::new(),
                reported: 0,
                auto_persist: true,
                commit: SeqNo(0),
                view: View(0),
            },
        );
        Ok(())
    }

    /// `start_node`: bootstrap `name` as primary of `members` and replicate the genesis
    /// reconfiguration and its signature.
    pub fn start_node(&mut self, name: &str, members: &[String]) -> Outcome {
        let set: BTreeSet<NodeId> = members.iter().map(|m| World::node_id(m)).collect();
        self.node_mut(name)?
            .raft
            .bootstrap_primary(set.clone())
            .map_err(|e| format!("bootstrap refused: {e}"))?;
        self.drain(name)?;
        self.append(name, EntryKind::Reconfiguration(set), 1, 0)?;
        self.append(name, EntryKind::Signature, 1, 0)
    }

    /// The primary `name` appends `count` entries of `kind` in its view.
    pub fn append(&mut self, name: &str, kind: EntryKind, count: u64, bytes: usize) -> Outcome {
        let node = self.node(name)?;
        let view = node.raft.view();
        let first = node.raft.last_seqno().0 + 1;
        let entries: Vec<Entry> = (first..first + count)
            .map(|seqno| {
                let data = if bytes == 0 {
                    format!("{name}@{}.{seqno}", view.0).into_bytes()
                } else {
                    vec![b'x'; bytes]
                };
                Entry::new(view, SeqNo(seqno), kind.clone(), data)
            })
            .collect();
        self.input(name, Input::Replicate { entries })
    }

    pub fn tick(&mut self, name: &str, ms: u64) -> Outcome {
        let node = self.node_mut(name)?;
        node.clock_ms += ms;
        let now_ms = node.clock_ms;
        self.input(name, Input::Tick { now_ms })
    }

    pub fn tick_all(&mut self, ms: u64) -> Outcome {
        for name in self.names_sorted() {
            self.tick(&name, ms)?;
        }
        Ok(())
    }

    /// Reports persistence of `name`'s disk up to `seqno` (all of it by default).
    pub fn persist(&mut self, name: &str, seqno: Option<u64>) -> Outcome {
        let node = self.node_mut(name)?;
        let upto = seqno.map_or(node.disk.len(), |s| s as usize);
        let Some(entry) = upto.checked_sub(1).and_then(|i| node.disk.get(i)) else {
            return Err(format!("{name} has nothing written at seqno {upto}"));
        };
        let up_to = entry.txid;
        node.reported = node.reported.max(upto);
        self.input(name, Input::Persisted { up_to })
    }

    /// Feeds one input to a node and processes everything it produces.
    pub fn input(&mut self, name: &str, input: Input) -> Outcome {
        self.node_mut(name)?
            .raft
            .handle(input)
            .map_err(|e| format!("{name} refused: {e}"))?;
        self.drain(name)
    }

    pub fn connect(&mut self, a: &str, b: &str) {
        self.down.remove(&(a.to_owned(), b.to_owned()));
        self.down.remove(&(b.to_owned(), a.to_owned()));
    }

    pub fn disconnect(&mut self, a: &str, b: &str) {
        self.disconnect_one_way(a, b);
        self.disconnect_one_way(b, a);
    }

    pub fn disconnect_one_way(&mut self, from: &str, to: &str) {
        self.down.insert((from.to_owned(), to.to_owned()));
    }

    pub fn is_down(&self, from: &str, to: &str) -> bool {
        self.down.contains(&(from.to_owned(), to.to_owned()))
    }

    pub fn heal(&mut self) {
        self.down.clear();
    }

    /// Delivers the message at position `index` of the link `from → to`.
    pub fn deliver_at(&mut self, from: &str, to: &str, index: usize) -> Outcome {
        let key = (from.to_owned(), to.to_owned());
        let Some(message) = self.links.get_mut(&key).and_then(|q| q.remove(index)) else {
            return Err(format!("no message #{index} queued from {from} to {to}"));
        };
        if self.is_down(from, to) {
            self.dropped_messages += 1;
            return Ok(());
        }
        let from_id = World::node_id(from);
        self.input(
            to,
            Input::Message {
                from: from_id,
                message,
            },
        )
    }

    /// Delivers every message queued right now (responses wait for the next round).
    pub fn dispatch_round(&mut self, only_from: Option<&str>) -> Outcome {
        let queued: Vec<((String, String), usize)> = self
            .links
            .iter()
            .filter(|((from, _), _)| only_from.is_none_or(|f| f == from))
            .map(|(key, q)| (key.clone(), q.len()))
            .collect();
        for ((from, to), count) in queued {
            for _ in 0..count {
                if self.pending(&from, &to) == 0 {
                    break;
                }
                self.deliver_at(&from, &to, 0)?;
            }
        }
        Ok(())
    }

    /// Delivers until no message is queued.
    pub fn dispatch_all(&mut self) -> Outcome {
        for _ in 0..DISPATCH_ROUNDS_MAX {
            if self.links.values().all(VecDeque::is_empty) {
                return Ok(());
            }
            self.dispatch_round(None)?;
        }
        Err("messages still queued after 1000 delivery rounds".to_owned())
    }

    pub fn pending(&self, from: &str, to: &str) -> usize {
        self.links
            .get(&(from.to_owned(), to.to_owned()))
            .map_or(0, VecDeque::len)
    }

    pub fn queued(&self, from: &str, to: &str) -> Vec<&Message> {
        self.links
            .get(&(from.to_owned(), to.to_owned()))
            .map(|q| q.iter().collect())
            .unwrap_or_default()
    }

    pub fn duplicate(&mut self, from: &str, to: &str) -> Outcome {
        let queue = self
            .links
            .get_mut(&(from.to_owned(), to.to_owned()))
            .ok_or_else(|| format!("nothing queued from {from} to {to}"))?;
        let head = queue
            .front()
            .cloned()
            .ok_or_else(|| format!("nothing queued from {from} to {to}"))?;
        queue.push_back(head);
        Ok(())
    }

    /// Drops queued messages on the links selected by `select(from, to)`.
    pub fn drop_where(&mut self, select: impl Fn(&str, &str) -> bool) {
        for ((from, to), queue) in self.links.iter_mut() {
            if select(from, to) {
                self.dropped_messages += queue.len() as u64;
                queue.clear();
            }
        }
    }

    pub fn drop_first(&mut self, from: &str, to: &str, count: usize) -> Outcome {
        for _ in 0..count {
            let queue = self.links.get_mut(&(from.to_owned(), to.to_owned()));
            if queue.and_then(VecDeque::pop_front).is_none() {
                return Err(format!(
                    "fewer than {count} messages queued from {from} to {to}"
                ));
            }
        }
        Ok(())
    }

    pub fn node(&self, name: &str) -> Result<&SimNode, String> {
        self.nodes
            .get(name)
            .ok_or_else(|| format!("unknown node {name}"))
    }

    pub fn node_mut(&mut self, name: &str) -> Result<&mut SimNode, String> {
        self.nodes
            .get_mut(name)
            .ok_or_else(|| format!("unknown node {name}"))
    }

    pub fn names_sorted(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }

    pub fn name_of(&self, id: &NodeId) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("<unknown {}>", &id.as_str()[..8]))
    }

    /// A one-line summary of a node, for failures and `state_all`.
    pub fn describe(&self, name: &str) -> String {
        let Ok(node) = self.node(name) else {
            return format!("{name}: unknown");
        };
        let raft = &node.raft;
        let log: Vec<String> = (1..=raft.last_seqno().0)
            .map(|s| {
                raft.entry(SeqNo(s)).map_or("?".to_owned(), |e| {
                    format!("{}.{}{}", e.view().0, s, kind_mark(&e.kind))
                })
            })
            .collect();
        format!(
            "{name}: {:?} view {} leader {} commit {} last {} committable {:?} {} log [{}]",
            raft.leadership(),
            raft.view().0,
            raft.leader().map_or("-".to_owned(), |l| self.name_of(l)),
            raft.commit_seqno().0,
            raft.last_seqno().0,
            raft.committable_seqnos()
                .iter()
                .map(|s| s.0)
                .collect::<Vec<_>>(),
            membership_name(raft.membership()),
            log.join(" ")
        )
    }

    pub fn describe_all(&self) -> String {
        let mut text = String::new();
        for name in self.names_sorted() {
            let _ = writeln!(text, "  {}", self.describe(&name));
        }
        text
    }

    /// Processes a node's outputs until it has none, persisting automatically if enabled.
    fn drain(&mut self, name: &str) -> Outcome {
        loop {
            while let Some(output) = self.node_mut(name)?.raft.poll_output() {
                self.process(name, output)?;
            }
            let node = self.node_mut(name)?;
            if !node.auto_persist || node.reported >= node.disk.len() {
                break;
            }
            node.reported = node.disk.len();
            let up_to = node.disk[node.disk.len() - 1].txid;
            node.raft
                .handle(Input::Persisted { up_to })
                .map_err(|e| e.to_string())?;
        }
        self.check_node(name)
    }

    fn process(&mut self, name: &str, output: Output) -> Outcome {
        match output {
            Output::Send { to, message } => {
                let to = self.name_of(&to);
                if !self.nodes.contains_key(&to) || self.is_down(name, &to) {
                    self.dropped_messages += 1;
                    return Ok(());
                }
                let queue = self.links.entry((name.to_owned(), to)).or_default();
                if queue.len() < LINK_QUEUE_MAX {
                    queue.push_back(message);
                }
                Ok(())
            }
            Output::Persist { entries } => self.persist_entries(name, entries),
            Output::Truncate { after } => {
                let node = self.node_mut(name)?;
                if after < node.commit {
                    return Err(format!(
                        "{name} truncated after {} below its commit {}",
                        after.0, node.commit.0
                    ));
                }
                node.disk.truncate(after.0 as usize);
                node.reported = node.reported.min(after.0 as usize);
                Ok(())
            }
            Output::Commit { up_to } => self.on_commit(name, up_to),
            Output::BecameLeader { view } => self.on_leader(name, view),
            Output::BecameFollower { .. } | Output::Voted { .. } => Ok(()),
        }
    }

    fn persist_entries(&mut self, name: &str, entries: Vec<Entry>) -> Outcome {
        let node = self.node_mut(name)?;
        for entry in entries {
            let expected = node.disk.len() as u64 + 1;
            if entry.seqno().0 != expected {
                return Err(format!(
                    "{name} asked to persist seqno {} after {}",
                    entry.seqno().0,
                    expected - 1
                ));
            }
            node.disk.push(entry);
        }
        Ok(())
    }

    fn on_commit(&mut self, name: &str, up_to: SeqNo) -> Outcome {
        let node = self.node(name)?;
        if up_to <= node.commit {
            return Err(format!(
                "{name} commit went from {} to {}",
                node.commit.0, up_to.0
            ));
        }
        let entry = node
            .raft
            .entry(up_to)
            .ok_or_else(|| format!("{name} committed {} which it does not hold", up_to.0))?;
        if entry.kind != EntryKind::Signature {
            return Err(format!(
                "{name} committed {} which is not a signature",
                up_to.0
            ));
        }
        if node.raft.is_primary() && entry.view() != node.raft.view() {
            return Err(format!(
                "primary {name} in view {} committed signature {}.{} of an older view",
                node.raft.view().0,
                entry.view().0,
                up_to.0
            ));
        }
        let prefix: Vec<Entry> = (1..=up_to.0)
            .filter_map(|s| node.raft.entry(SeqNo(s)).cloned())
            .collect();
        self.merge_committed(name, prefix)?;
        self.node_mut(name)?.commit = up_to;
        Ok(())
    }

    fn merge_committed(&mut self, name: &str, prefix: Vec<Entry>) -> Outcome {
        for (i, entry) in prefix.into_iter().enumerate() {
            match self.committed.get(i) {
                Some(known) if *known != entry => {
                    return Err(format!(
                        "{name} committed {:?} at seqno {} where {:?} was committed before",
                        entry.txid,
                        i + 1,
                        known.txid
                    ));
                }
                Some(_) => {}
                None => self.committed.push(entry),
            }
        }
        Ok(())
    }

    fn on_leader(&mut self, name: &str, view: View) -> Outcome {
        if let Some(other) = self.leaders.get(&view) {
            if other != name {
                return Err(format!(
                    "ElectionSafety: {name} and {other} both primary in view {}",
                    view.0
                ));
            }
        }
        self.leaders.insert(view, name.to_owned());
        // LeaderCompleteness: a new primary holds every committed entry.
        let raft = &self.node(name)?.raft;
        for (i, entry) in self.committed.iter().enumerate() {
            if raft.entry(SeqNo(i as u64 + 1)) != Some(entry) {
                return Err(format!(
                    "LeaderCompleteness: {name}, primary in view {}, lacks committed {:?}",
                    view.0, entry.txid
                ));
            }
        }
        Ok(())
    }

    /// Per-node invariants after each step.
    fn check_node(&mut self, name: &str) -> Outcome {
        let node = self.node(name)?;
        let raft = &node.raft;
        if raft.view() < node.view {
            return Err(format!(
                "{name} view went back from {} to {}",
                node.view.0,
                raft.view().0
            ));
        }
        if raft.commit_seqno() != node.commit {
            return Err(format!(
                "{name} reports commit {} but announced {}",
                raft.commit_seqno().0,
                node.commit.0
            ));
        }
        if raft.commit_seqno() > raft.last_seqno() || raft.persisted_seqno() > raft.last_seqno() {
            return Err(format!("{name} commit or persisted beyond its log"));
        }
        for (i, entry) in self
            .committed
            .iter()
            .take(raft.commit_seqno().0 as usize)
            .enumerate()
        {
            if raft.entry(SeqNo(i as u64 + 1)) != Some(entry) {
                return Err(format!("{name} changed committed entry {:?}", entry.txid));
            }
        }
        let view = raft.view();
        self.node_mut(name)?.view = view;
        Ok(())
    }

    /// LogMatching between every pair of nodes: where two logs hold an entry with the same
    /// TxID, they are identical up to it.
    pub fn check_log_matching(&self) -> Outcome {
        let names = self.names_sorted();
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                let (ra, rb) = (&self.node(a)?.raft, &self.node(b)?.raft);
                let shortest = ra.last_seqno().min(rb.last_seqno()).0;
                let Some(agree) = (1..=shortest)
                    .rev()
                    .find(|s| ra.view_at(SeqNo(*s)) == rb.view_at(SeqNo(*s)))
                else {
                    continue;
                };
                for s in 1..=agree {
                    if ra.entry(SeqNo(s)) != rb.entry(SeqNo(s)) {
                        return Err(format!(
                            "LogMatching: {a} and {b} agree on {}.{agree} but differ at {s}",
                            ra.view_at(SeqNo(agree)).unwrap_or(View(0)).0
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The same view, last seqno, commit seqno and log on every named node.
    pub fn check_state_sync(&self, names: &[String]) -> Outcome {
        let Some((first, rest)) = names.split_first() else {
            return Ok(());
        };
        let reference = &self.node(first)?.raft;
        for name in rest {
            let raft = &self.node(name)?.raft;
            let same = raft.view() == reference.view()
                && raft.last_seqno() == reference.last_seqno()
                && raft.commit_seqno() == reference.commit_seqno()
                && (1..=raft.last_seqno().0)
                    .all(|s| raft.entry(SeqNo(s)) == reference.entry(SeqNo(s)));
            if !same {
                return Err(format!(
                    "{first} and {name} are not in sync:\n  {}\n  {}",
                    self.describe(first),
                    self.describe(name)
                ));
            }
        }
        Ok(())
    }

    pub fn committed_len(&self) -> usize {
        self.committed.len()
    }
}

pub fn membership_name(membership: Membership) -> &'static str {
    match membership {
        Membership::Active => "Active",
        Membership::Retired(retirement) => retirement.name(),
    }
}

fn kind_mark(kind: &EntryKind) -> &'static str {
    match kind {
        EntryKind::Normal => "",
        EntryKind::Signature => "s",
        EntryKind::Reconfiguration(_) => "r",
        EntryKind::RetiredCommitted(_) => "c",
    }
}

fn leadership_from(text: &str) -> Result<Leadership, String> {
    Ok(match text {
        "Follower" => Leadership::Follower,
        "PreVoteCandidate" => Leadership::PreVoteCandidate,
        "Candidate" => Leadership::Candidate,
        "Leader" => Leadership::Leader,
        "None" => Leadership::None,
        other => return Err(format!("unknown leadership state {other}")),
    })
}

fn number(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}

fn flag(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("{other:?} is not true or false")),
    }
}

/// Runs a scenario script; the error names the failing line and shows every node's state.
pub fn run_script(text: &str) -> Outcome {
    let mut world = World::new(RaftConfig::default(), 0);
    for (number, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let step = run_command(&mut world, &words).and_then(|()| world.check_log_matching());
        if let Err(error) = step {
            return Err(format!(
                "line {}: `{line}`: {error}\n{}",
                number + 1,
                world.describe_all()
            ));
        }
    }
    Ok(())
}

fn run_command(world: &mut World, words: &[&str]) -> Outcome {
    let (command, args) = words.split_first().ok_or("empty command")?;
    let arg = |i: usize| -> Result<&str, String> {
        args.get(i)
            .copied()
            .ok_or_else(|| format!("{command} needs argument #{}", i + 1))
    };
    match *command {
        "config" => configure(world, args),
        "seed" => {
            world.seed = number(arg(0)?)?;
            Ok(())
        }
        "nodes" => args.iter().try_for_each(|name| world.add_node(name)),
        "add_node" => world.add_node(arg(0)?),
        "start_node" => {
            let members: Vec<String> = if args.len() > 1 {
                args[1..].iter().map(|s| (*s).to_owned()).collect()
            } else {
                world.names_sorted()
            };
            world.start_node(arg(0)?, &members)
        }
        "connect" => {
            world.connect(arg(0)?, arg(1)?);
            Ok(())
        }
        "disconnect" => {
            world.disconnect(arg(0)?, arg(1)?);
            Ok(())
        }
        "disconnect_one_way" => {
            world.disconnect_one_way(arg(0)?, arg(1)?);
            Ok(())
        }
        "isolate" => {
            let name = arg(0)?;
            for other in world.names_sorted() {
                if other != name {
                    world.disconnect(name, &other);
                }
            }
            Ok(())
        }
        "heal" => {
            world.heal();
            Ok(())
        }
        "tick" | "periodic_one" => world.tick(arg(0)?, number(arg(1)?)?),
        "tick_all" | "periodic_all" => world.tick_all(number(arg(0)?)?),
        "dispatch_all" => world.dispatch_all(),
        "heartbeat_all" => {
            let rounds = args.first().map_or(Ok(1), |r| number(r))?;
            for _ in 0..rounds {
                world.tick_all(world.config.message_timeout_ms)?;
                world.dispatch_all()?;
            }
            Ok(())
        }
        "dispatch_round" => world.dispatch_round(None),
        "dispatch_one" => world.dispatch_round(Some(arg(0)?)),
        "deliver" => {
            let count = args.get(2).map_or(Ok(1), |c| number(c))?;
            (0..count).try_for_each(|_| world.deliver_at(arg(0)?, arg(1)?, 0))
        }
        "deliver_nth" => world.deliver_at(arg(0)?, arg(1)?, number(arg(2)?)? as usize),
        "duplicate" => world.duplicate(arg(0)?, arg(1)?),
        "drop" => {
            let count = args.get(2).map_or(Ok(1), |c| number(c))?;
            world.drop_first(arg(0)?, arg(1)?, count as usize)
        }
        "drop_pending" => {
            let name = arg(0)?;
            world.drop_where(|from, _| from == name);
            Ok(())
        }
        "drop_pending_to" => {
            let name = arg(0)?;
            world.drop_where(|_, to| to == name);
            Ok(())
        }
        "replicate" | "emit_signature" | "reconfigure" | "retired_committed" => {
            append_command(world, command, args)
        }
        "expect_refused" => match append_command(world, arg(0)?, &args[1..]) {
            Ok(()) => Err(format!("{} was accepted", args.join(" "))),
            Err(_) => Ok(()),
        },
        "manual_persist" => {
            world.node_mut(arg(0)?)?.auto_persist = false;
            Ok(())
        }
        "auto_persist" => {
            world.node_mut(arg(0)?)?.auto_persist = true;
            world.persist(arg(0)?, None)
        }
        "persist" => {
            let seqno = args.get(1).map(|s| number(s)).transpose()?;
            world.persist(arg(0)?, seqno)
        }
        "state_all" => {
            println!("{}", world.describe_all());
            Ok(())
        }
        "assert_state_sync" => {
            let names: Vec<String> = if args.is_empty() {
                world.names_sorted()
            } else {
                args.iter().map(|s| (*s).to_owned()).collect()
            };
            world.check_state_sync(&names)
        }
        assertion if assertion.starts_with("assert_") => assert_command(world, assertion, args),
        other => Err(format!("unknown command {other}")),
    }
}

fn configure(world: &mut World, args: &[&str]) -> Outcome {
    for setting in args {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("{setting:?} is not key=value"))?;
        match key {
            "election_timeout_ms" => world.config.election_timeout_ms = number(value)?,
            "message_timeout_ms" => world.config.message_timeout_ms = number(value)?,
            "append_entries_bytes_max" => {
                world.config.append_entries_bytes_max = number(value)? as usize;
            }
            "max_uncommitted_tx_count" => world.config.max_uncommitted_tx_count = number(value)?,
            "pre_vote" => world.config.pre_vote_enabled = flag(value)?,
            other => return Err(format!("unknown setting {other}")),
        }
    }
    Ok(())
}

fn append_command(world: &mut World, command: &str, args: &[&str]) -> Outcome {
    let name = args
        .first()
        .ok_or_else(|| format!("{command} needs a node"))?;
    match command {
        "replicate" => {
            if args.get(1) != Some(&"normal") {
                return Err("usage: replicate <node> normal <count> [bytes=<n>]".to_owned());
            }
            let count = number(args.get(2).ok_or("replicate needs a count")?)?;
            let bytes = match args.get(3) {
                Some(size) => number(size.strip_prefix("bytes=").ok_or("expected bytes=<n>")?)?,
                None => 0,
            };
            world.append(name, EntryKind::Normal, count, bytes as usize)
        }
        "emit_signature" => world.append(name, EntryKind::Signature, 1, 0),
        "reconfigure" => {
            let nodes = args[1..].iter().map(|n| World::node_id(n)).collect();
            world.append(name, EntryKind::Reconfiguration(nodes), 1, 0)
        }
        "retired_committed" => {
            let node = World::node_id(args.get(1).ok_or("retired_committed needs a node")?);
            world.append(name, EntryKind::RetiredCommitted(node), 1, 0)
        }
        other => Err(format!("{other} cannot be refused")),
    }
}

fn assert_command(world: &World, assertion: &str, args: &[&str]) -> Outcome {
    let arg = |i: usize| -> Result<&str, String> {
        args.get(i)
            .copied()
            .ok_or_else(|| format!("{assertion} needs argument #{}", i + 1))
    };
    let raft = &world.node(arg(0)?)?.raft;
    let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(what) };
    match assertion {
        "assert_is_primary" => check(raft.is_primary(), format!("{:?}", raft.leadership())),
        "assert_is_backup" => check(raft.is_backup(), format!("{:?}", raft.leadership())),
        "assert_state" => {
            let expected = leadership_from(arg(1)?)?;
            check(
                raft.leadership() == expected,
                format!("{:?}", raft.leadership()),
            )
        }
        "assert_leader" => {
            let actual = raft
                .leader()
                .map_or("none".to_owned(), |l| world.name_of(l));
            check(actual == arg(1)?, format!("leader is {actual}"))
        }
        "assert_voted_for" => {
            let actual = raft
                .voted_for()
                .map_or("none".to_owned(), |l| world.name_of(l));
            check(actual == arg(1)?, format!("voted for {actual}"))
        }
        "assert_view" => check(
            raft.view().0 == number(arg(1)?)?,
            format!("view is {}", raft.view().0),
        ),
        "assert_commit_idx" => check(
            raft.commit_seqno().0 == number(arg(1)?)?,
            format!("commit is {}", raft.commit_seqno().0),
        ),
        "assert_last_idx" => check(
            raft.last_seqno().0 == number(arg(1)?)?,
            format!("last is {}", raft.last_seqno().0),
        ),
        "assert_persisted" => check(
            raft.persisted_seqno().0 == number(arg(1)?)?,
            format!("persisted is {}", raft.persisted_seqno().0),
        ),
        "assert_committable" => {
            let actual: Vec<String> = raft
                .committable_seqnos()
                .iter()
                .map(|s| s.0.to_string())
                .collect();
            let actual = if actual.is_empty() {
                "-".to_owned()
            } else {
                actual.join(",")
            };
            check(actual == arg(1)?, format!("committable is {actual}"))
        }
        "assert_membership" => {
            let actual = membership_name(raft.membership());
            check(actual == arg(1)?, format!("membership is {actual}"))
        }
        "assert_configs" => {
            let actual: Vec<String> = raft
                .configurations()
                .iter()
                .map(|c| {
                    let names: Vec<String> = c.nodes.iter().map(|n| world.name_of(n)).collect();
                    names.join(",")
                })
                .collect();
            let actual = actual.join(" | ");
            let expected = args[1..].join(" ");
            check(actual == expected, format!("configurations are {actual}"))
        }
        "assert_view_at" => {
            let view = raft.view_at(SeqNo(number(arg(1)?)?)).map(|v| v.0);
            check(
                view == Some(number(arg(2)?)?),
                format!("view there is {view:?}"),
            )
        }
        "assert_txid" => {
            let expected: TxId = arg(1)?.parse().map_err(|e| format!("{e}"))?;
            let actual = raft.entry(expected.seqno).map(|e| e.txid);
            check(
                actual == Some(expected),
                format!("entry there is {actual:?}"),
            )
        }
        "assert_pending" => {
            let actual = world.pending(arg(0)?, arg(1)?);
            check(
                actual as u64 == number(arg(2)?)?,
                format!("{actual} queued"),
            )
        }
        "assert_queued" | "assert_not_queued" => {
            let queued = world.queued(arg(0)?, arg(1)?);
            let found = queued.iter().any(|m| m.type_name() == arg(2).unwrap_or(""));
            let names: Vec<&str> = queued.iter().map(|m| m.type_name()).collect();
            check(
                found == (assertion == "assert_queued"),
                format!("queued: {names:?}"),
            )
        }
        "assert_can_replicate" => check(
            raft.can_replicate() == flag(arg(1)?)?,
            format!("can_replicate is {}", raft.can_replicate()),
        ),
        "assert_ticking" => check(
            raft.is_ticking() == flag(arg(1)?)?,
            format!("ticking is {}", raft.is_ticking()),
        ),
        "assert_retired_committed" => check(
            raft.membership() == Membership::Retired(Retirement::RetiredCommitted),
            membership_name(raft.membership()).to_owned(),
        ),
        other => Err(format!("unknown assertion {other}")),
    }
}
