//! A transaction: reads at the snapshot taken by `Store::begin`, buffers its writes, and records
//! what it read so that `Store::commit` can refuse it if that has changed since (optimistic
//! concurrency, as CCF's `prepare` does; spec/ccf-internals.md §0, ARCHITECTURE.md step 4).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

use cloister_types::SeqNo;

use crate::map::{MapState, bounds_are_ordered};
use crate::version::State;

/// Buffered writes: map name → key → new value, or `None` for a remove.
pub(crate) type WriteSet = BTreeMap<String, BTreeMap<Vec<u8>, Option<Vec<u8>>>>;

/// One transaction over a snapshot of the store.
pub struct Tx {
    snapshot: State,
    /// The store's rollback count at `begin`: a rollback since then invalidates every read.
    pub(crate) generation: u64,
    /// For each key read from the snapshot, the version seen (`None` = absent).
    reads: BTreeMap<String, BTreeMap<Vec<u8>, Option<SeqNo>>>,
    range_reads: Vec<RangeRead>,
    pub(crate) writes: WriteSet,
}

/// A range of a map the transaction scanned; any change inside it is a conflict (no phantoms).
#[derive(Debug)]
struct RangeRead {
    map: String,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
}

impl Tx {
    pub(crate) fn new(snapshot: State, generation: u64) -> Tx {
        Tx {
            snapshot,
            generation,
            reads: BTreeMap::new(),
            range_reads: Vec::new(),
            writes: BTreeMap::new(),
        }
    }

    /// The committed version this transaction reads at.
    pub fn read_version(&self) -> SeqNo {
        self.snapshot.version
    }

    /// The value of `key` in `map`: this transaction's own write if any, else the snapshot's.
    pub fn get(&mut self, map: &str, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(own) = self.writes.get(map).and_then(|m| m.get(key)) {
            return own.clone();
        }
        self.record_read(map, key);
        let found = self.snapshot.maps.get(map).and_then(|m| m.get(key));
        found.map(|v| v.value.to_vec())
    }

    /// The seqno of the last committed write of `key` in `map` as this transaction sees the
    /// store (`None` if the key is absent or was removed). Like CCF's
    /// `get_version_of_previous_write` it ignores this transaction's own pending writes, and
    /// it is a read: a commit fails if another transaction has written the key since.
    pub fn version_of(&mut self, map: &str, key: &[u8]) -> Option<SeqNo> {
        self.record_read(map, key)
    }

    /// Adds `key` to the read set at the snapshot's version of it (the first read of a key is
    /// the one that counts), and returns that version.
    fn record_read(&mut self, map: &str, key: &[u8]) -> Option<SeqNo> {
        let seen = self
            .snapshot
            .maps
            .get(map)
            .and_then(|m| m.get(key))
            .map(|v| v.version);
        let map_reads = self.reads.entry(map.to_owned()).or_default();
        map_reads.entry(key.to_vec()).or_insert(seen);
        seen
    }

    /// Writes `value` under `key` in `map` (visible to this transaction's later reads).
    pub fn put(&mut self, map: &str, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.map_writes(map).insert(key.into(), Some(value.into()));
    }

    /// Removes `key` from `map`. Serialised only if the key exists in committed state at commit.
    pub fn remove(&mut self, map: &str, key: impl Into<Vec<u8>>) {
        self.map_writes(map).insert(key.into(), None);
    }

    /// Up to `limit` entries of `map` with keys within the bounds, in key order, with this
    /// transaction's own writes and removes applied. The scanned range joins the read set: a
    /// commit fails if another transaction changed anything in it (including inserting a key).
    pub fn range(
        &mut self,
        map: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        if limit == 0 || !bounds_are_ordered(lower, upper) {
            return Vec::new();
        }
        let out = self.merged_range(map, lower, upper, limit);
        // A page that stopped at the limit depended only on keys up to its last one.
        let scanned_upper = match out.last() {
            Some((last, _)) if out.len() == limit => Bound::Included(last.clone()),
            _ => upper.map(<[u8]>::to_vec),
        };
        self.range_reads.push(RangeRead {
            map: map.to_owned(),
            lower: lower.map(<[u8]>::to_vec),
            upper: scanned_upper,
        });
        out
    }

    /// Every entry of `map` in key order (a `range` over all keys).
    pub fn iter(&mut self, map: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.range(map, Bound::Unbounded, Bound::Unbounded, usize::MAX)
    }

    /// True when the transaction wrote or removed something (and so needs a new version).
    pub fn has_writes(&self) -> bool {
        self.writes.values().any(|m| !m.is_empty())
    }

