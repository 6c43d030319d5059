//! `cloister gov …`: `sign` writes what CCF's `ccf_cose_sign1` writes (checked field by field,
//! and byte for byte against the tool itself when CCF's Python package is installed); the
//! commands that talk to a node fail with messages that name the bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use cloister_crypto::Certificate;
use cloister_crypto::cose::{Label, Sign1, Value};

use support::{ccf_python, ccf6_testdata, cloister, run_ccf_tool};

const PROPOSAL_ID: &str = "7a881107cdaf9de72e17db76737f284037e4f11cd4ed2a37a1e182ca97eb1c6a";
const BALLOT: &[u8] =
    br#"{"ballot":"export function vote (rawProposal, proposerId) { return true; }"}"#;

fn member0(file: &str) -> PathBuf {
    ccf6_testdata().join("eol_service/common").join(file)
}

/// Runs `cloister gov <args>` with `stdin` as standard input.
fn gov(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = cloister()
        .arg("gov")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that fails before reading stdin closes it: that is not the test's failure.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn sign(extra: &[&str], stdin: &[u8]) -> Output {
    let cert = member0("member0_cert.pem");
    let key = member0("member0_privk.pem");
    let mut args = vec![
        "sign",
        "--member-cert",
        cert.to_str().unwrap(),
        "--member-key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    gov(&args, stdin)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn text(msg: &Sign1, label: &str) -> Option<Value> {
    msg.protected_get(&Label::Text(label.into())).cloned()
}

#[test]
fn sign_writes_a_ballot_as_ccf_cose_sign1_does() {
    let out = sign(
        &[
            "--type",
            "ballot",
            "--proposal-id",
            PROPOSAL_ID,
            "--created-at",
            "2024-01-01T00:00:00+00:00",
        ],
        BALLOT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout[0], 0xd2, "a tagged COSE_Sign1");
    let msg = Sign1::parse(&out.stdout).unwrap();
    let cert =
        Certificate::from_pem(&std::fs::read_to_string(member0("member0_cert.pem")).unwrap())
            .unwrap();
    msg.verify(&cert.public_key().unwrap(), None).unwrap();
    let labels: Vec<Label> = msg.protected.iter().map(|(l, _)| l.clone()).collect();
    assert_eq!(
        labels,
        vec![
            Label::Int(1),
            Label::Int(4),
            Label::Text("ccf.gov.msg.type".into()),
            Label::Text("ccf.gov.msg.proposal_id".into()),
            Label::Text("ccf.gov.msg.created_at".into()),
        ]
    );
    assert_eq!(msg.alg(), Some(-35));
    assert_eq!(
        msg.protected_get(&Label::Int(4)),
        Some(&Value::Bytes(cert.member_id().as_str().as_bytes().to_vec()))
    );
    assert_eq!(
        text(&msg, "ccf.gov.msg.type"),
        Some(Value::Text("ballot".into()))
    );
    assert_eq!(
        text(&msg, "ccf.gov.msg.proposal_id"),
        Some(Value::Text(PROPOSAL_ID.into()))
    );
    assert_eq!(
        text(&msg, "ccf.gov.msg.created_at"),
        Some(Value::Integer(1_704_067_200u64.into()))
    );
    assert_eq!(msg.payload.as_deref(), Some(BALLOT));
}

#[test]
fn sign_defaults_created_at_to_now_and_reads_content_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("proposal.json");
    std::fs::write(&content, b"{\"actions\":[]}").unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let out = sign(
        &["--type", "proposal", "--content", content.to_str().unwrap()],
        b"ignored",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let msg = Sign1::parse(&out.stdout).unwrap();
    assert_eq!(msg.payload.as_deref(), Some(&b"{\"actions\":[]}"[..]));
    let Some(Value::Integer(created_at)) = text(&msg, "ccf.gov.msg.created_at") else {
        panic!("no created_at");
    };
    let created_at = u64::try_from(created_at).unwrap();
    assert!((before..before + 60).contains(&created_at), "{created_at}");
}

#[test]
fn sign_matches_ccf_cose_sign1_byte_for_byte_in_the_protected_header() {
    let Some(python) = ccf_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("ballot.json");
    std::fs::write(&content, BALLOT).unwrap();
    for (msg_type, proposal_id) in [("ballot", Some(PROPOSAL_ID)), ("ack", None)] {
        let mut args = vec!["--content", content.to_str().unwrap()];
        args.extend(["--ccf-gov-msg-type", msg_type]);
        args.extend(["--ccf-gov-msg-created-at", "2025-02-17T16:30:00+00:00"]);
        let cert = member0("member0_cert.pem");
        let key = member0("member0_privk.pem");
        args.extend(["--signing-cert", cert.to_str().unwrap()]);
        args.extend(["--signing-key", key.to_str().unwrap()]);
        let mut ours_args = vec![
            "--type",
            msg_type,
            "--created-at",
            "2025-02-17T16:30:00Z",
            "--content",
            content.to_str().unwrap(),
        ];
        if let Some(id) = proposal_id {
            args.extend(["--ccf-gov-msg-proposal-id", id]);
            ours_args.extend(["--proposal-id", id]);
        }
        let theirs = run_ccf_tool(&python, "ccf_cose_sign1", &args);
        assert!(theirs.status.success(), "{}", stderr(&theirs));
        let ours = sign(&ours_args, b"");
        assert!(ours.status.success(), "{}", stderr(&ours));
        let (theirs, ours) = (
            Sign1::parse(&theirs.stdout).unwrap(),
            Sign1::parse(&ours.stdout).unwrap(),
        );
        assert_eq!(ours.protected_bytes, theirs.protected_bytes, "{msg_type}");
        assert_eq!(ours.payload, theirs.payload, "{msg_type}");
    }
}

#[test]
fn sign_refuses_a_ballot_without_a_proposal_id_and_unknown_types() {
    let out = sign(&["--type", "ballot"], BALLOT);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("a ballot needs a proposal id"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());

    let out = sign(&["--type", "vote"], BALLOT);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    assert!(
        stderr(&out).contains("expected one of proposal, ack"),
        "{}",
        stderr(&out)
    );

    let out = sign(
        &["--type", "proposal", "--created-at", "2024-01-01T00:00:00"],
        b"{}",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--created-at"), "{}", stderr(&out));
}

#[test]
fn missing_files_and_bad_pem_are_named() {
    let out = gov(
        &[
            "sign",
            "--member-cert",
            "/nonexistent/member0_cert.pem",
            "--member-key",
            member0("member0_privk.pem").to_str().unwrap(),
            "--type",
            "proposal",
        ],
        b"{}",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "cannot read the member certificate (--member-cert) /nonexistent/member0_cert.pem"
        ),
        "{}",
        stderr(&out)
    );

    // A certificate given as the key.
    let out = gov(
        &[
            "sign",
            "--member-cert",
            member0("member0_cert.pem").to_str().unwrap(),
            "--member-key",
            member0("member0_cert.pem").to_str().unwrap(),
            "--type",
            "proposal",
        ],
        b"{}",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("bad member key"), "{}", stderr(&out));

    // Another member's key.
    let out = gov(
        &[
            "sign",
            "--member-cert",
            member0("member0_cert.pem").to_str().unwrap(),
            "--member-key",
            member0("member1_privk.pem").to_str().unwrap(),
            "--type",
            "proposal",
        ],
        b"{}",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("the key is not the member certificate's key"),
        "{}",
        stderr(&out)
    );
}

/// The connection flags for a node that is not there (a port just freed).
fn unreachable_node() -> Vec<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    vec![
        "--url".into(),
        format!("https://127.0.0.1:{port}"),
        "--ca".into(),
        ccf6_testdata()
            .join("eol_service/common/service_cert.pem")
            .to_str()
            .unwrap()
            .into(),
        "--member-cert".into(),
        member0("member0_cert.pem").to_str().unwrap().into(),
        "--member-key".into(),
        member0("member0_privk.pem").to_str().unwrap().into(),
    ]
}

