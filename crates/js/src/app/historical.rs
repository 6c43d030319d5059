//! Historical state for application calls (spec/ccf-js.md §3.7): what the node hands the
//! JavaScript runtime for `ccf.historicalState` (a `mode: "historical"` endpoint's target
//! transaction) and for `ccf.historical.getStateRange`. The node builds the states (it holds the
//! ledger entries, the ledger secrets and the receipts); this crate only shows them, read-only.

use std::rc::Rc;

use cloister_kv::WriteSetTables;
use cloister_types::{SeqNo, TxId};

/// One committed transaction as JavaScript sees it: `{transactionId, receipt, kv}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalState {
    pub tx_id: TxId,
    /// The receipt in CCF's JavaScript shape (`signature`, `cert`, `node_id`,
    /// `is_signature_transaction`, then `leaf_components` and `proof`, or `root_hex`), as JSON.
    pub receipt_json: String,
    /// What the transaction wrote: `historicalState.kv` shows these tables and nothing else.
    pub tables: WriteSetTables,
}

impl HistoricalState {
    /// The value `key` had in `table` after this transaction, if the transaction wrote it.
    pub fn get(&self, table: &str, key: &[u8]) -> Option<&[u8]> {
        self.tables
            .get(table)
            .and_then(|entries| entries.get(key))
            .map(Vec::as_slice)
    }
}

/// The node's historical queries, as an application call may use them.
pub trait HistoricalHost {
    /// The state a `mode: "historical"` endpoint runs against (`ccf.historicalState`); `None`
    /// for other endpoints.
    fn target_state(&self) -> Option<Rc<HistoricalState>>;

    /// `ccf.historical.getStateRange(handle, start, end, secondsUntilExpiry)`: every state from
    /// `start` to `end` inclusive, `Ok(None)` while they are being fetched (JavaScript `null`), or
    /// why the range cannot be served (thrown as an InternalError).
    fn state_range(
        &self,
        handle: u64,
        start: SeqNo,
        end: SeqNo,
        seconds_until_expiry: u64,
    ) -> Result<Option<Vec<Rc<HistoricalState>>>, String>;

    /// `ccf.historical.dropCachedStates(handle)`: whether states were cached under `handle`.
    fn drop_cached_states(&self, handle: u64) -> bool;
}

/// The historical states one call has handed to JavaScript; state objects refer to them by
/// index (a bounded list: the host bounds what one call may fetch).
#[derive(Debug, Default)]
pub(crate) struct HistoricalCall {
    states: Vec<Rc<HistoricalState>>,
    /// The index of `ccf.historicalState`'s state, once JavaScript asked for it.
    target: Option<usize>,
}

impl HistoricalCall {
    /// Keeps `state` for the call and returns its index.
    pub(crate) fn add(&mut self, state: Rc<HistoricalState>) -> usize {
        self.states.push(state);
        self.states.len() - 1
    }

    /// The index of the call's target state, adding `target` the first time; `true` when it
    /// was added now (JavaScript then builds a fresh state object).
    pub(crate) fn target(&mut self, target: Rc<HistoricalState>) -> (usize, bool) {
        match self.target {
            Some(index) => (index, false),
            None => {
                let index = self.add(target);
                self.target = Some(index);
                (index, true)
            }
        }
    }

    pub(crate) fn state(&self, index: usize) -> Option<&Rc<HistoricalState>> {
        self.states.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_found_by_the_index_they_were_given() {
        let mut tables = WriteSetTables::new();
        tables
            .entry("records".to_owned())
            .or_default()
            .insert(b"k".to_vec(), b"v".to_vec());
        let state = HistoricalState {
            tx_id: TxId::new(2, 7),
            receipt_json: "{}".to_owned(),
            tables,
        };
        assert_eq!(state.get("records", b"k"), Some(b"v".as_slice()));
        assert_eq!(state.get("records", b"x"), None);
        assert_eq!(state.get("other", b"k"), None);
        let mut call = HistoricalCall::default();
        assert_eq!(call.add(Rc::new(state.clone())), 0);
        assert_eq!(call.add(Rc::new(state)), 1);
        assert_eq!(call.state(1).map(|s| s.tx_id), Some(TxId::new(2, 7)));
        assert!(call.state(2).is_none());
        let target = Rc::new(call.state(0).unwrap().as_ref().clone());
        assert_eq!(call.target(target.clone()), (2, true));
        assert_eq!(call.target(target), (2, false));
    }
}