    /// True when the transaction read or wrote any map (CCF sets `x-ms-ccf-transaction-id` on
    /// responses of transactions that opened a map, spec/ccf-api.md §0).
    pub fn touched_maps(&self) -> bool {
        !self.reads.is_empty() || !self.range_reads.is_empty() || !self.writes.is_empty()
    }

    /// Names of the maps this transaction wrote to, in order.
    pub fn written_maps(&self) -> impl Iterator<Item = &str> {
        self.writes
            .iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(name, _)| name.as_str())
    }

    /// The first map whose reads no longer hold in `current`, if any.
    pub(crate) fn find_conflict(&self, current: &State) -> Option<&str> {
        for (map, keys) in &self.reads {
            let (before, now) = (self.snapshot.maps.get(map), current.maps.get(map));
            if map_unchanged(before, now) {
                continue;
            }
            let version_now = |key: &[u8]| now.and_then(|m| m.get(key)).map(|v| v.version);
            if keys.iter().any(|(key, seen)| version_now(key) != *seen) {
                return Some(map);
            }
        }
        for read in &self.range_reads {
            let (before, now) = (
                self.snapshot.maps.get(&read.map),
                current.maps.get(&read.map),
            );
            if !map_unchanged(before, now) && range_changed(read, before, now) {
                return Some(&read.map);
            }
        }
        None
    }

    fn map_writes(&mut self, map: &str) -> &mut BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        self.writes.entry(map.to_owned()).or_default()
    }

    /// The snapshot's entries in the bounds merged with this transaction's own writes.
    fn merged_range(
        &self,
        map: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        limit: usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut committed = self
            .snapshot
            .maps
            .get(map)
            .into_iter()
            .flat_map(|m| m.range(lower, upper))
            .map(|(k, v)| (k, Some(&*v.value)))
            .peekable();
        let mut own = self
            .writes
            .get(map)
            .into_iter()
            .flat_map(|m| m.range::<[u8], _>((lower, upper)))
            .map(|(k, v)| (k.as_slice(), v.as_deref()))
            .peekable();
        let mut out = Vec::new();
        while out.len() < limit {
            let next = match (committed.peek(), own.peek()) {
                (None, None) => break,
                (Some(_), None) => committed.next(),
                (None, Some(_)) => own.next(),
                (Some((ck, _)), Some((ok, _))) => {
                    if ck < ok {
                        committed.next()
                    } else {
                        // An own write shadows the committed entry with the same key.
                        if ck == ok {
                            committed.next();
                        }
                        own.next()
                    }
                }
            };
            if let Some((key, Some(value))) = next {
                out.push((key.to_vec(), value.to_vec()));
            }
        }
        out
    }
}

impl fmt::Debug for Tx {
    /// Shows sizes, never keys or values: private values must not reach logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tx")
            .field("read_version", &self.snapshot.version)
            .field(
                "reads",
                &self.reads.values().map(BTreeMap::len).sum::<usize>(),
            )
            .field("range_reads", &self.range_reads.len())
            .field(
                "writes",
                &self.writes.values().map(BTreeMap::len).sum::<usize>(),
            )
            .finish()
    }
}

/// A map's version moves on every change, so an equal version means equal contents (rollbacks,
/// which could reuse a version, invalidate transactions wholesale through the generation).
fn map_unchanged(before: Option<&MapState>, now: Option<&MapState>) -> bool {
    match (before, now) {
        (None, None) => true,
        (Some(b), Some(n)) => b.version == n.version,
        _ => false,
    }
}

/// Whether the (key, version) pairs inside the scanned range differ between the two states.
fn range_changed(read: &RangeRead, before: Option<&MapState>, now: Option<&MapState>) -> bool {
    let lower = read.lower.as_ref().map(Vec::as_slice);
    let upper = read.upper.as_ref().map(Vec::as_slice);
    range_versions(before, lower, upper).ne(range_versions(now, lower, upper))
}

