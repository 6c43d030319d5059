//! Signed governance requests against CCF's own tool, `ccf_cose_sign1` (spec/ccf-api.md §3):
//! the same inputs give the same protected header bytes, its messages verify here, and (when
//! CCF's Python package is installed) ours verify with `ccf.cose`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use cloister_client::{
    CREATED_AT_LABEL, GovMessage, GovMsgType, MSG_TYPE_LABEL, MemberSigner, PROPOSAL_ID_LABEL,
};
use cloister_crypto::Certificate;
use cloister_crypto::cose::{Label, Sign1, Value};

const PROPOSAL_ID: &str = "7a881107cdaf9de72e17db76737f284037e4f11cd4ed2a37a1e182ca97eb1c6a";
const BALLOT: &[u8] =
    br#"{"ballot":"export function vote (rawProposal, proposerId) { return true; }"}"#;
const PROPOSAL: &[u8] = br#"{"actions":[{"name":"set_constitution","args":{"constitution":"x"}}]}"#;
/// 2024-01-01T00:00:00Z and 2025-02-17T16:30:00Z, as given to ccf_cose_sign1.
const BALLOT_CREATED_AT: u64 = 1_704_067_200;
const PROPOSAL_CREATED_AT: u64 = 1_739_809_800;

fn eol_common() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ccf6/eol_service/common")
}

fn member0() -> (String, String) {
    let read = |name: &str| std::fs::read_to_string(eol_common().join(name)).unwrap();
    (read("member0_cert.pem"), read("member0_privk.pem"))
}

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn ours(
    msg_type: GovMsgType,
    proposal_id: Option<&str>,
    created_at: u64,
    payload: &[u8],
) -> Vec<u8> {
    let (cert, key) = member0();
    let signer = MemberSigner::from_pem(&cert, &key).unwrap();
    let message = GovMessage {
        msg_type,
        proposal_id,
        created_at,
    };
    signer.sign(&message, payload).unwrap()
}

#[test]
fn same_inputs_give_ccf_cose_sign1s_protected_header_bytes() {
    let cases = [
        (
            "ccf_cose_sign1_ballot.cose",
            ours(
                GovMsgType::Ballot,
                Some(PROPOSAL_ID),
                BALLOT_CREATED_AT,
                BALLOT,
            ),
        ),
        (
            "ccf_cose_sign1_proposal.cose",
            ours(GovMsgType::Proposal, None, PROPOSAL_CREATED_AT, PROPOSAL),
        ),
    ];
    for (name, ours) in cases {
        let theirs = Sign1::parse(&vector(name)).unwrap();
        let ours = Sign1::parse(&ours).unwrap();
        assert_eq!(
            hex::encode(&ours.protected_bytes),
            hex::encode(&theirs.protected_bytes),
            "{name}"
        );
        assert_eq!(ours.payload, theirs.payload, "{name}");
        assert_eq!(ours.unprotected, theirs.unprotected, "{name}");
        assert_eq!(ours.signature.len(), theirs.signature.len(), "{name}");
    }
}

#[test]
fn messages_from_ccf_cose_sign1_verify_and_read_back_their_header() {
    let (cert_pem, _) = member0();
    let cert = Certificate::from_pem(&cert_pem).unwrap();
    let msg = Sign1::parse(&vector("ccf_cose_sign1_ballot.cose")).unwrap();
    msg.verify(&cert.public_key().unwrap(), None).unwrap();
    assert_eq!(msg.alg(), Some(-35), "member0 is a P-384 key");
    assert_eq!(
        msg.protected_get(&Label::Int(4)),
        Some(&Value::Bytes(cert.member_id().as_str().as_bytes().to_vec()))
    );
    let text = |label: &str| msg.protected_get(&Label::Text(label.into())).cloned();
    assert_eq!(text(MSG_TYPE_LABEL), Some(Value::Text("ballot".into())));
    assert_eq!(
        text(PROPOSAL_ID_LABEL),
        Some(Value::Text(PROPOSAL_ID.into()))
    );
    assert_eq!(
        text(CREATED_AT_LABEL),
        Some(Value::Integer(BALLOT_CREATED_AT.into()))
    );
}

