//! Which faults a seed turns on and how hard (TESTING.md "Fault menu": each class on with
//! probability ½ per seed), and the partitions the chaos draws from.

use crate::network::NetworkFaults;
use crate::random::SimRng;

/// The faults of one seed. Rates are per million per tick unless named otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// Drops 0–30 %, duplicates 0–50 %, delay mean 30–100 ms (else a healthy network).
    pub network: NetworkFaults,
    /// Chance per tick that a partition starts while none is active (0–3 %).
    pub partition_per_million: u64,
    /// Chance per tick of a crash (at most one per 10 s on average).
    pub crash_per_million: u64,
    /// A crash tears the first unsynced write.
    pub torn_writes: bool,
    /// A restart reads one entry with a flipped bit (where losing it cannot lose data).
    pub bit_flips: bool,
    /// One disk write error in the run, at this chaos tick chance: the node stops for good.
    pub write_error_per_million: u64,
    /// Chance per tick that a running node pauses.
    pub pause_per_million: u64,
    /// fsync latency range, ms.
    pub fsync_ms: (u64, u64),
    /// Joins and retirements by governance during the safety phase (0–3).
    pub topology_changes: u32,
}

impl FaultPlan {
    /// No faults at all.
    pub fn none() -> FaultPlan {
        FaultPlan {
            network: NetworkFaults::HEALTHY,
            partition_per_million: 0,
            crash_per_million: 0,
            torn_writes: false,
            bit_flips: false,
            write_error_per_million: 0,
            pause_per_million: 0,
            fsync_ms: (1, 3),
            topology_changes: 0,
        }
    }

    /// Storage faults in every seed: crashes three times the menu's rate on a slow disk (so that
    /// crashes find unsynced writes to tear), torn writes, bit flips and a write error.
    pub fn storage_stress() -> FaultPlan {
        FaultPlan {
            crash_per_million: 3_000,
            torn_writes: true,
            bit_flips: true,
            write_error_per_million: 2_000,
            fsync_ms: (5, 40),
            ..FaultPlan::none()
        }
    }

    /// Draws a plan: every class on with probability ½, its strength uniform in its range.
    pub fn draw(rng: &mut SimRng) -> FaultPlan {
        let mut plan = FaultPlan::none();
        if rng.coin() {
            plan.network = NetworkFaults {
                drop_per_million: rng.range(0, 300_000),
                duplicate_per_million: rng.range(0, 500_000),
                delay_mean_ms: rng.range(30, 100),
            };
        }
        if rng.coin() {
            plan.partition_per_million = rng.range(1, 30_000);
        }
        if rng.coin() {
            // One per 10 s = one per 1,000 ticks of 10 ms.
            plan.crash_per_million = rng.range(100, 1_000);
            plan.torn_writes = rng.coin();
            plan.bit_flips = rng.coin();
            if rng.coin() {
                plan.write_error_per_million = rng.range(50, 300);
            }
        }
        if rng.coin() {
            plan.pause_per_million = rng.range(100, 1_000);
        }
        if rng.coin() {
            plan.fsync_ms = (1, rng.range(5, 50));
        }
        if rng.coin() {
            plan.topology_changes = rng.range(1, 3) as u32;
        }
        plan
    }

    /// One line for the trace.
    pub fn describe(&self) -> String {
        format!(
            "faults drop={}ppm dup={}ppm delay={}ms partition={}ppm crash={}ppm torn={} flip={} write-error={}ppm pause={}ppm fsync={}..{}ms topology={}",
            self.network.drop_per_million,
            self.network.duplicate_per_million,
            self.network.delay_mean_ms,
            self.partition_per_million,
            self.crash_per_million,
            self.torn_writes,
            self.bit_flips,
            self.write_error_per_million,
            self.pause_per_million,
            self.fsync_ms.0,
            self.fsync_ms.1,
            self.topology_changes,
        )
    }
}

/// A partition of nodes `0..n`: the links it cuts or clogs, as (from, to) pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub name: &'static str,
    pub cut: Vec<(usize, usize)>,
    pub clogged: Vec<(usize, usize)>,
}

/// Draws one of: isolate one node, split minority/majority, one node cut one way, one node's
/// links clogged. `nodes` are the indices taking part.
pub fn draw_partition(nodes: &[usize], rng: &mut SimRng) -> Partition {
    let pick = nodes.get(rng.index(nodes.len())).copied().unwrap_or(0);
    let others = || nodes.iter().copied().filter(move |n| *n != pick);
    match rng.range(0, 3) {
        0 => Partition {
            name: "isolate",
            cut: others().flat_map(|o| [(pick, o), (o, pick)]).collect(),
            clogged: Vec::new(),
        },
        1 => {
            let mut shuffled = nodes.to_vec();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.index(i + 1));
            }
            let minority = rng.range(1, (nodes.len() as u64 - 1) / 2).max(1) as usize;
            let (small, large) = shuffled.split_at(minority.min(shuffled.len()));
            Partition {
                name: "minority/majority",
                cut: small
                    .iter()
                    .flat_map(|a| large.iter().flat_map(move |b| [(*a, *b), (*b, *a)]))
                    .collect(),
                clogged: Vec::new(),
            }
        }
        2 => {
            let outgoing = rng.coin();
            Partition {
                name: if outgoing {
                    "one-way out"
                } else {
                    "one-way in"
                },
                cut: others()
                    .map(|o| if outgoing { (pick, o) } else { (o, pick) })
                    .collect(),
                clogged: Vec::new(),
            }
        }
        _ => Partition {
            name: "clogged",
            cut: Vec::new(),
            clogged: others().flat_map(|o| [(pick, o), (o, pick)]).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_turn_each_class_on_about_half_the_time_within_range() {
        let mut rng = SimRng::new(5);
        let plans: Vec<FaultPlan> = (0..400).map(|_| FaultPlan::draw(&mut rng)).collect();
        let on = |f: &dyn Fn(&FaultPlan) -> bool| plans.iter().filter(|p| f(p)).count();
        for count in [
            on(&|p| p.network != NetworkFaults::HEALTHY),
            on(&|p| p.partition_per_million > 0),
            on(&|p| p.crash_per_million > 0),
            on(&|p| p.pause_per_million > 0),
            on(&|p| p.topology_changes > 0),
        ] {
            assert!((150..=250).contains(&count), "{count} of 400");
        }
        assert!(plans.iter().all(|p| p.network.drop_per_million <= 300_000
            && p.partition_per_million <= 30_000
            && p.topology_changes <= 3));
    }

    #[test]
    fn partitions_cut_only_links_between_participants() {
        let mut rng = SimRng::new(6);
        let nodes = [0, 1, 2, 3, 4];
        let mut names = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let p = draw_partition(&nodes, &mut rng);
            names.insert(p.name);
            for (a, b) in p.cut.iter().chain(&p.clogged) {
                assert!(a != b && nodes.contains(a) && nodes.contains(b));
            }
            if p.name == "minority/majority" {
                // A majority keeps talking: at most 2 of 5 nodes are cut off.
                let cut_off: std::collections::BTreeSet<usize> =
                    p.cut.iter().map(|(a, _)| *a).collect();
                assert!(!cut_off.is_empty());
            }
        }
        assert_eq!(names.len(), 5, "{names:?}");
    }
}
