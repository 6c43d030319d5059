//! JWT and user COSE_Sign1 authentication of JavaScript endpoints (spec/ccf-api.md §3 policies
//! table, spec/ccf-js.md §2.3): a member registers a JWT issuer with RS256 and ES256 keys under
//! the real QuickJS constitution; tokens are accepted with CCF's caller object or refused with
//! CCF's 401 reason and `www-authenticate`; removing the issuer removes its keys; a COSE body
//! signed by a registered user is accepted, by anyone else or altered refused; a governance-style
//! COSE body signed by a member (Active or Accepted) passes `member_cose_sign1`, a user's,
//! a forged or an altered one is refused, and one without `created_at` is CCF's 500.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use cloister_crypto::cose::{HEADER_KID, Label, Value as Cbor, sign1};
use cloister_crypto::jwk::{b64url_encode, jwk_members};
use cloister_crypto::{Certificate, Curve, EcKeyPair, RsaKeyPair, SeededEntropy, sha256};
use cloister_node::core::Frontends;
use cloister_node::rpc::{Request, Response};
use serde_json::{Value, json};
use support::{Harness, Identities, NOW, gov_request, identity, json_body, random_ledger_secret};

const ISSUER: &str = "https://issuer.example";
const APP_JS: &str = r#"
export function who(request) {
  const caller = request.caller;
  const body = { caller };
  if (caller.policy === "user_cose_sign1" || caller.policy === "member_cose_sign1") {
    body.content = ccf.bufToStr(caller.cose.content);
  }
  return { body };
}
"#;

fn endpoint(policy: &str) -> Value {
    json!({ "post": { "js_module": "app.js", "js_function": "who", "mode": "readonly",
        "forwarding_required": "sometimes", "authn_policies": [policy], "openapi": {} } })
}

fn jwk(kid: &str, spki: &[u8], constraint: Option<&str>) -> Value {
    let mut jwk = json!({ "kid": kid });
    for (name, value) in jwk_members(spki).unwrap() {
        jwk[name] = json!(value);
    }
    if let Some(c) = constraint {
        jwk["issuer"] = json!(c);
    }
    jwk
}

struct Service {
    h: Harness,
    member: (EcKeyPair, Certificate),
    user: (EcKeyPair, Certificate),
    /// A member registered by `set_member` (with `member_data`) and never activated.
    accepted: (EcKeyPair, Certificate),
    stranger: (EcKeyPair, Certificate),
    rsa: RsaKeyPair,
    ec: EcKeyPair,
}

