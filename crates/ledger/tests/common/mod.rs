//! Fixture access for the integration tests: the real CCF 6 ledgers in testdata/ccf6.
//!
//! The crate itself is sans-IO; only its tests read files, so the clippy bans on file access are
//! lifted here and nowhere else.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::unwrap_used,
    dead_code
)]

use std::path::{Path, PathBuf};

/// The five services of testdata/ccf6.
pub const SERVICES: [&str; 5] = [
    "cose_flipflop_service",
    "double_sealed_service",
    "eol_service",
    "expired_service",
    "sgx_service",
];

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ccf6")
}

/// (file name, bytes) of every file in `<service>/<dir>`, dot-files excluded, sorted by name.
pub fn files(service: &str, dir: &str) -> Vec<(String, Vec<u8>)> {
    let path = testdata().join(service).join(dir);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            (!name.starts_with('.')).then(|| (name, std::fs::read(&p).unwrap()))
        })
        .collect();
    out.sort();
    out
}

pub fn ledger_files(service: &str) -> Vec<(String, Vec<u8>)> {
    files(service, "ledger")
}

pub fn snapshot_files(service: &str) -> Vec<(String, Vec<u8>)> {
    files(service, "snapshots")
}
