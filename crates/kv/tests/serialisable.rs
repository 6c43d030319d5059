//! Property: whatever the interleaving of concurrent transactions, the ones that commit are
//! serialisable (TESTING.md, client-history invariants): write transactions in commit (seqno)
//! order, and each read-only transaction at the version it read at — it commits without a
//! version, as in CCF, having read one consistent snapshot.
// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::Bound;

use cloister_kv::{CommittedEntry, EntryFlags, LedgerSecrets, Store, Tx};
use cloister_types::View;
use proptest::prelude::*;

const SLOTS: usize = 4;
const KEYS: u8 = 5;
const SECRET: [u8; 32] = [4; 32];

/// One step of a schedule. Even keys live in a public map, odd ones in a private one.
#[derive(Clone, Debug)]
enum Op {
    Begin(usize),
    Get(usize, u8),
    Put(usize, u8, u8),
    Remove(usize, u8),
    Range(usize, u8, u8),
    Commit(usize),
}

/// What a transaction did and saw, in order.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Get(u8, Option<Vec<u8>>),
    Put(u8, u8),
    Remove(u8),
    Range(u8, u8, Vec<(Vec<u8>, Vec<u8>)>),
}

/// A committed transaction and where it sits in the serial order: a write transaction at
/// (seqno, 0), a read-only one just after the write whose state it read, at (read_version, 1).
struct Committed {
    position: (u64, u8),
    steps: Vec<Step>,
    entry: Option<CommittedEntry>,
}

fn map_of(key: u8) -> &'static str {
    if key % 2 == 0 { "public:even" } else { "odd" }
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    // Few keys and many reads, so that conflicts are common (about one schedule in four has one).
    prop_oneof![
        1 => slot.clone().prop_map(Op::Begin),
        3 => (slot.clone(), 0u8..KEYS).prop_map(|(s, k)| Op::Get(s, k)),
        3 => (slot.clone(), 0u8..KEYS, any::<u8>()).prop_map(|(s, k, v)| Op::Put(s, k, v)),
        1 => (slot.clone(), 0u8..KEYS).prop_map(|(s, k)| Op::Remove(s, k)),
        1 => (slot.clone(), 0u8..KEYS, 0u8..KEYS).prop_map(|(s, a, b)| Op::Range(s, a, b)),
        1 => slot.prop_map(Op::Commit),
    ]
}

/// Runs one step on a transaction and records what it observed.
fn run(tx: &mut Tx, step: &Step) -> Step {
    match step {
        Step::Get(k, _) => Step::Get(*k, tx.get(map_of(*k), &[*k])),
        Step::Put(k, v) => {
            tx.put(map_of(*k), [*k], [*v; 3]);
            step.clone()
        }
        Step::Remove(k) => {
            tx.remove(map_of(*k), [*k]);
            step.clone()
        }
        Step::Range(lo, hi, _) => {
            // Keys of one map only: the even ones or the odd ones between lo and hi.
            let got = tx.range(
                map_of(*lo),
                Bound::Included(&[*lo][..]),
                Bound::Included(&[*hi][..]),
                3,
            );
            Step::Range(*lo, *hi, got)
        }
    }
}

fn step_of(op: &Op) -> Option<(usize, Step)> {
    match *op {
        Op::Get(s, k) => Some((s, Step::Get(k, None))),
        Op::Put(s, k, v) => Some((s, Step::Put(k, v))),
        Op::Remove(s, k) => Some((s, Step::Remove(k))),
        Op::Range(s, a, b) => Some((s, Step::Range(a, b, Vec::new()))),
        Op::Begin(_) | Op::Commit(_) => None,
    }
}

fn commit(store: &mut Store, tx: Tx) -> Result<Option<CommittedEntry>, cloister_kv::KvError> {
    store.commit(tx, View(3), None, EntryFlags::default())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn committed_transactions_are_serialisable_in_commit_order(
        ops in prop::collection::vec(op(), 1..120)
    ) {
        let mut store = Store::new(LedgerSecrets::with_first(SECRET));
        let mut open: Vec<Option<(Tx, Vec<Step>)>> = (0..SLOTS).map(|_| None).collect();
        let mut committed: Vec<Committed> = Vec::new();
        let mut conflicts = 0u32;
        for op in &ops {
            if let Op::Begin(s) = *op {
                if open[s].is_none() {
                    open[s] = Some((store.begin(), Vec::new()));
                }
            } else if let Op::Commit(s) = *op {
                if let Some((tx, steps)) = open[s].take() {
                    let read_version = tx.read_version().0;
                    match commit(&mut store, tx) {
                        Ok(Some(entry)) => committed.push(Committed {
                            position: (entry.seqno.0, 0),
                            steps,
                            entry: Some(entry),
                        }),
                        Ok(None) => committed.push(Committed {
                            position: (read_version, 1),
                            steps,
                            entry: None,
                        }),
                        Err(cloister_kv::KvError::Conflict { .. }) => conflicts += 1,
                        Err(other) => prop_assert!(false, "unexpected error {other}"),
                    }
                }
            } else if let Some((s, step)) = step_of(op) {
                if let Some((tx, steps)) = open[s].as_mut() {
                    let seen = run(tx, &step);
                    steps.push(seen);
                }
            }
        }

        // Replay the committed transactions one at a time, in serial order.
        committed.sort_by_key(|c| c.position);
        let mut serial = Store::new(LedgerSecrets::with_first(SECRET));
        for Committed { steps, entry, .. } in &committed {
            let mut tx = serial.begin();
            for step in steps {
                prop_assert_eq!(&run(&mut tx, step), step, "a read differs in serial order");
            }
            let replayed = commit(&mut serial, tx);
            prop_assert!(replayed.is_ok(), "serial replay conflicted: {:?}", replayed);
            let replayed = replayed.unwrap_or_default();
            // Same order, same views: byte-identical entries.
            prop_assert_eq!(replayed.map(|e| e.bytes), entry.as_ref().map(|e| e.bytes.clone()));
        }
        prop_assert_eq!(serial.state_digest(), store.state_digest());

        // And a backup applying the entries reaches the same state.
        let mut backup = Store::new(LedgerSecrets::with_first(SECRET));
        for entry in committed.iter().filter_map(|c| c.entry.as_ref()) {
            prop_assert!(backup.apply_entry(&entry.bytes).is_ok());
        }
        prop_assert_eq!(backup.state_digest(), store.state_digest());
        let _ = conflicts;
    }
}
