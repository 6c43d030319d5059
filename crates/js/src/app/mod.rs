//! JavaScript applications: CCF's `js_generic` request path (spec/ccf-js.md §1.4–§4).
//!
//! [`JsApp::handle`] runs one request of one endpoint inside the caller's transaction: a fresh
//! interpreter with the application globals (`ccf.kv` with the app permissions, converters,
//! `ccf.crypto`, `ccf.rpc`, `ccf.consensus`, `console`), the endpoint's module loaded from
//! `public:ccf.gov.modules` (relative imports resolved against the bundle), the exported function
//! called with CCF's request object, and its return value turned into a response. Writes reach
//! the transaction only when they apply (2xx, unless `ccf.rpc.setApplyWrites` says otherwise).

mod endpoint;
mod failure;
mod historical;
mod interpreter_cache;
mod modules;
mod request;
mod response;

use std::cell::RefCell;
use std::rc::Rc;

use cloister_kv::Tx;
use cloister_types::{SeqNo, TxId, TxStatus, View};
use rquickjs::{Ctx, Object, Value};

pub use endpoint::{
    AuthnPolicy, ENDPOINTS_TABLE, EndpointMode, EndpointProperties, ForwardingRequired, JsEndpoint,
    RedirectionStrategy, js_endpoints,
};
pub use failure::AppFailure;
pub(crate) use historical::HistoricalCall;
pub use historical::{HistoricalHost, HistoricalState};
pub use interpreter_cache::INTERPRETER_FLUSH_TABLE;
use interpreter_cache::InterpreterCache;
pub use modules::{MODULES_TABLE, normalise_module_name};
pub use request::{JsCaller, JsRequest};
pub use response::{HostLaunch, JsResponse};

use crate::bytecode_cache::BytecodeCache;
use crate::error::JsError;
use crate::limits::SINGLETON_KEY;
use crate::limits::{JsLimits, JsRuntimeOptions};
use crate::permissions::ExecContext;
use crate::runtime::Interpreter;
use crate::state::{CallState, HostHandle, LogLine, Shared};

/// What an application call needs from the node: its view of consensus (`ccf.consensus`,
/// spec/ccf-js.md §3.6), its untrusted clock and fresh randomness. The crate is sans-IO, so
/// these come from the node, which owns the clock and the seeded entropy.
pub trait AppHost {
    /// `ccf.consensus.getLastCommittedTxId()`.
    fn last_committed_tx_id(&self) -> TxId;
    /// `ccf.consensus.getStatusForTxId(view, seqno)`: the node-local status.
    fn tx_status(&self, tx_id: TxId) -> TxStatus;
    /// `ccf.consensus.getViewForSeqno(seqno)`; `None` (JavaScript `null`) when unknown.
    fn view_for_seqno(&self, seqno: SeqNo) -> Option<View>;
    /// The host's clock in ms since the epoch: what `Date` shows after
    /// `ccf.enableUntrustedDateTime(true)` (spec/ccf-js.md §4.8).
    fn untrusted_time_ms(&self) -> u64;
    /// A seed for one request's `Math.random`. CCF's values never repeat across requests or
    /// restarts (spec/ccf-js.md §4.8), so give a fresh one each call.
    fn random_seed(&self) -> u64;
    /// 32 secret random bytes for one request's `ccf.crypto` (generated keys, salts, OAEP
    /// seeds), asked for at most once per request. Nodes derive them from their secret
    /// `entropy_seed`. Required (no default): a host must decide where key material comes from.
    fn entropy(&self) -> [u8; 32];
    /// Historical queries (`ccf.historicalState`, `ccf.historical`, spec/ccf-js.md §3.7); a
    /// host without them answers `None`, and `ccf.historical.*` then throw.
    fn historical(&self) -> Option<&dyn HistoricalHost> {
        None
    }
}

