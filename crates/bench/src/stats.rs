//! Latency percentiles by nearest rank over every recorded sample (no histogram buckets, so
//! the figures are exact).

use std::time::Duration;

/// Every latency of one run, sorted.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    sorted_micros: Vec<u64>,
}

impl Latencies {
    /// Takes the samples in any order.
    pub fn from_micros(mut micros: Vec<u64>) -> Latencies {
        micros.sort_unstable();
        Latencies {
            sorted_micros: micros,
        }
    }

    pub fn len(&self) -> usize {
        self.sorted_micros.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted_micros.is_empty()
    }

    /// The `p`-th percentile (0 < p <= 100) by nearest rank: the smallest sample such that at
    /// least p% of the samples are at or below it. None without samples.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let rank = nearest_rank(self.sorted_micros.len(), p)?;
        let micros = *self.sorted_micros.get(rank - 1)?;
        Some(Duration::from_micros(micros))
    }
}

/// The 1-based nearest rank `ceil(p/100 * n)`, clamped to `1..=n`; None when `n` is 0 or `p` is
/// not a number.
pub fn nearest_rank(n: usize, p: f64) -> Option<usize> {
    if n == 0 || p.is_nan() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    // Counts here stay far below 2^52, so the float product is exact enough; the small epsilon
    // keeps 50% of 100 at rank 50 despite rounding (0.5 * 100 must not become 50.000001).
    #[allow(clippy::cast_precision_loss)]
    let exact = p / 100.0 * n as f64 - 1e-9;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rank = exact.ceil().max(1.0) as usize;
    Some(rank.min(n))
}

/// `Duration` as fractional milliseconds, for reports.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `count` per second over `elapsed`; 0 for an empty interval.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let count = count as f64;
    count / seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(micros: u64) -> Option<Duration> {
        Some(Duration::from_micros(micros))
    }

    #[test]
    fn percentiles_of_one_to_a_hundred_are_their_ranks() {
        // Shuffled input: the constructor sorts.
        let samples: Vec<u64> = (1..=100).rev().collect();
        let latencies = Latencies::from_micros(samples);
        assert_eq!(latencies.percentile(50.0), ms(50));
        assert_eq!(latencies.percentile(99.0), ms(99));
        assert_eq!(latencies.percentile(100.0), ms(100));
        assert_eq!(latencies.percentile(1.0), ms(1));
        assert_eq!(latencies.percentile(0.0), ms(1));
    }

    #[test]
    fn percentiles_round_the_rank_up() {
        // Ten samples: p99 is rank ceil(9.9) = 10, p50 rank 5, p55 rank ceil(5.5) = 6.
        let latencies = Latencies::from_micros(vec![10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]);
        assert_eq!(latencies.percentile(50.0), ms(50));
        assert_eq!(latencies.percentile(55.0), ms(60));
        assert_eq!(latencies.percentile(99.0), ms(1000));
        assert_eq!(latencies.percentile(90.0), ms(90));
    }

    #[test]
    fn one_sample_is_every_percentile_and_none_is_no_percentile() {
        let one = Latencies::from_micros(vec![7]);
        assert_eq!(one.percentile(50.0), ms(7));
        assert_eq!(one.percentile(99.0), ms(7));
        assert_eq!(Latencies::default().percentile(50.0), None);
        assert_eq!(nearest_rank(10, f64::NAN), None);
    }

    #[test]
    fn rates_divide_by_seconds() {
        assert!((per_second(500, Duration::from_millis(250)) - 2000.0).abs() < 1e-9);
        assert!(per_second(5, Duration::ZERO).abs() < f64::EPSILON);
        assert!((millis(Duration::from_micros(1500)) - 1.5).abs() < 1e-12);
    }
}
