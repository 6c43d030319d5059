//! The faults of the safety phase, drawn tick by tick from the seed's [`FaultPlan`]:
//! partitions (cut or clogged links) that heal after 100–200 ticks, crashes that lose unsynced
//! writes (maybe tearing one) and restart later from the disk (maybe with a flipped bit), and
//! pauses. At most a minority is down at once, so the service can still make progress.

use cloister_check::invariants::{
    Durable, Violation, quorum, restart_keeps_only_intact, restart_remembers,
};
use cloister_node::core::{Input, NodeCore, PersistedState};
use cloister_types::SeqNo;

use crate::config::TICK_MS;
use crate::faults::draw_partition;
use crate::node::Life;
use crate::world::{Event, World};

/// What the chaos is doing now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChaosState {
    /// Faults are drawn until this time.
    pub until_ms: u64,
    /// The active partition heals at this time.
    pub partition_until_ms: Option<u64>,
    pub crashes: u64,
    pub restarts: u64,
    pub pauses: u64,
    pub partitions: u64,
    pub torn: u64,
    pub flips: u64,
    /// Nodes stopped by a disk write error (at most one per run).
    pub write_errors: u64,
}

/// Members' indices (up, paused or down).
fn members(world: &World) -> Vec<usize> {
    world
        .nodes
        .iter()
        .filter(|n| n.is_member())
        .map(|n| n.index)
        .collect()
}

/// One chaos tick.
pub fn chaos_tick(world: &mut World) {
    if world.now_ms >= world.chaos.until_ms {
        return;
    }
    let next = world.now_ms + TICK_MS;
    world.schedule(next, Event::Chaos);
    partitions(world);
    let plan = world.plan.clone();
    if world.rng.chance(plan.crash_per_million) {
        maybe_crash(world, false);
    }
    if world.chaos.write_errors == 0 && world.rng.chance(plan.write_error_per_million) {
        maybe_crash(world, true);
    }
    if world.rng.chance(plan.pause_per_million) {
        let running: Vec<usize> = members(world)
            .into_iter()
            .filter(|i| world.nodes[*i].is_running())
            .collect();
        if !running.is_empty() {
            let pick = running[world.rng.index(running.len())];
            let until_ms = world.now_ms + world.rng.range(100, 2_000);
            world.nodes[pick].life = Life::Paused { until_ms };
            world.chaos.pauses += 1;
            world.schedule(until_ms, Event::Resume { node: pick });
            let text = format!("n{pick} pause until {until_ms}");
            world.line(text);
        }
    }
}

/// Crashes a random node of the primary's configuration (for good if `write_error`: a disk
/// write failed and the node stops), if fewer than a minority of it is already down or stopped
/// (so that the service can still make progress).
fn maybe_crash(world: &mut World, write_error: bool) {
    let Some(configuration) = world
        .primary()
        .and_then(|p| world.nodes[p].summary.as_ref())
        .and_then(|s| s.configurations.last().cloned())
    else {
        return;
    };
    let in_configuration: Vec<usize> = world
        .nodes
        .iter()
        .filter(|n| configuration.contains(&n.id))
        .map(|n| n.index)
        .collect();
    let (alive, out): (Vec<usize>, Vec<usize>) = in_configuration
        .iter()
        .partition(|i| matches!(world.nodes[**i].life, Life::Up | Life::Paused { .. }));
    let tolerated = configuration.len() - quorum(configuration.len());
    if out.len() < tolerated && !alive.is_empty() {
        let pick = alive[world.rng.index(alive.len())];
        if write_error {
            stop_on_write_error(world, pick);
        } else {
            crash(world, pick);
        }
    }
}

/// A write to node `index`'s disk fails: the node stops (CCF's host aborts), losing what was
/// not synced, and is not restarted.
fn stop_on_write_error(world: &mut World, index: usize) {
    crash_process(world, index, false);
    world.nodes[index].life = Life::Stopped;
    world.chaos.write_errors += 1;
    let text = format!("n{index} disk write error: stopped");
    world.line(text);
}

fn partitions(world: &mut World) {
    if let Some(until) = world.chaos.partition_until_ms {
        if world.now_ms >= until {
            world.chaos.partition_until_ms = None;
            let faults = world.net_faults;
            world.network.heal(world.now_ms, &faults, &mut world.rng);
            world.line("partition healed");
        }
        return;
    }
    if !world.rng.chance(world.plan.partition_per_million) {
        return;
    }
    let nodes = members(world);
    if nodes.len() < 2 {
        return;
    }
    let partition = draw_partition(&nodes, &mut world.rng);
    for (from, to) in &partition.cut {
        world.network.cut(*from, *to);
    }
    for (from, to) in &partition.clogged {
        world.network.clog(*from, *to);
    }
    let ticks = world.rng.range(100, 200);
    world.chaos.partition_until_ms = Some(world.now_ms + ticks * TICK_MS);
    world.chaos.partitions += 1;
    let text = format!(
        "partition {} cut {:?} clogged {:?} for {ticks} ticks",
        partition.name, partition.cut, partition.clogged
    );
    world.line(text);
}

/// Node `index` crashes: its process and unsynced writes are gone; it restarts later.
pub fn crash(world: &mut World, index: usize) {
    let tear = world.plan.torn_writes;
    let torn = crash_process(world, index, tear);
    world.chaos.crashes += 1;
    if torn.is_some() {
        world.chaos.torn += 1;
    }
    let kept = world.nodes[index].disk.len();
    let text = format!("n{index} crash kept {kept} torn {torn:?}");
    world.line(text);
    let at = world.now_ms + world.rng.range(200, 3_000);
    world.schedule(at, Event::Restart { node: index });
}

