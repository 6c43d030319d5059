//! `snp_attestation.verifySnpAttestation` (spec/ccf-js.md §3.9) as applications and
//! constitutions see it, over CCF's recorded reports (testdata/snp): CCF's argument checks,
//! the result object (ArrayBuffers, TCB objects, `plaform_info`), and CCF's texts thrown as
//! RangeError for refused reports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::rc::Rc;

use cloister_gov::ConstitutionEngine;
use cloister_js::{JsApp, JsCaller, JsRequest, js_endpoints};
use cloister_kv::Store;
use common::*;
use serde_json::{Value, json};

const MILAN_REPORT: &[u8] = include_bytes!("../../../testdata/snp/milan_attestation.bin");
const MILAN_ENDORSEMENTS: &str = include_str!("../../../testdata/snp/milan_endorsements.pem");
const GENOA_REPORT: &[u8] = include_bytes!("../../../testdata/snp/genoa_attestation.bin");
const GENOA_ENDORSEMENTS: &str = include_str!("../../../testdata/snp/genoa_endorsements.pem");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The app: `/verify` hex-encodes the result's ArrayBuffers like CCF's npm-app
/// `verifySnpAttestation` endpoint and answers 400 with the thrown error; `/checks` records
/// what bad calls throw.
const MODULE: &str = r#"
const fromHex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16))).buffer;
const hex = (buf) => Array.from(new Uint8Array(buf)).map((n) => n.toString(16).padStart(2, "0")).join("");
const verify = snp_attestation.verifySnpAttestation; // detached: still works

export function verifyBody(request) {
  const body = request.body.json();
  const evidence = fromHex(body.evidence);
  const endorsements = ccf.strToBuf(body.endorsements);
  try {
    const r = verify(evidence, endorsements, undefined, body.endorsed_tcb);
    const a = r.attestation;
    const buffers = {};
    for (const [k, v] of Object.entries(a)) {
      if (v instanceof ArrayBuffer) {
        buffers[k] = hex(v);
      }
    }
    return { body: {
      keys: Object.keys(a),
      resultKeys: Object.keys(r),
      attestation: { ...a, ...buffers, signature: { r: hex(a.signature.r), s: hex(a.signature.s) } },
    } };
  } catch (e) {
    return { statusCode: 400, body: { error: { name: e.constructor.name, message: e.message } } };
  }
}

export function checks(request) {
  const body = request.body.json();
  const evidence = fromHex(body.evidence);
  const endorsements = ccf.strToBuf(body.endorsements);
  const v = snp_attestation.verifySnpAttestation;
  const cases = {
    one: () => v(evidence),
    five: () => v(evidence, endorsements, undefined, undefined, 1),
    typedEvidence: () => v(new Uint8Array(evidence), endorsements),
    stringEndorsements: () => v(evidence, body.endorsements),
    uvmNotBuffer: () => v(evidence, endorsements, "uvm"),
    uvmGiven: () => v(evidence, endorsements, new ArrayBuffer(4)),
    tcbNumber: () => v(evidence, endorsements, undefined, 7),
  };
  const out = { length: v.length, name: v.name };
  for (const [name, f] of Object.entries(cases)) {
    try {
      f();
      out[name] = "no error";
    } catch (e) {
      out[name] = `${e.constructor.name}: ${e.message}`;
    }
  }
  return { body: out };
}
"#;

fn endpoint(function: &str) -> Value {
    json!({
        "js_module": "app.js",
        "js_function": function,
        "forwarding_required": "never",
        "authn_policies": [],
        "mode": "readonly",
    })
}

fn deployed() -> Store {
    let bundle = json!({
        "metadata": {"endpoints": {
            "/verify": {"post": endpoint("verifyBody")},
            "/checks": {"post": endpoint("checks")},
        }},
        "modules": [{"name": "app.js", "module": MODULE}],
    });
    deploy_js_app(bundle)
}