/// An open service with the app, user0, and the issuer with keys "rsa", "ec" and "strict"
/// (RSA key, constrained to another issuer).
fn service() -> Service {
    let mut entropy = SeededEntropy::from_seed(55);
    let identities = Identities::generate(&mut entropy, vec![]);
    let member = identity(&mut entropy, "member0");
    let user = identity(&mut entropy, "user0");
    let stranger = identity(&mut entropy, "stranger");
    let accepted = identity(&mut entropy, "member1");
    let service_pem = identities.service.cert_pem();
    let mut h = Harness::start_genesis(
        identities,
        &member.1,
        cloister_js::DEFAULT_CONSTITUTION.into(),
        random_ledger_secret(&mut entropy),
        Box::new(cloister_js::QuickJsConstitution::new()),
        Frontends::with_builtins(&[]),
    );
    h.activate_member(&member);
    let rsa = RsaKeyPair::generate_2048().unwrap();
    let ec = EcKeyPair::generate(Curve::P256, &mut entropy).unwrap();
    let rsa_spki = rsa.public_key().spki_der().to_vec();
    let jwks = json!({ "keys": [
        jwk("rsa", &rsa_spki, None),
        jwk("ec", ec.public_key().spki_der(), None),
        jwk("strict", &rsa_spki, Some("https://issuer.example/tenant")),
    ]});
    h.pass(
        &member,
        &json!({ "actions": [
            { "name": "set_js_app", "args": { "bundle": {
                "metadata": { "endpoints": {
                    "/jwt": endpoint("jwt"), "/cose": endpoint("user_cose_sign1"),
                    "/member": endpoint("member_cose_sign1") } },
                "modules": [{ "name": "app.js", "module": APP_JS }] } } },
            { "name": "set_user", "args": { "cert": user.1.to_pem(), "user_data": { "r": 1 } } },
            { "name": "set_member",
              "args": { "cert": accepted.1.to_pem(), "member_data": { "m": 2 } } },
            { "name": "set_jwt_issuer", "args": { "issuer": ISSUER, "auto_refresh": false } },
            { "name": "set_jwt_public_signing_keys", "args": { "issuer": ISSUER, "jwks": jwks } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": service_pem } },
        ]}),
    );
    Service {
        h,
        member,
        user,
        accepted,
        stranger,
        rsa,
        ec,
    }
}

/// A compact JWS over `payload` with `kid`, signed RS256 by `rsa` or ES256 by `ec`.
fn token(alg: &str, kid: &str, payload: &Value, rsa: &RsaKeyPair, ec: &EcKeyPair) -> String {
    let header = json!({ "alg": alg, "kid": kid, "typ": "JWT" });
    let signed = format!(
        "{}.{}",
        b64url_encode(header.to_string().as_bytes()),
        b64url_encode(payload.to_string().as_bytes())
    );
    let signature = if alg == "RS256" {
        rsa.sign_pkcs1_sha256(signed.as_bytes()).unwrap()
    } else {
        ec.sign_cose(signed.as_bytes()).unwrap()
    };
    format!("{signed}.{}", b64url_encode(&signature))
}

fn claims() -> Value {
    json!({ "iss": ISSUER, "sub": "alice", "nbf": NOW - 10, "exp": NOW + 100 })
}

fn bearer(token: &str) -> Request {
    Request {
        method: "POST".into(),
        path: "/app/jwt".into(),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        ..Request::default()
    }
}

fn refused(response: &Response) -> String {
    assert_eq!(
        response.status,
        401,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let body = json_body(response);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationInfo");
    body["error"]["details"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn jwt_tokens_signed_by_registered_keys_are_accepted_and_others_refused_with_ccf_reasons() {
    let Service { mut h, rsa, ec, .. } = service();
    for (alg, kid) in [("RS256", "rsa"), ("ES256", "ec")] {
        let ok = h.call(bearer(&token(alg, kid, &claims(), &rsa, &ec)));
        assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
        let caller = &json_body(&ok)["caller"];
        assert_eq!(caller["policy"], "jwt");
        assert_eq!(caller["jwt"]["keyIssuer"], ISSUER);
        assert_eq!(caller["jwt"]["header"]["kid"], kid);
        assert_eq!(caller["jwt"]["payload"]["sub"], "alice");
    }

    let other_rsa = RsaKeyPair::generate_2048().unwrap();
    let wrong_key = token("RS256", "rsa", &claims(), &other_rsa, &ec);
    let mut expired = claims();
    expired["exp"] = json!(NOW - 1);
    let mut early = claims();
    early["nbf"] = json!(NOW + 50);
    let good = token("ES256", "ec", &claims(), &rsa, &ec);
    let parts: Vec<&str> = good.split('.').collect();
    let mut evil = claims();
    evil["sub"] = json!("mallory");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64url_encode(evil.to_string().as_bytes()),
        parts[2]
    );
    let cases = [
        (wrong_key, "Signature verification failed".to_owned()),
        (
            token("RS256", "rsa", &expired, &rsa, &ec),
            format!(
                "Current time {NOW} is after token's Expiration Time (exp) claim {}",
                NOW - 1
            ),
        ),
        (
            token("RS256", "rsa", &early, &rsa, &ec),
            format!(
                "Current time {NOW} is before token's Not Before (nbf) claim {}",
                NOW + 50
            ),
        ),
        (
            token("RS256", "nope", &claims(), &rsa, &ec),
            "JWT signing key not found for kid nope".to_owned(),
        ),
        (tampered, "Signature verification failed".to_owned()),
        (
            token("RS256", "strict", &claims(), &rsa, &ec),
            "Kid strict failed issuer constraint validation https://issuer.example/tenant"
                .to_owned(),
        ),
    ];
    for (token, reason) in cases {
        let response = h.call(bearer(&token));
        assert_eq!(refused(&response), reason);
        assert_eq!(
            response.header("www-authenticate"),
            Some(r#"Bearer realm="JWT bearer token access", error="invalid_token""#)
        );
    }
    let mut missing = bearer("x");
    missing.headers.clear();
    assert_eq!(refused(&h.call(missing)), "Missing authorization header");

    // The constrained key is accepted for a token from its constraint's issuer.
    let mut sub = claims();
    sub["iss"] = json!("https://issuer.example/tenant");
    assert_eq!(
        h.call(bearer(&token("RS256", "strict", &sub, &rsa, &ec)))
            .status,
        200
    );
}

#[test]
fn governance_writes_ccf_tables_refuses_auto_refresh_and_removal_revokes_keys() {
    let Service {
        mut h,
        member,
        rsa,
        ec,
        ..
    } = service();
    // /gov/service/jwk reads what set_jwt_public_signing_keys wrote.
    let jwk = json_body(&h.get("/gov/service/jwk?api-version=2024-07-01"));
    assert_eq!(jwk["issuers"][ISSUER]["autoRefresh"], false);
    assert_eq!(jwk["keys"]["rsa"][0]["issuer"], ISSUER);
    assert_eq!(jwk["keys"]["rsa"][0]["constraint"], Value::Null);
    assert_eq!(
        jwk["keys"]["ec"][0]["publicKey"],
        ec.public_key().to_pem().as_str()
    );
    assert_eq!(
        jwk["keys"]["strict"][0]["constraint"],
        "https://issuer.example/tenant"
    );
    assert_eq!(
        jwk["keys"]["rsa"][0]["publicKey"],
        cloister_crypto::encode_pem("PUBLIC KEY", rsa.public_key().spki_der()).as_str()
    );

    // auto_refresh needs outbound HTTP: refused at validation.
    let created = h.call(gov_request(
        &member.0,
        &member.1,
        "/gov/members/proposals:create",
        "proposal",
        None,
        json!({ "actions": [{ "name": "set_jwt_issuer",
            "args": { "issuer": "https://auto.example", "auto_refresh": true,
                      "ca_cert_bundle_name": "b" } }] })
        .to_string()
        .as_bytes(),
        NOW,
    ));
    assert_eq!(created.status, 400);
    assert!(
        String::from_utf8_lossy(&created.body).contains("auto_refresh is not supported"),
        "{}",
        String::from_utf8_lossy(&created.body)
    );

    h.pass(
        &member,
        &json!({ "actions": [{ "name": "remove_jwt_issuer", "args": { "issuer": ISSUER } }] }),
    );
    let response = h.call(bearer(&token("RS256", "rsa", &claims(), &rsa, &ec)));
    assert_eq!(refused(&response), "JWT signing key not found for kid rsa");
    let jwk = json_body(&h.get("/gov/service/jwk?api-version=2024-07-01"));
    assert_eq!(jwk["keys"], json!({}));
    assert_eq!(jwk["issuers"], json!({}));
}

fn cose_request(body: Vec<u8>) -> Request {
    Request {
        method: "POST".into(),
        path: "/app/cose".into(),
        headers: vec![("content-type".into(), "application/cose".into())],
        body,
        ..Request::default()
    }
}

fn signed_by(signer: &(EcKeyPair, Certificate), kid_of: &Certificate, content: &[u8]) -> Vec<u8> {
    let kid = hex::encode(sha256(kid_of.der()).0);
    sign1(
        &signer.0,
        &[
            (Label::Int(HEADER_KID), Cbor::Bytes(kid.into_bytes())),
            (
                Label::Text("ccf.msg.type".into()),
                Cbor::Text("greeting".into()),
            ),
            (
                Label::Text("ccf.msg.created_at".into()),
                Cbor::Integer(NOW.into()),
            ),
        ],
        content,
        false,
    )
    .unwrap()
}

#[test]
fn user_cose_sign1_accepts_registered_users_and_refuses_strangers_and_alterations() {
    let Service {
        mut h,
        user,
        stranger,
        ..
    } = service();
    let ok = h.call(cose_request(signed_by(&user, &user.1, b"hello")));
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let body = json_body(&ok);
    assert_eq!(body["content"], "hello");
    assert_eq!(body["caller"]["policy"], "user_cose_sign1");
    assert_eq!(
        body["caller"]["id"],
        hex::encode(sha256(user.1.der()).0).as_str()
    );
    assert_eq!(body["caller"]["data"], json!({ "r": 1 }));
    assert_eq!(body["caller"]["cert"], user.1.to_pem().as_str());

    let stranger_signed = h.call(cose_request(signed_by(&stranger, &stranger.1, b"hello")));
    assert_eq!(refused(&stranger_signed), "Signer is not a known user");
    assert_eq!(
        stranger_signed.header("www-authenticate"),
        Some(r#"COSE-SIGN1 realm="Signed request access""#)
    );
    // The stranger claims to be the user: the signature does not verify.
    let impostor = h.call(cose_request(signed_by(&stranger, &user.1, b"hello")));
    assert_eq!(refused(&impostor), "Failed to validate COSE Sign1");
    let mut altered = signed_by(&user, &user.1, b"hello");
    let at = altered.windows(5).position(|w| w == b"hello").unwrap();
    altered[at] = b'j';
    assert_eq!(
        refused(&h.call(cose_request(altered))),
        "Failed to validate COSE Sign1"
    );
    let mut json_typed = cose_request(signed_by(&user, &user.1, b"hello"));
    json_typed.headers = vec![("content-type".into(), "application/json".into())];
    assert_eq!(
        refused(&h.call(json_typed)),
        "Content type is not set to application/cose"
    );
}

/// A `/app/member` request whose body `signer` signed with `kid_of`'s member id as `kid` and the
/// protected `headers` after it.
fn member_request(
    signer: &(EcKeyPair, Certificate),
    kid_of: &Certificate,
    headers: &[(&str, Cbor)],
    content: &[u8],
) -> Request {
    let kid = hex::encode(sha256(kid_of.der()).0);
    let mut protected = vec![(Label::Int(HEADER_KID), Cbor::Bytes(kid.into_bytes()))];
    for (name, value) in headers {
        protected.push((Label::Text((*name).into()), value.clone()));
    }
    let mut request = cose_request(sign1(&signer.0, &protected, content, false).unwrap());
    request.path = "/app/member".into();
    request
}

/// The governance headers of a signed member request (any `ccf.gov.msg.type`).
fn gov_headers(msg_type: &str) -> Vec<(&'static str, Cbor)> {
    vec![
        ("ccf.gov.msg.type", Cbor::Text(msg_type.into())),
        ("ccf.gov.msg.created_at", Cbor::Integer(NOW.into())),
    ]
}

#[test]
fn member_cose_sign1_accepts_active_and_accepted_members_with_ccf_caller() {
    let Service {
        mut h,
        member,
        accepted,
        ..
    } = service();
    let ok = h.call(member_request(
        &member,
        &member.1,
        &gov_headers("anything"),
        b"hi",
    ));
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let body = json_body(&ok);
    assert_eq!(body["content"], "hi");
    assert_eq!(
        body["caller"],
        json!({ "policy": "member_cose_sign1",
                "id": hex::encode(sha256(member.1.der()).0),
                "data": null, "cert": member.1.to_pem(),
                // JSON.stringify of the ArrayBuffer; its bytes are `content` above.
                "cose": { "content": {} } })
    );

    // Accepted (not Active) members pass too, and no ccf.gov.msg.type is required.
    let created_at_only = [("ccf.gov.msg.created_at", Cbor::Integer(NOW.into()))];
    let ok = h.call(member_request(
        &accepted,
        &accepted.1,
        &created_at_only,
        b"yo",
    ));
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let body = json_body(&ok);
    assert_eq!(body["content"], "yo");
    assert_eq!(body["caller"]["policy"], "member_cose_sign1");
    assert_eq!(
        body["caller"]["id"],
        hex::encode(sha256(accepted.1.der()).0).as_str()
    );
    assert_eq!(body["caller"]["data"], json!({ "m": 2 }));
    assert_eq!(body["caller"]["cert"], accepted.1.to_pem().as_str());
}

#[test]
fn member_cose_sign1_refuses_users_forgeries_and_alterations_with_ccf_reasons() {
    let Service {
        mut h,
        member,
        user,
        stranger,
        ..
    } = service();
    let cose_header = Some(r#"COSE-SIGN1 realm="Signed request access""#);

    // A user's signature: the kid is not a member.
    let by_user = h.call(member_request(&user, &user.1, &gov_headers("x"), b"hi"));
    assert_eq!(refused(&by_user), "Signer is not a known member");
    let body = json_body(&by_user);
    assert_eq!(
        body["error"]["details"][0]["auth_policy"],
        "member_cose_sign1"
    );
    assert_eq!(by_user.header("www-authenticate"), cose_header);

    // The stranger claims to be the member: the signature does not verify.
    let forged = h.call(member_request(
        &stranger,
        &member.1,
        &gov_headers("x"),
        b"hi",
    ));
    assert_eq!(refused(&forged), "Failed to validate COSE Sign1");
    assert_eq!(forged.header("www-authenticate"), cose_header);
    let mut altered = member_request(&member, &member.1, &gov_headers("x"), b"hello");
    let at = altered.body.windows(5).position(|w| w == b"hello").unwrap();
    altered.body[at] = b'j';
    assert_eq!(refused(&h.call(altered)), "Failed to validate COSE Sign1");

    let mut json_typed = member_request(&member, &member.1, &gov_headers("x"), b"hi");
    json_typed.headers = vec![("content-type".into(), "application/json".into())];
    assert_eq!(
        refused(&h.call(json_typed)),
        "Content type is not set to application/cose"
    );
    let mut untyped = member_request(&member, &member.1, &gov_headers("x"), b"hi");
    untyped.headers.clear();
    assert_eq!(refused(&h.call(untyped)), "Missing content-type header");
}

#[test]
fn member_cose_sign1_envelopes_missing_governance_headers_are_ccf_internal_errors() {
    let Service { mut h, member, .. } = service();
    let internal = |response: &Response| -> String {
        assert_eq!(
            response.status,
            500,
            "{}",
            String::from_utf8_lossy(&response.body)
        );
        assert_eq!(response.header("www-authenticate"), None);
        let body = json_body(response);
        assert_eq!(body["error"]["code"], "InternalError");
        body["error"]["message"].as_str().unwrap().to_owned()
    };
    // A user_cose_sign1-style envelope (ccf.msg.*): no ccf.gov.msg.created_at.
    let user_style = [
        ("ccf.msg.type", Cbor::Text("greeting".into())),
        ("ccf.msg.created_at", Cbor::Integer(NOW.into())),
    ];
    let response = h.call(member_request(&member, &member.1, &user_style, b"hi"));
    assert_eq!(
        internal(&response),
        "Missing created_at in protected header"
    );
    let negative = [("ccf.gov.msg.created_at", Cbor::Integer((-1).into()))];
    let response = h.call(member_request(&member, &member.1, &negative, b"hi"));
    assert_eq!(
        internal(&response),
        "Header parameter created_at must be positive"
    );
    // No kid at all.
    let no_kid = sign1(
        &member.0,
        &[(
            Label::Text("ccf.gov.msg.created_at".into()),
            Cbor::Integer(NOW.into()),
        )],
        b"hi",
        false,
    )
    .unwrap();
    let mut request = cose_request(no_kid);
    request.path = "/app/member".into();
    assert_eq!(
        internal(&h.call(request)),
        "Missing kid in protected header"
    );
}
