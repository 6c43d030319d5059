//! What the natives of one call share: the transaction (moved in for the call), the writes made so
//! far, console lines, node actions, host answers and the deterministic random source.
//!
//! Writes go to an overlay, not straight to the transaction: they reach it only when the call
//! succeeds, so a call that throws — or an `apply` that is re-run once its host calls are
//! answered (see [`HostBridge`]) — leaves the transaction's write set as it was.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use cloister_crypto::{Entropy, SeededEntropy, Sha256Hash, sha256_concat};
use cloister_gov::NodeAction;
use cloister_kv::{Store, Tx};
use cloister_types::SeqNo;

use crate::app::{AppHost, HistoricalCall, HostLaunch};
use crate::permissions::ExecContext;

/// Shared by every native of a call (natives must own what they capture: rquickjs closures live
/// as long as the JavaScript context).
pub(crate) type Shared = Rc<RefCell<CallState>>;

/// Most console lines kept per call; later ones are dropped (bounded queues, ARCHITECTURE.md).
pub const LOG_LINES_MAX: usize = 1000;
/// Longest console line kept, in bytes; longer ones are cut.
pub const LOG_LINE_BYTES_MAX: usize = 16 * 1024;

/// Severity of a console line, as CCF maps `console.*` (spec/ccf-js.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `console.log` and `console.info`.
    Info,
    /// `console.warn` (CCF logs it at "fail").
    Warn,
    /// `console.error` (CCF logs it at "fatal").
    Error,
}

/// One `console.*` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: LogLevel,
    pub text: String,
}

/// A `ccf.network.*` call that needs the node (`GovHost`), keyed by its arguments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum HostRequest {
    EndorsedCertificate {
        csr_pem: String,
        valid_from: String,
        validity_days: u64,
    },
    NetworkCertificate {
        valid_from: String,
        validity_days: u64,
    },
}

/// Answers to host calls. rquickjs natives must own what they capture, so they cannot hold the
/// caller's `&mut dyn GovHost`; instead a call asking for an answer not known yet is recorded
/// (the script gets an empty string and runs on), the run is thrown away, the engine asks the
/// host, and `apply` runs again with the answers known. Governance JavaScript is deterministic
/// here (no clock; `Math.random` seeded from the call), so the re-run makes the same requests.
#[derive(Debug, Default)]
pub(crate) struct HostBridge {
    pub latest_ledger_secret_seqno: u64,
    pub answers: BTreeMap<HostRequest, Result<String, String>>,
    pub unanswered: BTreeSet<HostRequest>,
}

/// What an application handler asked of `ccf.rpc` (spec/ccf-js.md §3.5).
#[derive(Debug, Default)]
pub(crate) struct RpcState {
    /// `setApplyWrites(b)`: overrides the 2xx rule (spec/ccf-js.md §4.1).
    pub apply_writes: Option<bool>,
    /// `setClaimsDigest(buf)`.
    pub claims_digest: Option<Sha256Hash>,
}

/// The node behind an application call (`ccf.consensus`), as natives may hold it.
#[derive(Clone)]
pub(crate) struct HostHandle(pub Rc<dyn AppHost>);

impl std::fmt::Debug for HostHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostHandle")
    }
}

/// Buffered writes: map → key → value (`None` = removed).
type Overlay = BTreeMap<String, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

