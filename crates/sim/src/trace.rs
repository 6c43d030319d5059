//! The run's trace: one line per event (tick, deliver, drop, crash, restart, commit, role
//! change…), hashed with SHA-256 as it grows. Two runs of one seed must produce the same hash;
//! the lines themselves are kept only when asked for (`--seed S` prints them).

use cloister_crypto::{Sha256Hash, sha256_concat};

/// Bytes of trace text folded into the running hash at once.
const FOLD_BYTES: usize = 64 * 1024;

/// Lines of a run and their running hash: `state = SHA-256(state ‖ next 64 KiB of lines)`.
#[derive(Debug)]
pub struct Trace {
    state: Sha256Hash,
    pending: Vec<u8>,
    lines: Option<Vec<String>>,
    count: u64,
}

impl Trace {
    /// A trace that keeps its lines iff `keep_lines`.
    pub fn new(keep_lines: bool) -> Trace {
        Trace {
            state: Sha256Hash::default(),
            pending: Vec::with_capacity(FOLD_BYTES),
            lines: keep_lines.then(Vec::new),
            count: 0,
        }
    }

    /// Adds one line: the time in ms, then the text.
    pub fn line(&mut self, time_ms: u64, text: impl AsRef<str>) {
        let line = format!("{time_ms:>8} {}", text.as_ref());
        self.pending.extend_from_slice(line.as_bytes());
        self.pending.push(b'\n');
        self.count += 1;
        if let Some(lines) = &mut self.lines {
            lines.push(line);
        }
        if self.pending.len() >= FOLD_BYTES {
            self.state = sha256_concat(&[&self.state.0, &self.pending]);
            self.pending.clear();
        }
    }

    /// Lines so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The lines kept (empty unless kept).
    pub fn lines(&self) -> &[String] {
        self.lines.as_deref().unwrap_or(&[])
    }

    /// The hash of every line so far.
    pub fn hash(&self) -> Sha256Hash {
        sha256_concat(&[&self.state.0, &self.pending])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_every_line_and_its_order() {
        let mut a = Trace::new(false);
        let mut b = Trace::new(true);
        for i in 0..10_000 {
            a.line(i, format!("tick n{}", i % 5));
            b.line(i, format!("tick n{}", i % 5));
        }
        assert_eq!(a.hash(), b.hash());
        assert_eq!(b.lines().len(), 10_000);
        assert!(a.lines().is_empty());
        a.line(1, "x");
        a.line(2, "y");
        b.line(2, "y");
        b.line(1, "x");
        assert_ne!(a.hash(), b.hash());
    }
}