fn range_versions<'a>(
    map: Option<&'a MapState>,
    lower: Bound<&'a [u8]>,
    upper: Bound<&'a [u8]>,
) -> impl Iterator<Item = (&'a [u8], SeqNo)> + 'a {
    map.into_iter()
        .flat_map(move |m| m.range(lower, upper))
        .map(|(k, v)| (k, v.version))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is a test failure

    use cloister_ledger::EntryFlags;
    use cloister_types::{SeqNo, View};

    use crate::{KvError, LedgerSecrets, Store, Tx};

    const MAP: &str = "public:app";

    fn store() -> Store {
        Store::new(LedgerSecrets::with_first([3; 32]))
    }

    fn commit(store: &mut Store, tx: Tx) -> Result<(), KvError> {
        store.commit(tx, View(2), None, EntryFlags::default())?;
        Ok(())
    }

    fn put_one(store: &mut Store, key: &[u8], value: &[u8]) {
        let mut tx = store.begin();
        tx.put(MAP, key, value);
        commit(store, tx).unwrap();
    }

    #[test]
    fn version_of_is_the_seqno_of_the_last_committed_write() {
        let mut store = store();
        put_one(&mut store, b"k", b"1");
        put_one(&mut store, b"other", b"2");
        put_one(&mut store, b"k", b"3");
        let mut tx = store.begin();
        assert_eq!(tx.version_of(MAP, b"k"), Some(SeqNo(3)));
        assert_eq!(tx.version_of(MAP, b"other"), Some(SeqNo(2)));
        assert_eq!(tx.version_of(MAP, b"absent"), None);
        assert_eq!(tx.version_of("public:no_such_map", b"k"), None);
        assert_eq!(tx.version_of(MAP, b"k"), store.version_of(MAP, b"k"));
    }

    #[test]
    fn version_of_ignores_the_transactions_own_writes() {
        let mut store = store();
        put_one(&mut store, b"k", b"1");
        let mut tx = store.begin();
        tx.put(MAP, b"k", b"new");
        assert_eq!(tx.version_of(MAP, b"k"), Some(SeqNo(1)));
        tx.remove(MAP, b"k");
        assert_eq!(tx.version_of(MAP, b"k"), Some(SeqNo(1)));
        tx.put(MAP, b"fresh", b"v");
        assert_eq!(tx.version_of(MAP, b"fresh"), None);
        // Once committed, the writes are the new versions.
        commit(&mut store, tx).unwrap();
        let mut next = store.begin();
        assert_eq!(next.version_of(MAP, b"k"), None);
        assert_eq!(next.version_of(MAP, b"fresh"), Some(SeqNo(2)));
    }

    #[test]
    fn a_removed_key_has_no_version() {
        let mut store = store();
        put_one(&mut store, b"k", b"1");
        let mut tx = store.begin();
        tx.remove(MAP, b"k");
        commit(&mut store, tx).unwrap();
        assert_eq!(store.begin().version_of(MAP, b"k"), None);
        // Written again, it has the new seqno.
        put_one(&mut store, b"k", b"3");
        assert_eq!(store.begin().version_of(MAP, b"k"), Some(SeqNo(3)));
    }

    #[test]
    fn version_of_is_a_read_that_conflicts_with_a_later_write() {
        let mut store = store();
        put_one(&mut store, b"k", b"1");
        for key in [&b"k"[..], b"absent"] {
            let mut reader = store.begin();
            assert!(reader.version_of(MAP, key).is_none() == (key == b"absent"));
            reader.put(MAP, b"elsewhere", b"x");
            put_one(&mut store, key, b"changed");
            assert!(
                matches!(commit(&mut store, reader), Err(KvError::Conflict { .. })),
                "{key:?}"
            );
        }
        // A write to another key is no conflict.
        let mut reader = store.begin();
        reader.version_of(MAP, b"k");
        reader.put(MAP, b"elsewhere", b"x");
        put_one(&mut store, b"unrelated", b"y");
        commit(&mut store, reader).unwrap();
    }

    #[test]
    fn version_of_after_a_rollback_is_the_surviving_write() {
        let mut store = store();
        put_one(&mut store, b"k", b"1");
        put_one(&mut store, b"k", b"2");
        put_one(&mut store, b"late", b"3");
        let mut before = store.begin();
        assert_eq!(before.version_of(MAP, b"k"), Some(SeqNo(2)));
        store.rollback_to(SeqNo(1)).unwrap();

        let mut tx = store.begin();
        assert_eq!(tx.version_of(MAP, b"k"), Some(SeqNo(1)));
        assert_eq!(tx.version_of(MAP, b"late"), None);
        // A transaction that read versions from before the rollback cannot commit.
        before.put(MAP, b"x", b"x");
        assert!(matches!(
            commit(&mut store, before),
            Err(KvError::Conflict { .. })
        ));
        // Seqno 2 is reused by the next write, and version_of reports it.
        put_one(&mut store, b"k", b"again");
        assert_eq!(store.begin().version_of(MAP, b"k"), Some(SeqNo(2)));
    }
}