/// The state of one call.
#[derive(Debug)]
pub(crate) struct CallState {
    pub context: ExecContext,
    tx: Tx,
    writes: Overlay,
    pub logs: Vec<LogLine>,
    pub actions: Vec<NodeAction>,
    pub host: HostBridge,
    rng: u64,
    /// `Math.random`'s seed as given, which also names governance calls' `ccf.crypto` entropy.
    seed: u64,
    /// `ccf.crypto`'s random bytes for this call, made on first use (see [`CallState::entropy`]).
    entropy: Option<SeededEntropy>,
    /// Module names handed out by `ccf.gov.validateConstitution`.
    pub modules_declared: u64,
    pub untrusted_time: bool,
    pub metrics_logging: bool,
    /// What `Date` shows once `ccf.enableUntrustedDateTime(true)` (the host's clock, given by
    /// the caller; governance calls have none and stay at the epoch).
    pub host_time_ms: u64,
    /// Application calls: the node's consensus view.
    pub app_host: Option<HostHandle>,
    pub rpc: RpcState,
    /// Historical states handed to JavaScript in this call (spec/ccf-js.md §3.7).
    pub historical: HistoricalCall,
    /// `ccf.host.triggerSubprocess` calls so far (bounded, see `globals/host.rs`).
    pub launches: Vec<HostLaunch>,
}

impl CallState {
    /// Takes `tx` for the duration of the call (see [`CallState::finish`]).
    pub fn new(context: ExecContext, tx: &mut Tx, seed: u64) -> CallState {
        CallState {
            context,
            tx: std::mem::replace(tx, placeholder_tx()),
            writes: Overlay::new(),
            logs: Vec::new(),
            actions: Vec::new(),
            host: HostBridge::default(),
            // xorshift needs a non-zero state.
            rng: seed | 1,
            seed,
            entropy: None,
            modules_declared: 0,
            untrusted_time: false,
            metrics_logging: true,
            host_time_ms: 0,
            app_host: None,
            rpc: RpcState::default(),
            historical: HistoricalCall::default(),
            launches: Vec::new(),
        }
    }

    /// Gives the transaction back to `tx`, with this call's writes applied when `commit`.
    pub fn finish(&mut self, tx: &mut Tx, commit: bool) {
        *tx = std::mem::replace(&mut self.tx, placeholder_tx());
        let writes = std::mem::take(&mut self.writes);
        if commit {
            for (map, keys) in writes {
                for (key, value) in keys {
                    match value {
                        Some(value) => tx.put(&map, key, value),
                        None => tx.remove(&map, key),
                    }
                }
            }
        }
    }

    /// The value under `key`: this call's own write if any, else the transaction's.
    pub fn get(&mut self, map: &str, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(map).and_then(|m| m.get(key)) {
            Some(own) => own.clone(),
            None => self.tx.get(map, key),
        }
    }

    /// The seqno of the last committed write of `key` (`Tx::version_of`): this call's own
    /// writes, like the transaction's, do not count.
    pub fn version_of(&mut self, map: &str, key: &[u8]) -> Option<SeqNo> {
        self.tx.version_of(map, key)
    }

    /// Every entry of `map`, in key order, with this call's writes applied.
    pub fn entries(&mut self, map: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = self.tx.iter(map).into_iter().collect();
        if let Some(own) = self.writes.get(map) {
            for (key, value) in own {
                match value {
                    Some(value) => merged.insert(key.clone(), value.clone()),
                    None => merged.remove(key),
                };
            }
        }
        merged.into_iter().collect()
    }

    pub fn put(&mut self, map: &str, key: Vec<u8>, value: Vec<u8>) {
        self.writes
            .entry(map.to_owned())
            .or_default()
            .insert(key, Some(value));
    }

    pub fn remove(&mut self, map: &str, key: Vec<u8>) {
        self.writes
            .entry(map.to_owned())
            .or_default()
            .insert(key, None);
    }

