//! One run of one seed: set up the service, the safety phase (faults, workload, invariants
//! after every step), then the liveness phase; the report says what happened and, on a
//! violation, the seed, the step, the invariant and the command that replays it.

use cloister_check::invariants::Violation;
use cloister_crypto::Sha256Hash;

use crate::config::RunConfig;
use crate::world::{Event, Failure, World};
use crate::{liveness, setup, topology};

/// Counts of what a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub steps: u64,
    pub sim_ms: u64,
    pub trace_lines: u64,
    pub writes_sent: u64,
    pub writes_acked: u64,
    pub polls: u64,
    pub read_back: u64,
    pub committed_seqno: u64,
    pub max_view: u64,
    pub crashes: u64,
    pub restarts: u64,
    pub torn: u64,
    pub flips: u64,
    pub write_errors: u64,
    pub pauses: u64,
    pub partitions: u64,
    pub joins: u64,
    pub retirements: u64,
    pub delivered: u64,
    pub dropped: u64,
}

/// What one run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunReport {
    pub config: RunConfig,
    /// SHA-256 over the trace: equal for two runs of one seed.
    pub hash: Sha256Hash,
    pub failure: Option<Failure>,
    pub stats: Stats,
    /// The trace's lines (only if `config.keep_trace`).
    pub trace: Vec<String>,
    /// The fault plan, one line.
    pub faults: String,
}

impl RunReport {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }

    /// The failure as the CLI prints it: seed, step, invariant, and how to replay.
    pub fn failure_text(&self) -> Option<String> {
        let failure = self.failure.as_ref()?;
        Some(format!(
            "seed {} FAILED at step {} ({} ms): {}: {}\n  replay: {}",
            self.config.seed,
            failure.step,
            failure.time_ms,
            failure.violation.invariant,
            failure.violation.detail,
            self.config.command()
        ))
    }
}

/// Runs one seed.
pub fn run(config: RunConfig) -> RunReport {
    match setup::build(config.clone()) {
        Ok(mut world) => {
            safety(&mut world);
            if world.failure.is_none() {
                liveness::run(&mut world);
            }
            report(world)
        }
        Err(error) => RunReport {
            hash: Sha256Hash::default(),
            failure: Some(Failure {
                step: 0,
                time_ms: 0,
                violation: Violation::new("Setup", error.to_string()),
            }),
            stats: Stats::default(),
            trace: Vec::new(),
            faults: String::new(),
            config,
        },
    }
}

/// Faults and workload for `safety_ms`.
fn safety(world: &mut World) {
    let start = world.now_ms;
    let end = start + world.config.safety_ms;
    world.line("safety phase");
    world.chaos.until_ms = end;
    world.net_faults = world.plan.network;
    world.workload_on = true;
    world.bug = world.config.bug;
    crate::bug::inject_into_running_nodes(world);
    let changes = world.plan.topology_changes;
    topology::plan(world, changes, start + 1_000, end.saturating_sub(3_000));
    world.schedule(start, Event::Chaos);
    world.schedule(start, Event::Client);
    world.schedule(start, Event::Topology);
    world.run_until(end, |_| false);
}

fn report(mut world: World) -> RunReport {
    // The ledgers' running hashes cover every byte every node wrote: a seed that replays its
    // trace but not its bytes (a randomised signature, say) changes the hash.
    for index in 0..world.nodes.len() {
        let node = &world.nodes[index];
        if let Some(last) = node.disk.logs().last() {
            let text = format!("{} ledger {} {}", node.name(), last.txid, last.chain);
            world.line(text);
        }
    }
    let ghost = world.checker.ghost();
    let stats = Stats {
        steps: world.steps,
        sim_ms: world.now_ms,
        trace_lines: world.trace.count(),
        writes_sent: world.client.writes_sent,
        writes_acked: world.client.writes_acked,
        polls: world.client.polls,
        read_back: world.client.read_back,
        committed_seqno: ghost.commit().0,
        max_view: ghost.primaries.keys().last().map_or(0, |v| v.0),
        crashes: world.chaos.crashes,
        restarts: world.chaos.restarts,
        torn: world.chaos.torn,
        flips: world.chaos.flips,
        write_errors: world.chaos.write_errors,
        pauses: world.chaos.pauses,
        partitions: world.chaos.partitions,
        joins: world.topology.joins,
        retirements: world.topology.retirements,
        delivered: world.delivered,
        dropped: world.dropped,
    };
    RunReport {
        hash: world.trace.hash(),
        failure: world.failure.clone(),
        trace: world.trace.lines().to_vec(),
        faults: world.plan.describe(),
        config: world.config.clone(),
        stats,
    }
}
