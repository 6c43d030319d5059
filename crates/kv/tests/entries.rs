//! Serialised entries: the spec §2.5 vector byte for byte, the confidentiality canary, and
//! apply on a second store (the backup path).
// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use cloister_crypto::sha256;
use cloister_kv::{
    CommittedEntry, EntryFlags, EntryType, KvError, LedgerSecrets, SIGNATURES_MAP, Store, Tx,
};
use cloister_types::{SeqNo, View};
use proptest::prelude::*;

fn spec_secret() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

fn commit(store: &mut Store, tx: Tx) -> CommittedEntry {
    store
        .commit(tx, View(2), None, EntryFlags::default())
        .unwrap()
        .unwrap()
}

fn write(store: &mut Store, writes: &[(&str, &[u8], &[u8])]) -> CommittedEntry {
    let mut tx = store.begin();
    for (map, key, value) in writes {
        tx.put(map, *key, *value);
    }
    commit(store, tx)
}

fn le(n: u64) -> [u8; 8] {
    n.to_le_bytes()
}

/// The entry of spec §2.5, assembled field by field from the spec's listing.
fn spec_entry_bytes() -> Vec<u8> {
    let evidence = "ce:2.5:187ceea26f3f7d44a5e204750ce5782e98493a457a60d17119486e8bf7f211ea";
    let mut public = vec![4u8];
    public.extend(le(5));
    public.extend([0u8; 32]);
    public.extend(sha256(evidence.as_bytes()).0);
    public.extend(le(0));
    public.extend(le(10));
    public.extend(b"public:app");
    public.extend(le(0));
    public.extend(le(0));
    public.extend(le(1));
    public.extend(le(1));
    public.extend(b"k");
    public.extend(le(1));
    public.extend(b"v");
    public.extend(le(0));
    assert_eq!(public.len(), 149);
    let mut entry = vec![0x01, 0x00, 0xb9, 0, 0, 0, 0, 0];
    entry.extend(hex::decode("8f4489974a0edc9fa9cfc8a11f08fe79").unwrap());
    entry.extend(le(5));
    entry.extend(2u32.to_le_bytes());
    entry.extend(le(149));
    entry.extend(public);
    entry
}

/// A store whose next commit is seqno 5, as in the spec example.
fn store_before_seqno_5() -> Store {
    let mut store = Store::new(LedgerSecrets::with_first(spec_secret()));
    for i in 0u8..4 {
        write(&mut store, &[("public:filler", &[i], b"x")]);
    }
    store
}

#[test]
fn public_write_at_2_5_reproduces_the_spec_worked_example() {
    let mut store = store_before_seqno_5();
    let entry = write(&mut store, &[("public:app", b"k", b"v")]);
    assert_eq!(entry.seqno, SeqNo(5));
    assert_eq!(hex::encode(&entry.bytes), hex::encode(spec_entry_bytes()));
    assert_eq!(
        entry.commit_evidence,
        "ce:2.5:187ceea26f3f7d44a5e204750ce5782e98493a457a60d17119486e8bf7f211ea"
    );
    let ced = entry.commit_evidence_digest().to_hex();
    assert!(
        ced.starts_with("d13711bf") && ced.ends_with("94cee58d"),
        "{ced}"
    );
    assert_eq!(
        entry.write_set_digest.to_hex(),
        "6087f6b5e134a05b5d035076a95b16b39a5f56ba3386beaf1b53cc8cc125e682"
    );
    assert_eq!(entry.claims_digest.0, [0; 32]);
    assert_eq!(
        entry.leaf().to_hex(),
        "18915044fea7914d49452795482f4c312f49a6ba487a47706ad5a11cfbf7c7fe"
    );
}

#[test]
fn claims_and_flags_go_where_the_spec_puts_them() {
    let mut store = store_before_seqno_5();
    let mut tx = store.begin();
    tx.put("public:app", b"k", b"v");
    let claims = sha256(b"claims");
    let flags = EntryFlags(EntryFlags::FORCE_LEDGER_CHUNK_AFTER);
    let entry = store
        .commit(tx, View(2), Some(claims), flags)
        .unwrap()
        .unwrap();
    assert_eq!(entry.bytes[1], 0x01);
    assert_eq!(entry.claims_digest, claims);
    // Claims digest sits after the entry type and version in the public domain (§2.3).
    assert_eq!(&entry.bytes[44 + 9..44 + 41], &claims.0);
}

