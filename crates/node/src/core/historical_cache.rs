//! CCF's historical state cache as `ccf.historical.getStateRange` sees it (spec/ccf-js.md §3.7):
//! states are kept per handle until `dropCachedStates(handle)`, until they expire, or until the
//! handle is reused for another range. A range asked for the first time is "being fetched": the
//! call answers `null` (the application answers 202), and the node builds the states before its
//! next JavaScript request ([`NodeCore::fetch_historical_ranges`](super::NodeCore)) or once the
//! ledger entries it asked its host for arrive, as CCF's host fetches ledger entries
//! asynchronously.
//!
//! The states are shared (`Rc`) between the node and the per-request [`NodeHistorical`] that the
//! JavaScript runtime holds; both live on the node's thread. The entries read back from the
//! ledger files ([`LedgerFetches`]) belong to the node alone.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use cloister_js::{HistoricalHost, HistoricalState};
use cloister_types::SeqNo;

use super::historical_fetch::LedgerFetches;

/// Most seqnos one `getStateRange` call may ask for (CCF's logging sample pages by 2001).
pub(crate) const HISTORICAL_RANGE_SEQNOS_MAX: u64 = 10_000;
/// Most states the cache holds over every handle; the least recently used ranges go first.
pub(crate) const HISTORICAL_CACHE_STATES_MAX: usize = 50_000;

/// The cache, the target of the current `mode: "historical"` request, and the ledger reads.
#[derive(Debug, Default)]
pub(crate) struct HistoricalCache {
    states: Rc<RefCell<CacheState>>,
    /// Entries read back from the ledger files, and the reads under way.
    pub(crate) fetches: LedgerFetches,
}

#[derive(Debug, Default)]
struct CacheState {
    ranges: BTreeMap<u64, CachedRange>,
    target: Option<Rc<HistoricalState>>,
    /// A range was asked for since the node last looked at the pending ones.
    asked: bool,
}

#[derive(Debug)]
struct CachedRange {
    start: SeqNo,
    end: SeqNo,
    /// Dropped once unused for this long.
    expiry_ms: u64,
    last_used_ms: u64,
    contents: Contents,
}

#[derive(Debug)]
enum Contents {
    Fetching,
    Ready(Vec<Rc<HistoricalState>>),
    /// Why the range cannot be served; thrown at the next call, then forgotten.
    Failed(String),
}

impl CacheState {
    fn held_states(&self) -> usize {
        self.ranges
            .values()
            .map(|range| match &range.contents {
                Contents::Ready(states) => states.len(),
                Contents::Fetching | Contents::Failed(_) => 0,
            })
            .sum()
    }
}

impl HistoricalCache {
    /// The view one JavaScript request gets, at the node's time `now_ms`.
    pub(crate) fn for_request(&self, now_ms: u64) -> NodeHistorical {
        NodeHistorical {
            states: Rc::clone(&self.states),
            now_ms,
        }
    }

    /// Sets (or clears) the target of the request about to run.
    pub(crate) fn set_target(&self, target: Option<HistoricalState>) {
        self.states.borrow_mut().target = target.map(Rc::new);
    }

    /// Ranges asked for and not fetched yet: `(handle, start, end)`.
    pub(crate) fn pending(&self) -> Vec<(u64, SeqNo, SeqNo)> {
        self.states
            .borrow()
            .ranges
            .iter()
            .filter(|(_, range)| matches!(range.contents, Contents::Fetching))
            .map(|(handle, range)| (*handle, range.start, range.end))
            .collect()
    }

