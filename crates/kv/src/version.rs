//! Versions: every key remembers the seqno of its last write, every map the seqno of its last
//! change, and the store keeps a bounded run of recent committed states so that an unsigned
//! suffix can be rolled back (spec/ccf-internals.md §5.4: CCF commits only at signatures and
//! rolls back whatever follows the last committable entry on a view change).

use std::collections::VecDeque;
use std::sync::Arc;

use cloister_types::SeqNo;
use imbl::OrdMap;

use crate::map::MapState;

/// A value together with the seqno of the transaction that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Versioned {
    pub(crate) version: SeqNo,
    /// Shared, so that the copy-on-write nodes of the persistent maps clone a pointer, not bytes.
    pub(crate) value: Arc<[u8]>,
}

/// Every map of the store as of one committed version. Cloning is O(1): the maps are
/// persistent, so a transaction snapshot and a rollback point cost a pointer each.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub(crate) version: SeqNo,
    pub(crate) maps: OrdMap<String, MapState>,
}

/// Earlier committed states, oldest first, each strictly older than the store's current one.
#[derive(Debug)]
pub(crate) struct History {
    states: VecDeque<State>,
    len_max: usize,
}

impl History {
    pub(crate) fn new(len_max: usize) -> History {
        History {
            states: VecDeque::new(),
            len_max,
        }
    }

    /// Remembers `state` as a rollback point, forgetting the oldest one beyond the bound.
    pub(crate) fn push(&mut self, state: State) {
        if self.len_max == 0 {
            return;
        }
        while self.states.len() >= self.len_max {
            self.states.pop_front();
        }
        self.states.push_back(state);
    }

    /// Removes and returns the state at exactly `version`, dropping every newer one.
    pub(crate) fn take_back_to(&mut self, version: SeqNo) -> Option<State> {
        let index = self.states.iter().position(|s| s.version == version)?;
        self.states.truncate(index + 1);
        self.states.pop_back()
    }

    /// Forgets every state older than `version`: nothing before it can be rolled back to.
    pub(crate) fn forget_before(&mut self, version: SeqNo) {
        while self.states.front().is_some_and(|s| s.version < version) {
            self.states.pop_front();
        }
    }

    /// The oldest version still available for rollback.
    pub(crate) fn oldest(&self) -> Option<SeqNo> {
        self.states.front().map(|s| s.version)
    }

    pub(crate) fn set_len_max(&mut self, len_max: usize) {
        self.len_max = len_max;
        while self.states.len() > len_max {
            self.states.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_at(version: u64) -> State {
        State {
            version: SeqNo(version),
            maps: OrdMap::new(),
        }
    }

    #[test]
    fn history_keeps_at_most_len_max_states() {
        let mut history = History::new(3);
        for v in 0..10 {
            history.push(state_at(v));
        }
        assert_eq!(history.oldest(), Some(SeqNo(7)));
        assert!(history.take_back_to(SeqNo(6)).is_none());
        assert_eq!(
            history.take_back_to(SeqNo(8)).map(|s| s.version),
            Some(SeqNo(8))
        );
        // The newer state 9 went with the rollback; 7 remains.
        assert_eq!(history.oldest(), Some(SeqNo(7)));
        assert!(history.take_back_to(SeqNo(9)).is_none());
    }

    #[test]
    fn forget_before_drops_only_older_states() {
        let mut history = History::new(100);
        for v in 0..5 {
            history.push(state_at(v));
        }
        history.forget_before(SeqNo(3));
        assert_eq!(history.oldest(), Some(SeqNo(3)));
    }
}
