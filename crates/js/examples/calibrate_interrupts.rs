//! Measures how many interrupt polls QuickJS makes per millisecond of wall time, for the
//! constant `INTERRUPT_POLLS_PER_SECOND` (src/limits.rs). Run it in release on the project machine:
//!
//! ```text
//! cargo run --release -p cloister-js --example calibrate_interrupts
//! ```
//!
//! Each workload loops forever inside a constitution's `validate`; the engine stops it after
//! `BUDGET_MS * INTERRUPT_POLLS_PER_SECOND / 1000` polls, and the wall time it took gives the poll rate.
// This tool exists to read the clock: it is the one place that relates polls to real time.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::time::Instant;

use cloister_gov::ConstitutionEngine;
use cloister_js::{INTERRUPT_POLLS_PER_SECOND, JsLimits, QuickJsConstitution};
use cloister_kv::Store;

const BUDGET_MS: u64 = 2000;

const WORKLOADS: [(&str, &str); 9] = [
    ("empty loop", "while (true) {}"),
    (
        "arithmetic",
        "let i = 0; while (true) { i = (i * 7 + 3) % 1000003; }",
    ),
    (
        "function calls",
        "function f(x) { return x + 1; } let i = 0; while (true) { i = f(i); }",
    ),
    (
        "allocation",
        "let a = []; while (true) { a.push({ x: a.length }); if (a.length > 1000) a = []; }",
    ),
    (
        "strings",
        "let s = ''; while (true) { s += 'x'; if (s.length > 1000) s = ''; }",
    ),
    (
        "JSON",
        "const o = { a: [1, 2, 3], b: 'text', c: { d: true } }; \
         while (true) { JSON.parse(JSON.stringify(o)); }",
    ),
    (
        "regexp",
        "const r = /^[0-9a-f]{64}$/; while (true) { r.test('ab'.repeat(32)); }",
    ),
    (
        "closures",
        "while (true) { [1, 2, 3, 4].map((x) => x * 2).filter((x) => x > 2); }",
    ),
    (
        "ccf.kv reads",
        "const t = ccf.kv['public:ccf.gov.members.info']; const k = ccf.strToBuf('x'); \
         while (true) { t.get(k); }",
    ),
];

fn main() {
    let floor = JsLimits {
        max_execution_time_ms: BUDGET_MS,
        ..JsLimits::default()
    };
    let polls = floor.interrupt_budget();
    println!("budget: {BUDGET_MS} ms = {polls} polls at {INTERRUPT_POLLS_PER_SECOND} polls/s");
    for (name, body) in WORKLOADS {
        let constitution = format!(
            "export function validate(input) {{ {body} }}\n\
             export function resolve(a, b, c) {{ return 'Open'; }}\n\
             export function apply(a, b) {{}}\n"
        );
        let mut engine = QuickJsConstitution::with_limits_floor(floor);
        let mut tx = Store::default().begin();
        let start = Instant::now();
        let result = engine.validate(&mut tx, &constitution, "{}");
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        let reason = result.err().map(|f| f.reason).unwrap_or_default();
        println!(
            "{name:>16}: stopped after {elapsed_ms:8.1} ms = {:8.0} polls/s ({reason})",
            polls as f64 * 1000.0 / elapsed_ms
        );
    }
}
