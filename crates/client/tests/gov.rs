//! Governance helpers against a stand-in node that checks requests as CCF does (spec/ccf-api.md
//! §1.2, §3): `application/cose`, `api-version`, a known member's valid signature, the message
//! type each endpoint wants, a fresh `created_at`, the proposal id of ballots and withdrawals,
//! and the signer named in the path. Commit polling against scripted `/node/tx` answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloister_client::{
    BALLOT_ACCEPT, Client, ClientError, ClientOptions, GovClient, HttpVersion, MemberSigner,
    ProposalState,
};
use cloister_crypto::cose::{Label, Sign1, Value};
use cloister_crypto::{Certificate, Curve, sha256};
use cloister_types::{TxId, TxStatus};

use support::{Reply, Seen, TestPki, TestServer, self_signed_identity, unix_now};

const DIGEST: &str = "abababababababababababababababababababababababababababababababab";
const UNKNOWN_PROPOSAL: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What the stand-in node knows: member certificates by id, and how often each tx was polled.
#[derive(Default)]
struct Node {
    members: BTreeMap<String, Certificate>,
    polls: BTreeMap<String, usize>,
}

fn gov_node(members: &[&str]) -> (support::Handler, Arc<Mutex<Node>>) {
    let mut node = Node::default();
    for pem in members {
        let cert = Certificate::from_pem(pem).unwrap();
        node.members.insert(cert.member_id().to_string(), cert);
    }
    let node = Arc::new(Mutex::new(node));
    let state = node.clone();
    let handler: support::Handler = Arc::new(move |seen| {
        let mut node = state.lock().unwrap();
        match answer(&mut node, seen) {
            Ok(reply) | Err(reply) => reply,
        }
    });
    (handler, node)
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &serde_json::json!({"error": {"code": code, "message": message}}),
    )
}