/// POSTs `body` to `path` and returns (status, JSON body).
fn post(path: &str, body: Value) -> (u16, Value) {
    let store = deployed();
    let mut app = JsApp::new(Rc::new(CommittedHost));
    let mut tx = store.begin();
    let endpoint = js_endpoints(&mut tx)
        .unwrap()
        .into_iter()
        .find(|e| e.method == "POST" && e.path == path)
        .unwrap()
        .properties;
    let request = JsRequest {
        method: "POST".to_owned(),
        path: format!("/app{path}"),
        route: format!("/app{path}"),
        body: body.to_string().into_bytes(),
        ..JsRequest::default()
    };
    let response = app
        .handle(&mut tx, &endpoint, &request, &JsCaller::Unauthenticated)
        .unwrap();
    (
        response.status,
        serde_json::from_slice(&response.body).unwrap(),
    )
}

fn evidence(report: &[u8], endorsements: &str) -> Value {
    json!({ "evidence": hex(report), "endorsements": endorsements })
}

#[test]
fn the_milan_report_gives_ccfs_result_object() {
    let (status, body) = post("/verify", evidence(MILAN_REPORT, MILAN_ENDORSEMENTS));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resultKeys"], json!(["attestation"]));
    assert_eq!(
        body["keys"],
        json!([
            "version",
            "guest_svn",
            "policy",
            "family_id",
            "image_id",
            "vmpl",
            "signature_algo",
            "platform_version",
            "plaform_info",
            "flags",
            "report_data",
            "measurement",
            "host_data",
            "id_key_digest",
            "author_key_digest",
            "report_id",
            "report_id_ma",
            "reported_tcb",
            "cpuid_fam_id",
            "cpuid_mod_id",
            "cpuid_step",
            "chip_id",
            "committed_tcb",
            "current_minor",
            "current_build",
            "current_major",
            "committed_build",
            "committed_minor",
            "committed_major",
            "launch_tcb",
            "signature"
        ])
    );
    let a = &body["attestation"];
    assert_eq!(a["version"], 3);
    assert_eq!(a["guest_svn"], 2);
    assert_eq!(
        a["policy"],
        json!({"abi_minor": 31, "abi_major": 0, "smt": 1, "migrate_ma": 0, "debug": 0, "single_socket": 0})
    );
    assert_eq!(a["vmpl"], 0);
    assert_eq!(a["signature_algo"], 1);
    assert_eq!(
        a["reported_tcb"],
        json!({"boot_loader": 4, "tee": 0, "snp": 24, "microcode": 219})
    );
    assert_eq!(a["flags"]["signing_key"], 0);
    assert_eq!(a["flags"]["mask_chip_key"], 0);
    assert_eq!(
        (a["cpuid_fam_id"].clone(), a["cpuid_mod_id"].clone()),
        (json!(25), json!(1))
    );
    assert_eq!(a["chip_id"], hex(&MILAN_REPORT[0x1A0..0x1E0]));
    assert!(
        a["chip_id"]
            .as_str()
            .unwrap()
            .starts_with("4ffb5cb4fd594f3f")
    );
    assert_eq!(
        a["host_data"],
        "4f4448c67f3c8dfc8de8a5e37125d807dadcc41f06cf23f615dbd52eec777d10"
    );
    assert_eq!(a["measurement"], hex(&MILAN_REPORT[0x090..0x0C0]));
    assert_eq!(a["report_data"].as_str().unwrap().len(), 128);
    assert_eq!(a["signature"]["r"], hex(&MILAN_REPORT[0x2A0..0x2E8]));
    assert_eq!(a["signature"]["s"], hex(&MILAN_REPORT[0x2E8..0x330]));
    assert_eq!(a["plaform_info"], json!({"smt_en": 1, "tsme_en": 0}));
}

