//! Transactions: snapshot reads, own writes, optimistic concurrency, rollback.
// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::Bound;

use cloister_kv::{EntryFlags, KvError, LedgerSecrets, Store};
use cloister_ledger::{parse_entry, parse_public_domain};
use cloister_types::{SeqNo, View};

const MAP: &str = "public:app";

fn store() -> Store {
    Store::new(LedgerSecrets::with_first([9; 32]))
}

fn commit(
    store: &mut Store,
    tx: cloister_kv::Tx,
) -> Result<Option<cloister_kv::CommittedEntry>, KvError> {
    store.commit(tx, View(2), None, EntryFlags::default())
}

fn put_one(store: &mut Store, map: &str, key: &[u8], value: &[u8]) {
    let mut tx = store.begin();
    tx.put(map, key, value);
    commit(store, tx).unwrap().unwrap();
}

#[test]
fn second_of_two_read_then_write_transactions_conflicts() {
    let mut store = store();
    put_one(&mut store, MAP, b"k", b"0");
    let mut a = store.begin();
    let mut b = store.begin();
    assert_eq!(a.get(MAP, b"k"), Some(b"0".to_vec()));
    assert_eq!(b.get(MAP, b"k"), Some(b"0".to_vec()));
    a.put(MAP, b"k", b"a");
    b.put(MAP, b"k", b"b");
    assert_eq!(commit(&mut store, a).unwrap().unwrap().seqno, SeqNo(2));
    assert_eq!(
        commit(&mut store, b),
        Err(KvError::Conflict { map: MAP.into() })
    );
    assert_eq!(store.get(MAP, b"k"), Some(b"a".to_vec()));
}

#[test]
fn write_only_transactions_do_not_conflict() {
    let mut store = store();
    put_one(&mut store, MAP, b"k", b"0");
    let mut a = store.begin();
    let mut b = store.begin();
    a.put(MAP, b"k", b"a");
    b.put(MAP, b"k", b"b");
    commit(&mut store, a).unwrap().unwrap();
    assert_eq!(commit(&mut store, b).unwrap().unwrap().seqno, SeqNo(3));
    assert_eq!(store.get(MAP, b"k"), Some(b"b".to_vec()));
    assert_eq!(store.version_of(MAP, b"k"), Some(SeqNo(3)));
}

#[test]
fn conflicting_commit_leaves_the_store_unchanged() {
    let mut store = store();
    put_one(&mut store, MAP, b"k", b"0");
    let mut loser = store.begin();
    loser.get(MAP, b"k");
    loser.put(MAP, b"k", b"lost");
    loser.put("private", b"other", b"lost too");
    put_one(&mut store, MAP, b"k", b"1");
    let (digest, version) = (store.state_digest(), store.current_version());
    assert!(matches!(
        commit(&mut store, loser),
        Err(KvError::Conflict { .. })
    ));
    assert_eq!(store.state_digest(), digest);
    assert_eq!(store.current_version(), version);
    assert_eq!(store.get("private", b"other"), None);
}

#[test]
fn reading_an_absent_key_conflicts_with_its_insertion() {
    let mut store = store();
    let mut a = store.begin();
    assert_eq!(a.get(MAP, b"new"), None);
    a.put(MAP, b"flag", b"saw none");
    put_one(&mut store, MAP, b"new", b"x");
    assert!(matches!(
        commit(&mut store, a),
        Err(KvError::Conflict { .. })
    ));
}

#[test]
fn reads_of_other_keys_do_not_conflict() {
    let mut store = store();
    put_one(&mut store, MAP, b"a", b"1");
    let mut tx = store.begin();
    tx.get(MAP, b"a");
    tx.put(MAP, b"c", b"3");
    put_one(&mut store, MAP, b"b", b"2");
    assert_eq!(commit(&mut store, tx).unwrap().unwrap().seqno, SeqNo(3));
}

#[test]
fn range_reads_conflict_with_inserts_inside_the_range_only() {
    let mut store = store();
    for k in [b"a", b"c", b"e"] {
        put_one(&mut store, MAP, k, b"v");
    }
    let scan = |store: &Store| {
        let mut tx = store.begin();
        let got = tx.range(
            MAP,
            Bound::Included(&b"b"[..]),
            Bound::Excluded(&b"d"[..]),
            10,
        );
        assert!(got.contains(&(b"c".to_vec(), b"v".to_vec())), "{got:?}");
        tx.put(MAP, b"tally", b"1");
        tx
    };
    let outside = scan(&store);
    put_one(&mut store, MAP, b"z", b"outside");
    commit(&mut store, outside).unwrap().unwrap();

    let phantom = scan(&store);
    put_one(&mut store, MAP, b"bb", b"inside");
    assert!(matches!(
        commit(&mut store, phantom),
        Err(KvError::Conflict { .. })
    ));

    let removed = scan(&store);
    let mut tx = store.begin();
    tx.remove(MAP, b"c");
    commit(&mut store, tx).unwrap().unwrap();
    assert!(matches!(
        commit(&mut store, removed),
        Err(KvError::Conflict { .. })
    ));
}

