//! Issue 3's second must-show: governance driven only by CCF's own tools. Every signed request
//! (member0's state digest and ack, a proposal, a ballot) is made by `ccf_cose_sign1` from the
//! `ccf` 6.0.28 Python package and posted with `curl --cacert service_cert.pem -H
//! 'content-type: application/cose' --data-binary @-`, as CCF's documentation shows. The node
//! accepts each; the ballot is counted and the proposal Accepted; its effect is visible.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod live_node;
mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use live_node::{GOV_API, Identity, TestNetwork, run};
use serde_json::{Value, json};
use support::{ccf_python, run_ccf_tool};

#[test]
fn ccf_cose_sign1_requests_posted_with_curl_activate_propose_vote_and_take_effect() {
    let Some(python) = ccf_python() else { return };
    let started = Instant::now();
    run(async {
        let network = TestNetwork::start("5MB").await;
        let tools = CcfTools {
            python: &python,
            network: &network,
        };
        let member = network.member0.id();

        // Member0 activates: state digest, then ack of that digest.
        let update = tools.post_signed(
            &format!("/gov/members/state-digests/{member}:update"),
            "state_digest",
            None,
            b"",
        );
        assert_eq!(update.status, 200, "{}", update.body);
        let digest: Value = serde_json::from_str(&update.body).unwrap();
        assert_eq!(digest["memberId"], member.as_str());
        let ack_body = json!({ "stateDigest": digest["stateDigest"] }).to_string();
        let ack = tools.post_signed(
            &format!("/gov/members/state-digests/{member}:ack"),
            "ack",
            None,
            ack_body.as_bytes(),
        );
        assert_eq!(ack.status, 204, "{}", ack.body);
        assert!(ack.tx_id.is_some(), "the ack is a write");
        let status = tools.get(&format!("/gov/service/members/{member}?{GOV_API}"));
        assert_eq!(status["status"], "Active");

        // A proposal: user0 with user data, and opening the service.
        let proposal = json!({ "actions": [
            { "name": "set_user",
              "args": { "cert": network.user0.cert_pem, "user_data": { "team": "ccf-tools" } } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": network.service_cert_pem } },
        ]})
        .to_string();
        let proposed = tools.post_signed(
            "/gov/members/proposals:create",
            "proposal",
            None,
            proposal.as_bytes(),
        );
        assert_eq!(proposed.status, 200, "{}", proposed.body);
        let proposed: Value = serde_json::from_str(&proposed.body).unwrap();
        assert_eq!(proposed["proposalState"], "Open");
        assert_eq!(proposed["ballotCount"], 0);
        assert_eq!(proposed["proposerId"], member.as_str());
        let proposal_id = proposed["proposalId"].as_str().unwrap().to_owned();
        let actions = tools.get_raw(&format!(
            "/gov/members/proposals/{proposal_id}/actions?{GOV_API}"
        ));
        assert_eq!(actions, proposal, "the node keeps the proposal as signed");

        // Member0's ballot.
        let ballot_js = "export function vote (proposal, proposerId) { return true; }";
        let ballot = json!({ "ballot": ballot_js }).to_string();
        let voted = tools.post_signed(
            &format!("/gov/members/proposals/{proposal_id}/ballots/{member}:submit"),
            "ballot",
            Some(&proposal_id),
            ballot.as_bytes(),
        );
        assert_eq!(voted.status, 200, "{}", voted.body);
        let voted_tx = voted.tx_id.clone().expect("a ballot is a write");
        let voted: Value = serde_json::from_str(&voted.body).unwrap();
        assert_eq!(voted["ballotCount"], 1);
        assert_eq!(voted["proposalState"], "Accepted");
        assert_eq!(voted["finalVotes"][&member], true);

        let stored = tools.get(&format!("/gov/members/proposals/{proposal_id}?{GOV_API}"));
        assert_eq!(stored["proposalState"], "Accepted");
        assert_eq!(stored["ballotCount"], 1);
        let stored_ballot = tools.get_raw(&format!(
            "/gov/members/proposals/{proposal_id}/ballots/{member}?{GOV_API}"
        ));
        assert_eq!(stored_ballot, ballot_js);

        // The effect: user0 exists with its data, the service is Open, and user0 can write.
        let user = tools.get(&format!(
            "/gov/service/users/{}?{GOV_API}",
            network.user0.id()
        ));
        assert_eq!(user["certificate"], network.user0.cert_pem);
        assert_eq!(user["userData"], json!({ "team": "ccf-tools" }));
        assert_eq!(
            tools.get(&format!("/gov/service/info?{GOV_API}"))["status"],
            "Open"
        );
        let client = network.client(None);
        network
            .wait_committed(&client, "/node", voted_tx.parse().unwrap())
            .await;
        network.wait_ready("/node/ready/app").await;
        let written = tools.curl_user0_post("/app/log/public", r#"{"id": 1, "msg": "hi"}"#);
        assert_eq!(written.status, 200, "{}", written.body);
    });
    eprintln!("ccf_tools_governance: {:?}", started.elapsed());
}

/// CCF's tools pointed at one node.
struct CcfTools<'a> {
    python: &'a Path,
    network: &'a TestNetwork,
}

/// What curl saw.
#[derive(Debug)]
struct CurlResponse {
    status: u16,
    tx_id: Option<String>,
    body: String,
}

impl CcfTools<'_> {
    /// `ccf_cose_sign1 … | curl … --data-binary @- <url>/<path>?api-version=…`.
    fn post_signed(
        &self,
        path: &str,
        msg_type: &str,
        proposal_id: Option<&str>,
        content: &[u8],
    ) -> CurlResponse {
        let envelope = self.sign(&self.network.member0, msg_type, proposal_id, content);
        let url = format!("{}{path}?{GOV_API}", self.network.url);
        let mut curl = curl(&self.network.service_cert_path);
        curl.args([
            "-H",
            "content-type: application/cose",
            "--data-binary",
            "@-",
            &url,
        ]);
        run_curl(curl, &envelope)
    }

    /// `ccf_cose_sign1 --ccf-gov-msg-type … --ccf-gov-msg-created_at <now, ISO 8601> …`.
    fn sign(
        &self,
        signer: &Identity,
        msg_type: &str,
        proposal_id: Option<&str>,
        content: &[u8],
    ) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let content_path = dir.path().join("content");
        std::fs::write(&content_path, content).unwrap();
        let created_at = iso_8601_utc(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        );
        let mut args = vec![
            "--ccf-gov-msg-type",
            msg_type,
            "--ccf-gov-msg-created_at",
            &created_at,
            "--signing-key",
            signer.key_path.to_str().unwrap(),
            "--signing-cert",
            signer.cert_path.to_str().unwrap(),
            "--content",
            content_path.to_str().unwrap(),
        ];
        if let Some(id) = proposal_id {
            args.extend(["--ccf-gov-msg-proposal_id", id]);
        }
        let out = run_ccf_tool(self.python, "ccf_cose_sign1", &args);
        assert!(
            out.status.success(),
            "ccf_cose_sign1 {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout.first(), Some(&0xd2), "a tagged COSE_Sign1");
        out.stdout
    }

    /// `curl <url>/<path>` (unauthenticated): the JSON body of a 200.
    fn get(&self, path: &str) -> Value {
        serde_json::from_str(&self.get_raw(path)).unwrap()
    }

    fn get_raw(&self, path: &str) -> String {
        let mut curl = curl(&self.network.service_cert_path);
        curl.arg(format!("{}{path}", self.network.url));
        let response = run_curl(curl, b"");
        assert_eq!(response.status, 200, "GET {path}: {}", response.body);
        response.body
    }

    /// `curl --cert user0_cert.pem --key user0_privk.pem -X POST …` with a JSON body.
    fn curl_user0_post(&self, path: &str, json_body: &str) -> CurlResponse {
        let user0 = &self.network.user0;
        let mut curl = curl(&self.network.service_cert_path);
        curl.arg("--cert")
            .arg(&user0.cert_path)
            .arg("--key")
            .arg(&user0.key_path)
            .args([
                "-H",
                "content-type: application/json",
                "--data-binary",
                "@-",
            ])
            .arg(format!("{}{path}", self.network.url));
        run_curl(curl, json_body.as_bytes())
    }
}