    /// Stores what fetching `handle`'s range gave, then evicts the least recently used other
    /// ranges while the cache holds too many states.
    pub(crate) fn fulfil(&self, handle: u64, fetched: Result<Vec<HistoricalState>, String>) {
        let mut state = self.states.borrow_mut();
        let Some(range) = state.ranges.get_mut(&handle) else {
            return;
        };
        range.contents = match fetched {
            Ok(states) => Contents::Ready(states.into_iter().map(Rc::new).collect()),
            Err(reason) => Contents::Failed(reason),
        };
        while state.held_states() > HISTORICAL_CACHE_STATES_MAX {
            let oldest = state
                .ranges
                .iter()
                .filter(|(other, _)| **other != handle)
                .min_by_key(|(_, range)| range.last_used_ms)
                .map(|(other, _)| *other);
            match oldest {
                Some(other) => state.ranges.remove(&other),
                None => break,
            };
        }
    }

    /// Whether a range was asked for since the last call.
    pub(crate) fn take_asked(&self) -> bool {
        std::mem::take(&mut self.states.borrow_mut().asked)
    }

    /// Forgets ranges unused for longer than their expiry.
    pub(crate) fn expire(&self, now_ms: u64) {
        self.states
            .borrow_mut()
            .ranges
            .retain(|_, range| range.last_used_ms.saturating_add(range.expiry_ms) >= now_ms);
    }
}

/// The node's historical queries for one JavaScript request.
#[derive(Debug)]
pub(crate) struct NodeHistorical {
    states: Rc<RefCell<CacheState>>,
    now_ms: u64,
}

impl HistoricalHost for NodeHistorical {
    fn target_state(&self) -> Option<Rc<HistoricalState>> {
        self.states.borrow().target.clone()
    }

    fn state_range(
        &self,
        handle: u64,
        start: SeqNo,
        end: SeqNo,
        seconds_until_expiry: u64,
    ) -> Result<Option<Vec<Rc<HistoricalState>>>, String> {
        if end < start {
            return Err(format!(
                "Invalid range: end seqno {end} is before start seqno {start}"
            ));
        }
        if end.0 - start.0 >= HISTORICAL_RANGE_SEQNOS_MAX {
            return Err(format!(
                "Cloister serves at most {HISTORICAL_RANGE_SEQNOS_MAX} seqnos per range"
            ));
        }
        let expiry_ms = seconds_until_expiry.saturating_mul(1000);
        let mut state = self.states.borrow_mut();
        if let Some(range) = state.ranges.get_mut(&handle)
            && range.start == start
            && range.end == end
        {
            range.last_used_ms = self.now_ms;
            range.expiry_ms = expiry_ms;
            return match &range.contents {
                Contents::Fetching => Ok(None),
                Contents::Ready(states) => Ok(Some(states.clone())),
                Contents::Failed(reason) => {
                    let reason = reason.clone();
                    state.ranges.remove(&handle);
                    Err(reason)
                }
            };
        }
        // A new handle, or one reused for another range: fetch (again).
        state.asked = true;
        state.ranges.insert(
            handle,
            CachedRange {
                start,
                end,
                expiry_ms,
                last_used_ms: self.now_ms,
                contents: Contents::Fetching,
            },
        );
        Ok(None)
    }

