//! `POST /node/join` on a started node, sans-IO, with the real QuickJS constitution (spec
//! §6): a joiner is trusted at once while the service is Opening and receives the ledger
//! secrets, the service identity and a certificate endorsed from its CSR; after Open it waits
//! as Pending until members pass `transition_node_to_trusted`; and the refusals of CCF's error
//! table: CSR key ≠ TLS key, a published node address already taken, a quote that is not the
//! virtual platform's, a retired node, no client certificate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_crypto::{Certificate, CertificateSigningRequest, EcKeyPair, SeededEntropy, sha256};
use cloister_node::core::Frontends;
use cloister_node::rpc::{Request, Response};
use serde_json::{Value, json};
use support::{Harness, Identities, identity, json_body, random_ledger_secret};

struct Service {
    h: Harness,
    member: (EcKeyPair, Certificate),
    service_pem: String,
    ledger_secret: [u8; 32],
}

/// A started node (Opening) with member0 active, under the default constitution.
fn opening_service(seed: u64) -> Service {
    let mut entropy = SeededEntropy::from_seed(seed);
    let identities = Identities::generate(&mut entropy, vec![]);
    let member = identity(&mut entropy, "member0");
    let ledger_secret = random_ledger_secret(&mut entropy);
    let service_pem = identities.service.cert_pem();
    let mut h = Harness::start_genesis(
        identities,
        &member.1,
        cloister_js::DEFAULT_CONSTITUTION.into(),
        ledger_secret,
        Box::new(cloister_js::QuickJsConstitution::new()),
        Frontends::with_builtins(&[]),
    );
    h.activate_member(&member);
    Service {
        h,
        member,
        service_pem,
        ledger_secret,
    }
}

fn open(service: &mut Service) {
    let proposal = json!({ "actions": [{ "name": "transition_service_to_open",
        "args": { "next_service_identity": service.service_pem } }] });
    service.h.pass(&service.member, &proposal);
}

/// CCF's virtual quote for `cert`'s key: base64 JSON with the hash of the key as report data.
fn virtual_quote(cert: &Certificate) -> Value {
    let report_data = BASE64.encode(sha256(&cert.spki_der().unwrap()).0);
    let quote = json!({
        "measurement": "Insecure hard-coded virtual measurement v1",
        "host_data": "00",
        "report_data": report_data,
    });
    json!({
        "format": "Insecure_Virtual",
        "quote": BASE64.encode(quote.to_string()),
        "endorsements": "",
    })
}

/// JoinIn for a node publishing `n2n` as its node-to-node address, with a CSR by `csr_key`.
fn join_in(cert: &Certificate, csr_key: &EcKeyPair, n2n: &str) -> Value {
    let csr =
        CertificateSigningRequest::create(csr_key, "CCF Node", &["127.0.0.1".into()]).unwrap();
    json!({
        "node_info_network": {
            "node_to_node_interface": { "bind_address": n2n, "published_address": n2n },
            "rpc_interfaces": { "primary_rpc_interface": {
                "bind_address": "127.0.0.1:8010", "published_address": "127.0.0.1:8010" } },
        },
        "quote_info": virtual_quote(cert),
        "public_encryption_key": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
        "startup_seqno": 0,
        "certificate_signing_request": csr.to_pem(),
        "node_data": { "name": "node1" },
    })
}

fn post_join(h: &mut Harness, body: &Value, cert: Option<&Certificate>) -> Response {
    h.call(Request {
        method: "POST".into(),
        path: "/node/join".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
        client_cert_der: cert.map(|c| c.der().to_vec()),
        ..Request::default()
    })
}

fn ok_json(response: &Response) -> Value {
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    json_body(response)
}