#[test]
fn a_page_cut_by_its_limit_depends_only_on_the_keys_it_returned() {
    let mut store = store();
    for k in [b"a", b"b", b"c"] {
        put_one(&mut store, MAP, k, b"v");
    }
    let mut tx = store.begin();
    let page = tx.range(MAP, Bound::Unbounded, Bound::Unbounded, 2);
    assert_eq!(page.len(), 2);
    tx.put(MAP, b"cursor", b"b");
    put_one(&mut store, MAP, b"d", b"after the page");
    commit(&mut store, tx).unwrap().unwrap();
}

#[test]
fn a_transaction_sees_its_own_writes_and_removes() {
    let mut store = store();
    put_one(&mut store, MAP, b"a", b"1");
    put_one(&mut store, MAP, b"b", b"2");
    let mut tx = store.begin();
    tx.put(MAP, b"c", b"3");
    tx.put(MAP, b"a", b"one");
    tx.remove(MAP, b"b");
    assert_eq!(tx.get(MAP, b"a"), Some(b"one".to_vec()));
    assert_eq!(tx.get(MAP, b"b"), None);
    let all = tx.iter(MAP);
    assert_eq!(
        all,
        vec![
            (b"a".to_vec(), b"one".to_vec()),
            (b"c".to_vec(), b"3".to_vec())
        ]
    );
    // The committed state is untouched until commit.
    assert_eq!(store.get(MAP, b"b"), Some(b"2".to_vec()));
}

#[test]
fn a_transaction_reads_the_snapshot_it_began_with() {
    let mut store = store();
    put_one(&mut store, MAP, b"k", b"old");
    let mut reader = store.begin();
    put_one(&mut store, MAP, b"k", b"new");
    assert_eq!(reader.read_version(), SeqNo(1));
    assert_eq!(reader.get(MAP, b"k"), Some(b"old".to_vec()));
    // Read-only: commits without a version, whatever happened since.
    assert_eq!(commit(&mut store, reader), Ok(None));
    assert_eq!(store.current_version(), SeqNo(2));
}

#[test]
fn crossed_range_bounds_return_nothing() {
    let mut store = store();
    put_one(&mut store, MAP, b"a", b"1");
    let mut tx = store.begin();
    assert!(
        tx.range(
            MAP,
            Bound::Included(&b"z"[..]),
            Bound::Included(&b"a"[..]),
            5
        )
        .is_empty()
    );
    assert!(
        tx.range(
            MAP,
            Bound::Excluded(&b"a"[..]),
            Bound::Excluded(&b"a"[..]),
            5
        )
        .is_empty()
    );
    assert!(
        tx.range(MAP, Bound::Unbounded, Bound::Unbounded, 0)
            .is_empty()
    );
}

#[test]
fn removes_of_absent_keys_are_not_serialised() {
    let mut store = store();
    put_one(&mut store, MAP, b"present", b"1");
    let mut tx = store.begin();
    tx.remove(MAP, b"present");
    tx.remove(MAP, b"absent");
    let entry = commit(&mut store, tx).unwrap().unwrap();
    let parts = parse_entry(&entry.bytes).unwrap();
    let (_, maps) = parse_public_domain(parts.public_domain).unwrap();
    assert_eq!(maps.len(), 1);
    assert_eq!(maps[0].removes, vec![b"present".to_vec()]);
    assert!(maps[0].writes.is_empty());
}

#[test]
fn commit_without_a_ledger_secret_fails_and_changes_nothing() {
    let mut store = Store::default();
    let mut tx = store.begin();
    tx.put(MAP, b"k", b"v");
    assert_eq!(
        commit(&mut store, tx),
        Err(KvError::NoLedgerSecret { seqno: 1 })
    );
    assert_eq!(store.current_version(), SeqNo(0));
    assert_eq!(store.get(MAP, b"k"), None);
}

