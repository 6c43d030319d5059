//! `ccf.crypto` end to end (spec/ccf-js.md §3.4): real JavaScript run through `JsApp` (and the
//! constitution engine for governance contexts), with keys generated, used and cross-checked
//! against aws-lc directly. Randomness comes from the host's `entropy()`, never the OS.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::cell::Cell;
use std::rc::Rc;

use cloister_crypto::{
    CertificateSpec, Curve, EcKeyPair, EcPublicKey, OkpCurve, OkpPublicKey, SeededEntropy,
    issue_endorsed, issue_self_signed,
};
use cloister_gov::ConstitutionEngine;
use cloister_js::{AppHost, JsApp, JsCaller, JsRequest, js_endpoints};
use cloister_kv::Store;
use cloister_types::{SeqNo, TxId, TxStatus, View};
use common::*;
use serde_json::{Value, json};

/// One endpoint that runs the request body as a function of `ccf` and answers its result as JSON.
const APP_JS: &str = r#"
export function run(request) {
  const hex = (buf) => Array.from(new Uint8Array(buf))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const unhex = (text) => new Uint8Array(text.match(/../g).map((h) => parseInt(h, 16))).buffer;
  const code = new Function("ccf", "hex", "unhex", request.body.text());
  let result;
  try {
    result = { ok: code(ccf, hex, unhex) };
  } catch (e) {
    result = { error: `${e.constructor.name}: ${e.message}` };
  }
  return { body: result };
}
"#;

/// Fixed consensus answers; `entropy()` counts up from `base`, so each request differs.
struct TestHost {
    base: u8,
    requests: Cell<u8>,
}

impl AppHost for TestHost {
    fn last_committed_tx_id(&self) -> TxId {
        TxId::new(2, 1)
    }
    fn tx_status(&self, _: TxId) -> TxStatus {
        TxStatus::Unknown
    }
    fn view_for_seqno(&self, _: SeqNo) -> Option<View> {
        None
    }
    fn untrusted_time_ms(&self) -> u64 {
        1_500_000_000
    }
    fn random_seed(&self) -> u64 {
        1
    }
    fn entropy(&self) -> [u8; 32] {
        let n = self.requests.get();
        self.requests.set(n.wrapping_add(1));
        let mut out = [self.base; 32];
        out[0] = n;
        out
    }
}

fn deployed() -> Store {
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    let bundle = json!({
        "metadata": {"endpoints": {"/run": {"post": {
            "js_module": "app.js", "js_function": "run", "forwarding_required": "always",
            "authn_policies": [], "mode": "readwrite",
            "openapi": {"responses": {"200": {"description": "ok"}}},
        }}}},
        "modules": [{"name": "app.js", "module": APP_JS}],
    });
    let proposal = proposal("set_js_app", json!({ "bundle": bundle }));
    assert_valid(&mut tx, &proposal);
    apply(&mut tx, &proposal).unwrap();
    commit(&mut store, tx);
    store
}

struct Harness {
    store: Store,
    app: JsApp,
}

impl Harness {
    fn new(base: u8) -> Harness {
        let host = TestHost {
            base,
            requests: Cell::new(0),
        };
        Harness {
            store: deployed(),
            app: JsApp::new(Rc::new(host)),
        }
    }

    /// Runs `code` (a function body over `ccf`, `hex`, `unhex`) as one request.
    fn run(&mut self, code: &str) -> Result<Value, String> {
        let mut tx = self.store.begin();
        let endpoint = js_endpoints(&mut tx)
            .unwrap()
            .into_iter()
            .find(|e| e.path == "/run")
            .unwrap()
            .properties;
        let request = JsRequest {
            method: "POST".into(),
            path: "/app/run".into(),
            route: "/app/run".into(),
            body: code.as_bytes().to_vec(),
            ..JsRequest::default()
        };
        let response = self
            .app
            .handle(&mut tx, &endpoint, &request, &JsCaller::Unauthenticated)
            .unwrap();
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        match body.get("ok") {
            Some(value) => Ok(value.clone()),
            None => Err(body["error"].as_str().unwrap().to_owned()),
        }
    }