/// Runs the requests of JavaScript endpoints. Keep one per node: it holds the compiled modules
/// and the interpreters kept for `interpreter_reuse` (spec/ccf-js.md §4.7).
///
/// Run it on a thread with a stack well above `max_stack_bytes` (QuickJS measures its stack on
/// the caller's thread; see `QuickJsConstitution`).
pub struct JsApp {
    host: Rc<dyn AppHost>,
    logs: Vec<LogLine>,
    /// `ccf.enableMetricsLogging` as the last request left it.
    metrics_logging: bool,
    /// Shared with the module loader of every interpreter this app makes.
    bytecode: Rc<RefCell<BytecodeCache>>,
    interpreters: InterpreterCache,
}

impl JsApp {
    pub fn new(host: Rc<dyn AppHost>) -> JsApp {
        JsApp {
            host,
            logs: Vec::new(),
            metrics_logging: true,
            bytecode: Rc::default(),
            interpreters: InterpreterCache::default(),
        }
    }

    /// The node's view for the next requests (its consensus state, clock and randomness).
    pub fn set_host(&mut self, host: Rc<dyn AppHost>) {
        self.host = host;
    }

    /// The `console.*` lines of the last request.
    pub fn logs(&self) -> &[LogLine] {
        &self.logs
    }

    /// Whether the last request's interpreter wants its metrics line logged (CCF's
    /// `ccf.enableMetricsLogging`, on unless the app turned it off).
    pub fn metrics_logging(&self) -> bool {
        self.metrics_logging
    }

    /// Modules compiled so far, and interpreters handed out again by `interpreter_reuse`.
    pub fn cache_stats(&self) -> JsCacheStats {
        JsCacheStats {
            modules_compiled: self.bytecode.borrow().compiled,
            bytecode_bytes: self.bytecode.borrow().bytes(),
            interpreters_cached: self.interpreters.len(),
            interpreters_reused: self.interpreters.reused,
        }
    }

    /// Runs `request` on `endpoint` inside `tx`.
    ///
    /// `Ok` is the handler's response, whatever its status; its `apply_writes` says whether the
    /// handler's writes were applied to `tx` (CCF then commits `tx`; otherwise it discards it,
    /// spec/ccf-js.md §4.1, §4.2). `Err` is a failure CCF answers with a 500 (an exception, the
    /// time limit, a module that does not load, a malformed return value); nothing was written.
    /// Reads always join `tx`'s read set.
    ///
    /// Without `interpreter_reuse` every request gets a fresh interpreter, so module top-level
    /// code runs on every request, as in CCF; modules are loaded from bytecode once compiled.
    pub fn handle(
        &mut self,
        tx: &mut Tx,
        endpoint: &EndpointProperties,
        request: &JsRequest,
        caller: &JsCaller,
    ) -> Result<JsResponse, AppFailure> {
        // Applications get the configured limits even below the defaults (CCF's policy NONE).
        let options = JsRuntimeOptions::configured(tx, JsLimits::default());
        let reuse_key = endpoint
            .interpreter_reuse_key
            .as_ref()
            .map(|key| match endpoint.mode {
                EndpointMode::ReadWrite => format!("{key} (rw)"),
                EndpointMode::ReadOnly | EndpointMode::Historical => format!("{key} (ro)"),
            });
        // Every request reads the flush marker, as CCF's do (it joins the read set).
        let flush_version = tx.version_of(INTERPRETER_FLUSH_TABLE, &SINGLETON_KEY);
        let reused = reuse_key
            .as_ref()
            .and_then(|key| self.interpreters.take(key, flush_version));
        let mut state = self.call_state(tx, endpoint);
        let interpreter = match reused {
            Some(interpreter) => {
                let mut shared = interpreter.state().borrow_mut();
                // Per-interpreter switches persist across its requests (§4.7).
                state.untrusted_time = shared.untrusted_time;
                state.metrics_logging = shared.metrics_logging;
                *shared = state;
                drop(shared);
                Ok(interpreter)
            }
            None => {
                let shared = Rc::new(RefCell::new(state));
                let loader_state = shared.clone();
                let loader_cache = self.bytecode.clone();
                Interpreter::new(&shared, &mut self.bytecode.borrow_mut(), |runtime| {
                    modules::install_loader(runtime, loader_state, loader_cache)
                })
            }
        };
        let (result, interpreter) = match interpreter {
            Ok(interpreter) => {
                let result = interpreter.call(&options.limits, |ctx, natives| {
                    call_endpoint(
                        ctx,
                        natives,
                        interpreter.state(),
                        &self.bytecode,
                        endpoint,
                        request,
                        caller,
                    )
                });
                (result, Some(interpreter))
            }
            // Installing the globals failed: give the transaction back untouched.
            Err(error) => (Err(error), None),
        };
        let outcome = match result {
            Ok(Ok(parts)) => interpreter.as_ref().map_or_else(
                || Err(JsError::Engine("no interpreter".to_owned())),
                |interpreter| {
                    let mut state = interpreter.state().borrow_mut();
                    Ok(JsResponse::from_parts(
                        parts,
                        state.rpc.apply_writes,
                        state.rpc.claims_digest,
                        std::mem::take(&mut state.launches),
                    ))
                },
            ),
            Ok(Err(error)) | Err(error) => Err(error),
        };
        let apply = matches!(&outcome, Ok(response) if response.apply_writes);
        match &interpreter {
            Some(interpreter) => {
                let mut state = interpreter.state().borrow_mut();
                state.finish(tx, apply);
                self.logs = std::mem::take(&mut state.logs);
                self.metrics_logging = state.metrics_logging;
            }
            None => {
                self.logs.clear();
                self.metrics_logging = true;
            }
        }
        if let (Some(key), Some(interpreter), true) = (reuse_key, interpreter, outcome.is_ok()) {
            self.interpreters
                .put(key, interpreter, options.max_cached_interpreters);
        }
        outcome.map_err(|error| AppFailure::new(error, &options))
    }

