//! Running one request: pick the frontend and endpoint, authenticate, run the handler in a
//! transaction, apply its writes iff it answered 2xx, commit, and stamp the transaction id
//! (ARCHITECTURE.md "The path of one write", steps 3–5).

use cloister_kv::KvError;
use cloister_ledger::EntryFlags;
use cloister_types::{ApiError, SeqNo, TxId};
use serde_json::Value;

use crate::core::frontends::{Frontend, route};
use crate::core::gov_host::{NodeGovHost, apply_in_transaction};
use crate::core::js_app::{JsLookup, find_js_endpoint};
use crate::core::{NodeCore, NodeView};
use crate::endpoints::EndpointContext;
use crate::endpoints::Handler;
use crate::error::NodeError;
use crate::rpc::{
    AuthPolicy, Forwarding, Found, Mode, NotFound, PathParams, Request, Response, allow_header,
    authenticate,
};
use crate::tables::{SERVICE_INFO, SINGLETON_KEY};
use cloister_js::EndpointMode;

/// CCF retries a transaction that conflicts up to this many times, then answers 503.
pub(crate) const COMMIT_ATTEMPTS_MAX: usize = 30;

/// The response header carrying `view.seqno`.
pub const TRANSACTION_ID_HEADER: &str = "x-ms-ccf-transaction-id";

/// What became of a request: answered here, or to be forwarded to the primary.
#[derive(Debug)]
pub(crate) enum Dispatch {
    Respond(Response),
    Forward,
}

impl From<Response> for Dispatch {
    fn from(response: Response) -> Dispatch {
        Dispatch::Respond(response)
    }
}

impl NodeCore {
    pub(crate) fn execute(&mut self, request: &Request) -> Dispatch {
        let (frontend, path) = route(&request.path);
        if frontend == Frontend::App && !self.service_open {
            return Response::error(&ApiError::new(
                404,
                "FrontendNotOpen",
                "Frontend is not open.",
            ))
            .into();
        }
        // JS endpoints take priority over the built-ins (CCF's js_generic looks them up first).
        let mut js_methods = Vec::new();
        if frontend == Frontend::App {
            let mut tx = self.store.begin();
            match find_js_endpoint(&mut tx, &request.method, path) {
                JsLookup::Endpoint { endpoint, params } => {
                    let writes = endpoint.properties.mode == EndpointMode::ReadWrite;
                    if writes && self.must_forward(Mode::ReadWrite, Forwarding::Sometimes) {
                        return Dispatch::Forward;
                    }
                    if writes && let Some(busy) = self.at_capacity() {
                        return busy.into();
                    }
                    return self.execute_js(request, &endpoint, &params).into();
                }
                JsLookup::Answer(response) => return response.into(),
                JsLookup::OtherMethods(methods) => js_methods = methods,
                JsLookup::NoPath => {}
            }
        }
        let found = self
            .frontends
            .registry(frontend)
            .find(&request.method, path);
        let found = with_js_methods(found, &js_methods, &request.method, path);
        let (handler, policies, mode, params) = match found {
            Ok(Found::Endpoint { endpoint, params }) => {
                if self.must_forward(endpoint.mode, endpoint.forwarding) {
                    return Dispatch::Forward;
                }
                if endpoint.mode == Mode::ReadWrite
                    && let Some(busy) = self.at_capacity()
                {
                    return busy.into();
                }
                (
                    endpoint.handler.clone(),
                    endpoint.policies.clone(),
                    endpoint.mode,
                    params,
                )
            }
            Ok(Found::Options { allow }) => {
                return Response {
                    status: 204,
                    headers: vec![("allow".to_owned(), allow)],
                    body: Vec::new(),
                }
                .into();
            }
            Err(not_found) => {
                let mut response = Response::error(&not_found.error);
                if let Some(allow) = not_found.allow {
                    response.headers.push(("allow".to_owned(), allow));
                }
                return response.into();
            }
        };
        self.run_endpoint(request, &handler, &policies, mode, &params)
            .into()
    }

    /// Whether a backup hands this request to the primary (CCF's `forwarding_required`:
    /// Sometimes = when the endpoint may write).
    fn must_forward(&self, mode: Mode, forwarding: Forwarding) -> bool {
        !self.raft.is_primary()
            && match forwarding {
                Forwarding::Always => true,
                Forwarding::Never => false,
                Forwarding::Sometimes => mode == Mode::ReadWrite,
            }
    }

    /// CCF's answer to a write while the primary holds `max_uncommitted_tx_count` uncommitted
    /// transactions.
    fn at_capacity(&self) -> Option<Response> {
        self.raft.is_at_max_capacity().then(|| {
            Response::error(&ApiError::new(
                503,
                "TooManyPendingTransactions",
                "Too many transactions pending commit on the service.",
            ))
        })
    }

