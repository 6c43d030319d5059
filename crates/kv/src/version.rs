//! Versions: every key remembers the seqno of its last write, every map the seqno of its last
//! change, and the store keeps an undo record per recent version so that an unsigned suffix can
//! be rolled back (spec/ccf-internals.md §5.4: CCF commits only at signatures and rolls back what
//! follows the last committable entry on a view change).
//!
//! Undo records rather than whole earlier states: a retained state pins the nodes every later
//! write would copy, which made commits three times slower in `benches/kv.rs` and costs memory
//! per version proportional to tree depth; an undo record costs the bytes it restores.

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
/// persistent, so a transaction's snapshot costs a pointer.
#[derive(Clone, Debug, Default)]
pub(crate) struct State {
    pub(crate) version: SeqNo,
    pub(crate) maps: OrdMap<String, MapState>,
}

/// How to turn the state at `version` back into the state at `previous_version`.
#[derive(Debug)]
pub(crate) struct Undo {
    pub(crate) version: SeqNo,
    pub(crate) previous_version: SeqNo,
    /// In the order the changes were made; undone in reverse.
    pub(crate) maps: Vec<MapUndo>,
}

/// One map's part of an undo record.
#[derive(Debug)]
pub(crate) struct MapUndo {
    pub(crate) name: String,
    /// The map's version before the change; `None` when the change created the map.
    pub(crate) previous: Option<SeqNo>,
    /// Each changed key with its earlier value (`None` = absent), in change order.
    pub(crate) keys: Vec<(Arc<[u8]>, Option<Versioned>)>,
}

impl Undo {
    /// Reverts `state` (which must be at `self.version`) to `self.previous_version`.
    fn revert(self, state: &mut State) {
        assert_eq!(
            state.version, self.version,
            "undo records are applied newest first"
        );
        for map_undo in self.maps.into_iter().rev() {
            let Some(previous) = map_undo.previous else {
                state.maps.remove(map_undo.name.as_str());
                continue;
            };
            let Some(map) = state.maps.get_mut(map_undo.name.as_str()) else {
                continue;
            };
            for (key, earlier) in map_undo.keys.into_iter().rev() {
                match earlier {
                    Some(value) => map.entries.insert(key, value),
                    None => map.entries.remove(&*key),
                };
            }
            map.version = previous;
        }
        state.version = self.previous_version;
    }
}

/// Undo records of the most recent versions, oldest first, at most `len_max` of them.
#[derive(Debug)]
pub(crate) struct History {
    undos: VecDeque<Undo>,
    len_max: usize,
}

impl History {
    pub(crate) fn new(len_max: usize) -> History {
        History {
            undos: VecDeque::new(),
            len_max,
        }
    }

    /// Remembers how to undo the newest version, forgetting the oldest record beyond the bound.
    pub(crate) fn push(&mut self, undo: Undo) {
        if self.len_max == 0 {
            return;
        }
        while self.undos.len() >= self.len_max {
            self.undos.pop_front();
        }
        self.undos.push_back(undo);
    }

    /// The oldest version `state` can be rolled back to.
    pub(crate) fn oldest(&self, state: &State) -> SeqNo {
        self.undos
            .front()
            .map_or(state.version, |u| u.previous_version)
    }

    /// Rolls `state` back to `version`; false (and no change) if that is out of reach.
    pub(crate) fn roll_back(&mut self, state: &mut State, version: SeqNo) -> bool {
        if version > state.version || version < self.oldest(state) {
            return false;
        }
        while self.undos.back().is_some_and(|u| u.version > version) {
            if let Some(undo) = self.undos.pop_back() {
                undo.revert(state);
            }
        }
        true
    }

    /// Forgets how to undo versions up to `version`: nothing before it can be rolled back to.
    pub(crate) fn forget_up_to(&mut self, version: SeqNo) {
        while self.undos.front().is_some_and(|u| u.version <= version) {
            self.undos.pop_front();
        }
    }

    pub(crate) fn set_len_max(&mut self, len_max: usize) {
        self.len_max = len_max;
        while self.undos.len() > len_max {
            self.undos.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undo(version: u64) -> Undo {
        Undo {
            version: SeqNo(version),
            previous_version: SeqNo(version - 1),
            maps: Vec::new(),
        }
    }

    #[test]
    fn history_keeps_at_most_len_max_records() {
        let mut history = History::new(3);
        let mut state = State::default();
        for v in 1..=10 {
            history.push(undo(v));
            state.version = SeqNo(v);
        }
        assert_eq!(history.oldest(&state), SeqNo(7));
        assert!(!history.roll_back(&mut state, SeqNo(6)));
        assert_eq!(state.version, SeqNo(10));
        assert!(history.roll_back(&mut state, SeqNo(8)));
        assert_eq!(state.version, SeqNo(8));
        assert_eq!(history.oldest(&state), SeqNo(7));
    }

    #[test]
    fn forget_up_to_keeps_later_records() {
        let mut history = History::new(100);
        let mut state = State::default();
        for v in 1..=5 {
            history.push(undo(v));
            state.version = SeqNo(v);
        }
        history.forget_up_to(SeqNo(3));
        assert_eq!(history.oldest(&state), SeqNo(3));
        assert!(history.roll_back(&mut state, SeqNo(3)));
        assert!(!history.roll_back(&mut state, SeqNo(2)));
    }
}