    /// Appends a console line, within the bounds.
    pub fn log(&mut self, level: LogLevel, mut text: String) {
        if self.logs.len() >= LOG_LINES_MAX {
            return;
        }
        if text.len() > LOG_LINE_BYTES_MAX {
            let mut cut = LOG_LINE_BYTES_MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        self.logs.push(LogLine { level, text });
    }

    /// 32 fresh bytes for `ccf.crypto` (keys, salts, OAEP seeds, temporary AES keys). An
    /// application call draws from the node's entropy (`AppHost::entropy`, once per call);
    /// a governance call has no host and must replay identically on every node, so its
    /// bytes follow from the call's deterministic seed, as `Math.random` does.
    pub fn crypto_seed(&mut self) -> [u8; 32] {
        let entropy = match &mut self.entropy {
            Some(entropy) => entropy,
            None => {
                let seed = match &self.app_host {
                    Some(host) => host.0.entropy(),
                    None => {
                        sha256_concat(&[
                            b"cloister js governance entropy",
                            &self.seed.to_le_bytes(),
                        ])
                        .0
                    }
                };
                self.entropy.insert(SeededEntropy::from_seed_bytes(seed))
            }
        };
        let mut out = [0u8; 32];
        entropy.fill_bytes(&mut out);
        out
    }

    /// The next `Math.random()` value in [0, 1): xorshift64* (Vigna), 53 bits.
    pub fn next_random(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let out = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        // 53 high bits over 2^53: exactly representable, always below 1.
        (out >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A transaction over an empty store, standing in for the caller's while the call holds it.
fn placeholder_tx() -> Tx {
    Store::default().begin()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_kv::LedgerSecrets;
    use proptest::prelude::*;

    fn store_with(map: &str, entries: &[(&[u8], &[u8])]) -> Store {
        let mut store = Store::new(LedgerSecrets::with_first([7; 32]));
        let mut tx = store.begin();
        for (k, v) in entries {
            tx.put(map, k.to_vec(), v.to_vec());
        }
        store
            .commit(
                tx,
                cloister_types::View(1),
                None,
                cloister_kv::EntryFlags(0),
            )
            .unwrap();
        store
    }

    #[test]
    fn writes_reach_the_transaction_only_on_commit() {
        let store = store_with("public:t", &[(b"a", b"1")]);
        let mut tx = store.begin();
        let mut state = CallState::new(ExecContext::GovRw, &mut tx, 1);
        state.put("public:t", b"b".to_vec(), b"2".to_vec());
        state.remove("public:t", b"a".to_vec());
        assert_eq!(state.get("public:t", b"b"), Some(b"2".to_vec()));
        assert_eq!(
            state.entries("public:t"),
            vec![(b"b".to_vec(), b"2".to_vec())]
        );
        state.finish(&mut tx, false);
        assert_eq!(tx.get("public:t", b"a"), Some(b"1".to_vec()));
        assert!(!tx.has_writes());

        let mut state = CallState::new(ExecContext::GovRw, &mut tx, 1);
        state.put("public:t", b"b".to_vec(), b"2".to_vec());
        state.remove("public:t", b"a".to_vec());
        state.finish(&mut tx, true);
        assert_eq!(tx.get("public:t", b"a"), None);
        assert_eq!(tx.get("public:t", b"b"), Some(b"2".to_vec()));
    }

    #[test]
    fn console_lines_are_bounded() {
        let mut tx = Store::default().begin();
        let mut state = CallState::new(ExecContext::GovRo, &mut tx, 1);
        for i in 0..LOG_LINES_MAX + 10 {
            state.log(LogLevel::Info, format!("{i}"));
        }
        state.log(LogLevel::Info, "é".repeat(LOG_LINE_BYTES_MAX));
        assert_eq!(state.logs.len(), LOG_LINES_MAX);
        let mut fresh = CallState::new(ExecContext::GovRo, &mut tx, 1);
        fresh.log(LogLevel::Warn, "é".repeat(LOG_LINE_BYTES_MAX));
        assert!(fresh.logs[0].text.len() <= LOG_LINE_BYTES_MAX);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn random_is_in_unit_interval_and_replays_from_its_seed(seed in any::<u64>()) {
            let mut tx = Store::default().begin();
            let mut a = CallState::new(ExecContext::GovRo, &mut tx, seed);
            let mut b = CallState::new(ExecContext::GovRo, &mut tx, seed);
            for _ in 0..8 {
                let x = a.next_random();
                prop_assert!((0.0..1.0).contains(&x));
                prop_assert_eq!(x.to_bits(), b.next_random().to_bits());
            }
        }
    }
}