fn answer(node: &mut Node, seen: &Seen) -> Result<Reply, Reply> {
    let (path, query) = seen
        .path_and_query
        .split_once('?')
        .unwrap_or((&seen.path_and_query, ""));
    if path == "/node/tx" {
        let tx = query.strip_prefix("transaction_id=").unwrap().to_owned();
        let polls = node.polls.entry(tx.clone()).or_default();
        *polls += 1;
        let status = match (tx.as_str(), *polls) {
            ("2.12", 1..=2) | ("2.14", _) => "Pending",
            ("2.12", _) => "Committed",
            ("2.13", _) => "Invalid",
            _ => "Unknown",
        };
        return Ok(Reply::json(
            200,
            &serde_json::json!({"transaction_id": tx, "status": status}),
        ));
    }
    if query != "api-version=2024-07-01" {
        return Err(error(400, "MissingApiVersionParameter", query));
    }
    if seen.method == http::Method::GET && path == "/gov/service/info" {
        return Ok(Reply::json(
            200,
            &serde_json::json!({"status": "Open", "certificate": "PEM", "recoveryCount": 0,
                "creationTransactionId": "2.1", "serviceData": null,
                "configuration": {"recoveryThreshold": 1}}),
        ));
    }
    let signed = authenticate(node, seen)?;
    let msg_type = signed.text("ccf.gov.msg.type");
    let tail = path.strip_prefix("/gov/members/").unwrap();
    let expect_type = |wanted: &str| {
        if msg_type.as_deref() == Some(wanted) {
            Ok(())
        } else {
            Err(error(
                401,
                "InvalidAuthenticationInfo",
                "wrong ccf.gov.msg.type",
            ))
        }
    };
    if tail == "proposals:create" {
        expect_type("proposal")?;
        let proposal_id = sha256(&signed.msg.signature).to_hex();
        return Ok(
            Reply::json(200, &proposal(&proposal_id, &signed.member, "Open", &[]))
                .header("x-ms-ccf-transaction-id", "2.10"),
        );
    }
    if let Some(rest) = tail.strip_prefix("proposals/") {
        let (proposal_id, action) = rest.split_once(['/', ':']).unwrap();
        if signed.text("ccf.gov.msg.proposal_id").as_deref() != Some(proposal_id) {
            return Err(error(
                400,
                "InvalidResourceName",
                "proposal id does not match URL",
            ));
        }
        if action == "withdraw" {
            expect_type("withdrawal")?;
            if proposal_id == UNKNOWN_PROPOSAL {
                return Ok(Reply::new(204, ""));
            }
            return Ok(Reply::json(
                200,
                &proposal(proposal_id, &signed.member, "Withdrawn", &[]),
            )
            .header("x-ms-ccf-transaction-id", "2.15"));
        }
        expect_type("ballot")?;
        let voter = action
            .strip_prefix("ballots/")
            .and_then(|a| a.strip_suffix(":submit"))
            .unwrap();
        if voter != signed.member {
            return Err(error(
                400,
                "InvalidResourceName",
                "member id does not match URL",
            ));
        }
        let body: serde_json::Value = serde_json::from_slice(&signed.payload).unwrap();
        let vote = body["ballot"].as_str().unwrap() == BALLOT_ACCEPT;
        let state = if vote { "Accepted" } else { "Rejected" };
        return Ok(Reply::json(
            200,
            &proposal(proposal_id, &signed.member, state, &[(voter, vote)]),
        )
        .header("x-ms-ccf-transaction-id", "2.11"));
    }
    let rest = tail.strip_prefix("state-digests/").unwrap();
    let (member, action) = rest.split_once(':').unwrap();
    if member != signed.member {
        return Err(error(
            400,
            "InvalidAuthenticationInfo",
            "path does not match signer",
        ));
    }
    match action {
        "update" => {
            expect_type("state_digest")?;
            assert!(signed.payload.is_empty());
            Ok(Reply::json(
                200,
                &serde_json::json!({"memberId": member, "stateDigest": DIGEST}),
            ))
        }
        "ack" => {
            expect_type("ack")?;
            let body: serde_json::Value = serde_json::from_slice(&signed.payload).unwrap();
            if body != serde_json::json!({ "stateDigest": DIGEST }) {
                return Err(error(
                    400,
                    "StateDigestMismatch",
                    "Submitted state digest is not valid.",
                ));
            }
            Ok(Reply::new(204, "").header("x-ms-ccf-transaction-id", "2.12"))
        }
        other => Err(error(404, "ResourceNotFound", other)),
    }
}

struct Signed {
    msg: Sign1,
    member: String,
    payload: Vec<u8>,
}

impl Signed {
    fn text(&self, label: &str) -> Option<String> {
        match self.msg.protected_get(&Label::Text(label.into()))? {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }
    }
}

/// CCF's COSE member authentication (§3 "Verification"), plus a freshness check.
fn authenticate(node: &Node, seen: &Seen) -> Result<Signed, Reply> {
    let unauthorised = |why: &str| error(401, "InvalidAuthenticationInfo", why);
    if seen.headers.get("content-type").map(|v| v.as_bytes()) != Some(b"application/cose") {
        return Err(error(
            415,
            "UnsupportedContentType",
            "want application/cose",
        ));
    }
    assert_eq!(seen.body[0], 0xd2, "CCF wants a tagged COSE_Sign1");
    let msg = Sign1::parse(&seen.body).map_err(|e| error(500, "InternalError", &e.to_string()))?;
    let Some(Value::Bytes(kid)) = msg.protected_get(&Label::Int(4)) else {
        return Err(error(500, "InternalError", "missing kid"));
    };
    let member = String::from_utf8(kid.clone()).unwrap();
    let cert = node
        .members
        .get(&member)
        .ok_or_else(|| unauthorised("Signer is not a known member"))?;
    msg.verify(&cert.public_key().unwrap(), None)
        .map_err(|_| unauthorised("Failed to validate COSE Sign1"))?;
    let Some(Value::Integer(created_at)) =
        msg.protected_get(&Label::Text("ccf.gov.msg.created_at".into()))
    else {
        return Err(error(
            500,
            "InternalError",
            "Missing created_at in protected header",
        ));
    };
    let age = i128::from(unix_now()) - i128::from(*created_at);
    assert!((0..60).contains(&age), "created_at is now, not {age} s off");
    let payload = msg.payload.clone().unwrap_or_default();
    Ok(Signed {
        msg,
        member,
        payload,
    })
}

