//! The store is sans-IO (ARCHITECTURE.md): its sources name no clock, file, socket, thread,
//! environment variable or OS randomness. clippy.toml bans the calls; this catches the rest
//! (imports, other paths) in the crate's own sources.
// Test helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Reading our own sources is the point of this test.
#![allow(clippy::disallowed_methods)]

use std::path::Path;

const BANNED: &[&str] = &[
    "std::time",
    "Instant",
    "SystemTime",
    "std::fs",
    "std::net",
    "std::thread",
    "std::env",
    "thread_rng",
    "OsEntropy",
    "OsRng",
    "tokio",
    "HashMap",
    "HashSet",
];

#[test]
fn sources_use_no_io_clock_threads_or_os_randomness() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for file in std::fs::read_dir(&src).unwrap() {
        let path = file.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in BANNED {
            assert!(
                !text.contains(banned),
                "{} mentions {banned}",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} source files found");
}
