//! Random schedules (ticks, deliveries, reorders, duplicates, drops, partitions, appends,
//! signatures, delayed persistence, reconfigurations) on 3 and 5 nodes. After every step the
//! world checks ElectionSafety, LeaderCompleteness, LogMatching, monotonic commit and view, a
//! committed prefix that never changes and commit only at signatures (of the primary's view on a
//! primary); see tests/scenario/mod.rs. Without reconfiguration, a healed network must then elect
//! a primary and commit a new signature everywhere (liveness).

mod scenario;

use std::collections::BTreeSet;

use cloister_raft::{EntryKind, RaftConfig};
use proptest::prelude::*;
use scenario::{Outcome, World};

#[derive(Clone, Debug)]
enum Op {
    Tick { node: usize, ms: u64 },
    TickAll { ms: u64 },
    Deliver { from: usize, to: usize },
    Reorder { from: usize, to: usize, nth: usize },
    Duplicate { from: usize, to: usize },
    Drop { from: usize, to: usize },
    DispatchAll,
    Cut { a: usize, b: usize },
    Connect { a: usize, b: usize },
    Heal,
    Append { node: usize, count: u64 },
    Sign { node: usize },
    DelayPersistence { node: usize },
    Persist { node: usize },
    Reconfigure { node: usize, members: u8 },
}

fn op(n: usize, reconfigure: bool) -> impl Strategy<Value = Op> {
    let node = 0..n;
    let ms = prop_oneof![
        Just(10u64),
        Just(100),
        Just(1_000),
        Just(2_600),
        Just(5_000)
    ];
    prop_oneof![
        6 => (node.clone(), ms.clone()).prop_map(|(node, ms)| Op::Tick { node, ms }),
        4 => ms.prop_map(|ms| Op::TickAll { ms }),
        12 => (0..n, 0..n).prop_map(|(from, to)| Op::Deliver { from, to }),
        2 => (0..n, 0..n, 1..4usize).prop_map(|(from, to, nth)| Op::Reorder { from, to, nth }),
        1 => (0..n, 0..n).prop_map(|(from, to)| Op::Duplicate { from, to }),
        2 => (0..n, 0..n).prop_map(|(from, to)| Op::Drop { from, to }),
        4 => Just(Op::DispatchAll),
        2 => (0..n, 0..n).prop_map(|(a, b)| Op::Cut { a, b }),
        2 => (0..n, 0..n).prop_map(|(a, b)| Op::Connect { a, b }),
        1 => Just(Op::Heal),
        4 => (0..n, 1..4u64).prop_map(|(node, count)| Op::Append { node, count }),
        4 => (0..n).prop_map(|node| Op::Sign { node }),
        1 => (0..n).prop_map(|node| Op::DelayPersistence { node }),
        2 => (0..n).prop_map(|node| Op::Persist { node }),
        (if reconfigure { 2 } else { 1 }) => (0..n, 1..32u8).prop_map(move |(node, members)| {
            if reconfigure {
                Op::Reconfigure { node, members }
            } else {
                Op::DispatchAll
            }
        }),
    ]
}

struct Run {
    world: World,
    names: Vec<String>,
    /// Nodes once removed from a configuration: identities are never reused (CCF, TLA).
    removed: BTreeSet<usize>,
    latest: BTreeSet<usize>,
}

impl Run {
    fn new(n: usize, members: usize, seed: u64) -> Result<Run, String> {
        let mut world = World::new(RaftConfig::default(), seed);
        let names: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        for name in &names {
            world.add_node(name)?;
        }
        world.start_node("0", &names[..members])?;
        Ok(Run {
            world,
            names,
            removed: BTreeSet::new(),
            latest: (0..members).collect(),
        })
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        let name = |i: usize| self.names[i].clone();
        match *op {
            Op::Tick { node, ms } => self.world.tick(&name(node), ms),
            Op::TickAll { ms } => self.world.tick_all(ms),
            Op::Deliver { from, to } => self.deliver(&name(from), &name(to), 0),
            Op::Reorder { from, to, nth } => self.deliver(&name(from), &name(to), nth),
            Op::Duplicate { from, to } => {
                if self.world.pending(&name(from), &name(to)) > 0 {
                    self.world.duplicate(&name(from), &name(to))?;
                }
                Ok(())
            }
            Op::Drop { from, to } => {
                if self.world.pending(&name(from), &name(to)) > 0 {
                    self.world.drop_first(&name(from), &name(to), 1)?;
                }
                Ok(())
            }
            Op::DispatchAll => self.world.dispatch_all(),
            Op::Cut { a, b } => {
                self.world.disconnect(&name(a), &name(b));
                Ok(())
            }
            Op::Connect { a, b } => {
                self.world.connect(&name(a), &name(b));
                Ok(())
            }
            Op::Heal => {
                self.world.heal();
                Ok(())
            }
            Op::Append { node, count } => self.append(node, EntryKind::Normal, count),
            Op::Sign { node } => self.append(node, EntryKind::Signature, 1),
            Op::DelayPersistence { node } => {
                self.world.node_mut(&name(node))?.auto_persist = false;
                Ok(())
            }
            Op::Persist { node } => {
                let sim = self.world.node_mut(&name(node))?;
                sim.auto_persist = true;
                if sim.disk.is_empty() {
                    return Ok(());
                }
                self.world.persist(&name(node), None)
            }
            Op::Reconfigure { node, members } => self.reconfigure(node, members),
        }
    }