#[test]
fn the_genoa_report_verifies_and_a_claimed_tcb_is_checked() {
    let mut body = evidence(GENOA_REPORT, GENOA_ENDORSEMENTS);
    body["endorsed_tcb"] = json!("541700000000000a");
    let (status, out) = post("/verify", body.clone());
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["attestation"]["reported_tcb"],
        json!({"boot_loader": 10, "tee": 0, "snp": 23, "microcode": 84})
    );
    body["endorsed_tcb"] = json!("0000000000000000");
    let (status, out) = post("/verify", body);
    assert_eq!(status, 400);
    assert_eq!(
        out["error"],
        json!({"name": "RangeError", "message": "SEV-SNP: endorsed TCB 0000000000000000 does not match reported TCB 541700000000000a"})
    );
}

#[test]
fn refused_reports_throw_ccfs_text_as_range_error() {
    let mut tampered = MILAN_REPORT.to_vec();
    tampered[0x90] ^= 1;
    let (status, out) = post("/verify", evidence(&tampered, MILAN_ENDORSEMENTS));
    assert_eq!(status, 400);
    assert_eq!(
        out["error"],
        json!({"name": "RangeError", "message": "SEV-SNP: Chip certificate (VCEK) did not sign this attestation"})
    );
    let (_, out) = post("/verify", evidence(MILAN_REPORT, GENOA_ENDORSEMENTS));
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("SEV-SNP: The root of trust public key for this attestation was not the expected one for 25 1:"),
        "{out}"
    );
    let (_, out) = post(
        "/verify",
        evidence(&MILAN_REPORT[..100], MILAN_ENDORSEMENTS),
    );
    assert_eq!(
        out["error"]["message"],
        "Input SEV-SNP attestation report is not of expected size 1184: 100"
    );
}

#[test]
fn arguments_are_checked_with_ccf_texts() {
    let (status, out) = post("/checks", evidence(MILAN_REPORT, MILAN_ENDORSEMENTS));
    assert_eq!(status, 200);
    let buffer = "TypeError: ArrayBuffer object expected";
    assert_eq!(
        out,
        json!({
            "length": 4,
            "name": "verifySnpAttestation",
            "one": "TypeError: Passed 1 arguments, but expected between 2 and 4",
            "five": "TypeError: Passed 5 arguments, but expected between 2 and 4",
            "typedEvidence": buffer,
            "stringEndorsements": buffer,
            "uvmNotBuffer": buffer,
            "uvmGiven": "RangeError: UVM endorsements verification is not supported by Cloister",
            "tcbNumber": "RangeError: SEV-SNP: TCB of size 1, expected 8",
        })
    );
}

#[test]
fn constitutions_see_snp_attestation_in_validate_and_apply() {
    // validate (GOV_RO) and apply (GOV_RW) both verify the recorded report.
    let script = format!(
        "const fromHex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16))).buffer;\n\
         function run() {{\n\
           const r = snp_attestation.verifySnpAttestation(fromHex({report:?}), ccf.strToBuf({pem}));\n\
           return `${{r.attestation.version}}/${{r.attestation.reported_tcb.microcode}}`;\n\
         }}\n\
         export function validate(input) {{ return {{ valid: true, description: run() }}; }}\n\
         export function resolve() {{ return 'Open'; }}\n\
         export function apply() {{ ccf.kv['public:ccf.gov.out'].set(ccf.strToBuf('out'), ccf.strToBuf(run())); }}\n",
        report = hex(MILAN_REPORT),
        pem = serde_json::to_string(MILAN_ENDORSEMENTS).unwrap(),
    );
    let mut tx = gov_store(1, "Open").begin();
    let validation = engine().validate(&mut tx, &script, "{}").unwrap();
    assert_eq!(validation.description, "3/219");
    let mut actions = Vec::new();
    engine()
        .apply(
            &mut tx,
            &script,
            "{}",
            "p",
            &mut FakeHost::default(),
            &mut actions,
        )
        .unwrap();
    assert_eq!(tx.get("public:ccf.gov.out", b"out").unwrap(), b"3/219");
}