fn error_code(response: &Response) -> String {
    json_body(response)["error"]["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Checks a Trusted joiner's `network_info` against the service and the joiner's key.
fn check_network_info(info: &Value, service: &Service, node_key: &EcKeyPair, status: &str) {
    assert_eq!(info["public_only"], false);
    assert_eq!(info["last_recovered_signed_idx"], 0);
    assert_eq!(info["service_status"], status);
    assert_eq!(
        info["ledger_secrets"],
        json!([[1, { "raw_key": BASE64.encode(service.ledger_secret) }]])
    );
    assert_eq!(info["identity"]["cert"], service.service_pem.as_str());
    let service_cert = Certificate::from_pem(&service.service_pem).unwrap();
    let service_key = EcKeyPair::from_pem(info["identity"]["priv_key"].as_str().unwrap()).unwrap();
    assert_eq!(service_key.public_key(), service_cert.public_key().unwrap());
    let endorsed = Certificate::from_pem(info["endorsed_certificate"].as_str().unwrap()).unwrap();
    endorsed
        .verify_issued_by(&service_cert.public_key().unwrap())
        .unwrap();
    assert_eq!(endorsed.public_key().unwrap(), node_key.public_key());
    assert!(info["cose_signatures_config"]["issuer"].is_string());
}

#[test]
fn a_node_joining_an_opening_service_is_trusted_at_once_with_the_network_secrets() {
    let mut service = opening_service(31);
    let mut entropy = SeededEntropy::from_seed(131);
    let (node_key, node_cert) = identity(&mut entropy, "CCF Node");
    let body = join_in(&node_cert, &node_key, "127.0.0.1:8011");
    let node_id = node_key.public_key().node_id().to_string();

    let out = ok_json(&post_join(&mut service.h, &body, Some(&node_cert)));
    assert_eq!(out["node_status"], "Trusted");
    assert_eq!(out["node_id"], node_id.as_str());
    check_network_info(&out["network_info"], &service, &node_key, "Opening");
    // As CCF before opening: the endorsed certificate keeps the self-signed one's validity.
    let endorsed = Certificate::from_pem(
        out["network_info"]["endorsed_certificate"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(endorsed.validity_unix(), node_cert.validity_unix());

    service.h.sign_and_persist();
    let listed = ok_json(&service.h.get(&format!("/node/network/nodes/{node_id}")));
    assert_eq!(listed["status"], "Trusted");
    assert_eq!(listed["node_data"], json!({ "name": "node1" }));

    // Polling again answers the same (CCF leaves node_id out of this answer).
    let again = ok_json(&post_join(&mut service.h, &body, Some(&node_cert)));
    assert_eq!(again["node_status"], "Trusted");
    check_network_info(&again["network_info"], &service, &node_key, "Opening");
}

#[test]
fn a_node_joining_an_open_service_waits_pending_until_members_trust_it() {
    let mut service = opening_service(32);
    open(&mut service);
    let mut entropy = SeededEntropy::from_seed(132);
    let (node_key, node_cert) = identity(&mut entropy, "CCF Node");
    let body = join_in(&node_cert, &node_key, "127.0.0.1:8011");
    let node_id = node_key.public_key().node_id().to_string();

    let out = ok_json(&post_join(&mut service.h, &body, Some(&node_cert)));
    assert_eq!(
        out,
        json!({ "node_status": "Pending", "node_id": node_id.as_str() })
    );
    service.h.sign_and_persist();
    let polled = ok_json(&post_join(&mut service.h, &body, Some(&node_cert)));
    assert_eq!(polled["node_status"], "Pending");
    assert!(polled.get("network_info").is_none());

    let trust = json!({ "actions": [{ "name": "transition_node_to_trusted",
        "args": { "node_id": node_id, "valid_from": "20270101000000Z" } }] });
    service.h.pass(&service.member, &trust);
    let trusted = ok_json(&post_join(&mut service.h, &body, Some(&node_cert)));
    assert_eq!(trusted["node_status"], "Trusted");
    assert_eq!(trusted["node_id"], node_id.as_str());
    check_network_info(&trusted["network_info"], &service, &node_key, "Open");

    // Once retired, the node cannot join again.
    let remove = json!({ "actions": [{ "name": "remove_node", "args": { "node_id": node_id } }] });
    service.h.pass(&service.member, &remove);
    let retired = post_join(&mut service.h, &body, Some(&node_cert));
    assert_eq!(retired.status, 400);
    assert_eq!(error_code(&retired), "InvalidNodeState");
}

#[test]
fn joins_are_refused_as_ccf_refuses_them() {
    let mut service = opening_service(33);
    let mut entropy = SeededEntropy::from_seed(133);
    let (node_key, node_cert) = identity(&mut entropy, "CCF Node");
    let (other_key, _) = identity(&mut entropy, "other");

    // The CSR's key is not the TLS client key.
    let mismatch = post_join(
        &mut service.h,
        &join_in(&node_cert, &other_key, "127.0.0.1:8011"),
        Some(&node_cert),
    );
    assert_eq!(mismatch.status, 400);
    assert_eq!(error_code(&mismatch), "CSRPublicKeyInvalid");

    // No TLS client certificate: nothing identifies the joiner.
    let anonymous = post_join(
        &mut service.h,
        &join_in(&node_cert, &node_key, "127.0.0.1:8011"),
        None,
    );
    assert_eq!(anonymous.status, 400);

    // The genesis node already publishes 127.0.0.1:8001.
    let duplicate = post_join(
        &mut service.h,
        &join_in(&node_cert, &node_key, "127.0.0.1:8001"),
        Some(&node_cert),
    );
    assert_eq!(duplicate.status, 400);
    assert_eq!(error_code(&duplicate), "NodeAlreadyExists");

    // Only the virtual platform, and its report data must name the TLS key.
    let mut sgx = join_in(&node_cert, &node_key, "127.0.0.1:8011");
    sgx["quote_info"]["format"] = "OE_SGX_v1".into();
    let refused = post_join(&mut service.h, &sgx, Some(&node_cert));
    assert_eq!(
        (refused.status, error_code(&refused)),
        (401, "InvalidQuote".into())
    );
    let mut foreign = join_in(&node_cert, &node_key, "127.0.0.1:8011");
    let (_, other_cert) = identity(&mut entropy, "other");
    foreign["quote_info"] = virtual_quote(&other_cert);
    let refused = post_join(&mut service.h, &foreign, Some(&node_cert));
    assert_eq!(
        (refused.status, error_code(&refused)),
        (401, "InvalidQuote".into())
    );

    // None of these wrote anything: the node is unknown.
    let node_id = node_key.public_key().node_id().to_string();
    assert_eq!(
        service
            .h
            .get(&format!("/node/network/nodes/{node_id}"))
            .status,
        404
    );
}