fn proposal(id: &str, proposer: &str, state: &str, votes: &[(&str, bool)]) -> serde_json::Value {
    let mut value = serde_json::json!({"proposalId": id, "proposerId": proposer,
        "proposalState": state, "ballotCount": votes.len()});
    if state != "Open" {
        let final_votes: serde_json::Map<String, serde_json::Value> = votes
            .iter()
            .map(|(m, v)| ((*m).to_owned(), serde_json::Value::Bool(*v)))
            .collect();
        value["finalVotes"] = final_votes.into();
        value["voteFailures"] = serde_json::json!({});
    }
    value
}

struct Setup {
    server: TestServer,
    gov: GovClient,
    pki: TestPki,
}

async fn setup(http_version: HttpVersion) -> Setup {
    let pki = TestPki::new(&["127.0.0.1"]);
    let (cert, key) = self_signed_identity(Curve::P384, "member0");
    let (handler, _) = gov_node(&[&cert]);
    let server = TestServer::start(&pki, handler).await;
    let options = ClientOptions {
        http_version,
        ..ClientOptions::default()
    };
    let client =
        Client::with_options(&server.url(), &pki.service_cert_pem(), None, options).unwrap();
    let gov = GovClient::new(client, MemberSigner::from_pem(&cert, &key).unwrap());
    Setup { server, gov, pki }
}

#[tokio::test]
async fn propose_sends_a_signed_proposal_and_returns_the_open_proposal() {
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let Setup { server, gov, .. } = setup(version).await;
        let proposal_json = br#"{"actions":[{"name":"set_user","args":{"cert":"x"}}]}"#;
        let submitted = gov.propose(proposal_json).await.unwrap();
        assert_eq!(submitted.tx_id, Some(TxId::new(2, 10)));
        assert_eq!(submitted.value.proposal_state, ProposalState::Open);
        assert_eq!(submitted.value.proposer_id, gov.member_id().as_str());
        let seen = server.seen();
        assert_eq!(
            seen[0].path_and_query,
            "/gov/members/proposals:create?api-version=2024-07-01"
        );
        assert_eq!(
            seen[0].client_cert, None,
            "COSE-signed calls need no TLS identity"
        );
        let signed = Sign1::parse(&seen[0].body).unwrap();
        assert_eq!(signed.payload.as_deref(), Some(&proposal_json[..]));
    }
}

#[tokio::test]
async fn votes_name_the_proposal_and_the_signer() {
    let Setup { server, gov, .. } = setup(HttpVersion::Http1).await;
    let proposal_id = gov
        .propose(b"{\"actions\":[]}")
        .await
        .unwrap()
        .value
        .proposal_id;
    let accepted = gov.vote_accept(&proposal_id).await.unwrap();
    assert_eq!(accepted.value.proposal_state, ProposalState::Accepted);
    assert_eq!(
        accepted.value.final_votes,
        Some(BTreeMap::from([(gov.member_id().to_string(), true)]))
    );
    let rejected = gov.vote_reject(&proposal_id).await.unwrap();
    assert_eq!(rejected.value.proposal_state, ProposalState::Rejected);
    assert_eq!(
        server.seen()[1].path_and_query,
        format!(
            "/gov/members/proposals/{proposal_id}/ballots/{}:submit?api-version=2024-07-01",
            gov.member_id()
        )
    );
}

#[tokio::test]
async fn withdraw_returns_the_proposal_or_nothing_for_an_unknown_one() {
    let Setup { gov, .. } = setup(HttpVersion::Http1).await;
    let proposal_id = gov
        .propose(b"{\"actions\":[]}")
        .await
        .unwrap()
        .value
        .proposal_id;
    let withdrawn = gov.withdraw(&proposal_id).await.unwrap();
    assert_eq!(
        withdrawn.value.map(|p| p.proposal_state),
        Some(ProposalState::Withdrawn)
    );
    assert_eq!(withdrawn.tx_id, Some(TxId::new(2, 15)));
    assert_eq!(gov.withdraw(UNKNOWN_PROPOSAL).await.unwrap().value, None);
}

