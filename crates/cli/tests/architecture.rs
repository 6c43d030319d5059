//! The workspace is the dependency policy (ARCHITECTURE.md): each crate may use only the crates
//! named for it, and the sans-IO crates never touch clocks, files, sockets, threads, the
//! environment or OS randomness. Clippy's clippy.toml bans the calls; this test also greps the
//! sources, so a ban cannot be silenced with an `allow` without this test noticing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Which workspace crates each crate may depend on (normal dependencies), per ARCHITECTURE.md.
const ALLOWED: &[(&str, &[&str])] = &[
    ("cloister-types", &[]),
    ("cloister-crypto", &["cloister-types"]),
    ("cloister-raft", &["cloister-types"]),
    ("cloister-merkle", &["cloister-types", "cloister-crypto"]),
    (
        "cloister-ledger",
        &["cloister-types", "cloister-crypto", "cloister-merkle"],
    ),
    (
        "cloister-kv",
        &["cloister-types", "cloister-crypto", "cloister-ledger"],
    ),
    (
        "cloister-gov",
        &["cloister-types", "cloister-crypto", "cloister-kv"],
    ),
    ("cloister-js-bytecode", &[]),
    (
        "cloister-attestation",
        &["cloister-types", "cloister-crypto"],
    ),
    (
        "cloister-js",
        &[
            "cloister-js-bytecode",
            "cloister-types",
            "cloister-crypto",
            "cloister-kv",
            "cloister-gov",
            "cloister-attestation",
        ],
    ),
    ("cloister-node", NODE_AND_BELOW_WITHOUT_NODE),
    (
        "cloister-client",
        &["cloister-types", "cloister-crypto", "cloister-merkle"],
    ),
    ("cloister-host", NODE_AND_BELOW),
    (
        "cloister-check",
        &[
            "cloister-types",
            "cloister-crypto",
            "cloister-merkle",
            "cloister-ledger",
            "cloister-kv",
        ],
    ),
    ("cloister-sim", SIM),
    ("cloister", CLI),
    (
        "cloister-bench",
        &[
            "cloister-types",
            "cloister-crypto",
            "cloister-merkle",
            "cloister-client",
        ],
    ),
];

/// The simulator: the node, the checks and everything below them (no host, no client).
const SIM: &[&str] = &[
    "cloister-types",
    "cloister-crypto",
    "cloister-merkle",
    "cloister-ledger",
    "cloister-kv",
    "cloister-raft",
    "cloister-gov",
    "cloister-js",
    "cloister-node",
    "cloister-check",
];

const NODE_AND_BELOW_WITHOUT_NODE: &[&str] = &[
    "cloister-types",
    "cloister-crypto",
    "cloister-merkle",
    "cloister-ledger",
    "cloister-kv",
    "cloister-raft",
    "cloister-gov",
    "cloister-js",
];

const NODE_AND_BELOW: &[&str] = &[
    "cloister-types",
    "cloister-crypto",
    "cloister-merkle",
    "cloister-ledger",
    "cloister-kv",
    "cloister-raft",
    "cloister-gov",
    "cloister-js",
    "cloister-node",
];

/// The binary: host, client, check and everything below them.
const CLI: &[&str] = &[
    "cloister-types",
    "cloister-crypto",
    "cloister-merkle",
    "cloister-ledger",
    "cloister-kv",
    "cloister-raft",
    "cloister-gov",
    "cloister-js",
    "cloister-node",
    "cloister-host",
    "cloister-client",
    "cloister-check",
];

/// Crates that decide, and so must stay sans-IO.
const SANS_IO: &[&str] = &[
    "types",
    "crypto",
    "merkle",
    "ledger",
    "kv",
    "raft",
    "gov",
    "attestation",
    "js",
    "node",
];

/// Text that must not appear in sans-IO sources. Hash maps are banned too: iterating one with a
/// random hasher would leak order into outputs and break seed replay (ordered maps instead).
const BANNED: &[&str] = &[
    "std::time",
    "Instant",
    "SystemTime",
    "std::thread",
    "thread_rng",
    "OsRng",
    "SystemRandom",
    "std::env",
    "std::fs",
    "std::net",
    "tokio",
    "HashMap",
    "HashSet",
];

/// Randomness from the OS is allowed in exactly one place: `OsEntropy`, which hosts pass in.
const OS_RANDOMNESS: &[&str] = &["rand::fill", "OsEntropy"];
const OS_RANDOMNESS_ALLOWED_IN: &[&str] =
    &["crates/crypto/src/entropy.rs", "crates/crypto/src/lib.rs"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(workspace_root().join("crates"))
        .expect("crates/ is readable")
        .map(|entry| entry.expect("crates/ entry").path())
        .filter(|path| path.join("Cargo.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

/// Package name and the `cloister*` names under `[dependencies]` of one Cargo.toml.
fn manifest_deps(manifest: &str) -> (String, Vec<String>) {
    let mut name = String::new();
    let mut section = String::new();
    let mut deps = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
            continue;
        }
        if section == "[package]" && line.starts_with("name") {
            name = line.split('"').nth(1).unwrap_or_default().to_owned();
        }
        if section == "[dependencies]" && line.starts_with("cloister") {
            let dep = line.split(['.', ' ', '=']).next().unwrap_or_default();
            deps.push(dep.to_owned());
        }
    }
    (name, deps)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("source dir is readable") {
        let path = entry.expect("source entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_crate_uses_only_the_crates_architecture_allows() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    for dir in crate_dirs() {
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        let (name, deps) = manifest_deps(&manifest);
        let permitted = allowed
            .get(name.as_str())
            .unwrap_or_else(|| panic!("crate {name} is not in ARCHITECTURE.md's table"));
        for dep in deps {
            assert!(
                permitted.contains(&dep.as_str()),
                "{name} may not depend on {dep}"
            );
        }
    }
}

#[test]
fn sans_io_crates_do_not_touch_clocks_files_sockets_or_threads() {
    for krate in SANS_IO {
        if !workspace_root().join("crates").join(krate).exists() {
            continue; // created by a later issue
        }
        let mut files = Vec::new();
        rust_files(
            &workspace_root().join("crates").join(krate).join("src"),
            &mut files,
        );
        assert!(!files.is_empty(), "no sources found for {krate}");
        for file in files {
            let text = fs::read_to_string(&file).expect("source file");
            for banned in BANNED {
                assert!(!text.contains(banned), "{} uses {banned}", file.display());
            }
            let relative = file
                .strip_prefix(workspace_root())
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            if !OS_RANDOMNESS_ALLOWED_IN.contains(&relative.as_str()) {
                for banned in OS_RANDOMNESS {
                    assert!(
                        !text.contains(banned),
                        "{relative} uses {banned} (only OsEntropy may)"
                    );
                }
            }
        }
    }
}

#[test]
fn sans_io_crates_forbid_unsafe() {
    for krate in SANS_IO {
        let lib = workspace_root()
            .join("crates")
            .join(krate)
            .join("src/lib.rs");
        if !lib.exists() {
            continue; // created by a later issue
        }
        let text = fs::read_to_string(&lib).expect("lib.rs");
        assert!(
            text.contains("#![forbid(unsafe_code)]"),
            "{} lacks forbid(unsafe_code)",
            lib.display()
        );
    }
}
