//! The world's one random generator (PCG, seeded by the run's seed), with the few draws the
//! simulator needs. Everything random in a run comes from here, so a seed replays it exactly.

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Seeded randomness.
#[derive(Debug, Clone)]
pub struct SimRng(Pcg64Mcg);

impl SimRng {
    pub fn new(seed: u64) -> SimRng {
        SimRng(Pcg64Mcg::seed_from_u64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[low, high]` (inclusive; `low` if the range is empty).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        let span = high - low + 1;
        low + self.next_u64() % span
    }

    /// Uniform index below `len` (0 for an empty range).
    pub fn index(&mut self, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        (self.next_u64() % len as u64) as usize
    }

    /// True with probability `per_million` / 1,000,000.
    pub fn chance(&mut self, per_million: u64) -> bool {
        self.next_u64() % 1_000_000 < per_million
    }

    /// True with probability 1/2.
    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// A delay uniform in `[0, 2 × mean]` ms (integers only, so every platform replays alike).
    pub fn around_ms(&mut self, mean_ms: u64) -> u64 {
        self.range(0, mean_ms.saturating_mul(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_values_and_ranges_hold() {
        let mut a = SimRng::new(9);
        let mut b = SimRng::new(9);
        let draws: Vec<u64> = (0..100).map(|_| a.range(3, 7)).collect();
        assert_eq!(draws, (0..100).map(|_| b.range(3, 7)).collect::<Vec<_>>());
        assert!(draws.iter().all(|d| (3..=7).contains(d)));
        assert!(draws.contains(&3) && draws.contains(&7));
        let mut c = SimRng::new(10);
        assert_ne!(draws, (0..100).map(|_| c.range(3, 7)).collect::<Vec<_>>());
        let mean = (0..10_000).map(|_| a.around_ms(50)).sum::<u64>() / 10_000;
        assert!((40..=60).contains(&mean), "mean {mean}");
        let hits = (0..10_000).filter(|_| a.chance(250_000)).count();
        assert!((2_200..=2_800).contains(&hits), "hits {hits}");
    }
}
