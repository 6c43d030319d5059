//! Historical queries of JavaScript apps served by NodeCore, sans-IO (spec/ccf-js.md §3.7, §4.4),
//! through CCF's own logging sample (testdata/ccf-js-logging, unmodified): an old value read
//! back at its transaction after it was overwritten, a removal seen as absent, receipts in CCF's
//! JavaScript shape that Cloister's receipt verifier accepts, every write of an id over a range
//! (202 while fetching, then the entries), and CCF's answers for a missing or malformed header,
//! a pending, unknown or invalid transaction, and an unauthenticated caller.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use cloister_crypto::{Certificate, SeededEntropy};
use cloister_merkle::Receipt;
use cloister_node::core::Frontends;
use cloister_node::rpc::{Request, Response};
use serde_json::{Value, json};
use support::{Harness, Identities, identity, json_body, random_ledger_secret};

const TX_ID: &str = "x-ms-ccf-transaction-id";

macro_rules! sample {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/ccf-js-logging/",
            $file
        ))
    };
}

struct Service {
    h: Harness,
    user: Certificate,
    service_pem: String,
}

/// A started, open service with CCF's logging sample deployed and user0 registered.
fn open_service_with_sample() -> Service {
    let mut entropy = SeededEntropy::from_seed(31);
    let identities = Identities::generate(&mut entropy, vec![]);
    let member = identity(&mut entropy, "member0");
    let (_, user) = identity(&mut entropy, "user0");
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
    let metadata: Value = serde_json::from_str(sample!("app.json")).unwrap();
    let bundle = json!({ "metadata": metadata,
        "modules": [{ "name": "logging.js", "module": sample!("src/logging.js") }] });
    h.pass(
        &member,
        &json!({ "actions": [
            { "name": "set_js_app", "args": { "bundle": bundle } },
            { "name": "set_user", "args": { "cert": user.to_pem() } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": service_pem } },
        ]}),
    );
    Service {
        h,
        user,
        service_pem,
    }
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut all = vec![("content-type".to_owned(), "application/json".to_owned())];
    all.extend(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: all,
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        ..Request::default()
    }
}

impl Service {
    fn as_user(&mut self, mut request: Request) -> Response {
        request.client_cert_der = Some(self.user.der().to_vec());
        self.h.call(request)
    }

    /// Writes `msg` under `id` (private, or public with `public`); its transaction id.
    fn write(&mut self, scope: &str, id: u64, msg: &str) -> String {
        let path = format!("/app/log/{scope}");
        let body = json!({ "id": id, "msg": msg });
        let response = self.as_user(request("POST", &path, &[], Some(body)));
        assert_eq!(response.status, 200, "{}", text(&response));
        response.header(TX_ID).unwrap().to_owned()
    }

    fn historical(&mut self, path: &str, txid: Option<&str>) -> Response {
        let headers: Vec<(&str, &str)> = txid.map(|t| vec![(TX_ID, t)]).unwrap_or_default();
        self.as_user(request("GET", path, &headers, None))
    }

    /// Verifies a receipt in CCF's JavaScript shape with Cloister's verifier.
    fn verify(&self, receipt: &Value) {
        let parsed = Receipt::from_json(&receipt.to_string()).unwrap();
        parsed
            .verify(&Certificate::from_pem(&self.service_pem).unwrap())
            .unwrap();
    }
}

fn text(response: &Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

fn seqno(txid: &str) -> u64 {
    txid.split_once('.').unwrap().1.parse().unwrap()
}

#[test]
fn an_overwritten_value_is_read_at_its_transaction_with_a_verifiable_receipt() {
    let mut s = open_service_with_sample();
    let first = s.write("private", 1, "one");
    let second = s.write("private", 1, "two");
    let public = s.write("public", 1, "pub");
    let removed = {
        let response = s.as_user(request("DELETE", "/app/log/private?id=1", &[], None));
        assert_eq!(response.status, 200, "{}", text(&response));
        response.header(TX_ID).unwrap().to_owned()
    };
    s.h.sign_and_persist();

    let path = "/app/log/private/historical?id=1";
    let old = s.historical(path, Some(&first));
    assert_eq!(old.status, 200, "{}", text(&old));
    assert_eq!(json_body(&old), json!({ "msg": "one" }));
    assert_eq!(
        json_body(&s.historical(path, Some(&second))),
        json!({ "msg": "two" })
    );
    // Only what the transaction wrote: the delete's state has no record, nor has the public write's.
    for txid in [&removed, &public] {
        assert_eq!(
            json_body(&s.historical(path, Some(txid))),
            json!({ "error": "No such key" })
        );
    }
    let current = s.as_user(request("GET", "/app/log/private?id=1", &[], None));
    assert_eq!(json_body(&current), json!({ "error": "No such key" }));

    // The receipt: CCF's JavaScript shape, and it verifies.
    let with_receipt = s.historical("/app/log/private/historical_receipt?id=1", Some(&first));
    let body = json_body(&with_receipt);
    assert_eq!(body["msg"], "one");
    let receipt = &body["receipt"];
    assert_eq!(receipt["is_signature_transaction"], false);
    assert!(
        receipt["leaf_components"]["commit_evidence"]
            .as_str()
            .unwrap()
            .starts_with(&format!("ce:{first}:"))
    );
    assert!(
        receipt["cert"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert!(receipt["proof"].as_array().is_some());
    s.verify(receipt);

    // The public variant deletes the claims digest (the sample expects it recomputed): with
    // the digest of no claims put back, it verifies too.
    let public_receipt = s.historical("/app/log/public/historical_receipt?id=1", Some(&public));
    let mut body = json_body(&public_receipt);
    assert_eq!(body["msg"], "pub");
    assert!(body["receipt"]["leaf_components"]["claims_digest"].is_null());
    body["receipt"]["leaf_components"]["claims_digest"] = json!("00".repeat(32));
    s.verify(&body["receipt"]);
}

#[test]
fn the_range_endpoint_fetches_then_returns_every_write_of_the_id() {
    let mut s = open_service_with_sample();
    let writes: Vec<(String, &str)> = ["a", "b", "c"]
        .into_iter()
        .map(|msg| (s.write("private", 7, msg), msg))
        .collect();
    s.write("private", 8, "other id");
    s.h.sign_and_persist();

    let path = "/app/log/private/historical/range?id=7";
    // The first call asks for the states: CCF's "null while fetching", which the sample
    // answers with 202.
    let fetching = s.as_user(request("GET", path, &[], None));
    assert_eq!(fetching.status, 202, "{}", text(&fetching));
    assert_eq!(fetching.header("retry-after"), Some("1"));
    let last = seqno(&writes[2].0);
    assert_eq!(
        text(&fetching),
        format!("Historical transactions from 1 to {last} are not yet available, fetching now")
    );
    let ready = s.as_user(request("GET", path, &[], None));
    assert_eq!(ready.status, 200, "{}", text(&ready));
    let expected: Vec<Value> = writes
        .iter()
        .map(|(txid, msg)| json!({ "seqno": seqno(txid), "id": 7, "msg": msg }))
        .collect();
    assert_eq!(json_body(&ready), json!({ "entries": expected }));
    // The sample dropped its cached states: the next call fetches again.
    assert_eq!(s.as_user(request("GET", path, &[], None)).status, 202);

    // A sub-range by query parameters.
    let from = seqno(&writes[1].0);
    let sub = format!("/app/log/private/historical/range?id=7&from_seqno={from}&to_seqno={last}");
    assert_eq!(s.as_user(request("GET", &sub, &[], None)).status, 202);
    let body = json_body(&s.as_user(request("GET", &sub, &[], None)));
    assert_eq!(body, json!({ "entries": expected[1..] }));
}

#[test]
fn header_errors_and_uncommitted_targets_get_ccfs_answers() {
    let mut s = open_service_with_sample();
    let committed = s.write("private", 1, "one");
    s.h.sign_and_persist();
    let path = "/app/log/private/historical?id=1";

    let missing = s.historical(path, None);
    assert_eq!(missing.status, 400);
    assert_eq!(
        json_body(&missing)["error"],
        json!({ "code": "MissingRequiredHeader",
                "message": "Historical query is missing 'x-ms-ccf-transaction-id' header." })
    );
    let malformed = s.historical(path, Some("two.five"));
    assert_eq!(malformed.status, 400);
    assert_eq!(json_body(&malformed)["error"]["code"], "InvalidHeaderValue");
    assert_eq!(
        json_body(&malformed)["error"]["message"],
        "The value 'two.five' in header 'x-ms-ccf-transaction-id' could not be converted to a \
         valid Tx ID."
    );

    // Written but not yet signed: pending, 404 and not to be cached.
    let pending = s.write("private", 1, "later");
    let response = s.historical(path, Some(&pending));
    assert_eq!(response.status, 404, "{}", text(&response));
    assert_eq!(response.header("cache-control"), Some("no-cache"));
    assert_eq!(
        json_body(&response)["error"],
        json!({ "code": "TransactionPendingOrUnknown",
                "message": format!("Only committed transactions can be queried. Transaction {pending} is Pending") })
    );
    let unknown = s.historical(path, Some("2.100000"));
    assert_eq!(unknown.status, 404);
    assert!(text(&unknown).contains("Transaction 2.100000 is Unknown"));
    // A committed seqno under another view never happened.
    let invalid = format!("1.{}", seqno(&committed));
    let response = s.historical(path, Some(&invalid));
    assert_eq!(response.status, 404);
    assert_eq!(json_body(&response)["error"]["code"], "TransactionInvalid");

    // Once signed, the pending write reads back.
    s.h.sign_and_persist();
    assert_eq!(
        json_body(&s.historical(path, Some(&pending))),
        json!({ "msg": "later" })
    );

    // The caller is authenticated before the target is looked at.
    let anonymous =
        s.h.call(request("GET", path, &[(TX_ID, committed.as_str())], None));
    assert_eq!(anonymous.status, 401);
}
