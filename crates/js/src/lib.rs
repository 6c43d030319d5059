//! Cloister's QuickJS host: the JavaScript constitution engine of governance, with CCF's
//! governance globals (`ccf.kv`, converters, `ccf.crypto`, `ccf.gov`, `console`; in `apply` also
//! `ccf.node` and `ccf.network`), JavaScript applications ([`JsApp`]: CCF's `js_generic`, with
//! `ccf.kv` under the application permissions, `ccf.rpc` and `ccf.consensus`), heap/stack
//! limits, and an execution budget counted without a clock (spec/ccf-api.md §3–§5,
//! spec/ccf-js.md).
//!
//! Sans-IO: no clock (the budget counts interrupt polls; `Date` is pinned to the epoch, or to
//! the host time the caller passes in), no OS randomness (`Math.random` is seeded by the
//! caller), no files or threads.
#![forbid(unsafe_code)]

mod app;
mod bytecode_cache;
mod engine;
mod error;
mod globals;
mod limits;
mod permissions;
mod runtime;
mod state;

pub use app::HostLaunch;
pub use app::{
    AppFailure, AppHost, AuthnPolicy, ENDPOINTS_TABLE, EndpointMode, EndpointProperties,
    ForwardingRequired, JsApp, JsCaller, JsEndpoint, JsRequest, JsResponse, MODULES_TABLE,
    RedirectionStrategy, js_endpoints, normalise_module_name,
};
pub use app::{HistoricalHost, HistoricalState};
pub use engine::{APPLY_RUNS_MAX, QuickJsConstitution};
pub use error::JsError;
pub use limits::{
    INTERRUPT_POLLS_PER_SECOND, JS_RUNTIME_OPTIONS_TABLE, JS_STACK_BYTES_CEILING, JsLimits,
    JsRuntimeOptions,
};
pub use permissions::{ExecContext, MapAccess, MapCategory, access, classify};
pub use state::{LOG_LINE_BYTES_MAX, LOG_LINES_MAX, LogLevel, LogLine};

/// Cloister's default constitution: one ES module exporting `validate`, `resolve` and `apply`,
/// written from the behaviour table of spec/ccf-api.md §4 (not CCF's text). The files are
/// concatenated in this order.
pub const DEFAULT_CONSTITUTION: &str = concat!(
    include_str!("../constitution/actions.js"),
    include_str!("../constitution/validate.js"),
    include_str!("../constitution/resolve.js"),
    include_str!("../constitution/apply.js"),
);
