//! Randomness as an input (ARCHITECTURE.md, sans-IO): deciding code takes `&mut dyn Entropy`
//! and never reaches for the OS generator itself. The real host passes `OsEntropy`; the
//! simulator passes a `SeededEntropy`, so one seed replays a whole run byte for byte.

use std::fmt;

use crate::hash::sha256_concat;

/// A source of random bytes.
pub trait Entropy {
    /// Fills `out` entirely with random bytes.
    fn fill_bytes(&mut self, out: &mut [u8]);

    /// Whether keys generated from this source sign deterministically (RFC 6979 nonces instead
    /// of random ones), so that a replayed run produces the same signature bytes. Only
    /// replayable sources say yes; randomised signing is faster.
    fn deterministic_signatures(&self) -> bool {
        false
    }
}

/// The operating system's generator (through aws-lc). Only hosts construct this.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    // The single sanctioned door to OS randomness: clippy.toml bans `aws_lc_rs::rand::fill`
    // everywhere else so that sans-IO code cannot bypass the `Entropy` it was given.
    #[allow(clippy::disallowed_methods)]
    fn fill_bytes(&mut self, out: &mut [u8]) {
        let filled = aws_lc_rs::rand::fill(out);
        // aws-lc's RNG only fails if the OS cannot supply entropy at all; carrying on with
        // non-random bytes would silently produce guessable keys, so stop instead.
        assert!(
            filled.is_ok(),
            "the operating system random generator failed"
        );
    }
}

/// Deterministic bytes from a seed: SHA-256 in counter mode, block i = SHA-256(seed ‖ i as u64
/// LE). Not for production secrets; it is what makes simulator runs replayable.
#[derive(Clone)]
pub struct SeededEntropy {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    block_used: usize,
}

impl SeededEntropy {
    /// A stream named by a small seed (the simulator's per-run seed).
    pub fn from_seed(seed: u64) -> SeededEntropy {
        let seed = sha256_concat(&[b"cloister SeededEntropy v1", &seed.to_le_bytes()]);
        SeededEntropy::from_seed_bytes(seed.0)
    }

    /// A stream named by 32 seed bytes.
    pub fn from_seed_bytes(seed: [u8; 32]) -> SeededEntropy {
        SeededEntropy {
            seed,
            counter: 0,
            block: [0; 32],
            block_used: 32,
        }
    }

    fn refill(&mut self) {
        self.block = sha256_concat(&[&self.seed, &self.counter.to_le_bytes()]).0;
        // 2^64 blocks of 32 bytes cannot be consumed in practice; wrapping keeps it total.
        self.counter = self.counter.wrapping_add(1);
        self.block_used = 0;
    }
}

impl Entropy for SeededEntropy {
    /// A seeded run must replay byte for byte, signatures included.
    fn deterministic_signatures(&self) -> bool {
        true
    }

    fn fill_bytes(&mut self, out: &mut [u8]) {
        let mut written = 0;
        while written < out.len() {
            if self.block_used == self.block.len() {
                self.refill();
            }
            let take = (out.len() - written).min(self.block.len() - self.block_used);
            out[written..written + take]
                .copy_from_slice(&self.block[self.block_used..self.block_used + take]);
            written += take;
            self.block_used += take;
        }
    }
}

impl fmt::Debug for SeededEntropy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeededEntropy")
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn draw(entropy: &mut dyn Entropy, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        entropy.fill_bytes(&mut out);
        out
    }

    #[test]
    fn seeded_entropy_is_deterministic() {
        let a = draw(&mut SeededEntropy::from_seed(7), 100);
        let b = draw(&mut SeededEntropy::from_seed(7), 100);
        assert_eq!(a, b);
        assert_ne!(a, draw(&mut SeededEntropy::from_seed(8), 100));
    }

    #[test]
    fn seeded_entropy_is_sha256_counter_mode() {
        let seed = [9u8; 32];
        let first = draw(&mut SeededEntropy::from_seed_bytes(seed), 64);
        let block0 = sha256_concat(&[&seed, &0u64.to_le_bytes()]);
        let block1 = sha256_concat(&[&seed, &1u64.to_le_bytes()]);
        assert_eq!(&first[..32], block0.as_bytes());
        assert_eq!(&first[32..], block1.as_bytes());
    }

    #[test]
    fn os_entropy_fills_and_differs() {
        let a = draw(&mut OsEntropy, 32);
        let b = draw(&mut OsEntropy, 32);
        assert_ne!(a, b);
        assert_ne!(a, vec![0u8; 32]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn seeded_stream_does_not_depend_on_read_sizes(seed: u64, cuts in prop::collection::vec(0usize..80, 0..8)) {
            let total: usize = cuts.iter().sum();
            let whole = draw(&mut SeededEntropy::from_seed(seed), total);
            let mut pieces = Vec::new();
            let mut entropy = SeededEntropy::from_seed(seed);
            for cut in cuts {
                pieces.extend(draw(&mut entropy, cut));
            }
            prop_assert_eq!(whole, pieces);
        }
    }
}
