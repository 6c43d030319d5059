//! One map of the store: an ordered persistent map from key bytes to versioned values, plus the
//! version of its last change. Maps are named as CCF names them; the `public:` prefix puts a map
//! in the public (plaintext) domain, any other name in the private (encrypted) domain
//! (spec/ccf-internals.md §2.6).

use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use cloister_ledger::MapChanges;
use cloister_types::SeqNo;
use imbl::OrdMap;

use crate::version::{MapUndo, State, Undo, Versioned};

/// The prefix that puts a map in the public domain.
pub const PUBLIC_PREFIX: &str = "public:";

/// The map CCF writes in every signature transaction (spec/ccf-internals.md §3.5).
pub const SIGNATURES_MAP: &str = "public:ccf.internal.signatures";

/// Where a map's writes are serialised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Domain {
    /// Plaintext, in the public domain of the entry (also the AES-GCM AAD).
    Public,
    /// AES-256-GCM ciphertext under the ledger secret in force at the entry's seqno.
    Private,
}

impl Domain {
    /// The domain a map belongs to, decided by its name alone.
    pub fn of(map_name: &str) -> Domain {
        if map_name.starts_with(PUBLIC_PREFIX) {
            Domain::Public
        } else {
            Domain::Private
        }
    }
}

/// A map's committed contents at one version. (`Debug` shows no contents: values may be private.)
#[derive(Clone, Default)]
pub(crate) struct MapState {
    /// Seqno of the last transaction that changed this map (the snapshot's `map_version`).
    pub(crate) version: SeqNo,
    pub(crate) entries: OrdMap<Arc<[u8]>, Versioned>,
}

impl MapState {
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Versioned> {
        self.entries.get(key)
    }

    /// Entries with keys inside the bounds, in key order; empty (never a panic) for bounds that
    /// cross.
    pub(crate) fn range<'a>(
        &'a self,
        lower: Bound<&'a [u8]>,
        upper: Bound<&'a [u8]>,
    ) -> impl Iterator<Item = (&'a [u8], &'a Versioned)> + 'a {
        let valid = bounds_are_ordered(lower, upper);
        let iter = valid.then(|| self.entries.range::<_, [u8]>((lower, upper)));
        iter.into_iter().flatten().map(|(k, v)| (&**k, v))
    }

    /// Whether applying `changes` would change anything. A remove of an absent key is no
    /// change, as in CCF, so it neither creates the map nor bumps its version.
    fn would_change(&self, changes: &MapChanges) -> bool {
        !changes.writes.is_empty() || changes.removes.iter().any(|k| self.get(k).is_some())
    }

    /// Applies one map record at `version`, returning each changed key's earlier value.
    fn apply(
        &mut self,
        changes: &MapChanges,
        version: SeqNo,
    ) -> Vec<(Arc<[u8]>, Option<Versioned>)> {
        let mut earlier = Vec::with_capacity(changes.writes.len() + changes.removes.len());
        for (key, value) in &changes.writes {
            let key: Arc<[u8]> = Arc::from(key.as_slice());
            let versioned = Versioned {
                version,
                value: Arc::from(value.as_slice()),
            };
            let before = self.entries.insert(key.clone(), versioned);
            earlier.push((key, before));
        }
        for key in &changes.removes {
            if let Some(before) = self.entries.remove(key.as_slice()) {
                earlier.push((Arc::from(key.as_slice()), Some(before)));
            }
        }
        self.version = version;
        earlier
    }
}

impl fmt::Debug for MapState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapState")
            .field("version", &self.version)
            .field("len", &self.entries.len())
            .finish()
    }
}

/// Applies the map records of one transaction to `state` at `version`, in place, and returns
/// how to undo it. Used by both the commit path and the apply path, so a primary and its backups
/// reach the same state from the same records.
pub(crate) fn apply_map_changes<'a>(
    state: &mut State,
    maps: impl IntoIterator<Item = &'a MapChanges>,
    version: SeqNo,
) -> Undo {
    let mut undo = Undo {
        version,
        previous_version: state.version,
        maps: Vec::new(),
    };
    let empty = MapState::default();
    for changes in maps {
        let existing = state.maps.get(changes.name.as_str());
        if !existing.unwrap_or(&empty).would_change(changes) {
            continue;
        }
        let previous = existing.map(|m| m.version);
        let map = state.maps.entry(changes.name.clone()).or_default();
        let keys = map.apply(changes, version);
        undo.maps.push(MapUndo {
            name: changes.name.clone(),
            previous,
            keys,
        });
    }
    state.version = version;
    undo
}

/// True when `lower..upper` is a well-formed range (a BTree range with crossed bounds panics).
pub(crate) fn bounds_are_ordered(lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    match (lower, upper) {
        (Bound::Unbounded, _) | (_, Bound::Unbounded) => true,
        (Bound::Included(l), Bound::Included(u)) => l <= u,
        (Bound::Included(l), Bound::Excluded(u)) | (Bound::Excluded(l), Bound::Included(u)) => {
            l < u
        }
        // (Excluded(x), Excluded(x)) also panics in std's BTreeMap; it is empty anyway.
        (Bound::Excluded(l), Bound::Excluded(u)) => l < u,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_prefix_decides_the_domain() {
        assert_eq!(Domain::of("public:ccf.gov.nodes.info"), Domain::Public);
        assert_eq!(Domain::of("records"), Domain::Private);
        assert_eq!(Domain::of("Public:x"), Domain::Private);
    }

    #[test]
    fn crossed_bounds_give_an_empty_range() {
        let mut map = MapState::default();
        let changes = MapChanges {
            name: "m".into(),
            writes: vec![
                (b"a".to_vec(), b"1".to_vec()),
                (b"c".to_vec(), b"2".to_vec()),
            ],
            removes: vec![],
        };
        assert_eq!(map.apply(&changes, SeqNo(1)).len(), 2);
        let crossed = map
            .range(Bound::Included(b"c"), Bound::Excluded(b"a"))
            .count();
        assert_eq!(crossed, 0);
        let same = map
            .range(Bound::Excluded(b"a"), Bound::Excluded(b"a"))
            .count();
        assert_eq!(same, 0);
        let all = map.range(Bound::Unbounded, Bound::Unbounded).count();
        assert_eq!(all, 2);
    }

    #[test]
    fn removing_an_absent_key_changes_nothing() {
        let mut state = State::default();
        let changes = MapChanges {
            name: "m".into(),
            writes: vec![],
            removes: vec![b"gone".to_vec()],
        };
        let undo = apply_map_changes(&mut state, &[changes], SeqNo(1));
        assert!(state.maps.get("m").is_none());
        assert!(undo.maps.is_empty());
        assert_eq!(state.version, SeqNo(1));
    }
}