    fn ok(&mut self, code: &str) -> Value {
        self.run(code).unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    fn err(&mut self, code: &str) -> String {
        match self.run(code) {
            Ok(value) => panic!("{code} returned {value}"),
            Err(error) => error,
        }
    }
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn js_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

#[test]
fn generate_sign_verify_round_trips_for_every_algorithm() {
    let mut h = Harness::new(1);
    let out = h.ok(r#"
        const data = ccf.strToBuf("payload");
        const other = ccf.strToBuf("payloaD");
        const results = [];
        for (const curve of ["secp256r1", "secp384r1"]) {
          const k = ccf.crypto.generateEcdsaKeyPair(curve);
          for (const hash of ["SHA-256", "SHA-384", "SHA-512"]) {
            const sig = ccf.crypto.sign({ name: "ECDSA", hash }, k.privateKey, data);
            results.push(sig.byteLength);
          }
          const sig = ccf.crypto.sign({ name: "ECDSA", hash: "SHA-256" }, k.privateKey, data);
          results.push(ccf.crypto.verifySignature({ name: "ECDSA", hash: "SHA-256" }, k.publicKey, sig, data));
          results.push(ccf.crypto.verifySignature({ name: "ECDSA", hash: "SHA-256" }, k.publicKey, sig, other));
        }
        const ed = ccf.crypto.generateEddsaKeyPair("curve25519");
        const edSig = ccf.crypto.sign({ name: "EdDSA" }, ed.privateKey, data);
        results.push(edSig.byteLength,
          ccf.crypto.verifySignature({ name: "EdDSA" }, ed.publicKey, edSig, data),
          ccf.crypto.verifySignature({ name: "EdDSA" }, ed.publicKey, edSig, other));
        const rsa = ccf.crypto.generateRsaKeyPair(2048);
        const pss = { name: "RSA-PSS", hash: "SHA-256", saltLength: 32 };
        const rsaSig = ccf.crypto.sign(pss, rsa.privateKey, data);
        results.push(rsaSig.byteLength,
          ccf.crypto.verifySignature(pss, rsa.publicKey, rsaSig, data),
          ccf.crypto.verifySignature({ ...pss, saltLength: 20 }, rsa.publicKey, rsaSig, data));
        results.push(rsa.privateKey.split("\n")[0], rsa.publicKey.split("\n")[0],
          ed.privateKey.split("\n")[0], ccf.crypto.generateEcdsaKeyPair("secp256r1").privateKey.split("\n")[0]);
        return results;
    "#);
    assert_eq!(
        out,
        json!([
            64,
            64,
            64,
            true,
            false,
            96,
            96,
            96,
            true,
            false,
            64,
            true,
            false,
            256,
            true,
            false,
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----"
        ])
    );
}

#[test]
fn signatures_cross_check_with_aws_lc_both_ways() {
    let mut h = Harness::new(2);
    // JavaScript signs; aws-lc verifies (P-256 key, SHA-256, P1363 as COSE's ES256; Ed25519).
    let out = h.ok(r#"
        const data = ccf.strToBuf("cross");
        const k = ccf.crypto.generateEcdsaKeyPair("secp256r1");
        const ed = ccf.crypto.generateEddsaKeyPair("curve25519");
        return {
          ec: k.publicKey, ecSig: hex(ccf.crypto.sign({ name: "ECDSA", hash: "SHA-256" }, k.privateKey, data)),
          ed: ccf.crypto.pubEddsaPemToJwk(ed.publicKey).x,
          edSig: hex(ccf.crypto.sign({ name: "EdDSA" }, ed.privateKey, data)),
        };
    "#);
    let ec = EcPublicKey::from_pem(out["ec"].as_str().unwrap()).unwrap();
    let sig = unhex(out["ecSig"].as_str().unwrap());
    ec.verify_cose(b"cross", &sig).unwrap();
    assert!(ec.verify_cose(b"crosS", &sig).is_err());
    let ed = cloister_crypto::jwk::b64url_decode(out["ed"].as_str().unwrap()).unwrap();
    let ed = OkpPublicKey::from_raw(OkpCurve::Ed25519, &ed).unwrap();
    assert!(ed.verify(b"cross", &unhex(out["edSig"].as_str().unwrap())));

    // aws-lc signs (COSE-style r‖s over SHA-256 on P-256); JavaScript verifies, with the key
    // and with a certificate for it.
    let key = EcKeyPair::generate(Curve::P256, &mut SeededEntropy::from_seed(5)).unwrap();
    let sig: String = key
        .sign_cose(b"from rust")
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cert = issue_self_signed(&key, &spec("signer", false)).unwrap();
    let code = format!(
        r#"const alg = {{ name: "ECDSA", hash: "SHA-256" }};
           const sig = unhex("{sig}");
           return [ccf.crypto.verifySignature(alg, {pem}, sig, ccf.strToBuf("from rust")),
                   ccf.crypto.verifySignature(alg, {cert}, sig, ccf.strToBuf("from rust")),
                   ccf.crypto.verifySignature(alg, {pem}, sig, ccf.strToBuf("from rusT"))];"#,
        pem = js_string(&key.public_key().to_pem()),
        cert = js_string(&cert.to_pem()),
    );
    assert_eq!(h.ok(&code), json!([true, true, false]));
}

#[test]
fn hmac_matches_rfc4231_and_digest_stays_sha256_only() {
    let mut h = Harness::new(3);
    let out = h.ok(r#"
        return [hex(ccf.crypto.sign({ name: "HMAC", hash: "SHA-256" }, "Jefe",
                    ccf.strToBuf("what do ya want for nothing?"))),
                hex(ccf.crypto.digest("SHA-256", ccf.strToBuf("abc")))];
    "#);
    assert_eq!(
        out,
        json!([
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        ])
    );
    assert_eq!(
        h.err(r#"return ccf.crypto.digest("SHA-384", ccf.strToBuf("abc"));"#),
        "RangeError: unsupported digest algorithm, supported: SHA-256"
    );
}

#[test]
fn wrap_and_unwrap_round_trip_and_aes_kwp_matches_rfc5649() {
    let mut h = Harness::new(4);
    let out = h.ok(r#"
        const key = ccf.crypto.generateAesKey(256);
        const rsa = ccf.crypto.generateRsaKeyPair(2048);
        const pub = ccf.strToBuf(rsa.publicKey), priv = ccf.strToBuf(rsa.privateKey);
        const label = ccf.strToBuf("label");
        const out = [];
        for (const params of [{ name: "RSA-OAEP" }, { name: "RSA-OAEP", label },
                              { name: "RSA-OAEP-AES-KWP", aesKeySize: 192, label }]) {
          const wrapped = ccf.crypto.wrapKey(key, pub, params);
          out.push(wrapped.byteLength, hex(ccf.crypto.unwrapKey(wrapped, priv, params)) === hex(key));
        }
        const kek = ccf.crypto.generateAesKey(128);
        const wrapped = ccf.crypto.wrapKey(key, kek, { name: "AES-KWP" });
        out.push(wrapped.byteLength, hex(ccf.crypto.unwrapKey(wrapped, kek, { name: "AES-KWP" })) === hex(key));
        // RFC 5649 §6, 20-octet key under a 192-bit KEK.
        out.push(hex(ccf.crypto.wrapKey(unhex("c37b7e6492584340bed12207808941155068f738"),
          unhex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8"), { name: "AES-KWP" })));
        try {
          const w = ccf.crypto.wrapKey(key, pub, { name: "RSA-OAEP", label });
          ccf.crypto.unwrapKey(w, priv, { name: "RSA-OAEP", label: ccf.strToBuf("other") });
          out.push("unwrapped with the wrong label");
        } catch (e) {
          out.push(e.constructor.name, e.message.startsWith("Failed to unwrap key: "));
        }
        return out;
    "#);
    assert_eq!(
        out,
        json!([
            256,
            true,
            256,
            true,
            256 + 40,
            true,
            40,
            true,
            "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
            "InternalError",
            true
        ])
    );
}

#[test]
fn pem_to_jwk_to_pem_is_byte_identical_for_every_kind() {
    let mut h = Harness::new(5);
    let out = h.ok(r#"
        const ec = ccf.crypto.generateEcdsaKeyPair("secp384r1");
        const rsa = ccf.crypto.generateRsaKeyPair(2048, 3);
        const ed = ccf.crypto.generateEddsaKeyPair("curve25519");
        const x = ccf.crypto.generateEddsaKeyPair("x25519");
        const c = ccf.crypto;
        const same = [
          c.jwkToPem(c.pemToJwk(ec.privateKey)) === ec.privateKey,
          c.pubJwkToPem(c.pubPemToJwk(ec.publicKey)) === ec.publicKey,
          c.rsaJwkToPem(c.rsaPemToJwk(rsa.privateKey)) === rsa.privateKey,
          c.pubRsaJwkToPem(c.pubRsaPemToJwk(rsa.publicKey)) === rsa.publicKey,
          c.eddsaJwkToPem(c.eddsaPemToJwk(ed.privateKey)) === ed.privateKey,
          c.pubEddsaJwkToPem(c.pubEddsaPemToJwk(ed.publicKey)) === ed.publicKey,
          c.eddsaJwkToPem(c.eddsaPemToJwk(x.privateKey)) === x.privateKey,
        ];
        return { same,
          ecKeys: Object.keys(c.pemToJwk(ec.privateKey, "my-kid")),
          kid: c.pemToJwk(ec.privateKey, "my-kid").kid,
          noKid: "kid" in c.pubPemToJwk(ec.publicKey),
          rsa: [c.pubRsaPemToJwk(rsa.publicKey).kty, c.pubRsaPemToJwk(rsa.publicKey).e],
          okp: [c.eddsaPemToJwk(x.privateKey).kty, c.eddsaPemToJwk(x.privateKey).crv,
                c.pubEddsaPemToJwk(ed.publicKey).crv],
          crv: c.pubPemToJwk(ec.publicKey).crv };
    "#);
    assert_eq!(
        out["same"],
        json!([true, true, true, true, true, true, true])
    );
    assert_eq!(out["ecKeys"], json!(["crv", "d", "kid", "kty", "x", "y"]));
    assert_eq!(out["kid"], "my-kid");
    assert_eq!(out["noKid"], false);
    assert_eq!(out["rsa"], json!(["RSA", "Aw"]));
    assert_eq!(out["okp"], json!(["OKP", "X25519", "Ed25519"]));
    assert_eq!(out["crv"], "P-384");
}

#[test]
fn arguments_are_checked_with_ccf_error_classes() {
    let mut h = Harness::new(6);
    let cases = [
        (
            "ccf.crypto.generateAesKey()",
            "TypeError: Passed 0 arguments, but expected 1",
        ),
        (
            "ccf.crypto.generateAesKey(100)",
            "RangeError: invalid key size (not one of 128, 192, 256)",
        ),
        (
            "ccf.crypto.generateRsaKeyPair(2048, 3, 4)",
            "TypeError: Passed 3 arguments, but expected 1 or 2",
        ),
        (
            "ccf.crypto.generateEcdsaKeyPair('secp521r1')",
            "RangeError: Unsupported curve id, supported: secp256r1, secp384r1",
        ),
        (
            "ccf.crypto.generateEddsaKeyPair('ed448')",
            "RangeError: Unsupported curve id, supported: curve25519, x25519",
        ),
        (
            "ccf.crypto.sign({name: 'ECDSA', hash: 'SHA-1'}, 'k', new ArrayBuffer(1))",
            "RangeError: Unsupported hash algorithm, supported: SHA-256, SHA-384, SHA-512",
        ),
        (
            "ccf.crypto.sign({name: 'RSA', hash: 'SHA-256'}, 'k', new ArrayBuffer(1))",
            "RangeError: Unsupported signing algorithm, supported: RSA-PSS, ECDSA, EdDSA, HMAC",
        ),
        (
            "ccf.crypto.sign({name: 'ECDSA', hash: 'SHA-256'}, 'k', new Uint8Array(1))",
            "TypeError: data must be an ArrayBuffer",
        ),
        (
            "ccf.crypto.verifySignature({name: 'ECDSA', hash: 'SHA-384'}, 'k', new ArrayBuffer(1), new ArrayBuffer(1))",
            "RangeError: Unsupported hash algorithm, supported: SHA-256",
        ),
        (
            "ccf.crypto.wrapKey(new ArrayBuffer(16), new ArrayBuffer(16), {name: 'AES-GCM'})",
            "RangeError: unsupported key wrapping algorithm, supported: RSA-OAEP, AES-KWP, RSA-OAEP-AES-KWP",
        ),
        (
            "ccf.crypto.pubPemToJwk()",
            "TypeError: Passed 0 arguments, but expected 1 or 2",
        ),
    ];
    for (code, expected) in cases {
        assert_eq!(h.err(&format!("return {code};")), expected, "{code}");
    }
    let internal = [
        (
            "ccf.crypto.sign({name: 'ECDSA', hash: 'SHA-256'}, 'not a key', new ArrayBuffer(1))",
            "InternalError: Failed to sign: ",
        ),
        (
            "ccf.crypto.sign({name: 'EdDSA'}, 'not a key', new ArrayBuffer(1))",
            "InternalError: Failed to sign with EdDSA pair: ",
        ),
        (
            "ccf.crypto.verifySignature({name: 'ECDSA', hash: 'SHA-256'}, 'x', new ArrayBuffer(1), new ArrayBuffer(1))",
            "InternalError: Failed to verify signature: ",
        ),
        (
            "ccf.crypto.verifySignature({name: 'EdDSA'}, 'x', new ArrayBuffer(1), new ArrayBuffer(1))",
            "RangeError: Failed to verify EdDSA signature: ",
        ),
        (
            "ccf.crypto.generateRsaKeyPair(2048, 4)",
            "InternalError: Failed to generate RSA key pair: ",
        ),
        (
            "ccf.crypto.wrapKey(new ArrayBuffer(16), new ArrayBuffer(20), {name: 'AES-KWP'})",
            "InternalError: Failed to wrap key: ",
        ),
        (
            "ccf.crypto.pemToJwk('nope')",
            "InternalError: Failed to convert pem to jwk: ",
        ),
        (
            "ccf.crypto.jwkToPem({kty: 'EC'})",
            "InternalError: Failed to convert jwk to pem ",
        ),
    ];
    for (code, prefix) in internal {
        let error = h.err(&format!("return {code};"));
        assert!(error.starts_with(prefix), "{code}: {error}");
    }
    // Detached references work, as the ccf-app re-exports them.
    assert_eq!(
        h.ok("const g = ccf.crypto.generateAesKey; return g(192).byteLength;"),
        json!(24)
    );
}

#[test]
fn requests_get_fresh_keys_and_the_same_entropy_replays() {
    let code = r#"return [ccf.crypto.generateEcdsaKeyPair("secp256r1").publicKey,
                          hex(ccf.crypto.generateAesKey(128)),
                          ccf.crypto.generateEddsaKeyPair("curve25519").publicKey];"#;
    let mut h = Harness::new(7);
    let first = h.ok(code);
    let second = h.ok(code);
    for i in 0..3 {
        assert_ne!(first[i], second[i]);
    }
    // Within one request, two draws differ too.
    assert_eq!(
        h.ok("return hex(ccf.crypto.generateAesKey(128)) !== hex(ccf.crypto.generateAesKey(128));"),
        json!(true)
    );
    // A host handing out the same entropy gets the same keys: nothing else is random.
    let mut again = Harness::new(7);
    assert_eq!(again.ok(code), first);
}

#[test]
fn governance_calls_replay_identically() {
    let body = "const k = ccf.crypto.generateEcdsaKeyPair('secp256r1'); \
                return k.publicKey + ccf.crypto.generateRsaKeyPair(1024).publicKey;";
    let constitution = format!(
        "export function validate(input) {{ const f = () => {{ {body} }}; \
           return {{ valid: true, description: f() }}; }}\n\
         export function resolve() {{ return 'Open'; }}\n\
         export function apply() {{}}\n"
    );
    let run = || {
        let mut tx = gov_store(1, "Open").begin();
        engine()
            .validate(&mut tx, &constitution, "{}")
            .unwrap()
            .description
    };
    let first = run();
    assert!(first.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(run(), first);
}

fn spec(cn: &str, is_ca: bool) -> CertificateSpec {
    CertificateSpec {
        subject_cn: cn.into(),
        sans: Vec::new(),
        not_before_unix: 1_000_000,
        not_after_unix: 2_000_000,
        is_ca,
    }
}

#[test]
fn certificate_chains_are_checked_against_the_trusted_bundle() {
    let mut entropy = SeededEntropy::from_seed(30);
    let root_key = EcKeyPair::generate(Curve::P384, &mut entropy).unwrap();
    let leaf_key = EcKeyPair::generate(Curve::P256, &mut entropy).unwrap();
    let root = issue_self_signed(&root_key, &spec("root", true)).unwrap();
    let leaf = issue_endorsed(
        &leaf_key.public_key(),
        &spec("leaf", false),
        &root_key,
        &root,
    )
    .unwrap();
    let stranger = issue_self_signed(&leaf_key, &spec("stranger", true)).unwrap();
    let code = format!(
        "return [ccf.crypto.isValidX509CertChain({leaf}, {root}), \
                 ccf.crypto.isValidX509CertChain({leaf}, {stranger}), \
                 ccf.crypto.isValidX509CertChain('', {root})];",
        leaf = js_string(&leaf.to_pem()),
        root = js_string(&root.to_pem()),
        stranger = js_string(&stranger.to_pem()),
    );
    // The host's clock (1_500_000 s) is inside the validity period.
    assert_eq!(Harness::new(8).ok(&code), json!([true, false, false]));
}
