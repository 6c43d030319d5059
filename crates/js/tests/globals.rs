//! The `ccf` globals as scripts see them (spec/ccf-js.md §3; spec/ccf-api.md §4 "Execution
//! contexts and globals", "Permissions").

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use cloister_gov::{ConstitutionEngine, JsFailure, NodeAction};
use cloister_js::{LogLevel, LogLine, QuickJsConstitution};
use cloister_kv::Tx;
use common::*;

/// A constitution whose validate (GOV_RO) and apply (GOV_RW) run `body` and report what it
/// returns as a string.
fn harness(body: &str) -> String {
    format!(
        "function run() {{ {body} }}\n\
         export function validate(input) {{ return {{ valid: true, description: String(run()) }}; }}\n\
         export function resolve(proposal, proposerId, votes) {{ return String(run()); }}\n\
         export function apply(proposal, proposalId) {{ const out = run(); \
           ccf.kv['public:ccf.gov.out'].set(ccf.strToBuf('out'), ccf.strToBuf(String(out))); }}\n"
    )
}

fn ro(tx: &mut Tx, body: &str) -> Result<String, JsFailure> {
    engine()
        .validate(tx, &harness(body), "{}")
        .map(|v| v.description)
}

fn rw(tx: &mut Tx, body: &str) -> Result<String, JsFailure> {
    let mut actions = Vec::new();
    engine().apply(
        tx,
        &harness(body),
        "{}",
        "p",
        &mut FakeHost::default(),
        &mut actions,
    )?;
    let out = tx.get("public:ccf.gov.out", b"out").unwrap();
    Ok(String::from_utf8(out).unwrap())
}

fn fresh() -> Tx {
    gov_store(1, "Open").begin()
}

#[test]
fn converters_round_trip_text_and_json() {
    let mut tx = fresh();
    let body = "const b = ccf.strToBuf('héllo ✓'); \
                return [b instanceof ArrayBuffer, b.byteLength, ccf.bufToStr(b), \
                        ccf.bufToJsonCompatible(ccf.jsonCompatibleToBuf({a: [1, 'x']})).a[1]].join('|');";
    assert_eq!(ro(&mut tx, body).unwrap(), "true|10|héllo ✓|x");
}

#[test]
fn converters_check_argument_counts_and_types_and_work_detached() {
    let mut tx = fresh();
    let failure = ro(&mut tx, "return ccf.strToBuf();").unwrap_err();
    assert_eq!(
        failure.reason,
        "TypeError: Passed 0 arguments, but expected 1"
    );
    let failure = ro(&mut tx, "return ccf.bufToStr(new Uint8Array(2));").unwrap_err();
    assert_eq!(failure.reason, "TypeError: Argument must be an ArrayBuffer");
    let body = "const { strToBuf, bufToStr } = ccf; return bufToStr(strToBuf('a\\u0000b'));";
    assert_eq!(
        ro(&mut tx, body).unwrap(),
        "a",
        "strToBuf stops at the first NUL, as CCF's"
    );
}

#[test]
fn pem_to_id_is_the_sha256_of_the_der() {
    let mut tx = fresh();
    let pem = testdata("member0_cert.pem");
    let body = format!("return ccf.pemToId({pem:?});");
    assert_eq!(ro(&mut tx, &body).unwrap(), MEMBER0_ID);
    let failure = ro(&mut tx, "return ccf.pemToId('nope');").unwrap_err();
    assert!(
        failure
            .reason
            .starts_with("InternalError: Failed to parse PEM"),
        "{}",
        failure.reason
    );
}

