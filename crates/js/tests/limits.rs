//! Heap, stack and time limits (spec/ccf-js.md §4.6): a runaway script fails with a clear
//! reason, writes nothing, and the engine serves the next call.
// The timeout test reads the clock to show the budget is met in wall time; nothing else does.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod common;

use std::time::{Duration, Instant};

use cloister_gov::{ConstitutionEngine, JsFailure};
use cloister_js::{JsLimits, QuickJsConstitution};
use cloister_kv::Tx;
use common::*;

fn constitution(validate_body: &str) -> String {
    format!(
        "export function validate(input) {{ {validate_body} }}\n\
         export function resolve(p, q, v) {{ return 'Open'; }}\n\
         export function apply(p, id) {{ ccf.kv['public:ccf.gov.x'].set(new ArrayBuffer(1), new ArrayBuffer(1)); {validate_body} }}\n"
    )
}

fn run(engine: &mut QuickJsConstitution, tx: &mut Tx, body: &str) -> Result<String, JsFailure> {
    engine
        .validate(tx, &constitution(body), "{}")
        .map(|v| v.description)
}

fn assert_next_call_works(engine: &mut QuickJsConstitution, tx: &mut Tx) {
    let ok = run(
        engine,
        tx,
        "return { valid: true, description: 'still here' };",
    );
    assert_eq!(ok.unwrap(), "still here");
}

#[test]
fn an_infinite_loop_stops_within_a_second_at_the_default_limits() {
    let mut engine = QuickJsConstitution::new();
    let mut tx = gov_store(1, "Open").begin();
    let start = Instant::now();
    let failure = run(&mut engine, &mut tx, "while (true) {}").unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(failure.reason, "Operation took too long to complete.");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_next_call_works(&mut engine, &mut tx);
}

#[test]
fn the_timeout_cannot_be_caught_and_a_timed_out_apply_writes_nothing() {
    let mut engine = QuickJsConstitution::new();
    let mut tx = gov_store(1, "Open").begin();
    let body =
        "try { while (true) {} } catch (e) {} return { valid: true, description: 'escaped' };";
    assert_eq!(
        run(&mut engine, &mut tx, body).unwrap_err().reason,
        "Operation took too long to complete."
    );
    let mut actions = Vec::new();
    let failure = engine
        .apply(
            &mut tx,
            &constitution("while (true) {}"),
            "{}",
            "p",
            &mut FakeHost::default(),
            &mut actions,
        )
        .unwrap_err();
    assert_eq!(failure.reason, "Operation took too long to complete.");
    assert!(!tx.has_writes());
}

#[test]
fn a_longer_configured_time_gives_more_budget() {
    // The same bounded loop fails under a 1 ms floor and passes once js_runtime_options allow more.
    let mut store = gov_store(1, "Open");
    let body = "let i = 0; for (let n = 0; n < 2000000; n++) { i += n; } return { valid: true, description: 'done' };";
    let tiny = JsLimits {
        max_execution_time_ms: 1,
        ..JsLimits::default()
    };
    let mut engine = QuickJsConstitution::with_limits_floor(tiny);
    let mut tx = store.begin();
    assert_eq!(
        run(&mut engine, &mut tx, body).unwrap_err().reason,
        "Operation took too long to complete."
    );
    tx.put(
        cloister_js::JS_RUNTIME_OPTIONS_TABLE,
        SINGLETON.to_vec(),
        br#"{"max_heap_bytes":1,"max_stack_bytes":1,"max_execution_time_ms":60000}"#.to_vec(),
    );
    commit(&mut store, tx);
    let mut tx = store.begin();
    assert_eq!(run(&mut engine, &mut tx, body).unwrap(), "done");
}

#[test]
fn unbounded_recursion_fails_and_the_engine_recovers() {
    let mut engine = QuickJsConstitution::new();
    let mut tx = gov_store(1, "Open").begin();
    let failure = run(
        &mut engine,
        &mut tx,
        "function f(n) { return f(n + 1) + 1; } return f(0);",
    )
    .unwrap_err();
    assert_eq!(
        failure.reason,
        "RangeError: Maximum call stack size exceeded"
    );
    assert_next_call_works(&mut engine, &mut tx);
}

#[test]
fn a_heap_bomb_fails_and_the_engine_recovers() {
    let mut engine = QuickJsConstitution::new();
    let mut tx = gov_store(1, "Open").begin();
    let bomb = "const keep = []; while (true) { keep.push(new Array(1 << 16).fill(keep.length)); }";
    let failure = run(&mut engine, &mut tx, bomb).unwrap_err();
    assert_eq!(failure.reason, "InternalError: out of memory");
    assert_next_call_works(&mut engine, &mut tx);
}

#[test]
fn configured_heap_above_the_floor_is_used() {
    let small = JsLimits {
        max_heap_bytes: 4 << 20,
        ..JsLimits::default()
    };
    let mut engine = QuickJsConstitution::with_limits_floor(small);
    // About 16 MiB of live data: too much for 4 MiB, fine for 64 MiB.
    let body = "const keep = []; for (let i = 0; i < 32; i++) keep.push(new Array(1 << 16).fill(i)); \
                return { valid: true, description: String(keep.length) };";
    let mut store = gov_store(1, "Open");
    let mut tx = store.begin();
    assert_eq!(
        run(&mut engine, &mut tx, body).unwrap_err().reason,
        "InternalError: out of memory"
    );
    let options = format!(
        r#"{{"max_heap_bytes":{},"max_stack_bytes":1,"max_execution_time_ms":1}}"#,
        64 << 20
    );
    tx.put(
        cloister_js::JS_RUNTIME_OPTIONS_TABLE,
        SINGLETON.to_vec(),
        options.into_bytes(),
    );
    commit(&mut store, tx);
    let mut tx = store.begin();
    assert_eq!(run(&mut engine, &mut tx, body).unwrap(), "32");
}

#[test]
fn top_level_await_is_refused() {
    let mut engine = QuickJsConstitution::new();
    let mut tx = gov_store(1, "Open").begin();
    let source = "await new Promise(() => {});\nexport function vote(p, id) { return true; }";
    let failure = engine.vote(&mut tx, source, "{}", MEMBER0_ID).unwrap_err();
    assert!(
        failure.reason.contains("top-level await is not supported"),
        "{}",
        failure.reason
    );
}

#[test]
fn a_configured_stack_beyond_the_ceiling_is_capped_not_a_crash() {
    // Governance may configure any stack size; QuickJS measures against the real thread stack,
    // so the engine caps it. Run on a thread with room for the cap (as the node's thread has).
    let ceiling = usize::try_from(cloister_js::JS_STACK_BYTES_CEILING).unwrap();
    let outcome = std::thread::Builder::new()
        .stack_size(4 * ceiling)
        .spawn(|| {
            let huge = JsLimits {
                max_heap_bytes: 100 * 1024 * 1024,
                max_stack_bytes: 1 << 40,
                max_execution_time_ms: 5000,
            };
            let mut engine = QuickJsConstitution::with_limits_floor(huge);
            let mut tx = gov_store(1, "Open").begin();
            let failure = run(
                &mut engine,
                &mut tx,
                "function f(n) { return f(n + 1) + 1; } return f(0);",
            )
            .unwrap_err();
            assert_next_call_works(&mut engine, &mut tx);
            failure.reason
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(outcome, "RangeError: Maximum call stack size exceeded");
}