    fn drop_cached_states(&self, handle: u64) -> bool {
        self.states.borrow_mut().ranges.remove(&handle).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_kv::WriteSetTables;
    use cloister_types::TxId;

    fn state(seqno: u64) -> HistoricalState {
        HistoricalState {
            tx_id: TxId::new(2, seqno),
            receipt_json: "{}".to_owned(),
            tables: WriteSetTables::new(),
        }
    }

    fn fetch_all(cache: &HistoricalCache) {
        for (handle, start, end) in cache.pending() {
            cache.fulfil(handle, Ok((start.0..=end.0).map(state).collect()));
        }
    }

    #[test]
    fn a_range_is_fetching_then_ready_until_dropped() {
        let cache = HistoricalCache::default();
        let host = cache.for_request(0);
        assert_eq!(host.state_range(1, SeqNo(3), SeqNo(5), 60), Ok(None));
        assert_eq!(host.state_range(1, SeqNo(3), SeqNo(5), 60), Ok(None));
        assert_eq!(cache.pending(), vec![(1, SeqNo(3), SeqNo(5))]);
        fetch_all(&cache);
        assert!(cache.pending().is_empty());
        let states = host
            .state_range(1, SeqNo(3), SeqNo(5), 60)
            .unwrap()
            .unwrap();
        let seqnos: Vec<u64> = states.iter().map(|s| s.tx_id.seqno.0).collect();
        assert_eq!(seqnos, vec![3, 4, 5]);
        assert!(host.drop_cached_states(1));
        assert!(!host.drop_cached_states(1));
        assert_eq!(host.state_range(1, SeqNo(3), SeqNo(5), 60), Ok(None));
    }

    #[test]
    fn a_reused_handle_fetches_its_new_range() {
        let cache = HistoricalCache::default();
        let host = cache.for_request(0);
        host.state_range(1, SeqNo(3), SeqNo(5), 60).unwrap();
        fetch_all(&cache);
        assert_eq!(host.state_range(1, SeqNo(4), SeqNo(5), 60), Ok(None));
        assert_eq!(cache.pending(), vec![(1, SeqNo(4), SeqNo(5))]);
    }

    #[test]
    fn a_failed_fetch_is_thrown_once() {
        let cache = HistoricalCache::default();
        let host = cache.for_request(0);
        host.state_range(1, SeqNo(3), SeqNo(5), 60).unwrap();
        cache.fulfil(1, Err("not held".to_owned()));
        assert_eq!(
            host.state_range(1, SeqNo(3), SeqNo(5), 60),
            Err("not held".to_owned())
        );
        assert_eq!(host.state_range(1, SeqNo(3), SeqNo(5), 60), Ok(None));
    }

    #[test]
    fn ranges_expire_when_unused_and_bad_ranges_are_refused() {
        let cache = HistoricalCache::default();
        cache
            .for_request(1_000)
            .state_range(1, SeqNo(1), SeqNo(1), 2)
            .unwrap();
        cache.expire(3_000);
        assert_eq!(cache.pending().len(), 1);
        cache.expire(3_001);
        assert!(cache.pending().is_empty());
        let host = cache.for_request(0);
        assert!(host.state_range(1, SeqNo(5), SeqNo(4), 1).is_err());
        assert!(
            host.state_range(1, SeqNo(1), SeqNo(HISTORICAL_RANGE_SEQNOS_MAX + 1), 1)
                .is_err()
        );
        assert_eq!(
            host.state_range(1, SeqNo(1), SeqNo(HISTORICAL_RANGE_SEQNOS_MAX), 1),
            Ok(None)
        );
    }

    #[test]
    fn the_least_recently_used_ranges_are_evicted_past_the_bound() {
        let cache = HistoricalCache::default();
        let per = HISTORICAL_RANGE_SEQNOS_MAX;
        let ranges = HISTORICAL_CACHE_STATES_MAX as u64 / per + 1;
        for handle in 0..ranges {
            cache
                .for_request(handle)
                .state_range(handle, SeqNo(1), SeqNo(per), 60)
                .unwrap();
            fetch_all(&cache);
        }
        let held = cache.states.borrow().held_states();
        assert!(held <= HISTORICAL_CACHE_STATES_MAX, "{held}");
        // The first (least recently used) went; the last is there.
        let host = cache.for_request(ranges);
        assert!(
            host.state_range(ranges - 1, SeqNo(1), SeqNo(per), 60)
                .unwrap()
                .is_some()
        );
        assert_eq!(host.state_range(0, SeqNo(1), SeqNo(per), 60), Ok(None));
    }

    #[test]
    fn the_target_is_what_the_node_set_last() {
        let cache = HistoricalCache::default();
        cache.set_target(Some(state(7)));
        let host = cache.for_request(0);
        assert_eq!(host.target_state().unwrap().tx_id, TxId::new(2, 7));
        cache.set_target(None);
        assert!(host.target_state().is_none());
    }
}
