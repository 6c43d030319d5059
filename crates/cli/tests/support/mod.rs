//! Shared by the integration tests: where the test data and CCF's Python tools are.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's copy of the real CCF ledgers.
pub fn ccf6_testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ccf6")
}

/// The Python of the virtualenv holding `ccf==6.0.28`, made by scripts/test.sh.
/// `None` (with a loud note) when it is missing and the run did not ask for interop; a failure
/// when it did (`CLOISTER_REQUIRE_INTEROP=1`, set by scripts/test.sh and so by CI).
pub fn ccf_python() -> Option<PathBuf> {
    let venv = std::env::var_os("CLOISTER_CCF_VENV").map(PathBuf::from);
    let python = venv
        .map(|dir| dir.join("bin/python"))
        .filter(|p| p.exists());
    if python.is_none() {
        assert!(
            std::env::var_os("CLOISTER_REQUIRE_INTEROP").is_none(),
            "CLOISTER_REQUIRE_INTEROP is set but CLOISTER_CCF_VENV has no bin/python: run scripts/test.sh"
        );
        eprintln!(
            "SKIPPED: CCF's Python tools are not installed; run scripts/test.sh for the interop tests"
        );
    }
    python
}

/// Runs a script of CCF's package (for example `read_ledger.py`) with the virtualenv's Python.
pub fn run_ccf_tool(python: &Path, tool: &str, args: &[&str]) -> Output {
    let script = python.parent().expect("venv bin dir").join(tool);
    Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("runs the CCF tool")
}

/// The `cloister` binary built for this test run.
pub fn cloister() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cloister"))
}

/// Runs CCF's `read_ledger.py` on `ledger_dir` with `extra` options, requires "Ledger
/// verification complete" and exit 0, and returns its summary line ("Found N signatures, and
/// verified until v.s").
pub fn read_ledger_summary(python: &Path, ledger_dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![ledger_dir.to_str().expect("UTF-8 ledger path")];
    args.extend_from_slice(extra);
    let output = run_ccf_tool(python, "read_ledger.py", &args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "read_ledger.py {extra:?} failed:\n{}\n{}",
        tail(&stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Ledger verification complete"),
        "{}",
        tail(&stdout)
    );
    summary_line(&stdout)
}

/// The "Found N signatures, and verified until v.s" line that read_ledger.py and
/// `cloister ledger verify` both print.
pub fn summary_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|line| line.starts_with("Found "))
        .unwrap_or_else(|| panic!("no summary in:\n{}", tail(text)))
        .to_owned()
}

/// The last lines of a tool's output, for failure messages.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
