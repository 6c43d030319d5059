//! NodeCore end to end, sans-IO: start a service, activate the member, add a user and open the
//! service by proposal, then write and read through the logging app, watch the write commit and
//! check its receipt. The constitution here is a small Rust engine standing in for QuickJS (the
//! real JS constitution is exercised over HTTPS in crates/cli/tests); everything else is real.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use cloister_crypto::{Certificate, SeededEntropy, sha256};
use cloister_merkle::Receipt;
use cloister_node::apps::logging::LoggingApp;
use cloister_node::core::Frontends;
use serde_json::json;
use support::{
    AcceptAll, Harness, Identities, NOW, get, gov_request, identity, json_body,
    random_ledger_secret,
};

#[test]
fn a_member_opens_the_service_and_a_user_logs_a_committed_receipted_message() {
    let mut entropy = SeededEntropy::from_seed(11);
    let identities = Identities::generate(&mut entropy, vec!["127.0.0.1".into()]);
    let (member_key, member_cert) = identity(&mut entropy, "member0");
    let (_, user_cert) = identity(&mut entropy, "user0");
    let ledger_secret = random_ledger_secret(&mut entropy);
    let service_pem = identities.service.cert_pem();
    let mut h = Harness::start_genesis(
        identities,
        &member_cert,
        "export function resolve() { return \"Accepted\"; }".into(),
        ledger_secret,
        Box::new(AcceptAll),
        Frontends::with_builtins(&[&LoggingApp]),
    );

    // The node answers about itself; the app frontend is closed until the service opens.
    let state = h.call(get("/node/state", None));
    assert_eq!(state.status, 200);
    assert_eq!(json_body(&state)["state"], "PartOfNetwork");
    let closed = h.call(get("/app/log/private?id=1", Some(&user_cert)));
    assert_eq!(
        (closed.status, json_body(&closed)["error"]["code"].as_str()),
        (404, Some("FrontendNotOpen"))
    );

    // Activate the member: update the state digest, then ack it.
    let member_id = hex::encode(sha256(member_cert.der()).0);
    let update = h.call(gov_request(
        &member_key,
        &member_cert,
        &format!("/gov/members/state-digests/{member_id}:update"),
        "state_digest",
        None,
        b"",
        NOW,
    ));
    assert_eq!(
        update.status,
        200,
        "{}",
        String::from_utf8_lossy(&update.body)
    );
    let digest = json_body(&update)["stateDigest"]
        .as_str()
        .unwrap()
        .to_owned();
    let ack_payload = json!({ "stateDigest": digest }).to_string();
    let ack = h.call(gov_request(
        &member_key,
        &member_cert,
        &format!("/gov/members/state-digests/{member_id}:ack"),
        "ack",
        None,
        ack_payload.as_bytes(),
        NOW,
    ));
    assert_eq!(ack.status, 204, "{}", String::from_utf8_lossy(&ack.body));

    // Propose: add the user and open the service. One active member: accepted at once.
    let proposal = json!({ "actions": [
        { "name": "set_user", "args": { "cert": user_cert.to_pem() } },
        { "name": "transition_service_to_open", "args": { "next_service_identity": service_pem } },
    ]})
    .to_string();
    let create = gov_request(
        &member_key,
        &member_cert,
        "/gov/members/proposals:create",
        "proposal",
        None,
        proposal.as_bytes(),
        NOW,
    );
    let created = h.call(create.clone());
    assert_eq!(
        created.status,
        200,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(json_body(&created)["proposalState"], "Accepted");
    assert!(
        created
            .headers
            .iter()
            .any(|(k, _)| k == "x-ms-ccf-transaction-id")
    );
    // Replaying the same signed request is refused.
    let replay = h.call(create);
    assert_eq!(replay.status, 400);
    assert_eq!(json_body(&replay)["error"]["code"], "ProposalReplay");
    h.sign_and_persist();

    // Service info says Open; the app frontend is open now that it is committed.
    let info = h.call(get("/gov/service/info?api-version=2024-07-01", None));
    assert_eq!(json_body(&info)["status"], "Open");

    // The user writes a private message and reads it back.
    let mut post = get("/app/log/private", Some(&user_cert));
    post.method = "POST".into();
    post.body = json!({ "id": 42, "msg": "hello" }).to_string().into_bytes();
    let written = h.call(post.clone());
    assert_eq!(
        written.status,
        200,
        "{}",
        String::from_utf8_lossy(&written.body)
    );
    let txid = written
        .header("x-ms-ccf-transaction-id")
        .unwrap()
        .to_owned();
    let read = h.call(get("/app/log/private?id=42", Some(&user_cert)));
    assert_eq!(json_body(&read)["msg"], "hello");

    // Without the user's certificate: 401 with CCF's body.
    let mut anonymous = post.clone();
    anonymous.client_cert_der = None;
    let refused = h.call(anonymous);
    assert_eq!(refused.status, 401);
    assert_eq!(
        json_body(&refused)["error"]["details"][0]["auth_policy"],
        "user_cert"
    );

    // Pending until a signature commits it; then Committed with a receipt that verifies.
    let status = h.call(get(&format!("/app/tx?transaction_id={txid}"), None));
    assert_eq!(json_body(&status)["status"], "Pending");
    h.sign_and_persist();
    let status = h.call(get(&format!("/app/tx?transaction_id={txid}"), None));
    assert_eq!(json_body(&status)["status"], "Committed");
    let receipt = h.call(get(&format!("/app/receipt?transaction_id={txid}"), None));
    assert_eq!(
        receipt.status,
        200,
        "{}",
        String::from_utf8_lossy(&receipt.body)
    );
    let receipt = Receipt::from_json(std::str::from_utf8(&receipt.body).unwrap()).unwrap();
    receipt
        .verify(&Certificate::from_pem(&service_pem).unwrap())
        .unwrap();
}

#[test]
fn unknown_paths_wrong_verbs_and_missing_api_versions_get_ccf_errors() {
    let mut entropy = SeededEntropy::from_seed(12);
    let identities = Identities::generate(&mut entropy, vec![]);
    let (_, member_cert) = identity(&mut entropy, "member0");
    let mut h = Harness::start_genesis(
        identities,
        &member_cert,
        String::new(),
        [1; 32],
        Box::new(AcceptAll),
        Frontends::with_builtins(&[]),
    );
    let missing = h.call(get("/node/nope", None));
    assert_eq!(
        (
            missing.status,
            json_body(&missing)["error"]["message"].as_str()
        ),
        (404, Some("Unknown path: /nope."))
    );
    let mut delete = get("/node/state", None);
    delete.method = "DELETE".into();
    let verb = h.call(delete);
    assert_eq!(verb.status, 405);
    assert_eq!(verb.header("allow"), Some("OPTIONS, GET"));
    let no_version = h.call(get("/gov/service/info", None));
    assert_eq!(
        json_body(&no_version)["error"]["code"],
        "MissingApiVersionParameter"
    );
    let commit = h.call(get("/node/commit", None));
    assert_eq!(json_body(&commit)["transaction_id"], "2.2");
}
