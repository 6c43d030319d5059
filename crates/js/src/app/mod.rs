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
mod modules;
mod request;
mod response;

use std::cell::RefCell;
use std::rc::Rc;

use cloister_kv::Tx;
use cloister_types::{SeqNo, TxId, TxStatus, View};
use rquickjs::{Ctx, Function, Object, Value};

pub use endpoint::{
    AuthnPolicy, ENDPOINTS_TABLE, EndpointMode, EndpointProperties, ForwardingRequired, JsEndpoint,
    RedirectionStrategy, js_endpoints,
};
pub use failure::AppFailure;
pub(crate) use historical::HistoricalCall;
pub use historical::{HistoricalHost, HistoricalState};
pub use modules::{MODULES_TABLE, normalise_module_name};
pub use request::{JsCaller, JsRequest};
pub use response::JsResponse;

use crate::error::JsError;
use crate::limits::{JsLimits, JsRuntimeOptions};
use crate::permissions::ExecContext;
use crate::runtime::run_call;
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
    /// Historical queries (`ccf.historicalState`, `ccf.historical`, spec/ccf-js.md §3.7); a
    /// host without them answers `None`, and `ccf.historical.*` then throw.
    fn historical(&self) -> Option<&dyn HistoricalHost> {
        None
    }
}

/// Runs the requests of JavaScript endpoints.
///
/// Run it on a thread with a stack well above `max_stack_bytes` (QuickJS measures its stack on
/// the caller's thread; see `QuickJsConstitution`).
pub struct JsApp {
    host: Rc<dyn AppHost>,
    logs: Vec<LogLine>,
}

impl JsApp {
    pub fn new(host: Rc<dyn AppHost>) -> JsApp {
        JsApp {
            host,
            logs: Vec::new(),
        }
    }

    /// The `console.*` lines of the last request.
    pub fn logs(&self) -> &[LogLine] {
        &self.logs
    }

    /// Runs `request` on `endpoint` inside `tx`.
    ///
    /// `Ok` is the handler's response, whatever its status; its `apply_writes` says whether the
    /// handler's writes were applied to `tx` (CCF then commits `tx`; otherwise it discards it,
    /// spec/ccf-js.md §4.1, §4.2). `Err` is a failure CCF answers with a 500 (an exception, the
    /// time limit, a module that does not load, a malformed return value); nothing was written.
    /// Reads always join `tx`'s read set.
    ///
    /// Every request gets a fresh interpreter: module top-level code runs on every request, as
    /// in CCF without `interpreter_reuse` (spec/ccf-js.md §4.7).
    pub fn handle(
        &mut self,
        tx: &mut Tx,
        endpoint: &EndpointProperties,
        request: &JsRequest,
        caller: &JsCaller,
    ) -> Result<JsResponse, AppFailure> {
        // Applications get the configured limits even below the defaults (CCF's policy NONE).
        let options = JsRuntimeOptions::configured(tx, JsLimits::default());
        let shared = self.call_state(tx, endpoint);
        let loader_state = shared.clone();
        let result = run_call(
            &options.limits,
            &shared,
            |runtime| modules::install_loader(runtime, loader_state),
            |ctx, natives| call_endpoint(ctx, natives, &shared, endpoint, request, caller),
        );
        let mut state = shared.borrow_mut();
        let outcome = match result {
            Ok(Ok(parts)) => Ok(JsResponse::from_parts(
                parts,
                state.rpc.apply_writes,
                state.rpc.claims_digest,
            )),
            Ok(Err(error)) | Err(error) => Err(error),
        };
        let apply = matches!(&outcome, Ok(response) if response.apply_writes);
        state.finish(tx, apply);
        self.logs = std::mem::take(&mut state.logs);
        outcome.map_err(|error| AppFailure::new(error, &options))
    }

    fn call_state(&self, tx: &mut Tx, endpoint: &EndpointProperties) -> Shared {
        let context = match endpoint.mode {
            EndpointMode::ReadWrite => ExecContext::AppRw,
            // Historical endpoints read like read-only ones (spec/ccf-js.md §4.4); the node
            // runs them only once the historical state is there.
            EndpointMode::ReadOnly | EndpointMode::Historical => ExecContext::AppRo,
        };
        let mut state = CallState::new(context, tx, self.host.random_seed());
        state.host_time_ms = self.host.untrusted_time_ms();
        state.app_host = Some(HostHandle(self.host.clone()));
        Rc::new(RefCell::new(state))
    }
}

impl std::fmt::Debug for JsApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsApp").field("logs", &self.logs).finish()
    }
}

/// Glue for the request/response path, evaluated before user code so that it captures the
/// built-ins before a script can replace them.
const APP_JS: &str = include_str!("app.js");

/// Loads the endpoint's module, calls its function with the request object, and reads the
/// response. Failures of loading and of the returned value are CCF's texts (`Ok(Err(…))`); an
/// exception of the handler itself propagates (`Err`), becoming "Exception thrown while
/// executing.".
fn call_endpoint<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
    endpoint: &EndpointProperties,
    request: &JsRequest,
    caller: &JsCaller,
) -> rquickjs::Result<Result<response::ResponseParts, JsError>> {
    let glue: Function = ctx.eval(APP_JS)?;
    glue.call::<_, ()>((natives.clone(),))?;
    let handler = match modules::load_handler(ctx, state, endpoint)? {
        Ok(handler) => handler,
        Err(error) => return Ok(Err(error)),
    };
    let request = request::request_object(ctx, request, caller)?;
    let returned: Value = handler.call((request,))?;
    response::read_response(ctx, natives, &returned)
}