fn encodings(canary: &[u8]) -> Vec<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    vec![
        canary.to_vec(),
        hex::encode(canary).into_bytes(),
        hex::encode_upper(canary).into_bytes(),
        b64.encode(canary).into_bytes(),
        b64url.encode(canary).into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// spec TESTING.md, confidentiality: a canary in a private map never appears in entry or
    /// snapshot bytes; in a public map it does (the positive control).
    #[test]
    fn private_canary_never_appears_in_entries_or_snapshots(
        canary in prop::collection::vec(any::<u8>(), 12..40),
        key in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        let mut store = Store::new(LedgerSecrets::with_first([3; 32]));
        let private = write(&mut store, &[("private_records", &key, &canary)]);
        let snapshot = store.snapshot(sha256(b"leaf"), &[1]).unwrap();
        for form in encodings(&canary) {
            prop_assert!(!contains(&private.bytes, &form));
            prop_assert!(!contains(&snapshot, &form));
        }
        let public = write(&mut store, &[("public:records", &key, &canary)]);
        prop_assert!(contains(&public.bytes, &canary));
        let snapshot = store.snapshot(sha256(b"leaf"), &[1]).unwrap();
        prop_assert!(contains(&snapshot, &canary));
    }

    /// Any single flipped byte, except the unauthenticated chunking flags, makes apply fail
    /// and leaves the backup unchanged.
    #[test]
    fn apply_refuses_any_flipped_byte(position in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (entries, _) = mixed_workload();
        let mut backup = Store::new(LedgerSecrets::with_first([5; 32]));
        backup.apply_entry(&entries[0].bytes).unwrap();
        let mut bad = entries[1].bytes.clone();
        let at = position.index(bad.len());
        prop_assume!(at != 1);
        bad[at] ^= 1 << bit;
        let digest = backup.state_digest();
        prop_assert!(backup.apply_entry(&bad).is_err());
        prop_assert_eq!(backup.state_digest(), digest);
        prop_assert_eq!(backup.current_version(), SeqNo(1));
    }
}

