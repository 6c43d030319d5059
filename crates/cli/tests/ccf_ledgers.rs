//! `cloister ledger verify` on the five ledgers written by real CCF services
//! (testdata/ccf6/README.md). CCF's own read_ledger.py from ccf 6.0.28 verifies all five
//! completely when pycose can decode COSE (cbor2 < 6; see scripts/test.sh), finding these
//! signature counts; Cloister must find the same.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use serde_json::Value;
use support::{ccf6_testdata, cloister};

/// (service, signatures, verified until): read_ledger.py's figures with cbor2 5.x.
const EXPECTED: &[(&str, u64, &str)] = &[
    ("eol_service", 83, "10.493"),
    ("sgx_service", 47, "8.138"),
    ("cose_flipflop_service", 23, "2.46"),
    ("double_sealed_service", 154, "5.505"),
    ("expired_service", 21, "4.61"),
];

fn verify_json(service: &str, extra: &[&str]) -> Value {
    let dir = ccf6_testdata().join(service).join("ledger");
    let output = cloister()
        .args(["ledger", "verify", "--json"])
        .args(extra)
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let report: Value =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{service}: {e}: {text}"));
    assert_eq!(
        output.status.success(),
        report["complete"] == Value::Bool(true),
        "{service}: {report}"
    );
    report
}

#[test]
fn every_real_ccf_ledger_verifies_completely_with_ccf_signature_counts() {
    for (service, signatures, verified_until) in EXPECTED {
        let report = verify_json(service, &[]);
        assert_eq!(report["complete"], true, "{service}: {report}");
        assert_eq!(report["signatures"], *signatures, "{service}: {report}");
        assert_eq!(
            report["verified_until"], *verified_until,
            "{service}: {report}"
        );
        assert_eq!(report["error"], Value::Null, "{service}: {report}");
    }
}

#[test]
fn uncommitted_tails_of_real_ledgers_verify_too() {
    // The in-progress chunks (ledger_494, ledger_506, ledger_62, ledger_139) hold more signatures.
    for (service, signatures, _) in EXPECTED {
        let report = verify_json(service, &["--uncommitted"]);
        assert_eq!(report["complete"], true, "{service}: {report}");
        assert!(
            report["signatures"].as_u64().unwrap() >= *signatures,
            "{service}: {report}"
        );
    }
}

#[test]
fn human_output_matches_read_ledger_lines() {
    let dir = ccf6_testdata().join("eol_service/ledger");
    let output = cloister()
        .args(["ledger", "verify"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Ledger verification complete"), "{text}");
    assert!(
        text.contains("Found 83 signatures, and verified until 10.493"),
        "{text}"
    );
}

#[test]
fn read_prints_digests_like_read_ledger() {
    let dir = ccf6_testdata().join("cose_flipflop_service/ledger");
    let output = cloister()
        .args(["ledger", "read", "-d"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let digests: Vec<&str> = text.lines().filter(|line| line.starts_with("2.")).collect();
    assert_eq!(digests.len(), 46, "{text}");
    assert!(
        digests[0].starts_with("2.1 ") && digests[0].len() == "2.1 ".len() + 64,
        "{}",
        digests[0]
    );
}

#[test]
fn read_filters_tables_and_formats_singleton_keys() {
    let dir = ccf6_testdata().join("cose_flipflop_service/ledger");
    let output = cloister()
        .args([
            "ledger",
            "read",
            "-t",
            "^public:ccf\\.gov\\.service\\.info$",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("table \"public:ccf.gov.service.info\" (1 write):"),
        "{text}"
    );
    assert!(text.contains("<u64: 0>:"), "{text}");
    assert!(text.contains("\"status\": \"Open\""), "{text}");
    assert!(!text.contains("public:ccf.internal.signatures"), "{text}");
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let output = cloister()
        .args(["ledger", "verify", "--json", "/nonexistent/ledger"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["complete"], false);
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a ledger directory"),
        "{report}"
    );
}
