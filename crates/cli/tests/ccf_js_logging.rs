//! CCF's own JavaScript logging sample (`samples/apps/logging/js` of microsoft/CCF, stored unmodified
//! under testdata/ccf-js-logging/ with its PROVENANCE.md) deployed on a real `cloister` node by a
//! `set_js_app` proposal, and exercised over HTTPS from its endpoint list: private and public
//! records with ids and scopes, reads, deletes, clears and counts; the caller's identity
//! (`admin_only` through governance-set user data, `prefix_cert` through `ccf.pemToId`); calls
//! authenticated by a JWT from a test issuer registered by governance; and the historical
//! endpoints: values at old transactions, receipts verified offline, and ranges.
//!
//! The bundle is built as CCF's tools build it: `app.json` is the metadata, and each file under
//! `src/` is a module named by its path relative to `src/` (`logging.js`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod live_node;

use cloister_client::{Client, GovClient, Method, ProposalState, Response, unix_now};
use cloister_crypto::jwk::{b64url_encode, jwk_members};
use cloister_crypto::{Certificate, Curve, EcKeyPair, RsaKeyPair, SeededEntropy};
use cloister_merkle::Receipt;
use live_node::{DEADLINE, Identity, TestNetwork, body_text, run};
use serde_json::{Value, json};

/// A file of the sample, as stored.
macro_rules! sample {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/ccf-js-logging/",
            $file
        ))
    };
}

const APP_JSON: &str = sample!("app.json");
const LOGGING_JS: &str = sample!("src/logging.js");
/// The issuer the JWT tests register.
const ISSUER: &str = "https://issuer.cloister.test";

/// The sample's bundle: app.json as metadata, the one module under its name relative to `src/`.
fn bundle() -> Value {
    let metadata: Value = serde_json::from_str(APP_JSON).unwrap();
    json!({ "metadata": metadata, "modules": [{ "name": "logging.js", "module": LOGGING_JS }] })
}

/// Member0 proposes `actions`, votes for them, and waits until the ballot commits.
async fn pass(gov: &GovClient, actions: Value) {
    let proposal = json!({ "actions": actions });
    let proposed = gov.propose(proposal.to_string().as_bytes()).await.unwrap();
    let voted = gov.vote_accept(&proposed.value.proposal_id).await.unwrap();
    assert_eq!(voted.value.proposal_state, ProposalState::Accepted);
    gov.wait_for_commit(voted.tx_id.unwrap(), DEADLINE)
        .await
        .unwrap();
}

/// An open one-node service (user0 registered) with the sample deployed by proposal.
async fn deployed() -> (TestNetwork, GovClient) {
    let network = TestNetwork::start_open("1MB").await;
    let gov = network.member0_gov();
    pass(
        &gov,
        json!([{ "name": "set_js_app", "args": { "bundle": bundle() } }]),
    )
    .await;
    (network, gov)
}

