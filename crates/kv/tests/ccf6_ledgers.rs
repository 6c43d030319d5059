//! Real CCF 6 ledgers (testdata/ccf6): every entry's public domain applies in order, and a
//! real snapshot restores to the same public state as a replay of the ledger up to it.
//! We hold no ledger secrets for these services, so private domains are skipped.
// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Test fixtures are read from disk; the crate itself stays sans-IO (ARCHITECTURE.md).
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use cloister_kv::{AppliedEntry, Store};
use cloister_ledger::{ChunkName, order_chunks, parse_chunk};
use cloister_types::SeqNo;

fn service_dir(service: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ccf6")
        .join(service)
}

/// Every entry of the service's ledger, in seqno order, as owned bytes.
fn ledger_entries(service: &str) -> Vec<Vec<u8>> {
    let dir = service_dir(service).join("ledger");
    let names: Vec<ChunkName> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| ChunkName::parse(&name))
        .collect();
    let mut entries = Vec::new();
    for chunk in order_chunks(&names).unwrap() {
        let bytes = std::fs::read(dir.join(chunk.to_string())).unwrap();
        let parsed = parse_chunk(&bytes).unwrap();
        entries.extend(parsed.entries.iter().map(|e| e.bytes.to_vec()));
    }
    entries
}

fn replay_public(entries: &[Vec<u8>]) -> (Store, Vec<AppliedEntry>) {
    let mut store = Store::default();
    let applied = entries
        .iter()
        .map(|bytes| store.apply_entry_public_only(bytes).unwrap())
        .collect();
    (store, applied)
}

#[test]
fn eol_service_ledger_replays_public_domain_without_errors() {
    // Committed chunks hold 1..=493; the open chunk ledger_494 holds 494..=500.
    let entries = ledger_entries("eol_service");
    assert_eq!(entries.len(), 500);
    let (store, applied) = replay_public(&entries);
    assert_eq!(store.current_version(), SeqNo(500));
    // read_ledger.py finds 83 signature transactions up to 10.493 (testdata README).
    assert_eq!(applied[..493].iter().filter(|a| a.is_signature).count(), 83);
    assert!(
        applied[492].is_signature,
        "a snapshot is taken at a signature"
    );
    assert!(applied.iter().all(|a| a.view.0 >= 2));
    assert!(store.get("public:ccf.gov.service.info", &[0; 8]).is_some());
}

#[test]
fn eol_service_snapshot_matches_the_replayed_public_state() {
    let bytes =
        std::fs::read(service_dir("eol_service").join("snapshots/snapshot_493_494.committed"))
            .unwrap();
    let (mut restored, header) = Store::from_snapshot_public_only(&bytes).unwrap();
    assert_eq!(header.version, 493);
    assert_eq!(restored.current_version(), SeqNo(493));
    assert!(header.hash_at_snapshot.is_some());

    let entries = ledger_entries("eol_service");
    let (at_493, _) = replay_public(&entries[..493]);
    assert_eq!(
        restored.state_digest(),
        at_493.state_digest(),
        "public state at 493"
    );

    restored.apply_entry_public_only(&entries[493]).unwrap();
    let (at_494, _) = replay_public(&entries[..494]);
    assert_eq!(
        restored.state_digest(),
        at_494.state_digest(),
        "public state at 494"
    );
}

#[test]
fn other_real_ledgers_replay_public_domain_without_errors() {
    for service in [
        "sgx_service",
        "cose_flipflop_service",
        "double_sealed_service",
        "expired_service",
    ] {
        let entries = ledger_entries(service);
        let (store, _) = replay_public(&entries);
        assert_eq!(
            store.current_version(),
            SeqNo(entries.len() as u64),
            "{service}"
        );
    }
}

#[test]
fn every_real_snapshot_matches_the_replayed_public_state() {
    for service in ["eol_service", "sgx_service", "expired_service"] {
        let entries = ledger_entries(service);
        let dir = service_dir(service).join("snapshots");
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let (restored, header) =
                Store::from_snapshot_public_only(&std::fs::read(&path).unwrap()).unwrap();
            let (replayed, _) = replay_public(&entries[..header.version as usize]);
            assert_eq!(
                restored.state_digest(),
                replayed.state_digest(),
                "{}",
                path.display()
            );
        }
    }
}
