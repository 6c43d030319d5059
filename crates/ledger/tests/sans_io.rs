//! ARCHITECTURE.md: cloister-ledger is sans-IO. Clippy bans the calls; this test also catches
//! imports of whole I/O modules that clippy's method list would not name.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::path::Path;

const BANNED: [&str; 9] = [
    "std::fs",
    "std::net",
    "std::time",
    "std::thread",
    "std::env",
    "std::process",
    "tokio",
    "thread_rng",
    "OsEntropy",
];

#[test]
fn library_sources_use_no_io_clock_threads_or_os_randomness() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
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
    }
    assert!(checked >= 7, "found only {checked} source files");
}
