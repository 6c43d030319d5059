//! The liveness phase (TESTING.md): heal everything, then the service must elect a primary within
//! 10 election timeouts, commit a new write and converge — every node of the configuration at
//! the same commit with the same committed prefix — within 30 s; finally every acknowledged
//! write's status is asked for and every committed write must read back.

use std::collections::BTreeMap;

use cloister_check::invariants::{Violation, check_status, no_lost_writes};
use cloister_types::TxId;

use crate::config::{CONVERGE_MS, ELECTION_TIMEOUT_MS, ELECTION_TIMEOUTS_TO_ELECT};
use crate::network::NetworkFaults;
use crate::node::Life;
use crate::requests;
use crate::world::World;

pub const LIVENESS: &str = "Liveness";

/// Runs the phase; a failure is recorded in the world.
pub fn run(world: &mut World) {
    heal(world);
    let start = world.now_ms;
    let elect_by = start + ELECTION_TIMEOUTS_TO_ELECT * ELECTION_TIMEOUT_MS;
    if !world.run_until(elect_by, |w| recognised_primary(w).is_some()) {
        fail(
            world,
            "no primary recognised by a quorum within 10 election timeouts",
        );
        return;
    }
    let converge_by = start + CONVERGE_MS;
    loop {
        let Some(marker) = marker_write(world, converge_by) else {
            fail(world, "no new write was committed within 30 s of healing");
            return;
        };
        let text = format!("liveness: marker write {marker}");
        world.line(text);
        // A marker rolled back by a view change is written again.
        let settled = world.run_until(converge_by, |w| converged(w, marker) || lost(w, marker));
        if settled && converged(world, marker) {
            break;
        }
        if !settled || world.failure.is_some() {
            let detail = format!("the nodes did not converge on {marker} within 30 s of healing");
            fail(world, &detail);
            return;
        }
    }
    world.line("liveness: converged");
    read_back(world);
}

fn fail(world: &mut World, detail: &str) {
    if world.failure.is_none() {
        world.fail(Violation::new(LIVENESS, detail));
    }
}

/// Stops the chaos and the workload, heals the network, resumes and restarts every node.
fn heal(world: &mut World) {
    world.workload_on = false;
    world.chaos.until_ms = world.now_ms;
    world.chaos.partition_until_ms = None;
    world.net_faults = NetworkFaults::HEALTHY;
    let faults = world.net_faults;
    world.network.heal(world.now_ms, &faults, &mut world.rng);
    for index in 0..world.nodes.len() {
        match world.nodes[index].life {
            Life::Paused { .. } => crate::chaos::resume(world, index),
            Life::Down => crate::chaos::restart(world, index),
            _ => {}
        }
    }
    world.line("liveness: healed");
}

/// A running primary whose view and leadership a quorum of its configuration acknowledges.
pub fn recognised_primary(world: &World) -> Option<usize> {
    let primary = world.primary()?;
    let summary = world.nodes[primary].summary.as_ref()?;
    let configuration = summary.configurations.last()?;
    let agreeing = world
        .nodes
        .iter()
        .filter(|n| configuration.contains(&n.id) && n.is_running())
        .filter(|n| {
            n.summary.as_ref().is_some_and(|s| {
                s.view == summary.view && s.primary.as_ref() == Some(&world.nodes[primary].id)
            })
        })
        .count();
    (agreeing >= cloister_check::invariants::quorum(configuration.len())).then_some(primary)
}

/// The marker can no longer commit: the primary moved on to a later view without it.
fn lost(world: &World, marker: TxId) -> bool {
    world.primary().is_none_or(|p| {
        world.nodes[p]
            .summary
            .as_ref()
            .is_none_or(|s| s.view != marker.view)
    })
}

/// Writes a marker record through the primary until one is accepted.
fn marker_write(world: &mut World, deadline_ms: u64) -> Option<TxId> {
    while world.now_ms < deadline_ms && world.failure.is_none() {
        if let Some(primary) = recognised_primary(world) {
            let (key, value, request) = world.client.marker();
            if let Some(response) = world.call(primary, request, 2_000)
                && response.status == 200
                && let Some(txid) = requests::txid_of(&response)
            {
                world.client.history.writes.insert(txid, (key, value));
                return Some(txid);
            }
        }
        let until = world.now_ms + 100;
        world.run_until(until, |_| false);
    }
    None
}

/// A quorum of the primary's configuration runs, and every running node of it committed
/// `marker` and holds the same commit with the same prefix (a node stopped for a damaged disk
/// is left out).
fn converged(world: &World, marker: TxId) -> bool {
    let Some(primary) = recognised_primary(world) else {
        return false;
    };
    let Some(configuration) = world.nodes[primary]
        .summary
        .as_ref()
        .and_then(|s| s.configurations.last())
    else {
        return false;
    };
    let mut commits = Vec::new();
    for node in world.nodes.iter().filter(|n| configuration.contains(&n.id)) {
        if node.life == Life::Stopped {
            continue;
        }
        let Some(summary) = node.summary.as_ref().filter(|_| node.is_running()) else {
            return false;
        };
        let commit = summary.commit.seqno;
        let chain = node
            .disk
            .logs()
            .get((commit.0 as usize).wrapping_sub(1))
            .map(|e| e.chain);
        commits.push((commit, chain));
    }
    let committed = world
        .checker
        .ghost()
        .committed_at(marker.seqno)
        .map(|e| e.txid);
    committed == Some(marker)
        && commits.len() >= cloister_check::invariants::quorum(configuration.len())
        && commits
            .first()
            .is_some_and(|first| first.0 >= marker.seqno && commits.iter().all(|c| c == first))
}

/// Asks the primary for every acknowledged write's status, then reads back every committed one.
fn read_back(world: &mut World) {
    let Some(primary) = recognised_primary(world) else {
        fail(world, "the primary was lost before the read-back");
        return;
    };
    for txid in world.client.acknowledged() {
        let Some(response) = world.call(primary, requests::tx_status(txid), 2_000) else {
            continue;
        };
        let Some(status) = requests::status_of(&response) else {
            continue;
        };
        let checked = check_status(&world.client.history, world.checker.ghost(), txid, status);
        if let Err(violation) = checked {
            world.fail(violation);
            return;
        }
        world.client.history.record_status(txid, status);
    }
    let expected = world.client.history.committed_values();
    let user = world.client.user.clone();
    let mut read = BTreeMap::new();
    for key in expected.keys() {
        if let Some(response) = world.call(primary, requests::read(&user, *key), 2_000)
            && let Some(value) = requests::read_result(&response)
        {
            read.insert(*key, value);
        }
    }
    world.client.read_back = read.len() as u64;
    if let Err(violation) = no_lost_writes(&expected, &read) {
        world.fail(violation);
    }
}
