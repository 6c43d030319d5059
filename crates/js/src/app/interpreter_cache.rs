//! CCF's interpreter cache (spec/ccf-js.md §4.7): endpoints with `interpreter_reuse: {"key": K}`
//! run in an interpreter kept under `K + " (rw)"` or `K + " (ro)"`, so that `globalThis` state
//! and evaluated modules survive between their requests. The cache is an LRU of
//! `max_cached_interpreters` entries, emptied whenever the application changes (the version of
//! the last write to `public:ccf.gov.interpreter.flush`, which `set_js_app` writes).
//!
//! Reuse is best-effort and never needed for correctness: an interpreter whose call failed is
//! dropped, not put back.

use cloister_types::SeqNo;

use crate::runtime::Interpreter;

/// The table `set_js_app` and `remove_js_app` write to flush cached interpreters.
pub const INTERPRETER_FLUSH_TABLE: &str = "public:ccf.gov.interpreter.flush";

#[derive(Default)]
pub(crate) struct InterpreterCache {
    /// Least recently used first.
    entries: Vec<(String, Interpreter)>,
    /// The flush version the entries were made under.
    flush_version: Option<SeqNo>,
    /// Interpreters handed out again (what tests and metrics read).
    pub reused: u64,
}

impl InterpreterCache {
    /// Takes the interpreter kept under `key`, if any was made under `flush_version`. A changed
    /// flush version empties the cache first.
    pub fn take(&mut self, key: &str, flush_version: Option<SeqNo>) -> Option<Interpreter> {
        if self.flush_version != flush_version {
            self.entries.clear();
            self.flush_version = flush_version;
        }
        let position = self.entries.iter().position(|(k, _)| k == key)?;
        self.reused += 1;
        Some(self.entries.remove(position).1)
    }

    /// Keeps `interpreter` under `key` as the most recently used, evicting the least recently
    /// used beyond `capacity` (0 keeps none).
    pub fn put(&mut self, key: String, interpreter: Interpreter, capacity: u64) {
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push((key, interpreter));
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX);
        let excess = self.entries.len().saturating_sub(capacity);
        self.entries.drain(..excess);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

impl std::fmt::Debug for InterpreterCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.entries.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("InterpreterCache")
            .field("keys", &keys)
            .field("flush_version", &self.flush_version)
            .field("reused", &self.reused)
            .finish()
    }
}