#[test]
fn propose_checks_the_proposal_is_json_before_sending() {
    let mut args = vec!["propose".to_owned()];
    args.extend(unreachable_node());
    args.push("-".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = gov(&args, b"{\"actions\": [");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("proposal - is not valid JSON"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn commands_that_cannot_reach_the_node_say_so() {
    let base = unreachable_node();
    let cases: Vec<Vec<&str>> = vec![
        vec!["propose", "-"],
        vec!["vote", "--proposal-id", PROPOSAL_ID],
        vec!["withdraw", "--proposal-id", PROPOSAL_ID],
        vec!["activate-member"],
    ];
    for case in cases {
        let mut args = vec![case[0]];
        args.extend(base.iter().map(String::as_str));
        args.extend(&case[1..]);
        let out = gov(&args, b"{\"actions\":[]}");
        assert_eq!(out.status.code(), Some(1), "{case:?}");
        assert!(
            stderr(&out).contains("cannot connect to 127.0.0.1:"),
            "{case:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_bad_url_or_ca_is_named() {
    let mut args: Vec<String> = vec!["propose".into()];
    args.extend(unreachable_node());
    args[2] = "http://127.0.0.1:1".into();
    args.push("-".into());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = gov(&refs, b"{}");
    assert!(
        stderr(&out).contains("the scheme must be https"),
        "{}",
        stderr(&out)
    );

    args[2] = "https://127.0.0.1:1".into();
    args[4] = member0("member0_privk.pem").to_str().unwrap().into();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = gov(&refs, b"{}");
    assert!(
        stderr(&out).contains("bad CA certificate"),
        "{}",
        stderr(&out)
    );
}
