//! ARCHITECTURE.md: the sans-IO crates never touch clocks, files, sockets, threads, env vars or
//! OS randomness. clippy.toml bans the calls; this test also catches paths clippy cannot see
//! (a `use` of a banned module, a new API) and pins OS randomness to `OsEntropy` alone.

// Reading the crate's own sources cannot fail in a checkout; if it does, the test should stop.
#![allow(clippy::unwrap_used)]

use std::path::Path;

const BANNED: &[&str] = &[
    "SystemTime",
    "Instant::now",
    "thread_rng",
    "std::thread",
    "std::fs",
    "std::net",
    "std::env",
    "tokio",
    "SystemRandom",
];

fn sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn crate_sources_use_no_io_apis() {
    let files = sources();
    assert!(
        files.len() >= 9,
        "expected the crate's modules, found {}",
        files.len()
    );
    for (name, text) in &files {
        for banned in BANNED {
            assert!(!text.contains(banned), "{name} mentions {banned}");
        }
    }
}

#[test]
fn only_os_entropy_reaches_the_os_random_generator() {
    for (name, text) in sources() {
        let uses_os_rng = text.contains("rand::fill");
        assert_eq!(
            uses_os_rng,
            name == "entropy.rs",
            "{name}: aws_lc_rs::rand::fill outside OsEntropy"
        );
    }
}
