//! Heap, stack and time limits of one JavaScript call (spec/ccf-js.md §4.6,
//! `public:ccf.gov.js_runtime_options`).
//!
//! Time is not read from a clock (sans-IO, ARCHITECTURE.md): QuickJS calls the interrupt handler
//! once per 10,000 "ticks" (backward jumps, function calls, some long natives), and the handler
//! counts its calls against a budget of `max_execution_time_ms * INTERRUPT_POLLS_PER_SECOND /
//! 1000`. The same script therefore stops at the same point on every node and in every replay.

use cloister_kv::Tx;
use serde_json::Value;

/// The runtime-options table (a single value at the singleton key; spec/ccf-api.md §5).
pub const JS_RUNTIME_OPTIONS_TABLE: &str = "public:ccf.gov.js_runtime_options";

/// Interrupt-handler calls allowed per second of `max_execution_time_ms`: one poll (10,000
/// QuickJS ticks) stands for 10 ms.
///
/// Measured with `cargo run --release -p cloister-js --example calibrate_interrupts` on the
/// project machine (2 cores; QuickJS-ng from rquickjs 0.14, release build). The wall time a poll
/// takes depends on the script, because natives tick only when called:
///
/// | infinite loop of | polls per second |
/// |---|---|
/// | nothing (`while (true) {}`) | 13,000 |
/// | arithmetic; function calls | 2,500 |
/// | closures and array methods | 860 |
/// | `ccf.kv` reads | 760 |
/// | object allocation; string concatenation | 640-680 |
/// | `RegExp.test` | 160 |
/// | `JSON.parse(JSON.stringify(…))` of a small object | 48 |
///
/// At 100 polls per second most loops stop well within their budget (an empty loop after about
/// 1/130 of it) and only native-heavy ones (JSON, regular expressions) may run over it, JSON by
/// about 2x. The default 5000 ms is 500 polls, 5 million ticks: the default constitution's calls
/// never make a single poll.
pub const INTERRUPT_POLLS_PER_SECOND: u64 = 100;

/// The most stack QuickJS may use, whatever governance configures: QuickJS measures its stack on
/// the caller's thread, and a limit beyond the thread's real stack would crash the process
/// instead of failing the script. Hosts run JavaScript on threads with several times this much.
pub const JS_STACK_BYTES_CEILING: u64 = 8 * 1024 * 1024;

/// Limits of one call. Governance uses the configured values but never less than the defaults
/// (CCF's `NO_LOWER_THAN_DEFAULTS`, spec/ccf-js.md §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsLimits {
    /// QuickJS heap limit (`JS_SetMemoryLimit`).
    pub max_heap_bytes: u64,
    /// QuickJS stack limit (`JS_SetMaxStackSize`).
    pub max_stack_bytes: u64,
    /// Execution budget, converted to interrupt polls by [`INTERRUPT_POLLS_PER_SECOND`].
    pub max_execution_time_ms: u64,
}

impl Default for JsLimits {
    /// CCF 6's defaults: 100 MiB heap, 1 MiB stack, 5000 ms (spec/ccf-api.md §5).
    fn default() -> JsLimits {
        JsLimits {
            max_heap_bytes: 100 * 1024 * 1024,
            max_stack_bytes: 1024 * 1024,
            max_execution_time_ms: 5000,
        }
    }
}

impl JsLimits {
    /// The limits configured in `js_runtime_options` JSON. Missing or ill-typed fields take
    /// `defaults`' values, as CCF's lenient `from_json` does; unparsable JSON gives `defaults`.
    pub fn from_runtime_options(json: &[u8], defaults: JsLimits) -> JsLimits {
        JsRuntimeOptions::from_json(json, defaults).limits
    }

    /// The limits configured in `tx`'s `js_runtime_options` (`defaults` where unset).
    pub fn configured(tx: &mut Tx, defaults: JsLimits) -> JsLimits {
        JsRuntimeOptions::configured(tx, defaults).limits
    }

    /// Each limit raised to at least `floor`'s.
    pub fn at_least(self, floor: JsLimits) -> JsLimits {
        JsLimits {
            max_heap_bytes: self.max_heap_bytes.max(floor.max_heap_bytes),
            max_stack_bytes: self.max_stack_bytes.max(floor.max_stack_bytes),
            max_execution_time_ms: self.max_execution_time_ms.max(floor.max_execution_time_ms),
        }
    }

    /// How many interrupt polls the call may take before it is stopped.
    pub fn interrupt_budget(&self) -> u64 {
        (self
            .max_execution_time_ms
            .saturating_mul(INTERRUPT_POLLS_PER_SECOND)
            / 1000)
            .max(1)
    }
}

/// Everything `set_js_runtime_options` configures (spec/ccf-js.md §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsRuntimeOptions {
    pub limits: JsLimits,
    /// Log the exception text and stack of failed application calls.
    pub log_exception_details: bool,
    /// Add `details: [{code: "JSException", message, trace}]` to their 500 answers.
    pub return_exception_details: bool,
    /// Capacity of the interpreter cache (CCF's `interpreter_reuse`; Cloister does not reuse
    /// interpreters yet, see `JsApp`).
    pub max_cached_interpreters: u64,
}