/// Three entries mixing public and private maps, and a signature-map write.
fn mixed_workload() -> (Vec<CommittedEntry>, Store) {
    let mut primary = Store::new(LedgerSecrets::with_first([5; 32]));
    let mut entries = vec![write(
        &mut primary,
        &[("public:a", b"k1", b"v1"), ("priv", b"p1", b"s1")],
    )];
    entries.push(write(
        &mut primary,
        &[("priv", b"p2", b"s2"), ("public:b", b"k2", b"v2")],
    ));
    let mut tx = primary.begin();
    tx.remove("priv", b"p1");
    tx.put(SIGNATURES_MAP, [0u8; 8], br#"{"sig":"..."}"#);
    entries.push(commit(&mut primary, tx));
    (entries, primary)
}

#[test]
fn applying_committed_entries_on_a_backup_reaches_the_same_state() {
    let (entries, primary) = mixed_workload();
    let mut backup = Store::new(LedgerSecrets::with_first([5; 32]));
    for entry in &entries {
        let applied = backup.apply_entry(&entry.bytes).unwrap();
        assert_eq!(applied.seqno, entry.seqno);
        assert_eq!(applied.view, View(2));
        assert_eq!(
            applied.entry_type,
            EntryType::WriteSetWithCommitEvidenceAndClaims
        );
        assert_eq!(applied.write_set_digest, entry.write_set_digest);
        assert_eq!(applied.leaf(), entry.leaf());
        assert!(!applied.private_skipped);
    }
    assert_eq!(backup.state_digest(), primary.state_digest());
    assert_eq!(backup.get("priv", b"p1"), None);
    assert_eq!(backup.get("priv", b"p2"), Some(b"s2".to_vec()));
}

#[test]
fn applied_entries_report_their_maps_and_signatures() {
    let (entries, _) = mixed_workload();
    let mut backup = Store::new(LedgerSecrets::with_first([5; 32]));
    let first = backup.apply_entry(&entries[0].bytes).unwrap();
    assert_eq!(first.maps, vec!["public:a".to_owned(), "priv".to_owned()]);
    assert!(!first.is_signature);
    backup.apply_entry(&entries[1].bytes).unwrap();
    let third = backup.apply_entry(&entries[2].bytes).unwrap();
    assert!(third.is_signature);
}

#[test]
fn wrong_secret_is_refused_and_changes_nothing() {
    let (entries, _) = mixed_workload();
    let mut backup = Store::new(LedgerSecrets::with_first([6; 32]));
    assert_eq!(
        backup.apply_entry(&entries[0].bytes),
        Err(KvError::Decrypt { seqno: 1 })
    );
    assert_eq!(backup.current_version(), SeqNo(0));
    assert!(backup.map_names().is_empty());
}

#[test]
fn tampered_ciphertext_is_refused_and_changes_nothing() {
    let (entries, _) = mixed_workload();
    let mut backup = Store::new(LedgerSecrets::with_first([5; 32]));
    let mut bad = entries[0].bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    assert_eq!(backup.apply_entry(&bad), Err(KvError::Decrypt { seqno: 1 }));
    assert_eq!(backup.current_version(), SeqNo(0));
    assert_eq!(backup.state_digest(), Store::default().state_digest());
}

#[test]
fn entries_must_come_in_seqno_order() {
    let (entries, _) = mixed_workload();
    let mut backup = Store::new(LedgerSecrets::with_first([5; 32]));
    let skipped = backup.apply_entry(&entries[1].bytes);
    assert_eq!(
        skipped,
        Err(KvError::UnexpectedVersion {
            expected: 1,
            found: 2
        })
    );
    backup.apply_entry(&entries[0].bytes).unwrap();
    let replayed = backup.apply_entry(&entries[0].bytes);
    assert_eq!(
        replayed,
        Err(KvError::UnexpectedVersion {
            expected: 2,
            found: 1
        })
    );
}

#[test]
fn a_snapshot_is_not_an_entry_to_apply() {
    let (_, primary) = mixed_workload();
    let snapshot = primary.snapshot(sha256(b"leaf"), &[1]).unwrap();
    let mut backup = Store::new(LedgerSecrets::with_first([5; 32]));
    assert!(matches!(
        backup.apply_entry(&snapshot),
        Err(KvError::Ledger(_))
    ));
    assert_eq!(backup.current_version(), SeqNo(0));
}

#[test]
fn public_only_apply_skips_private_maps() {
    let (entries, primary) = mixed_workload();
    let mut reader = Store::default();
    for entry in &entries {
        let applied = reader.apply_entry_public_only(&entry.bytes).unwrap();
        assert!(applied.maps.iter().all(|m| m.starts_with("public:")));
        assert!(applied.private_skipped);
    }
    assert_eq!(reader.current_version(), primary.current_version());
    assert_eq!(reader.get("public:b", b"k2"), Some(b"v2".to_vec()));
    assert_eq!(reader.get("priv", b"p2"), None);
}

#[test]
fn rekeyed_entries_use_the_secret_in_force_at_their_seqno() {
    let mut secrets = LedgerSecrets::with_first([5; 32]);
    secrets.add(SeqNo(3), [6; 32]).unwrap();
    let mut primary = Store::new(secrets.clone());
    let entries: Vec<_> = (0u8..4)
        .map(|i| write(&mut primary, &[("priv", &[i], b"secret value")]))
        .collect();
    let mut backup = Store::new(secrets);
    for entry in &entries {
        backup.apply_entry(&entry.bytes).unwrap();
    }
    assert_eq!(backup.state_digest(), primary.state_digest());
    // Entry 3 is not readable with the first secret alone.
    let mut old_only = Store::new(LedgerSecrets::with_first([5; 32]));
    old_only.apply_entry(&entries[0].bytes).unwrap();
    old_only.apply_entry(&entries[1].bytes).unwrap();
    assert_eq!(
        old_only.apply_entry(&entries[2].bytes),
        Err(KvError::Decrypt { seqno: 3 })
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let mut store = Store::new(LedgerSecrets::with_first([5; 32]));
    for bytes in [&b""[..], &[1, 0, 0, 0, 0, 0, 0, 0][..], &[0xff; 64][..]] {
        assert!(store.apply_entry(bytes).is_err());
        assert!(Store::from_snapshot(bytes, LedgerSecrets::new()).is_err());
    }
}