/// The process of node `index` goes away: unsynced writes are lost (the first maybe torn).
fn crash_process(world: &mut World, index: usize, tear: bool) -> Option<SeqNo> {
    let node = &mut world.nodes[index];
    node.core = None;
    node.life = Life::Down;
    node.inbox.clear();
    node.persisted_pending = false;
    let torn = node.disk.crash(tear, &mut world.rng);
    let kept = node.disk.len() as u64;
    node.changed(SeqNo(kept + 1));
    world.network.forget_node(index);
    world.client.forget_node(index);
    torn
}

/// The first seqno from which node `index`'s durable entries are all held, identically and
/// durably, by a quorum of the other members: a bit flip from there on loses nothing the
/// service needs (the node drops what follows the damage). `None` if no such entry.
fn safe_flip_range(world: &World, index: usize) -> Option<(u64, u64)> {
    let node = &world.nodes[index];
    let synced = node.disk.synced().0;
    let logs = node.disk.logs();
    let members = members(world);
    let needed = quorum(members.len());
    let mut first = synced + 1;
    for seqno in (1..=synced).rev() {
        let mine = logs.get(seqno as usize - 1).map(|e| e.chain);
        let holders = members
            .iter()
            .filter(|i| **i != index)
            .filter(|i| {
                let other = &world.nodes[**i].disk;
                other.synced().0 >= seqno
                    && other.logs().get(seqno as usize - 1).map(|e| e.chain) == mine
            })
            .count();
        if holders < needed {
            break;
        }
        first = seqno;
    }
    (first <= synced).then_some((first, synced))
}

/// Node `index` starts again from its disk.
pub fn restart(world: &mut World, index: usize) {
    if world.nodes[index].life != Life::Down {
        return;
    }
    // A flip makes the node refuse its ledger and stop for good: at most one node of the
    // configuration may be lost that way (or by a write error) at a time.
    let others_stopped = world.nodes.iter().any(|n| {
        n.index != index
            && n.life == Life::Stopped
            && world.nodes.iter().any(|m| {
                m.summary
                    .as_ref()
                    .and_then(|s| s.configurations.last())
                    .is_some_and(|c| c.contains(&n.id))
            })
    });
    let flip_at = if world.plan.bit_flips && !others_stopped {
        safe_flip_range(world, index).map(|(low, high)| SeqNo(world.rng.range(low, high)))
    } else {
        None
    };
    let recovered = world.nodes[index].disk.read(flip_at, &mut world.rng);
    let durable = Durable {
        vote_view: recovered.vote.as_ref().map(|(view, _)| *view),
        commit: recovered.committed,
    };
    let damaged = recovered.damaged;
    if flip_at.is_some() {
        world.chaos.flips += 1;
    }
    let Some(directory) = world.nodes[index].directory.clone() else {
        return;
    };
    let secrets = match directory.join_secrets() {
        Ok(secrets) => secrets,
        Err(error) => {
            world.fail(Violation::new(
                "Restart",
                format!("n{index} secrets: {error}"),
            ));
            return;
        }
    };
    let env = crate::setup::env(world, index);
    let restarted = NodeCore::restart(
        env,
        secrets,
        PersistedState {
            entries: recovered.entries,
            committed: recovered.committed,
            vote: recovered.vote,
            snapshot: None,
        },
    );
    let core = match restarted {
        Ok(core) => core,
        Err(error) if damaged.is_some() => {
            // Refusing a damaged ledger is a correct answer: the node stops, as after a disk
            // write error, and stays out (an operator would re-join it as a new node).
            let node = &mut world.nodes[index];
            node.life = Life::Stopped;
            let text = format!("n{index} refuses its damaged ledger and stops: {error}");
            world.line(text);
            return;
        }
        Err(error) => {
            let text = format!("n{index} restart refused: {error}");
            world.line(text);
            world.fail(Violation::new(
                "Restart",
                format!("n{index} could not restart from an undamaged disk: {error}"),
            ));
            return;
        }
    };
    let summary = core.consensus();
    let kept = summary.last;
    let node = &mut world.nodes[index];
    let name = node.name();
    let check = restart_keeps_only_intact(&name, node.disk.logs(), damaged, kept).and_then(|()| {
        let kept_logs = node.disk.logs().get(..kept.seqno.0 as usize).unwrap_or(&[]);
        restart_remembers(
            &name,
            durable,
            kept_logs,
            summary.view,
            summary.commit.seqno,
        )
    });
    node.disk.truncate(kept.seqno);
    node.changed(kept.seqno.next());
    node.core = Some(core);
    node.life = Life::Up;
    node.incarnation += 1;
    world.chaos.restarts += 1;
    let text = format!("{name} restart kept {kept} damaged {damaged:?}");
    world.line(text);
    if let Err(violation) = check {
        world.fail(violation);
        return;
    }
    world.schedule_ticks(index);
    world.drain(index);
    // Everything it kept is on disk already.
    let synced = world.nodes[index].disk.synced();
    world.input(index, Input::Persisted { up_to: synced });
}

/// A paused node runs again and takes what arrived meanwhile.
pub fn resume(world: &mut World, index: usize) {
    if !matches!(world.nodes[index].life, Life::Paused { .. }) {
        return;
    }
    world.nodes[index].life = Life::Up;
    let text = format!("n{index} resume");
    world.line(text);
    let inbox = std::mem::take(&mut world.nodes[index].inbox);
    for (from, bytes) in inbox {
        let from = world.nodes[from].id.clone();
        world.input(index, Input::Peer { from, bytes });
    }
    if std::mem::take(&mut world.nodes[index].persisted_pending) {
        let synced = world.nodes[index].disk.synced();
        world.input(index, Input::Persisted { up_to: synced });
    }
}