    fn deliver(&mut self, from: &str, to: &str, nth: usize) -> Outcome {
        let pending = self.world.pending(from, to);
        if pending == 0 {
            return Ok(());
        }
        self.world.deliver_at(from, to, nth.min(pending - 1))
    }

    fn append(&mut self, node: usize, kind: EntryKind, count: u64) -> Outcome {
        let name = self.names[node].clone();
        if !self.world.node(&name)?.raft.can_sign() {
            return Ok(());
        }
        self.world.append(&name, kind, count, 0)
    }

    fn reconfigure(&mut self, node: usize, mask: u8) -> Outcome {
        let members: BTreeSet<usize> = (0..self.names.len())
            .filter(|i| mask & (1 << i) != 0)
            .collect();
        if members.is_empty() || members.iter().any(|m| self.removed.contains(m)) {
            return Ok(());
        }
        let name = self.names[node].clone();
        let raft = &self.world.node(&name)?.raft;
        if !raft.can_sign() {
            return Ok(());
        }
        let ids = members
            .iter()
            .map(|m| World::node_id(&self.names[*m]))
            .collect();
        self.world
            .append(&name, EntryKind::Reconfiguration(ids), 1, 0)?;
        // Removal is final once ordered, even if this entry is later rolled back: never re-add.
        self.removed.extend(self.latest.difference(&members));
        self.latest = members;
        Ok(())
    }

    /// Heals everything and runs heartbeats: a primary must emerge and commit a new signature on
    /// every node.
    fn check_liveness(&mut self) -> Outcome {
        self.world.heal();
        for name in self.names.clone() {
            let sim = self.world.node_mut(&name)?;
            sim.auto_persist = true;
            if !sim.disk.is_empty() {
                self.world.persist(&name, None)?;
            }
        }
        self.world.dispatch_all()?;
        let mut signed: Option<(String, u64)> = None;
        for _ in 0..1_000 {
            self.world.tick_all(100)?;
            self.world.dispatch_all()?;
            self.world.check_log_matching()?;
            let primary = self
                .names
                .iter()
                .find(|n| self.world.node(n).is_ok_and(|s| s.raft.can_sign()))
                .cloned();
            match (&signed, primary) {
                (None, Some(primary)) => {
                    self.world.append(&primary, EntryKind::Signature, 1, 0)?;
                    let seqno = self.world.node(&primary)?.raft.last_seqno().0;
                    signed = Some((primary, seqno));
                }
                (Some((primary, seqno)), _) => {
                    let view = self.world.node(primary)?.raft.view();
                    let everyone = self.names.iter().all(|n| {
                        self.world.node(n).is_ok_and(|s| {
                            s.raft.commit_seqno().0 >= *seqno && s.raft.view() == view
                        })
                    });
                    if everyone {
                        return Ok(());
                    }
                    if !self.world.node(primary)?.raft.is_primary() {
                        signed = None; // lost leadership before committing: sign again
                    }
                }
                (None, None) => {}
            }
        }
        Err(format!(
            "no convergence after 100 s healed:\n{}",
            self.world.describe_all()
        ))
    }
}

fn run(n: usize, members: usize, seed: u64, ops: &[Op], liveness: bool) -> Outcome {
    let mut run = Run::new(n, members, seed)?;
    for (step, op) in ops.iter().enumerate() {
        run.apply(op)
            .and_then(|()| run.world.check_log_matching())
            .map_err(|e| format!("step {step} {op:?}: {e}\n{}", run.world.describe_all()))?;
    }
    if liveness {
        run.check_liveness()?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn three_nodes_stay_safe_and_recover(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(3, false), 1..200),
    ) {
        run(3, 3, seed, &ops, true).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn five_nodes_stay_safe_and_recover(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(5, false), 1..200),
    ) {
        run(5, 5, seed, &ops, true).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn reconfigurations_stay_safe(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(5, true), 1..250),
    ) {
        run(5, 3, seed, &ops, false).map_err(TestCaseError::fail)?;
    }
}