impl JsRuntimeOptions {
    /// CCF's default for `max_cached_interpreters`.
    pub const MAX_CACHED_INTERPRETERS_DEFAULT: u64 = 10;

    /// The options in `js_runtime_options` JSON; missing or ill-typed fields take the defaults
    /// (`defaults` for the limits), unparsable JSON gives all defaults.
    pub fn from_json(json: &[u8], defaults: JsLimits) -> JsRuntimeOptions {
        let mut out = JsRuntimeOptions::with_limits(defaults);
        let Ok(Value::Object(options)) = serde_json::from_slice::<Value>(json) else {
            return out;
        };
        let number = |name: &str| options.get(name).and_then(Value::as_u64);
        let flag = |name: &str| options.get(name).and_then(Value::as_bool);
        out.limits = JsLimits {
            max_heap_bytes: number("max_heap_bytes").unwrap_or(defaults.max_heap_bytes),
            max_stack_bytes: number("max_stack_bytes").unwrap_or(defaults.max_stack_bytes),
            max_execution_time_ms: number("max_execution_time_ms")
                .unwrap_or(defaults.max_execution_time_ms),
        };
        out.log_exception_details = flag("log_exception_details").unwrap_or(false);
        out.return_exception_details = flag("return_exception_details").unwrap_or(false);
        if let Some(capacity) = number("max_cached_interpreters") {
            out.max_cached_interpreters = capacity;
        }
        out
    }

    /// The options configured in `tx` (`defaults` for unset limits). Reading joins `tx`'s read
    /// set, as in CCF, where every JavaScript request reads this table (spec/ccf-js.md §4.2).
    pub fn configured(tx: &mut Tx, defaults: JsLimits) -> JsRuntimeOptions {
        match tx.get(JS_RUNTIME_OPTIONS_TABLE, &SINGLETON_KEY) {
            Some(json) => JsRuntimeOptions::from_json(&json, defaults),
            None => JsRuntimeOptions::with_limits(defaults),
        }
    }

    fn with_limits(limits: JsLimits) -> JsRuntimeOptions {
        JsRuntimeOptions {
            limits,
            log_exception_details: false,
            return_exception_details: false,
            max_cached_interpreters: JsRuntimeOptions::MAX_CACHED_INTERPRETERS_DEFAULT,
        }
    }
}

/// Key of every single-value table: 8 zero bytes (spec/ccf-api.md §5).
pub(crate) const SINGLETON_KEY: [u8; 8] = [0; 8];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_are_ccf_6_defaults() {
        let limits = JsLimits::default();
        assert_eq!(limits.max_heap_bytes, 104_857_600);
        assert_eq!(limits.max_stack_bytes, 1_048_576);
        assert_eq!(limits.max_execution_time_ms, 5000);
    }

    #[test]
    fn runtime_options_fill_missing_fields_with_defaults() {
        let options = br#"{"max_heap_bytes":1024,"max_stack_bytes":"x"}"#;
        let limits = JsLimits::from_runtime_options(options, JsLimits::default());
        assert_eq!(limits.max_heap_bytes, 1024);
        assert_eq!(limits.max_stack_bytes, JsLimits::default().max_stack_bytes);
        assert_eq!(limits.max_execution_time_ms, 5000);
        let defaults = JsLimits::default();
        assert_eq!(
            JsLimits::from_runtime_options(b"not json", defaults),
            defaults
        );
    }

    #[test]
    fn runtime_options_read_the_exception_flags_and_the_cache_size() {
        let options = br#"{"max_heap_bytes":1,"max_stack_bytes":2,"max_execution_time_ms":3,
            "return_exception_details":true,"max_cached_interpreters":2}"#;
        let read = JsRuntimeOptions::from_json(options, JsLimits::default());
        assert_eq!(read.limits.max_execution_time_ms, 3);
        assert!(read.return_exception_details);
        assert!(!read.log_exception_details);
        assert_eq!(read.max_cached_interpreters, 2);
        let empty = JsRuntimeOptions::from_json(b"{}", JsLimits::default());
        assert_eq!(empty.max_cached_interpreters, 10);
        assert!(!empty.return_exception_details);
    }

    #[test]
    fn governance_never_goes_below_the_floor() {
        let low = JsLimits {
            max_heap_bytes: 1,
            max_stack_bytes: 2,
            max_execution_time_ms: 3,
        };
        assert_eq!(low.at_least(JsLimits::default()), JsLimits::default());
        let high = JsLimits {
            max_heap_bytes: u64::MAX,
            ..JsLimits::default()
        };
        assert_eq!(high.at_least(JsLimits::default()).max_heap_bytes, u64::MAX);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn budget_grows_with_time_and_never_overflows(ms in any::<u64>()) {
            let limits = JsLimits { max_execution_time_ms: ms, ..JsLimits::default() };
            let budget = limits.interrupt_budget();
            prop_assert!(budget >= 1);
            prop_assert!(budget <= ms.max(1));
            let more = JsLimits { max_execution_time_ms: ms.saturating_add(1), ..limits };
            prop_assert!(more.interrupt_budget() >= budget);
        }
    }
}