#[test]
fn crypto_digest_is_sha256_only() {
    let mut tx = fresh();
    let body = "const d = ccf.crypto.digest('SHA-256', ccf.strToBuf('abc')); \
                return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');";
    assert_eq!(
        ro(&mut tx, body).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let failure = ro(
        &mut tx,
        "return ccf.crypto.digest('SHA-384', new ArrayBuffer(1));",
    )
    .unwrap_err();
    assert!(
        failure.reason.starts_with("RangeError: "),
        "{}",
        failure.reason
    );
    let pem = testdata("service_cert.pem");
    let body = format!(
        "return [ccf.crypto.isValidX509CertBundle({pem:?}), ccf.crypto.isValidX509CertBundle('x')];"
    );
    assert_eq!(ro(&mut tx, &body).unwrap(), "true,false");
}

#[test]
fn console_lines_are_kept_for_the_caller() {
    let mut tx = fresh();
    let mut engine = QuickJsConstitution::new();
    let body = "console.log('a', 1, {x: 2}); console.warn('w'); console.error('e'); \
                return typeof console.debug;";
    let answer = engine.validate(&mut tx, &harness(body), "{}").unwrap();
    assert_eq!(answer.description, "undefined");
    assert_eq!(
        engine.logs(),
        [
            LogLine {
                level: LogLevel::Info,
                text: r#"a 1 {"x":2}"#.into()
            },
            LogLine {
                level: LogLevel::Warn,
                text: "w".into()
            },
            LogLine {
                level: LogLevel::Error,
                text: "e".into()
            },
        ]
    );
}

#[test]
fn time_is_the_epoch_and_random_replays_for_the_same_call() {
    let mut tx = fresh();
    let body = "return [Date.now(), new Date().getTime(), new Date(5).getTime(), \
                new Date() instanceof Date].join(',');";
    assert_eq!(ro(&mut tx, body).unwrap(), "0,0,5,true");
    let body = "const x = Math.random(); return x >= 0 && x < 1 ? x : 'out of range';";
    let first = ro(&mut tx, body).unwrap();
    assert_eq!(ro(&mut tx, body).unwrap(), first);
    assert!(first.parse::<f64>().is_ok(), "{first}");
}

#[test]
fn kv_handles_behave_like_ccf_maps() {
    let mut tx = fresh();
    let body = "const t = ccf.kv['public:ccf.gov.test']; const k = ccf.strToBuf('k'); \
                const same = t.set(k, ccf.strToBuf('v')) === t; \
                const seen = []; t.forEach((v, key, map) => seen.push(ccf.bufToStr(key) + '=' + ccf.bufToStr(v))); \
                const r = [same, t.has(k), ccf.bufToStr(ccf.kv['public:ccf.gov.test'].get(k)), t.size, seen.join(';'), \
                           t.delete(k), t.has(k), t.get(k), t._map_name, Object.keys(ccf.kv).length]; \
                t.set(ccf.strToBuf('a'), new ArrayBuffer(0)); t.set(ccf.strToBuf('b'), new ArrayBuffer(1)); t.clear(); \
                r.push(t.size); return r.join(',');";
    assert_eq!(
        rw(&mut tx, body).unwrap(),
        "true,true,v,1,k=v,,false,,public:ccf.gov.test,0,0"
    );
    let failure = rw(
        &mut tx,
        "ccf.kv['public:ccf.gov.test'].set(new Uint8Array(1), new ArrayBuffer(1));",
    )
    .unwrap_err();
    assert_eq!(failure.reason, "TypeError: Arguments must be ArrayBuffers");
    let failure = rw(
        &mut tx,
        "const get = ccf.kv['public:ccf.gov.test'].get; get(new ArrayBuffer(1));",
    )
    .unwrap_err();
    assert!(
        failure
            .reason
            .starts_with("TypeError: kv map method called on"),
        "{}",
        failure.reason
    );
}

#[test]
fn kv_reads_existing_governance_state() {
    let mut tx = fresh();
    let body = format!(
        "return ccf.bufToJsonCompatible(ccf.kv['{MEMBERS_INFO}'].get(ccf.strToBuf('{MEMBER0_ID}'))).status;"
    );
    assert_eq!(ro(&mut tx, &body).unwrap(), "Active");
}

#[test]
fn gov_ro_cannot_write_governance_tables() {
    let mut tx = fresh();
    let failure = ro(
        &mut tx,
        "ccf.kv['public:ccf.gov.x'].set(new ArrayBuffer(1), new ArrayBuffer(1));",
    )
    .unwrap_err();
    assert!(
        failure.reason.starts_with(
            "TypeError: Cannot call set on table named public:ccf.gov.x. This table is \
             read-only in current (read-only governance) execution context."
        ),
        "{}",
        failure.reason
    );
    assert!(!tx.has_writes());
}

#[test]
fn private_tables_are_illegal_in_both_contexts() {
    let mut tx = fresh();
    let read = "return ccf.kv['secrets'].get(new ArrayBuffer(1));";
    for failure in [
        ro(&mut tx, read).unwrap_err(),
        rw(&mut tx, read).unwrap_err(),
    ] {
        assert!(
            failure.reason.starts_with(
                "TypeError: Cannot call get on table named secrets. This table is not accessible"
            ),
            "{}",
            failure.reason
        );
    }
    let write = "ccf.kv['secrets'].set(new ArrayBuffer(1), new ArrayBuffer(1));";
    assert!(
        rw(&mut tx, write)
            .unwrap_err()
            .reason
            .contains("table named secrets")
    );
}

#[test]
fn gov_rw_writes_public_app_tables_but_cannot_read_them_or_write_internal_ones() {
    let mut tx = fresh();
    let write = "ccf.kv['public:records'].set(ccf.strToBuf('k'), ccf.strToBuf('v')); return 1;";
    assert_eq!(rw(&mut tx, write).unwrap(), "1");
    assert_eq!(tx.get("public:records", b"k").unwrap(), b"v");
    let failure = rw(
        &mut tx,
        "return ccf.kv['public:records'].has(ccf.strToBuf('k'));",
    )
    .unwrap_err();
    assert!(
        failure
            .reason
            .contains("This table is write-only in current (read-write governance)"),
        "{}",
        failure.reason
    );
    let failure = ro(
        &mut tx,
        "return ccf.kv['public:records'].has(ccf.strToBuf('k'));",
    )
    .unwrap_err();
    assert!(
        failure
            .reason
            .contains("table named public:records. This table is not accessible"),
        "{}",
        failure.reason
    );
    let failure = rw(
        &mut tx,
        "ccf.kv['public:ccf.internal.tree'].delete(new ArrayBuffer(1));",
    )
    .unwrap_err();
    assert!(
        failure
            .reason
            .contains("public:ccf.internal.tree. This table is read-only"),
        "{}",
        failure.reason
    );
}

#[test]
fn node_and_network_exist_only_in_apply() {
    let mut tx = fresh();
    assert_eq!(
        ro(
            &mut tx,
            "return [typeof ccf.node, typeof ccf.network].join();"
        )
        .unwrap(),
        "undefined,undefined"
    );
    assert_eq!(
        rw(
            &mut tx,
            "return [typeof ccf.node, ccf.network.getLatestLedgerSecretSeqno()].join();"
        )
        .unwrap(),
        "object,42"
    );
}

#[test]
fn host_calls_are_answered_once_each_and_seen_by_the_script() {
    let mut tx = fresh();
    let body = "const a = ccf.network.generateNetworkCertificate('240101000000Z', 10); \
                let b; try { b = ccf.network.generateEndorsedCertificate('CSR', '240101000000Z', 5); } \
                catch (e) { b = 'caught ' + e; } \
                ccf.node.triggerSnapshot(); \
                return a + '|' + b;";
    let mut host = FakeHost::default();
    let mut actions = Vec::new();
    engine()
        .apply(&mut tx, &harness(body), "{}", "p", &mut host, &mut actions)
        .unwrap();
    assert_eq!(
        tx.get("public:ccf.gov.out", b"out").unwrap(),
        b"RENEWED(240101000000Z,10)|ENDORSED(CSR,240101000000Z,5)"
    );
    assert_eq!(host.renewed.len(), 1);
    assert_eq!(host.endorsed.len(), 1);
    assert_eq!(
        actions,
        vec![NodeAction::TriggerSnapshot],
        "actions of discarded runs are dropped"
    );
}

#[test]
fn exceptions_carry_the_message_and_the_stack() {
    let mut tx = fresh();
    let failure = ro(
        &mut tx,
        "function deep() { throw new Error('boom'); } deep();",
    )
    .unwrap_err();
    assert_eq!(failure.reason, "Error: boom");
    assert!(
        failure.trace.as_deref().unwrap_or("").contains("deep"),
        "{:?}",
        failure.trace
    );
    let failure = ro(&mut tx, "throw 7;").unwrap_err();
    assert_eq!((failure.reason.as_str(), failure.trace), ("7", None));
}

#[test]
fn validate_constitution_checks_export_parameter_counts() {
    let mut engine = QuickJsConstitution::new();
    engine
        .validate_constitution(cloister_js::DEFAULT_CONSTITUTION)
        .unwrap();
    let two = "export function validate(i) {}\nexport function resolve(p, q) {}\nexport function apply(p, i) {}";
    let failure = engine.validate_constitution(two).unwrap_err();
    assert_eq!(
        failure.reason,
        "TypeError: Constitution function resolve must declare 3 or 4 parameters, but declares 2"
    );
    let four = "export function validate(i) {}\nexport function resolve(p, q, v, id) {}\nexport function apply(p, i) {}";
    engine.validate_constitution(four).unwrap();
    let no_apply = "export function validate(i) {}\nexport function resolve(p, q, v) {}";
    assert_eq!(
        engine.validate_constitution(no_apply).unwrap_err().reason,
        "TypeError: Constitution does not export a function named apply"
    );
    assert_eq!(
        engine.validate_constitution("").unwrap_err().reason,
        "TypeError: Constitution is empty"
    );
    assert!(
        engine
            .validate_constitution("export function (")
            .unwrap_err()
            .reason
            .starts_with("SyntaxError")
    );
}

#[test]
fn only_a_javascript_true_is_a_yes_vote() {
    let mut tx = fresh();
    let mut engine = QuickJsConstitution::new();
    let ballot =
        |ret: &str| format!("export function vote(rawProposal, proposerId) {{ return {ret}; }}");
    assert_eq!(
        engine.vote(&mut tx, &ballot("true"), "{}", MEMBER0_ID),
        Ok(true)
    );
    assert_eq!(
        engine.vote(&mut tx, &ballot("'yes'"), "{}", MEMBER0_ID),
        Ok(false)
    );
    assert_eq!(
        engine.vote(&mut tx, &ballot("1"), "{}", MEMBER0_ID),
        Ok(false)
    );
    let by_proposer = format!(
        "export function vote(p, id) {{ return id === '{MEMBER0_ID}' && JSON.parse(p).ok; }}"
    );
    assert_eq!(
        engine.vote(&mut tx, &by_proposer, r#"{"ok":true}"#, MEMBER0_ID),
        Ok(true)
    );
    let failure = engine.vote(
        &mut tx,
        "export function vote(p, id) { throw new Error('no'); }",
        "{}",
        MEMBER0_ID,
    );
    assert_eq!(failure.unwrap_err().reason, "Error: no");
    let failure = engine.vote(&mut tx, "export const x = 1;", "{}", MEMBER0_ID);
    assert_eq!(
        failure.unwrap_err().reason,
        "TypeError: module does not export a function named vote"
    );
}

#[test]
fn default_resolve_needs_a_strict_majority_of_active_members() {
    let mut engine = QuickJsConstitution::new();
    let store = gov_store(3, "Open");
    let mut tx = store.begin();
    let constitution = cloister_js::DEFAULT_CONSTITUTION;
    let votes = |yes: usize, no: usize| {
        (0..yes)
            .map(|i| (format!("m{i}"), true))
            .chain((0..no).map(|i| (format!("n{i}"), false)))
            .collect::<Vec<_>>()
    };
    let mut resolve = |v: Vec<(String, bool)>| {
        engine
            .resolve(&mut tx, constitution, "{}", MEMBER0_ID, &v, "p")
            .unwrap()
    };
    assert_eq!(resolve(votes(1, 2)), "Open");
    assert_eq!(resolve(votes(2, 1)), "Accepted");
    assert_eq!(resolve(votes(0, 0)), "Open");
    let store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_eq!(
        engine
            .resolve(&mut tx, constitution, "{}", MEMBER0_ID, &votes(1, 0), "p")
            .unwrap(),
        "Accepted"
    );
    let custom = "export function validate(i) {}\nexport function resolve(p, q, v, id) { return id + v.length; }\nexport function apply(p, i) {}";
    assert_eq!(
        engine
            .resolve(&mut tx, custom, "{}", MEMBER0_ID, &votes(2, 0), "p7")
            .unwrap(),
        "p72"
    );
}

#[test]
fn modules_cannot_import() {
    let mut tx = fresh();
    let ballot = "import { x } from 'other';\nexport function vote(p, id) { return true; }";
    let failure = engine()
        .vote(&mut tx, ballot, "{}", MEMBER0_ID)
        .unwrap_err();
    assert!(failure.reason.contains("other"), "{}", failure.reason);
}