    /// Runs a built-in endpoint in a transaction, re-running it on conflict.
    fn run_endpoint(
        &mut self,
        request: &Request,
        handler: &Handler,
        policies: &[AuthPolicy],
        mode: Mode,
        params: &PathParams,
    ) -> Response {
        for _ in 0..COMMIT_ATTEMPTS_MAX {
            let mut tx = self.store.begin();
            let caller = match authenticate(policies, request, &mut tx, self.now_unix) {
                Ok(caller) => caller,
                Err(error) => return Response::error(&error),
            };
            let root_at_read_version = self.history.root().ok();
            let mut actions = Vec::new();
            let mut gov_host = NodeGovHost {
                latest_ledger_secret_seqno: 1,
                service: &self.service,
                now_unix: self.now_unix,
            };
            let view = NodeView {
                node_id: &self.node.id,
                pems: &self.pems,
                view: self.view,
                commit: self.statuses.committed(),
                last_signed: self.signing.last_signature(),
                latest_signed_root: self.signing.latest_root(),
                root_at_read_version,
                statuses: &self.statuses,
                receipts: &self.receipts,
                now_unix: self.now_unix,
                settings: &self.settings,
                service_open: self.service_open,
                service: &self.service,
                ledger_secrets: self.store.secrets(),
                primary: self.primary.as_ref(),
                is_primary: self.raft.is_primary(),
                raft: &self.raft,
                snapshot: self.snapshots.latest.as_ref(),
            };
            let result = handler(&mut EndpointContext {
                request,
                params,
                caller: &caller,
                tx: &mut tx,
                node: &view,
                engine: &mut *self.engine,
                gov_host: &mut gov_host,
                node_actions: &mut actions,
            });
            let mut response = match result {
                Ok(response) => response,
                Err(error) => return Response::error(&error),
            };
            if !(200..300).contains(&response.status) {
                return response; // writes are applied only on success
            }
            if let Err(error) = apply_in_transaction(&mut tx, actions, &self.pems.service_cert) {
                return Response::error(&error);
            }
            let read_version = tx.read_version();
            let touched = tx.touched_maps();
            if mode != Mode::ReadWrite && tx.has_writes() {
                return Response::error(&ApiError::new(
                    500,
                    "InternalError",
                    "A read-only endpoint tried to write.",
                ));
            }
            match self.commit_tx(tx, EntryFlags(0), false, None) {
                Ok(Some(txid)) => {
                    response
                        .headers
                        .push((TRANSACTION_ID_HEADER.to_owned(), txid.to_string()));
                    if let Err(error) = self.after_write() {
                        return internal(&error);
                    }
                }
                Ok(None) if touched => {
                    if let Some(txid) = self.read_txid(read_version) {
                        response
                            .headers
                            .push((TRANSACTION_ID_HEADER.to_owned(), txid.to_string()));
                    }
                }
                Ok(None) => {}
                Err(NodeError::Kv(KvError::Conflict { .. })) => continue,
                Err(error) => return internal(&error),
            }
            return response;
        }
        conflict_exhausted()
    }

    /// The transaction id of the version a read-only transaction read at.
    fn read_txid(&self, version: SeqNo) -> Option<TxId> {
        let view = self.statuses.view_at(version)?;
        Some(TxId {
            view,
            seqno: version,
        })
    }

    /// The app frontend opens once the service is Open at the committed level.
    pub(crate) fn refresh_service_open(&mut self) {
        let committed = self.statuses.committed().seqno;
        let at_commit = self
            .store
            .version_of(SERVICE_INFO, &SINGLETON_KEY)
            .is_some_and(|v| v <= committed);
        if !at_commit {
            return;
        }
        let status = self
            .store
            .get(SERVICE_INFO, &SINGLETON_KEY)
            .and_then(|raw| serde_json::from_slice::<Value>(&raw).ok())
            .and_then(|info| info["status"].as_str().map(str::to_owned));
        self.service_open = status.as_deref() == Some("Open");
    }
}

/// CCF's answer when a transaction kept conflicting.
pub(crate) fn conflict_exhausted() -> Response {
    let mut response = Response::error(&ApiError::new(
        503,
        "TransactionCommitAttemptsExceedLimit",
        format!(
            "Transaction continued to conflict after {COMMIT_ATTEMPTS_MAX} attempts. Retry later."
        ),
    ));
    response
        .headers
        .push(("retry-after".to_owned(), "3".to_owned()));
    response
}

/// Merges the methods JS endpoints have for the path into the built-ins' answer: the 405's
/// `allow` header and `OPTIONS` list both (a JS endpoint for this method was tried first).
fn with_js_methods<'r, H>(
    found: Result<Found<'r, H>, NotFound>,
    js_methods: &[String],
    method: &str,
    path: &str,
) -> Result<Found<'r, H>, NotFound> {
    if js_methods.is_empty() {
        return found;
    }
    let builtin_allow = match &found {
        Ok(Found::Endpoint { .. }) => return found,
        Ok(Found::Options { allow }) => allow.clone(),
        Err(NotFound { allow, .. }) => allow.clone().unwrap_or_default(),
    };
    let allow = allow_header(
        builtin_allow
            .split(", ")
            .filter(|verb| !verb.is_empty())
            .chain(js_methods.iter().map(String::as_str)),
    );
    if method == "OPTIONS" {
        return Ok(Found::Options { allow });
    }
    let message = format!("Allowed methods for '{path}' are: {allow}.");
    Err(NotFound {
        error: ApiError::new(405, "UnsupportedHttpVerb", message),
        allow: Some(allow),
    })
}

fn internal(error: &NodeError) -> Response {
    Response::error(&ApiError::new(500, "InternalError", error.to_string()))
}