async fn call(
    client: &Client,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Response {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    client.request(method, path, &all, body).await.unwrap()
}

async fn get(client: &Client, path: &str) -> Response {
    call(client, Method::GET, path, &[], None).await
}

async fn post(client: &Client, path: &str, body: Value) -> Response {
    call(client, Method::POST, path, &[], Some(body)).await
}

async fn delete(client: &Client, path: &str) -> Response {
    call(client, Method::DELETE, path, &[], None).await
}

/// The JSON body of a response that must have status `status`.
fn json_of(response: &Response, status: u16) -> Value {
    assert_eq!(response.status, status, "{}", body_text(response));
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", body_text(response)))
}

/// The `msg` of a record read with 200, or the sample's own "No such key" answer.
async fn read(client: &Client, path: &str) -> Value {
    let body = json_of(&get(client, path).await, 200);
    if let Some(msg) = body.get("msg") {
        msg.clone()
    } else {
        assert_eq!(body, json!({ "error": "No such key" }), "{path}");
        Value::Null
    }
}

#[test]
fn the_sample_is_deployed_unmodified_with_all_its_endpoints() {
    run(async {
        let (network, _gov) = deployed().await;
        let anyone = network.client(None);
        let app = json_of(
            &get(
                &anyone,
                "/gov/service/javascript-app?api-version=2024-07-01",
            )
            .await,
            200,
        );
        let served = &app["endpoints"];
        let listed: Value = serde_json::from_str(APP_JSON).unwrap();
        let mut pairs = 0;
        for (path, methods) in listed["endpoints"].as_object().unwrap() {
            for (method, props) in methods.as_object().unwrap() {
                let entry = &served[path][method.to_uppercase()];
                assert_eq!(entry["jsModule"], "/logging.js", "{method} {path}");
                assert_eq!(entry["jsFunction"], props["js_function"], "{method} {path}");
                assert_eq!(entry["mode"], props["mode"], "{method} {path}");
                pairs += 1;
            }
        }
        assert_eq!(
            pairs, 18,
            "the sample at this commit lists 18 endpoint/method pairs"
        );
        let module = anyone
            .get("/gov/service/javascript-modules/%2Flogging.js?api-version=2024-07-01")
            .await
            .unwrap();
        assert_eq!(module.status, 200, "{}", body_text(&module));
        assert_eq!(
            module.body,
            LOGGING_JS.as_bytes(),
            "the module is served as stored"
        );
    });
}

#[test]
fn private_and_public_records_are_written_read_counted_and_deleted() {
    run(async {
        let (network, _gov) = deployed().await;
        let user = network.client(Some(&network.user0));

        // Private records: POST answers `true` and commits; GET reads the message back.
        let written = post(&user, "/app/log/private", json!({"id": 1, "msg": "one"})).await;
        assert_eq!(json_of(&written, 200), json!(true));
        let tx_id = written.tx_id().expect("a write has a transaction id");
        network.wait_committed(&user, "/app", tx_id).await;
        post(&user, "/app/log/private", json!({"id": 2, "msg": "two"})).await;
        assert_eq!(read(&user, "/app/log/private?id=1").await, "one");
        assert_eq!(read(&user, "/app/log/private?id=2").await, "two");
        // A missing key is the sample's own 200 {"error": "No such key"} at this version.
        assert_eq!(read(&user, "/app/log/private?id=3").await, Value::Null);
        // No id: the sample throws, a 500 with CCF's generic text (details are off by default).
        let no_id = json_of(&get(&user, "/app/log/private").await, 500);
        assert_eq!(no_id["error"]["code"], "InternalError");
        assert_eq!(
            no_id["error"]["message"],
            "Exception thrown while executing."
        );
        assert_eq!(json_of(&get(&user, "/app/log/private/count").await, 200), 2);

        // A scope is another map: records-<scope>.
        post(
            &user,
            "/app/log/private?scope=s",
            json!({"id": 1, "msg": "scoped"}),
        )
        .await;
        assert_eq!(read(&user, "/app/log/private?id=1&scope=s").await, "scoped");
        assert_eq!(read(&user, "/app/log/private?id=1").await, "one");
        assert_eq!(
            json_of(&get(&user, "/app/log/private/count?scope=s").await, 200),
            1
        );

        // Public records are a separate map from private ones, with a claims digest on request.
        let public = post(
            &user,
            "/app/log/public",
            json!({"id": 1, "msg": "public one", "record_claim": true}),
        )
        .await;
        assert_eq!(json_of(&public, 200), json!(true));
        post(&user, "/app/log/public", json!({"id": 4, "msg": "four"})).await;
        assert_eq!(read(&user, "/app/log/public?id=1").await, "public one");
        assert_eq!(read(&user, "/app/log/public?id=4").await, "four");
        assert_eq!(read(&user, "/app/log/private?id=4").await, Value::Null);
        assert_eq!(read(&user, "/app/log/private?id=1").await, "one");
        assert_eq!(json_of(&get(&user, "/app/log/public/count").await, 200), 2);

        // DELETE by id: `true`, then the record is gone; a second DELETE says "No such key".
        let deleted = delete(&user, "/app/log/private?id=2").await;
        assert_eq!(json_of(&deleted, 200), json!(true));
        assert_eq!(read(&user, "/app/log/private?id=2").await, Value::Null);
        assert_eq!(
            json_of(&delete(&user, "/app/log/private?id=2").await, 200),
            json!({ "error": "No such key" })
        );
        let deleted = delete(&user, "/app/log/public?id=4").await;
        assert_eq!(json_of(&deleted, 200), json!(true));
        assert_eq!(read(&user, "/app/log/public?id=4").await, Value::Null);
        assert_eq!(read(&user, "/app/log/public?id=1").await, "public one");

        // DELETE .../all clears one map only.
        let cleared = delete(&user, "/app/log/private/all").await;
        assert_eq!(json_of(&cleared, 200), json!(true));
        assert_eq!(json_of(&get(&user, "/app/log/private/count").await, 200), 0);
        assert_eq!(read(&user, "/app/log/private?id=1").await, Value::Null);
        assert_eq!(
            json_of(&get(&user, "/app/log/private/count?scope=s").await, 200),
            1
        );
        assert_eq!(json_of(&get(&user, "/app/log/public/count").await, 200), 1);
        let cleared = delete(&user, "/app/log/public/all").await;
        assert_eq!(json_of(&cleared, 200), json!(true));
        assert_eq!(json_of(&get(&user, "/app/log/public/count").await, 200), 0);
    });
}

#[test]
fn caller_identity_admin_only_follows_user_data_and_prefix_cert_names_the_caller() {
    run(async {
        let (network, gov) = deployed().await;
        let user = network.client(Some(&network.user0));

        // admin_only: 403 while user0 has no user data with isAdmin.
        let refused = post(
            &user,
            "/app/log/private/admin_only",
            json!({"id": 7, "msg": "a"}),
        )
        .await;
        assert_eq!(refused.status, 403, "{}", body_text(&refused));
        assert_eq!(body_text(&refused), "Only admins may access this endpoint");
        assert_eq!(read(&user, "/app/log/private?id=7").await, Value::Null);

        pass(
            &gov,
            json!([{ "name": "set_user_data",
                     "args": { "user_id": network.user0.id(), "user_data": { "isAdmin": true } } }]),
        )
        .await;
        let accepted = post(
            &user,
            "/app/log/private/admin_only",
            json!({"id": 7, "msg": "a"}),
        )
        .await;
        assert_eq!(json_of(&accepted, 200), json!(true));
        assert_eq!(read(&user, "/app/log/private?id=7").await, "a");

        // Data without isAdmin: true is refused again.
        pass(
            &gov,
            json!([{ "name": "set_user_data",
                     "args": { "user_id": network.user0.id(), "user_data": { "isAdmin": "yes" } } }]),
        )
        .await;
        let refused = post(
            &user,
            "/app/log/private/admin_only",
            json!({"id": 8, "msg": "b"}),
        )
        .await;
        assert_eq!(refused.status, 403, "{}", body_text(&refused));

        // prefix_cert: the record is prefixed with ccf.pemToId(caller.cert), the user id.
        let prefixed = post(
            &user,
            "/app/log/private/prefix_cert",
            json!({"id": 9, "msg": "hello"}),
        )
        .await;
        assert_eq!(json_of(&prefixed, 200), json!(true));
        assert_eq!(
            read(&user, "/app/log/private?id=9").await,
            format!("{}: hello", network.user0.id())
        );

        // A certificate that is no registered user's passes neither jwt nor user_cert; a
        // member's certificate is no user's either.
        let stranger = Identity::generate(&network.common, "stranger", false);
        let stranger = network.client(Some(&stranger));
        let refused = get(&stranger, "/app/log/private?id=9").await;
        let body = json_of(&refused, 401);
        assert_eq!(body["error"]["code"], "InvalidAuthenticationInfo");
        let member = network.client(Some(&network.member0));
        let refused = post(
            &member,
            "/app/log/private/admin_only",
            json!({"id": 1, "msg": "m"}),
        )
        .await;
        assert_eq!(refused.status, 401, "{}", body_text(&refused));
    });
}

/// A compact JWS over `payload`: RS256 by `rsa` when `key` is "rsa", else ES256 by `ec`; the
/// header names `kid`.
fn signed_token(key: &str, kid: &str, payload: &Value, rsa: &RsaKeyPair, ec: &EcKeyPair) -> String {
    let alg = if key == "rsa" { "RS256" } else { "ES256" };
    let header = json!({ "alg": alg, "kid": kid, "typ": "JWT" });
    let signed = format!(
        "{}.{}",
        b64url_encode(header.to_string().as_bytes()),
        b64url_encode(payload.to_string().as_bytes())
    );
    let signature = if key == "rsa" {
        rsa.sign_pkcs1_sha256(signed.as_bytes()).unwrap()
    } else {
        ec.sign_cose(signed.as_bytes()).unwrap()
    };
    format!("{signed}.{}", b64url_encode(&signature))
}

/// A token signed by the key registered under `kid`.
fn token(kid: &str, payload: &Value, rsa: &RsaKeyPair, ec: &EcKeyPair) -> String {
    signed_token(kid, kid, payload, rsa, ec)
}

fn jwk(kid: &str, spki: &[u8]) -> Value {
    let mut jwk = json!({ "kid": kid });
    for (name, value) in jwk_members(spki).unwrap() {
        jwk[name] = json!(value);
    }
    jwk
}

#[test]
fn jwt_authenticated_calls_with_a_test_issuer_registered_by_governance() {
    run(async {
        let (network, gov) = deployed().await;
        let rsa = RsaKeyPair::generate_2048().unwrap();
        let ec = EcKeyPair::generate(Curve::P256, &mut SeededEntropy::from_seed(5)).unwrap();
        let jwks = json!({ "keys": [
            jwk("rsa", rsa.public_key().spki_der()),
            jwk("ec", ec.public_key().spki_der()),
        ]});
        pass(
            &gov,
            json!([
                { "name": "set_jwt_issuer", "args": { "issuer": ISSUER, "auto_refresh": false } },
                { "name": "set_jwt_public_signing_keys", "args": { "issuer": ISSUER, "jwks": jwks } },
            ]),
        )
        .await;

        // No client certificate: only the bearer token identifies the caller.
        let anonymous_tls = network.client(None);
        let now = i64::try_from(unix_now()).unwrap();
        let claims = json!({ "iss": ISSUER, "sub": "alice", "nbf": now - 600, "exp": now + 3600 });
        for kid in ["rsa", "ec"] {
            let bearer = format!("Bearer {}", token(kid, &claims, &rsa, &ec));
            let auth = [("authorization", bearer.as_str())];
            let path = format!("/app/log/private?scope={kid}");
            let written = call(
                &anonymous_tls,
                Method::POST,
                &path,
                &auth,
                Some(json!({"id": 1, "msg": format!("by {kid} jwt")})),
            )
            .await;
            assert_eq!(json_of(&written, 200), json!(true), "{kid}");
            let got = call(
                &anonymous_tls,
                Method::GET,
                &format!("/app/log/private?id=1&scope={kid}"),
                &auth,
                None,
            )
            .await;
            assert_eq!(
                json_of(&got, 200),
                json!({ "msg": format!("by {kid} jwt") })
            );
            let count = call(
                &anonymous_tls,
                Method::GET,
                "/app/log/private/count",
                &auth,
                None,
            )
            .await;
            assert_eq!(json_of(&count, 200), json!(0), "the unscoped map is empty");
        }

        // The same bytes through user0's certificate: JWT and user_cert reach one store.
        let user = network.client(Some(&network.user0));
        assert_eq!(
            read(&user, "/app/log/private?id=1&scope=rsa").await,
            "by rsa jwt"
        );

        // Refused: no credentials at all, an unregistered key id, an expired token.
        let none = get(&anonymous_tls, "/app/log/private?id=1&scope=rsa").await;
        assert_eq!(
            json_of(&none, 401)["error"]["code"],
            "InvalidAuthenticationInfo"
        );
        let unknown = format!("Bearer {}", signed_token("ec", "nope", &claims, &rsa, &ec));
        let refused = call(
            &anonymous_tls,
            Method::GET,
            "/app/log/private?id=1&scope=rsa",
            &[("authorization", unknown.as_str())],
            None,
        )
        .await;
        assert_eq!(refused.status, 401, "{}", body_text(&refused));
        let expired =
            json!({ "iss": ISSUER, "sub": "alice", "nbf": now - 7200, "exp": now - 3600 });
        let expired = format!("Bearer {}", token("rsa", &expired, &rsa, &ec));
        let refused = call(
            &anonymous_tls,
            Method::GET,
            "/app/log/private?id=1&scope=rsa",
            &[("authorization", expired.as_str())],
            None,
        )
        .await;
        assert_eq!(refused.status, 401, "{}", body_text(&refused));

        // admin_only lists user_cert alone: a valid JWT is not enough.
        let bearer = format!("Bearer {}", token("rsa", &claims, &rsa, &ec));
        let refused = call(
            &anonymous_tls,
            Method::POST,
            "/app/log/private/admin_only",
            &[("authorization", bearer.as_str())],
            Some(json!({"id": 2, "msg": "x"})),
        )
        .await;
        assert_eq!(refused.status, 401, "{}", body_text(&refused));
    });
}

/// Verifies a receipt in CCF's JavaScript shape with Cloister's receipt verifier.
fn verify_receipt(network: &TestNetwork, receipt: &Value) {
    let parsed = Receipt::from_json(&receipt.to_string()).unwrap();
    let service = Certificate::from_pem(&network.service_cert_pem).unwrap();
    parsed.verify(&service).unwrap();
}

#[test]
fn historical_endpoints_read_old_values_with_verifiable_receipts_and_ranges() {
    run(async {
        let (network, _gov) = deployed().await;
        let user = network.client(Some(&network.user0));
        let mut written = Vec::new();
        for (scope, msg) in [("private", "one"), ("private", "two"), ("public", "pub")] {
            let path = format!("/app/log/{scope}");
            let response = post(&user, &path, json!({"id": 1, "msg": msg})).await;
            assert_eq!(response.status, 200, "{}", body_text(&response));
            written.push(response.tx_id().unwrap());
        }
        let (first, second, public) = (written[0], written[1], written[2]);
        network.wait_committed(&user, "/app", public).await;
        let at = async |path: &str, tx_id: &str| {
            call(
                &user,
                Method::GET,
                path,
                &[("x-ms-ccf-transaction-id", tx_id)],
                None,
            )
            .await
        };

        // mode "historical": the value at each transaction, though it was overwritten since.
        let path = "/app/log/private/historical?id=1";
        let old = json_of(&at(path, &first.to_string()).await, 200);
        assert_eq!(old, json!({"msg": "one"}));
        let newer = json_of(&at(path, &second.to_string()).await, 200);
        assert_eq!(newer, json!({"msg": "two"}));
        // Only what that transaction wrote: the public write has no private record.
        let other = json_of(&at(path, &public.to_string()).await, 200);
        assert_eq!(other, json!({"error": "No such key"}));

        // The receipt in CCF's JavaScript shape, verified offline.
        let path = "/app/log/private/historical_receipt?id=1";
        let body = json_of(&at(path, &first.to_string()).await, 200);
        assert_eq!(body["msg"], "one");
        let receipt = &body["receipt"];
        assert_eq!(receipt["is_signature_transaction"], false);
        assert!(
            receipt["leaf_components"]["commit_evidence"]
                .as_str()
                .unwrap()
                .starts_with(&format!("ce:{first}:"))
        );
        verify_receipt(&network, receipt);
        // The public variant deletes the claims digest for the caller to recompute: the digest
        // of no claims (zeros) put back, it verifies too.
        let path = "/app/log/public/historical_receipt?id=1";
        let mut body = json_of(&at(path, &public.to_string()).await, 200);
        assert_eq!(body["msg"], "pub");
        assert!(body["receipt"]["leaf_components"]["claims_digest"].is_null());
        body["receipt"]["leaf_components"]["claims_digest"] = json!("00".repeat(32));
        verify_receipt(&network, &body["receipt"]);

        // CCF's header errors.
        let missing = json_of(&get(&user, "/app/log/private/historical?id=1").await, 400);
        assert_eq!(missing["error"]["code"], "MissingRequiredHeader");
        let malformed = json_of(&at("/app/log/private/historical?id=1", "x").await, 400);
        assert_eq!(malformed["error"]["code"], "InvalidHeaderValue");
        let unknown = at("/app/log/private/historical?id=1", "2.1000000").await;
        assert_eq!(
            json_of(&unknown, 404)["error"]["code"],
            "TransactionPendingOrUnknown"
        );
        assert_eq!(unknown.header("cache-control"), Some("no-cache"));

        // historical/range (a readonly endpoint on ccf.historical.getStateRange): 202 while the
        // states are fetched, then every write of the id.
        for (scope, expected) in [
            (
                "private",
                json!([
                    {"seqno": first.seqno.0, "id": 1, "msg": "one"},
                    {"seqno": second.seqno.0, "id": 1, "msg": "two"},
                ]),
            ),
            (
                "public",
                json!([{"seqno": public.seqno.0, "id": 1, "msg": "pub"}]),
            ),
        ] {
            let path = format!("/app/log/{scope}/historical/range?id=1");
            let mut fetching = 0;
            let body = network
                .poll_until(&format!("{path} answers 200"), async || {
                    let response = get(&user, &path).await;
                    match response.status {
                        200 => Some(json_of(&response, 200)),
                        202 => {
                            fetching += 1;
                            None
                        }
                        status => panic!("{path}: {status} {}", body_text(&response)),
                    }
                })
                .await;
            assert_eq!(fetching, 1, "{path}: one 202 while fetching");
            assert_eq!(body, json!({"entries": expected}), "{path}");
        }
    });
}
