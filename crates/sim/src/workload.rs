//! The client's actions during the safety phase: every 10–50 ms a write through a random
//! running node (six times in ten) or a `/node/tx` poll of an acknowledged TxId.

use crate::world::{Event, World};

/// One client action, then the next one scheduled.
pub fn client_tick(world: &mut World) {
    if !world.workload_on {
        return;
    }
    let next = world.now_ms + world.rng.range(10, 50);
    world.schedule(next, Event::Client);
    let running: Vec<usize> = world
        .nodes
        .iter()
        .filter(|n| n.is_running())
        .map(|n| n.index)
        .collect();
    if running.is_empty() {
        return;
    }
    let node = running[world.rng.index(running.len())];
    let write = world.rng.range(0, 9) < 6;
    let action = if write {
        Some(world.client.next_write(node))
    } else {
        let pick = world.rng.next_u64();
        world.client.next_poll(node, |len| {
            if len == 0 {
                0
            } else {
                (pick % len as u64) as usize
            }
        })
    };
    if let Some((session, request)) = action {
        world.request(node, session, request);
    }
}
