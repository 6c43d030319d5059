//! Snapshots (spec §8.2): restore + replay equals full replay; the layout's markers; refusal of
//! wrong secrets and tampered bytes.
// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cloister_crypto::sha256;
use cloister_kv::{CommittedEntry, EntryFlags, KvError, LedgerSecrets, Store};
use cloister_ledger::parse_snapshot_file;
use cloister_types::{SeqNo, View};
use proptest::prelude::*;

const SECRET: [u8; 32] = [0x11; 32];

/// A write: (private?, key, value or remove).
type Write = (bool, u8, Option<u8>);

fn run_workload(store: &mut Store, txs: &[Vec<Write>]) -> Vec<CommittedEntry> {
    let mut entries = Vec::new();
    for writes in txs {
        let mut tx = store.begin();
        for (private, key, value) in writes {
            let map = if *private {
                "secret_map"
            } else {
                "public:open_map"
            };
            match value {
                Some(v) => tx.put(map, [*key], vec![*v; 1 + (*key as usize)]),
                None => tx.remove(map, [*key]),
            }
        }
        if let Some(entry) = store
            .commit(tx, View(2), None, EntryFlags::default())
            .unwrap()
        {
            entries.push(entry);
        }
    }
    entries
}

fn workload() -> impl Strategy<Value = Vec<Vec<Write>>> {
    let write = (
        any::<bool>(),
        0u8..12,
        prop::option::weighted(0.8, any::<u8>()),
    );
    prop::collection::vec(prop::collection::vec(write, 1..4), 2..30)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn snapshot_then_replay_equals_full_replay(txs in workload(), cut in any::<prop::sample::Index>()) {
        let mut primary = Store::new(LedgerSecrets::with_first(SECRET));
        let entries = run_workload(&mut primary, &txs);
        let s = cut.index(entries.len()) + 1;

        // A node that took a snapshot at s.
        let mut at_s = Store::new(LedgerSecrets::with_first(SECRET));
        for entry in &entries[..s] {
            at_s.apply_entry(&entry.bytes).unwrap();
        }
        let snapshot = at_s.snapshot(sha256(b"leaf of s"), &[1]).unwrap();

        let (mut restored, header) =
            Store::from_snapshot(&snapshot, LedgerSecrets::with_first(SECRET)).unwrap();
        prop_assert_eq!(header.version, s as u64);
        prop_assert_eq!(restored.state_digest(), at_s.state_digest());
        for entry in &entries[s..] {
            restored.apply_entry(&entry.bytes).unwrap();
        }
        prop_assert_eq!(restored.state_digest(), primary.state_digest());

        // Transactions on the restored store see the same per-key versions as the primary.
        let mut on_restored = restored.begin();
        let mut on_primary = primary.begin();
        for key in 0u8..12 {
            prop_assert_eq!(on_restored.get("secret_map", &[key]), on_primary.get("secret_map", &[key]));
            prop_assert_eq!(restored.version_of("secret_map", &[key]), primary.version_of("secret_map", &[key]));
        }
    }
}

fn small_store() -> Store {
    let mut store = Store::new(LedgerSecrets::with_first(SECRET));
    run_workload(
        &mut store,
        &[
            vec![(true, 1, Some(7)), (false, 2, Some(8))],
            vec![(true, 3, Some(9))],
        ],
    );
    store
}

#[test]
fn snapshot_header_and_iv_follow_the_spec_layout() {
    let store = small_store();
    let bytes = store.snapshot(sha256(b"leaf"), &[1, 5]).unwrap();
    let file = parse_snapshot_file(&bytes).unwrap();
    assert_eq!(file.header.version, 2);
    assert_eq!(file.header.hash_at_snapshot, Some(sha256(b"leaf")));
    assert_eq!(file.header.view_history, vec![1, 5]);
    // IV = s ‖ view 0 with the snapshot bit (§2.2).
    assert_eq!(
        &file.parts.gcm.iv[..],
        &[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80][..]
    );
    assert_eq!(file.public_maps.len(), 1);
    assert_eq!(file.public_maps[0].name, "public:open_map");
    assert_eq!(file.public_maps[0].map_version, 1);
    assert!(!file.parts.private_ciphertext.is_empty());
    assert!(file.receipt.is_empty());
}

#[test]
fn restore_ignores_an_appended_receipt() {
    let store = small_store();
    let mut bytes = store.snapshot(sha256(b"leaf"), &[1]).unwrap();
    bytes.extend(br#"{"receipt": "json"}"#);
    let (restored, _) = Store::from_snapshot(&bytes, LedgerSecrets::with_first(SECRET)).unwrap();
    assert_eq!(restored.state_digest(), store.state_digest());
}

#[test]
fn restore_with_a_wrong_secret_is_refused() {
    let bytes = small_store().snapshot(sha256(b"leaf"), &[1]).unwrap();
    let wrong = Store::from_snapshot(&bytes, LedgerSecrets::with_first([0x12; 32]));
    assert_eq!(wrong.map(|_| ()), Err(KvError::Decrypt { seqno: 2 }));
    let none = Store::from_snapshot(&bytes, LedgerSecrets::new());
    assert_eq!(none.map(|_| ()), Err(KvError::NoLedgerSecret { seqno: 2 }));
}

#[test]
fn restore_of_a_tampered_snapshot_is_refused() {
    let bytes = small_store().snapshot(sha256(b"leaf"), &[1]).unwrap();
    for at in [20, 60, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x04;
        assert!(
            Store::from_snapshot(&bad, LedgerSecrets::with_first(SECRET)).is_err(),
            "byte {at}"
        );
    }
}

#[test]
fn public_only_restore_keeps_public_maps() {
    let store = small_store();
    let bytes = store.snapshot(sha256(b"leaf"), &[1]).unwrap();
    let (restored, header) = Store::from_snapshot_public_only(&bytes).unwrap();
    assert_eq!(header.version, 2);
    assert_eq!(restored.current_version(), SeqNo(2));
    assert_eq!(restored.get("public:open_map", &[2]), Some(vec![8; 3]));
    assert_eq!(restored.get("secret_map", &[1]), None);
}

#[test]
fn restored_store_cannot_roll_back_below_the_snapshot() {
    let bytes = small_store().snapshot(sha256(b"leaf"), &[1]).unwrap();
    let (mut restored, _) =
        Store::from_snapshot(&bytes, LedgerSecrets::with_first(SECRET)).unwrap();
    assert!(restored.rollback_to(SeqNo(1)).is_err());
    assert_eq!(restored.rollback_to(SeqNo(2)), Ok(()));
}