/// The Python of the virtualenv holding `ccf==6.0.28`; as crates/cli/tests/support's
/// `ccf_python`: skipped loudly when absent, a failure when `CLOISTER_REQUIRE_INTEROP` is set.
fn ccf_python() -> Option<PathBuf> {
    let python = std::env::var_os("CLOISTER_CCF_VENV")
        .map(|dir| PathBuf::from(dir).join("bin/python"))
        .filter(|p| p.exists());
    if python.is_none() {
        assert!(
            std::env::var_os("CLOISTER_REQUIRE_INTEROP").is_none(),
            "CLOISTER_REQUIRE_INTEROP is set but CLOISTER_CCF_VENV has no bin/python"
        );
        eprintln!("SKIPPED: CCF's Python tools are not installed (set CLOISTER_CCF_VENV)");
    }
    python
}

/// Checks with `ccf.cose.validate_cose_sign1` (pycose underneath) and prints the header as
/// pycose decodes it.
const VERIFY_PY: &str = r#"
import sys
from cryptography.x509 import load_pem_x509_certificate
import ccf.cose
from pycose.messages import Sign1Message
cert = load_pem_x509_certificate(open(sys.argv[1], "rb").read())
body = open(sys.argv[2], "rb").read()
ccf.cose.validate_cose_sign1(cert.public_key(), body)
msg = Sign1Message.decode(body)
kid = msg.phdr[ccf.cose.pycose.headers.KID].decode()
assert kid == ccf.cose.cert_fingerprint(open(sys.argv[1]).read()).decode(), kid
print(msg.phdr["ccf.gov.msg.type"], msg.phdr.get("ccf.gov.msg.proposal_id"), msg.phdr["ccf.gov.msg.created_at"], msg.payload.decode())
"#;

#[test]
fn requests_signed_here_verify_with_ccf_python() {
    let Some(python) = ccf_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.cose");
    let cases = [
        (
            ours(
                GovMsgType::Ballot,
                Some(PROPOSAL_ID),
                BALLOT_CREATED_AT,
                BALLOT,
            ),
            format!(
                "ballot {PROPOSAL_ID} {BALLOT_CREATED_AT} {}",
                String::from_utf8_lossy(BALLOT)
            ),
        ),
        (
            ours(GovMsgType::Proposal, None, PROPOSAL_CREATED_AT, PROPOSAL),
            format!(
                "proposal None {PROPOSAL_CREATED_AT} {}",
                String::from_utf8_lossy(PROPOSAL)
            ),
        ),
        (
            ours(GovMsgType::StateDigest, None, 1, b""),
            "state_digest None 1 ".to_owned(),
        ),
    ];
    for (signed, expected) in cases {
        std::fs::write(&body, &signed).unwrap();
        let out = Command::new(&python)
            .arg("-c")
            .arg(VERIFY_PY)
            .arg(eol_common().join("member0_cert.pem"))
            .arg(&body)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ccf.cose refused: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            expected.trim_end()
        );
    }
    // Negative control: the same check refuses a message whose last signature byte changed.
    let mut tampered = ours(GovMsgType::Proposal, None, PROPOSAL_CREATED_AT, PROPOSAL);
    *tampered.last_mut().unwrap() ^= 1;
    std::fs::write(&body, &tampered).unwrap();
    let out = Command::new(&python)
        .arg("-c")
        .arg(VERIFY_PY)
        .arg(eol_common().join("member0_cert.pem"))
        .arg(&body)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "ccf.cose accepted a tampered signature"
    );
}

#[test]
fn ccf_cose_sign1_run_now_still_writes_our_header_bytes() {
    let Some(python) = ccf_python() else {
        return;
    };
    let tool = python.parent().unwrap().join("ccf_cose_sign1");
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("withdraw.json");
    std::fs::write(&content, b"").unwrap();
    let out = Command::new(&python)
        .arg(tool)
        .args(["--content", content.to_str().unwrap()])
        .args([
            "--signing-cert",
            eol_common().join("member0_cert.pem").to_str().unwrap(),
        ])
        .args([
            "--signing-key",
            eol_common().join("member0_privk.pem").to_str().unwrap(),
        ])
        .args(["--ccf-gov-msg-type", "withdrawal"])
        .args(["--ccf-gov-msg-proposal-id", PROPOSAL_ID])
        .args(["--ccf-gov-msg-created-at", "2024-01-01T00:00:00+00:00"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ccf_cose_sign1 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = Sign1::parse(&out.stdout).unwrap();
    let ours = Sign1::parse(&ours(
        GovMsgType::Withdrawal,
        Some(PROPOSAL_ID),
        BALLOT_CREATED_AT,
        b"",
    ))
    .unwrap();
    assert_eq!(ours.protected_bytes, theirs.protected_bytes);
    assert_eq!(theirs.payload.as_deref(), Some(&b""[..]));
}
