//! A TypeScript app written against `@microsoft/ccf-app` 6.0.1 from npm (apps/ts-sample: secret
//! notes), bundled by rollup and ccf-app's own `ccf-build-bundle` (scripts/build-ts-app.sh), and
//! deployed by a `set_js_app` proposal on a real `cloister` node. Every endpoint is called over
//! HTTPS, error paths included: typed maps and converters (string, json, uint32, int64,
//! arrayBuffer, typedKvSet), the caller's certificate identity, `setApplyWrites` both ways,
//! `setClaimsDigest`, `getLastCommittedTxId`, and ccf-app's crypto: SHA-256 digests, AES-KWP
//! wrapping under `generateAesKey` keys, ECDSA P-256 keys made by `generateEcdsaKeyPair`, kept
//! as a JWK (`pemToJwk` / `jwkToPem`), `sign` and `verifySignature`, `pubPemToJwk`; the test
//! checks the statements' signatures itself from the published JWK.
//!
//! The bundle is a build product (dist/ is not committed): the test fails, naming the script,
//! when it is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod live_node;

use std::path::PathBuf;

use cloister_client::{Client, GovClient, Method, ProposalState, Response};
use cloister_crypto::jwk::{b64url_decode, ec_jwk_spki};
use cloister_crypto::{EcPublicKey, sha256};
use live_node::{DEADLINE, Identity, TestNetwork, body_text, run};
use serde_json::{Value, json};

/// Where scripts/build-ts-app.sh writes the bundle.
fn bundle_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../apps/ts-sample/dist/bundle.json")
}

/// The built bundle, `{metadata, modules}`.
fn bundle() -> Value {
    let path = bundle_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The TypeScript sample is built by npm: run scripts/build-ts-app.sh \
             (scripts/test.sh does) before this test.",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
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

/// An open one-node service with the app deployed, user0 and a second user, user1.
async fn deployed() -> (TestNetwork, Identity) {
    let network = TestNetwork::start_open("1MB").await;
    let user1 = Identity::generate(&network.common, "user1", false);
    let gov = network.member0_gov();
    pass(
        &gov,
        json!([
            { "name": "set_js_app", "args": { "bundle": bundle() } },
            { "name": "set_user", "args": { "cert": user1.cert_pem } },
            // A failing test then shows the JS exception, not only "Exception thrown".
            { "name": "set_js_runtime_options", "args": {
                "max_heap_bytes": 104_857_600, "max_stack_bytes": 1_048_576,
                "max_execution_time_ms": 1000, "return_exception_details": true } },
        ]),
    )
    .await;
    (network, user1)
}

async fn call(client: &Client, method: Method, path: &str, body: Option<&str>) -> Response {
    let headers = [("content-type", "application/json")];
    let body = body.map(|b| b.as_bytes().to_vec()).unwrap_or_default();
    client.request(method, path, &headers, body).await.unwrap()
}

async fn get(client: &Client, path: &str) -> Response {
    call(client, Method::GET, path, None).await
}

async fn put(client: &Client, path: &str, body: Value) -> Response {
    call(client, Method::PUT, path, Some(&body.to_string())).await
}

async fn post(client: &Client, path: &str, body: Value) -> Response {
    call(client, Method::POST, path, Some(&body.to_string())).await
}

async fn delete(client: &Client, path: &str) -> Response {
    call(client, Method::DELETE, path, None).await
}

/// The JSON body of a response that must have status `status`.
fn json_of(response: &Response, status: u16) -> Value {
    assert_eq!(response.status, status, "{}", body_text(response));
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| panic!("not JSON: {}", body_text(response)))
}