#[tokio::test]
async fn activate_member_updates_then_acks_the_state_digest_and_commits() {
    let Setup { server, gov, .. } = setup(HttpVersion::Http1).await;
    let activated = gov.activate_member().await.unwrap();
    assert_eq!(activated.value.state_digest, DIGEST);
    assert_eq!(activated.value.member_id, gov.member_id().as_str());
    let tx_id = activated.tx_id.unwrap();
    assert_eq!(tx_id, TxId::new(2, 12));
    gov.wait_for_commit(tx_id, Duration::from_secs(10))
        .await
        .unwrap();
    let paths: Vec<String> = server
        .seen()
        .into_iter()
        .map(|s| s.path_and_query)
        .collect();
    let me = gov.member_id();
    assert_eq!(
        paths,
        vec![
            format!("/gov/members/state-digests/{me}:update?api-version=2024-07-01"),
            format!("/gov/members/state-digests/{me}:ack?api-version=2024-07-01"),
            "/node/tx?transaction_id=2.12".to_owned(),
            "/node/tx?transaction_id=2.12".to_owned(),
            "/node/tx?transaction_id=2.12".to_owned(),
        ]
    );
}

#[tokio::test]
async fn commit_polling_reports_invalid_and_timeouts() {
    let Setup { gov, .. } = setup(HttpVersion::Http1).await;
    let client = gov.client();
    assert_eq!(
        client.tx_status(TxId::new(2, 99)).await.unwrap(),
        TxStatus::Unknown
    );
    assert!(matches!(
        client
            .wait_for_commit(TxId::new(2, 13), Duration::from_secs(10))
            .await,
        Err(ClientError::TxInvalid(tx)) if tx == TxId::new(2, 13)
    ));
    assert!(matches!(
        client
            .wait_for_commit(TxId::new(2, 14), Duration::from_millis(200))
            .await,
        Err(ClientError::CommitTimeout {
            last_status: TxStatus::Pending,
            after_ms: 200,
            ..
        })
    ));
}

#[tokio::test]
async fn a_member_the_service_does_not_know_gets_ccfs_401() {
    let Setup { server, pki, .. } = setup(HttpVersion::Http1).await;
    let (cert, key) = self_signed_identity(Curve::P256, "stranger");
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    let stranger = GovClient::new(client, MemberSigner::from_pem(&cert, &key).unwrap());
    let error = stranger.propose(b"{\"actions\":[]}").await.unwrap_err();
    let ClientError::Service { error, method, .. } = error else {
        panic!("expected a service error, got {error:?}");
    };
    assert_eq!(method, "POST");
    assert_eq!(
        (error.status, error.code.as_str(), error.message.as_str()),
        (
            401,
            "InvalidAuthenticationInfo",
            "Signer is not a known member"
        )
    );
}

#[tokio::test]
async fn service_info_is_read_without_signing() {
    let Setup { server, gov, .. } = setup(HttpVersion::Http1).await;
    let info = gov.service_info().await.unwrap();
    assert_eq!(info.status, "Open");
    assert_eq!(info.creation_transaction_id, Some(TxId::new(2, 1)));
    let seen = server.seen();
    assert_eq!(seen[0].method, http::Method::GET);
    assert!(seen[0].body.is_empty());
}

#[tokio::test]
async fn ids_that_would_change_the_path_are_refused_before_sending() {
    let Setup { server, gov, .. } = setup(HttpVersion::Http1).await;
    for bad in ["../../node/state", "abc", ""] {
        assert!(matches!(
            gov.vote_accept(bad).await,
            Err(ClientError::InvalidRequest(_))
        ));
    }
    assert!(server.seen().is_empty());
}
