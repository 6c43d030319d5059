//! Runs every script in tests/scenarios (the "Raft scenarios" tier of TESTING.md). Each
//! failure names its script, line and the state of every node.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod scenario;

use std::fs;
use std::path::{Path, PathBuf};

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut scripts: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/scenarios is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    scripts.sort();
    scripts
}

#[test]
fn every_scenario_script_passes() {
    let scripts = scripts();
    let failures: Vec<String> = scripts
        .iter()
        .filter_map(|path| {
            let text = fs::read_to_string(path).expect("script is readable");
            scenario::run_script(&text)
                .err()
                .map(|error| format!("{}: {error}", path.display()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        scripts.len() >= 40,
        "only {} scenario scripts",
        scripts.len()
    );
}

#[test]
fn a_wrong_assertion_fails_its_script() {
    let script = "nodes 0 1\nstart_node 0 0\nassert_commit_idx 0 2\nassert_is_primary 1\n";
    let error = scenario::run_script(script).expect_err("node 1 is not primary");
    assert!(error.starts_with("line 4:"), "{error}");
}

#[test]
fn an_unknown_command_fails_its_script() {
    let error = scenario::run_script("nodes 0\nfrobnicate 0\n").expect_err("unknown command");
    assert!(error.contains("unknown command frobnicate"), "{error}");
}

#[test]
fn expect_refused_fails_when_the_command_is_accepted() {
    let script = "nodes 0\nstart_node 0\nexpect_refused replicate 0 normal 1\n";
    let error = scenario::run_script(script).expect_err("the primary accepts entries");
    assert!(error.contains("was accepted"), "{error}");
}