#[test]
fn views_that_do_not_fit_the_iv_are_refused() {
    let mut store = store();
    let mut tx = store.begin();
    tx.put(MAP, b"k", b"v");
    let result = store.commit(tx, View(0x8000_0000), None, EntryFlags::default());
    assert_eq!(result, Err(KvError::ViewOutOfRange { view: 0x8000_0000 }));
    assert_eq!(store.current_version(), SeqNo(0));
}

#[test]
fn rollback_restores_an_earlier_state_and_invalidates_open_transactions() {
    let mut store = store();
    put_one(&mut store, MAP, b"k", b"1");
    let digest_at_1 = store.state_digest();
    put_one(&mut store, MAP, b"k", b"2");
    put_one(&mut store, "private", b"p", b"3");
    let mut stale = store.begin();
    stale.get(MAP, b"k");
    stale.put(MAP, b"x", b"y");
    store.rollback_to(SeqNo(1)).unwrap();
    assert_eq!(store.current_version(), SeqNo(1));
    assert_eq!(store.state_digest(), digest_at_1);
    // Seqno 2 is reused by a new transaction; the stale one read a state that no longer exists.
    put_one(&mut store, MAP, b"k", b"2'");
    assert!(matches!(
        commit(&mut store, stale),
        Err(KvError::Conflict { .. })
    ));
}

#[test]
fn rollback_cannot_pass_a_compaction_or_go_forward() {
    let mut store = store();
    for v in [b"1", b"2", b"3"] {
        put_one(&mut store, MAP, b"k", v);
    }
    store.compact(SeqNo(2));
    let refused = KvError::RollbackOutOfRange {
        seqno: 1,
        oldest: 2,
        current: 3,
    };
    assert_eq!(store.rollback_to(SeqNo(1)), Err(refused));
    assert!(store.rollback_to(SeqNo(4)).is_err());
    store.rollback_to(SeqNo(2)).unwrap();
    assert_eq!(store.get(MAP, b"k"), Some(b"2".to_vec()));
}

#[test]
fn history_bound_limits_how_far_back_rollback_goes() {
    let mut store = store().with_history_len_max(2);
    for v in [b"1", b"2", b"3", b"4"] {
        put_one(&mut store, MAP, b"k", v);
    }
    assert!(store.rollback_to(SeqNo(1)).is_err());
    store.rollback_to(SeqNo(2)).unwrap();
    assert_eq!(store.get(MAP, b"k"), Some(b"2".to_vec()));
}

#[test]
fn debug_output_never_shows_values() {
    let mut store = store();
    put_one(&mut store, "private", b"key", b"SECRET-CANARY");
    let mut tx = store.begin();
    tx.get("private", b"key");
    tx.put("private", b"k2", b"SECRET-CANARY-2");
    let text = format!("{store:?} {tx:?}");
    assert!(!text.contains("CANARY"), "{text}");
}

/// A write of the rollback property: (map index, key, value or remove).
type Write = (u8, u8, Option<u8>);

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Rolling back to any kept version gives exactly the state committed at that version, and
    /// the store then carries on as if the undone suffix never happened.
    #[test]
    fn rollback_restores_the_exact_state_of_any_kept_version(
        txs in proptest::collection::vec(
            proptest::collection::vec((0u8..3, 0u8..6, proptest::option::of(0u8..4)), 1..5),
            1..25,
        ),
        target in proptest::prelude::any::<proptest::sample::Index>(),
    ) {
        let maps = ["public:a", "b", "c"];
        let apply = |store: &mut Store, writes: &[Write]| {
            let mut tx = store.begin();
            for (m, k, v) in writes {
                match v {
                    Some(v) => tx.put(maps[*m as usize], [*k], [*v]),
                    None => tx.remove(maps[*m as usize], [*k]),
                }
            }
            commit(store, tx).unwrap().unwrap()
        };
        let mut store = store();
        let mut digests = vec![store.state_digest()];
        for writes in &txs {
            apply(&mut store, writes);
            digests.push(store.state_digest());
        }
        let to = target.index(digests.len());
        store.rollback_to(SeqNo(to as u64)).unwrap();
        proptest::prop_assert_eq!(store.current_version(), SeqNo(to as u64));
        proptest::prop_assert_eq!(store.state_digest(), digests[to]);

        // Re-committing the same suffix reproduces the same states.
        for (i, writes) in txs[to..].iter().enumerate() {
            apply(&mut store, writes);
            proptest::prop_assert_eq!(store.state_digest(), digests[to + i + 1]);
        }
    }
}