/// The app's error `code` of a response that must have status `status`, with its message.
fn app_error(response: &Response, status: u16) -> (String, String) {
    let body = json_of(response, status);
    let error = &body["error"];
    (
        error["code"].as_str().unwrap().to_owned(),
        error["message"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn the_rollup_bundle_of_ccf_app_modules_is_deployed_with_every_endpoint() {
    let bundle = bundle();
    let names: Vec<&str> = bundle["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    // ccf-build-bundle names modules relative to dist/src; ccf-app is bundled, not resolved.
    for expected in [
        "endpoints/notes.js",
        "endpoints/attestation.js",
        "endpoints/service.js",
        "lib/store.js",
        "node_modules/@microsoft/ccf-app/kv.js",
        "node_modules/@microsoft/ccf-app/converters.js",
        "node_modules/@microsoft/ccf-app/crypto.js",
        "node_modules/@microsoft/ccf-app/global.js",
    ] {
        assert!(names.contains(&expected), "{expected} not in {names:?}");
    }
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../apps/ts-sample/package-lock.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        lock["packages"]["node_modules/@microsoft/ccf-app"]["version"],
        "6.0.1"
    );

    run(async {
        let (network, _user1) = deployed().await;
        let anyone = network.client(None);
        let app = json_of(
            &get(
                &anyone,
                "/gov/service/javascript-app?api-version=2024-07-01",
            )
            .await,
            200,
        );
        let mut pairs = 0;
        for (path, methods) in bundle["metadata"]["endpoints"].as_object().unwrap() {
            for (method, props) in methods.as_object().unwrap() {
                let served = &app["endpoints"][path][method.to_uppercase()];
                let module = format!("/{}", props["js_module"].as_str().unwrap());
                assert_eq!(served["jsModule"], module.as_str(), "{method} {path}");
                assert_eq!(
                    served["jsFunction"], props["js_function"],
                    "{method} {path}"
                );
                pairs += 1;
            }
        }
        assert_eq!(pairs, 11);
        let module = get(
            &anyone,
            "/gov/service/javascript-modules/%2Fnode_modules%2F%40microsoft%2Fccf-app%2Fkv.js?api-version=2024-07-01",
        )
        .await;
        assert_eq!(module.status, 200, "{}", body_text(&module));
        let bundled = bundle["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "node_modules/@microsoft/ccf-app/kv.js")
            .unwrap();
        assert_eq!(body_text(&module), bundled["module"].as_str().unwrap());
        assert!(body_text(&module).contains("class TypedKvMap"));

        // The unauthenticated status endpoint runs (every ccf-app module evaluates).
        let status = json_of(&get(&anyone, "/app/status").await, 200);
        assert_eq!(status["notes"], 0);
        assert_eq!(status["tags"], 0);
    });
}

#[test]
fn notes_are_sealed_committed_read_listed_previewed_and_deleted_by_their_owner() {
    run(async {
        let (network, _user1) = deployed().await;
        let user = network.client(Some(&network.user0));

        // PUT creates (201, Location, claims digest = the secret's digest) and commits.
        let secret = "the combination is 12-34-56 ✓";
        let created = put(
            &user,
            "/app/notes/safe",
            json!({"title": "Safe", "secret": secret, "tags": ["home", "money", "home"]}),
        )
        .await;
        let body = json_of(&created, 201);
        let digest = sha256(secret.as_bytes()).to_hex();
        assert_eq!(body, json!({"id": "safe", "revision": 1, "digest": digest}));
        assert_eq!(created.header("location"), Some("/app/notes/safe"));
        let tx_id = created
            .tx_id()
            .expect("a committed write has a transaction id");
        network.wait_committed(&user, "/app", tx_id).await;

        // GET unseals the secret (AES-KWP under the owner's key) and checks its digest.
        let note = json_of(&get(&user, "/app/notes/safe").await, 200);
        assert_eq!(note["secret"], secret);
        assert_eq!(note["title"], "Safe");
        assert_eq!(note["tags"], json!(["home", "money"]));
        assert_eq!(note["digest"], digest);
        assert_eq!(note["revision"], 1);
        assert_eq!(note["lastWrittenAt"], tx_id.seqno.0);

        // PUT again updates: 200 and revision 2 (an int64 in the store).
        let updated = put(
            &user,
            "/app/notes/safe",
            json!({"title": "Safe (new)", "secret": "99-99-99"}),
        )
        .await;
        assert_eq!(json_of(&updated, 200)["revision"], 2);
        let note = json_of(&get(&user, "/app/notes/safe").await, 200);
        assert_eq!(note["secret"], "99-99-99");
        assert_eq!(note["tags"], json!([]));
        assert_eq!(note["revision"], 2);
        assert_eq!(
            note["lastWrittenAt"],
            updated.tx_id().unwrap().seqno.0,
            "getVersionOfPreviousWrite follows the update"
        );

        put(
            &user,
            "/app/notes/list",
            json!({"title": "Groceries", "secret": "milk", "tags": ["home"]}),
        )
        .await;
        let listed = json_of(&get(&user, "/app/notes").await, 200);
        assert_eq!(
            listed,
            json!({"notes": [
                {"id": "list", "title": "Groceries", "tags": ["home"]},
                {"id": "safe", "title": "Safe (new)", "tags": []},
            ]})
        );
        let home = json_of(&get(&user, "/app/notes?tag=home").await, 200);
        assert_eq!(home["notes"].as_array().unwrap().len(), 1);
        // The tag set (typedKvSet) keeps every tag ever used.
        assert_eq!(
            json_of(&get(&user, "/app/tags").await, 200),
            json!(["home", "money"])
        );
        let me = json_of(&get(&user, "/app/me").await, 200);
        assert_eq!(me["notes"], 2);

        // A preview runs the whole write and answers 200, but setApplyWrites(false) drops it.
        let preview = post(
            &user,
            "/app/notes/draft/preview",
            json!({"title": "Draft", "secret": "s", "tags": ["new-tag"]}),
        )
        .await;
        let preview = json_of(&preview, 200);
        assert_eq!(preview["created"], true);
        assert_eq!(preview["revision"], 1);
        assert_eq!(preview["record"]["owner"], network.user0.id());
        assert_eq!(
            app_error(&get(&user, "/app/notes/draft").await, 404).0,
            "ResourceNotFound"
        );
        assert_eq!(
            json_of(&get(&user, "/app/tags").await, 200),
            json!(["home", "money"])
        );

        // Bad requests: 400 with the app's own messages, nothing written.
        for (path, body) in [
            ("/app/notes/bad%20id", json!({"title": "t", "secret": "s"})),
            ("/app/notes/x", json!({"title": "t"})),
            ("/app/notes/x", json!({"title": "", "secret": "s"})),
            ("/app/notes/x", json!({"title": "t", "secret": 5})),
            (
                "/app/notes/x",
                json!({"title": "t", "secret": "s", "tags": ["UPPER"]}),
            ),
            ("/app/notes/x", json!(["not", "an", "object"])),
        ] {
            let refused = put(&user, path, body.clone()).await;
            assert_eq!(app_error(&refused, 400).0, "InvalidInput", "{path} {body}");
        }
        let not_json = call(&user, Method::PUT, "/app/notes/x", Some("{nope")).await;
        assert_eq!(
            app_error(&not_json, 400),
            (
                "InvalidInput".to_owned(),
                "the body must be JSON".to_owned()
            )
        );
        assert_eq!(
            app_error(&get(&user, "/app/notes/x").await, 404).0,
            "ResourceNotFound"
        );

        // DELETE: 204, then 404; the count follows.
        let deleted = delete(&user, "/app/notes/list").await;
        assert_eq!(deleted.status, 204, "{}", body_text(&deleted));
        network
            .wait_committed(&user, "/app", deleted.tx_id().unwrap())
            .await;
        assert_eq!(
            app_error(&get(&user, "/app/notes/list").await, 404).0,
            "ResourceNotFound"
        );
        assert_eq!(
            app_error(&delete(&user, "/app/notes/list").await, 404).0,
            "ResourceNotFound"
        );
        assert_eq!(json_of(&get(&user, "/app/me").await, 200)["notes"], 1);

        // getLastCommittedTxId: the status endpoint sees at least the delete committed.
        let status = json_of(&get(&network.client(None), "/app/status").await, 200);
        let last: Vec<u64> = status["lastCommitted"]
            .as_str()
            .unwrap()
            .split('.')
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(last[1] >= deleted.tx_id().unwrap().seqno.0, "{status}");
        assert_eq!(status["notes"], 1);
    });
}

#[test]
fn only_the_owner_may_use_a_note_and_refusals_are_committed_with_the_403() {
    run(async {
        let (network, user1) = deployed().await;
        let owner = network.client(Some(&network.user0));
        let other = network.client(Some(&user1));

        // Each user's id as CCF gives it equals the app's SHA-256 of the caller's certificate.
        for (client, identity) in [(&owner, &network.user0), (&other, &user1)] {
            let me = json_of(&get(client, "/app/me").await, 200);
            assert_eq!(me["id"], identity.id());
            assert_eq!(me["idFromCert"], identity.id());
            assert_eq!(me["data"], Value::Null);
            assert_eq!(me["refusals"], 0);
        }

        put(
            &owner,
            "/app/notes/mine",
            json!({"title": "t", "secret": "s"}),
        )
        .await;
        let read = get(&other, "/app/notes/mine").await;
        assert_eq!(app_error(&read, 403).0, "Forbidden");
        let attest = post(&other, "/app/notes/mine/attestation", json!({})).await;
        assert_eq!(app_error(&attest, 403).0, "Forbidden");

        // A refused overwrite: 403, yet setApplyWrites(true) commits the refusal count.
        let refused = put(
            &other,
            "/app/notes/mine",
            json!({"title": "x", "secret": "y"}),
        )
        .await;
        assert_eq!(
            app_error(&refused, 403),
            (
                "Forbidden".to_owned(),
                "note mine belongs to another user".to_owned()
            )
        );
        let tx_id = refused
            .tx_id()
            .expect("a 403 whose writes are applied is committed");
        network.wait_committed(&other, "/app", tx_id).await;
        let refused = delete(&other, "/app/notes/mine").await;
        assert_eq!(app_error(&refused, 403).0, "Forbidden");
        assert_eq!(json_of(&get(&other, "/app/me").await, 200)["refusals"], 2);
        assert_eq!(json_of(&get(&owner, "/app/me").await, 200)["refusals"], 0);

        // The note is untouched, and the other user lists none.
        let note = json_of(&get(&owner, "/app/notes/mine").await, 200);
        assert_eq!(
            (note["secret"].clone(), note["revision"].clone()),
            (json!("s"), json!(1))
        );
        assert_eq!(
            json_of(&get(&other, "/app/notes").await, 200),
            json!({"notes": []})
        );

        // No certificate, or one of no user: CCF's authentication refuses before the app runs.
        let anonymous = get(&network.client(None), "/app/notes").await;
        assert_eq!(anonymous.status, 401, "{}", body_text(&anonymous));
        let stranger = Identity::generate(&network.common, "stranger", false);
        let stranger = get(&network.client(Some(&stranger)), "/app/me").await;
        assert_eq!(stranger.status, 401, "{}", body_text(&stranger));
    });
}

#[test]
fn statements_are_signed_with_the_service_jwk_and_verify_inside_and_outside_the_app() {
    run(async {
        let (network, _user1) = deployed().await;
        let user = network.client(Some(&network.user0));
        let anyone = network.client(None);

        // No key before the first statement.
        assert_eq!(
            app_error(&get(&anyone, "/app/signing-key").await, 404).0,
            "ResourceNotFound"
        );
        let early = post(
            &anyone,
            "/app/verify",
            json!({"statement": "s", "signature": "AAAA"}),
        )
        .await;
        assert_eq!(app_error(&early, 404).0, "ResourceNotFound");
        let missing = post(&user, "/app/notes/none/attestation", json!({})).await;
        assert_eq!(app_error(&missing, 404).0, "ResourceNotFound");

        let secret = "launch code";
        let created = put(
            &user,
            "/app/notes/code",
            json!({"title": "t", "secret": secret}),
        )
        .await;
        network
            .wait_committed(&user, "/app", created.tx_id().unwrap())
            .await;
        let signed = json_of(
            &post(&user, "/app/notes/code/attestation", json!({})).await,
            200,
        );
        let statement_text = signed["statement"].as_str().unwrap();
        let statement: Value = serde_json::from_str(statement_text).unwrap();
        assert_eq!(statement["note"], "code");
        assert_eq!(statement["owner"], network.user0.id());
        assert_eq!(statement["digest"], sha256(secret.as_bytes()).to_hex());
        assert_eq!(statement["revision"], 1);
        let committed: Vec<u64> = statement["committedAtLeast"]
            .as_str()
            .unwrap()
            .split('.')
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(
            committed[1] >= created.tx_id().unwrap().seqno.0,
            "{statement}"
        );

        // The published key is a P-256 public JWK (no private part); the signature is
        // IEEE P1363 r‖s, and it verifies here, outside the app.
        let jwk = &signed["publicKey"];
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["kid"], "notes-statements");
        assert!(jwk.get("d").is_none(), "{jwk}");
        let spki = ec_jwk_spki(
            jwk["crv"].as_str().unwrap(),
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap(),
        )
        .unwrap();
        let public = EcPublicKey::from_spki_der(&spki).unwrap();
        let signature = b64url_decode(signed["signature"].as_str().unwrap()).unwrap();
        assert_eq!(signature.len(), 64);
        public
            .verify_cose(statement_text.as_bytes(), &signature)
            .expect("the statement's signature verifies with the published JWK");
        let mut forged = statement_text.as_bytes().to_vec();
        forged[2] ^= 1;
        assert!(public.verify_cose(&forged, &signature).is_err());

        // The key stays the same across statements, and is served on its own.
        assert_eq!(json_of(&get(&anyone, "/app/signing-key").await, 200), *jwk);
        let again = json_of(
            &post(&user, "/app/notes/code/attestation", json!({})).await,
            200,
        );
        assert_eq!(again["publicKey"], *jwk);

        // The app's verifySignature agrees: valid, then a tampered statement is not.
        let verify = |statement: &str, signature: &str| json!({"statement": statement, "signature": signature});
        let valid = post(
            &anyone,
            "/app/verify",
            verify(statement_text, signed["signature"].as_str().unwrap()),
        )
        .await;
        assert_eq!(json_of(&valid, 200), json!({"valid": true}));
        let tampered = statement_text.replace("\"revision\":1", "\"revision\":2");
        assert_ne!(tampered, statement_text);
        let invalid = post(
            &anyone,
            "/app/verify",
            verify(&tampered, signed["signature"].as_str().unwrap()),
        )
        .await;
        assert_eq!(json_of(&invalid, 200), json!({"valid": false}));
        let other_signature = again["signature"].as_str().unwrap();
        let swapped = post(
            &anyone,
            "/app/verify",
            verify(statement_text, other_signature),
        )
        .await;
        assert_eq!(
            json_of(&swapped, 200)["valid"],
            json!(again["statement"] == signed["statement"]),
            "another statement's signature verifies only if the statements are equal"
        );
        let not_base64 = post(&anyone, "/app/verify", verify(statement_text, "***")).await;
        assert_eq!(app_error(&not_base64, 400).0, "InvalidInput");
        let no_statement = post(&anyone, "/app/verify", json!({"signature": "AAAA"})).await;
        assert_eq!(app_error(&no_statement, 400).0, "InvalidInput");
    });
}