/// `curl -sS -i --cacert <service cert>`: silent, errors shown, headers in the output.
fn curl(service_cert: &Path) -> Command {
    let mut command = Command::new("curl");
    command
        .args(["-sS", "-i", "--max-time", "30", "--cacert"])
        .arg(service_cert);
    command
}

fn run_curl(mut curl: Command, stdin: &[u8]) -> CurlResponse {
    let mut child = curl
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl is installed");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "curl {curl:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let tx_id = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("x-ms-ccf-transaction-id"))
        .map(|(_, value)| value.trim().to_owned());
    CurlResponse {
        status,
        tx_id,
        body: body.to_owned(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS+00:00`, which Python's `datetime.fromisoformat` (and so
/// `ccf_cose_sign1`) reads. Civil date from days since the epoch: H. Hinnant's algorithm.
fn iso_8601_utc(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let seconds_of_day = unix_seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60
    )
}

#[test]
fn iso_8601_dates_are_the_calendars() {
    assert_eq!(iso_8601_utc(0), "1970-01-01T00:00:00+00:00");
    assert_eq!(iso_8601_utc(1_704_067_200), "2024-01-01T00:00:00+00:00");
    assert_eq!(iso_8601_utc(951_825_600), "2000-02-29T12:00:00+00:00");
    assert_eq!(iso_8601_utc(4_102_444_799), "2099-12-31T23:59:59+00:00");
}