    fn call_state(&self, tx: &mut Tx, endpoint: &EndpointProperties) -> CallState {
        let context = match endpoint.mode {
            EndpointMode::ReadWrite => ExecContext::AppRw,
            // Historical endpoints read like read-only ones (spec/ccf-js.md §4.4); the node
            // runs them only once the historical state is there.
            EndpointMode::ReadOnly | EndpointMode::Historical => ExecContext::AppRo,
        };
        let mut state = CallState::new(context, tx, self.host.random_seed());
        state.host_time_ms = self.host.untrusted_time_ms();
        state.app_host = Some(HostHandle(self.host.clone()));
        state
    }
}

/// What [`JsApp::cache_stats`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsCacheStats {
    pub modules_compiled: u64,
    pub bytecode_bytes: usize,
    pub interpreters_cached: usize,
    pub interpreters_reused: u64,
}

impl std::fmt::Debug for JsApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsApp").field("logs", &self.logs).finish()
    }
}

/// Glue for the request/response path, installed with the globals of application contexts
/// (before user code, so that it captures the built-ins before a script can replace them).
pub(crate) const APP_JS: &str = include_str!("app.js");

/// Loads the endpoint's module, calls its function with the request object, and reads the
/// response. Failures of loading and of the returned value are CCF's texts (`Ok(Err(…))`); an
/// exception of the handler itself propagates (`Err`), becoming "Exception thrown while
/// executing.".
fn call_endpoint<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
    bytecode: &RefCell<BytecodeCache>,
    endpoint: &EndpointProperties,
    request: &JsRequest,
    caller: &JsCaller,
) -> rquickjs::Result<Result<response::ResponseParts, JsError>> {
    let handler = match modules::load_handler(ctx, natives, state, bytecode, endpoint)? {
        Ok(handler) => handler,
        Err(error) => return Ok(Err(error)),
    };
    let request = request::request_object(ctx, request, caller)?;
    let returned: Value = handler.call((request,))?;
    response::read_response(ctx, natives, &returned)
}
