//! JavaScript application endpoints on the app frontend: CCF's `js_generic` dispatch
//! (spec/ccf-js.md §1.2–§4). Endpoints deployed by `set_js_app` live in
//! `public:ccf.gov.endpoints`; they take priority over the built-in app endpoints, each request
//! runs in its own transaction through [`JsApp::handle`], and the transaction commits iff the
//! handler's writes apply.

use std::rc::Rc;

use cloister_crypto::{Certificate, Entropy, SeededEntropy, Sha256Hash, sha256_concat};
use cloister_js::{
    AppFailure, AppHost, AuthnPolicy, EndpointMode, HistoricalHost, JsApp, JsCaller, JsEndpoint,
    JsRequest, JsResponse, LogLevel, js_endpoints,
};
use cloister_kv::{KvError, Tx};
use cloister_ledger::EntryFlags;
use cloister_types::{ApiError, NodeId, SeqNo, TxId, TxStatus, View};
use serde_json::Value;

use crate::core::execute::{COMMIT_ATTEMPTS_MAX, TRANSACTION_ID_HEADER, conflict_exhausted};
use crate::core::historical_cache::NodeHistorical;
use crate::core::{NodeCore, Output, TxStatusIndex};
use crate::error::NodeError;
use crate::rpc::{AuthPolicy, Caller, PathParams, PathTemplate, Request, Response, authenticate};
use crate::tables::{MEMBERS_CERTS, MEMBERS_INFO, USERS_CERTS, USERS_INFO};

/// What the JS endpoints say about one request.
#[derive(Debug)]
pub(crate) enum JsLookup {
    /// No JS endpoint has this path: the built-ins decide.
    NoPath,
    /// JS endpoints have this path, but not for this method: their methods.
    OtherMethods(Vec<String>),
    /// The endpoint to run, its matched template and raw parameters.
    Endpoint {
        endpoint: Box<JsEndpoint>,
        params: PathParams,
    },
    /// An answer already (two templates match, the table is malformed).
    Answer(Response),
}

/// Finds the JS endpoint for `method` and `path` (the path within the app frontend): the exact
/// `"METHOD path"` key first, then templates; two matching templates are an error, as in CCF.
pub(crate) fn find_js_endpoint(tx: &mut Tx, method: &str, path: &str) -> JsLookup {
    let endpoints = match js_endpoints(tx) {
        Ok(endpoints) => endpoints,
        Err(error) => return JsLookup::Answer(internal_error(error.to_string())),
    };
    if endpoints.is_empty() {
        return JsLookup::NoPath;
    }
    if let Some(exact) = endpoints
        .iter()
        .find(|e| e.method == method && e.path == path)
    {
        return JsLookup::Endpoint {
            endpoint: Box::new(exact.clone()),
            params: PathParams::new(),
        };
    }
    let mut same_method = Vec::new();
    let mut methods = Vec::new();
    for endpoint in &endpoints {
        let params = if endpoint.path == path {
            Some(PathParams::new())
        } else {
            PathTemplate::parse(&endpoint.path)
                .filter(|template| !template.is_literal())
                .and_then(|template| template.matches_raw(path))
        };
        let Some(params) = params else { continue };
        if endpoint.method == method {
            same_method.push((endpoint, params));
        } else {
            methods.push(endpoint.method.clone());
        }
    }
    match same_method.len() {
        0 if methods.is_empty() => JsLookup::NoPath,
        0 => JsLookup::OtherMethods(methods),
        1 => {
            let (endpoint, params) = same_method.swap_remove(0);
            JsLookup::Endpoint {
                endpoint: Box::new(endpoint.clone()),
                params,
            }
        }
        _ => {
            let templates: Vec<&str> = same_method.iter().map(|(e, _)| e.path.as_str()).collect();
            JsLookup::Answer(internal_error(format!(
                "Multiple endpoints match {method} {path}: {}",
                templates.join(", ")
            )))
        }
    }
}

impl NodeCore {
    /// Runs a JS endpoint: authenticate, run the handler, commit iff its writes apply; a
    /// conflicting commit re-runs the whole request, at most [`COMMIT_ATTEMPTS_MAX`] times.
    pub(crate) fn execute_js(
        &mut self,
        request: &Request,
        endpoint: &JsEndpoint,
        params: &PathParams,
    ) -> Response {
        let properties = &endpoint.properties;
        let policies = match map_policies(&properties.authn_policies) {
            Ok(policies) => policies,
            Err(error) => return Response::error(&error),
        };
        // Historical endpoints (spec/ccf-js.md §4.4): CCF's adapter runs once the caller is
        // authenticated, and answers instead of the handler when the target cannot be queried.
        if properties.mode == EndpointMode::Historical
            && let Err(error) =
                js_authenticate(&policies, request, &mut self.store.begin(), self.now_unix)
        {
            return refusal(&policies, &error);
        }
        if let Err(response) = self.prepare_historical(request, properties.mode) {
            return response;
        }
        let js_request = JsRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            route: format!("/app{}", endpoint.path),
            headers: request.headers.clone(),
            params: params.clone(),
            body: request.body.clone(),
        };
        for _ in 0..COMMIT_ATTEMPTS_MAX {
            let mut tx = self.store.begin();
            let caller = match js_authenticate(&policies, request, &mut tx, self.now_unix) {
                Ok(caller) => caller,
                Err(error) => return refusal(&policies, &error),
            };
            let outcome = self
                .js_app()
                .handle(&mut tx, properties, &js_request, &caller);
            self.log_js_call(&outcome, &js_request);
            let mut js_response = match outcome {
                Ok(response) => response,
                Err(failure) => return to_response(failure.response()),
            };
            // CCF writes each launch to its host as the handler runs (a failed call has none).
            for launch in std::mem::take(&mut js_response.launches) {
                self.outputs.push_back(Output::LaunchProcess {
                    args: launch.args,
                    stdin: launch.stdin,
                });
            }
            if !js_response.apply_writes {
                return to_response(js_response); // discarded: no commit, no transaction id
            }
            if properties.mode == EndpointMode::ReadOnly && tx.has_writes() {
                return internal_error("A read-only endpoint tried to write.".to_owned());
            }
            let claims = js_response.claims_digest;
            let mut response = to_response(js_response);
            let read_version = tx.read_version();
            let touched = tx.touched_maps();
            match self.commit_tx(tx, EntryFlags(0), false, claims) {
                Ok(Some(txid)) => {
                    response
                        .headers
                        .push((TRANSACTION_ID_HEADER.to_owned(), txid.to_string()));
                    if let Err(error) = self.after_write() {
                        return internal_error(error.to_string());
                    }
                }
                Ok(None) if touched => {
                    if let Some(view) = self.statuses.view_at(read_version) {
                        let txid = TxId {
                            view,
                            seqno: read_version,
                        };
                        response
                            .headers
                            .push((TRANSACTION_ID_HEADER.to_owned(), txid.to_string()));
                    }
                }
                Ok(None) => {}
                Err(NodeError::Kv(KvError::Conflict { .. })) => continue,
                Err(error) => return internal_error(error.to_string()),
            }
            return response;
        }
        conflict_exhausted()
    }

    /// What one run of a JS handler leaves in the node's log, as CCF logs it: its `console.*`
    /// lines, its exception when `log_exception_details` is set, and the metrics line unless
    /// the app turned it off (`ccf.enableMetricsLogging(false)`). Every run logs, re-runs after
    /// a conflict included.
    fn log_js_call(&mut self, outcome: &Result<JsResponse, AppFailure>, request: &JsRequest) {
        let Some(app) = &self.js_app else { return };
        for line in app.logs() {
            self.outputs.push_back(Output::AppLog {
                level: line.level,
                text: line.text.clone(),
            });
        }
        let metrics = app.metrics_logging();
        let status = match outcome {
            Ok(response) => response.status,
            Err(failure) => {
                if failure.log_exception_details
                    && let Some(details) = failure.exception_details()
                {
                    let reason = details["message"].as_str().unwrap_or_default();
                    let mut text = format!("{} {reason}", failure.message());
                    if let Some(trace) = details["trace"].as_str() {
                        text.push('\n');
                        text.push_str(trace);
                    }
                    self.outputs.push_back(Output::AppLog {
                        level: LogLevel::Warn,
                        text,
                    });
                }
                failure.response().status
            }
        };
        if metrics {
            self.outputs.push_back(Output::JsExecuted {
                input: self.inputs,
                method: request.method.clone(),
                route: request.route.clone(),
                status,
            });
        }
    }

    /// The node's `JsApp` (its compiled modules and reusable interpreters), made at the first
    /// JavaScript request, with the host view of this request.
    fn js_app(&mut self) -> &mut JsApp {
        let host: Rc<dyn AppHost> = Rc::new(self.app_host());
        let app = self.js_app.get_or_insert_with(|| JsApp::new(host.clone()));
        app.set_host(host);
        app
    }

    /// A snapshot of what `ccf.consensus` and the clock say now, with a fresh seed.
    fn app_host(&mut self) -> NodeAppHost {
        self.js_requests += 1;
        NodeAppHost {
            statuses: self.statuses.clone(),
            time_ms: u64::try_from(self.now_unix)
                .unwrap_or(0)
                .saturating_mul(1000),
            seed: request_seed(&self.node.id, self.js_requests, self.now_ms),
            entropy: request_entropy(&self.settings.entropy_seed, &self.node.id, self.js_requests),
            historical: self.historical.for_request(self.now_ms),
        }
    }
}

/// The node's side of `ccf.consensus`, the untrusted clock, `Math.random`'s seed and the
/// historical queries.
#[derive(Debug)]
struct NodeAppHost {
    statuses: TxStatusIndex,
    time_ms: u64,
    seed: u64,
    /// This request's `ccf.crypto` randomness (secret: not shown by `Debug`).
    entropy: RequestEntropy,
    historical: NodeHistorical,
}

/// 32 secret bytes; `Debug` hides them.
struct RequestEntropy([u8; 32]);

impl std::fmt::Debug for RequestEntropy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestEntropy(..)")
    }
}

impl AppHost for NodeAppHost {
    fn last_committed_tx_id(&self) -> TxId {
        self.statuses.committed()
    }

    fn tx_status(&self, tx_id: TxId) -> TxStatus {
        self.statuses.status(tx_id)
    }

    fn view_for_seqno(&self, seqno: SeqNo) -> Option<View> {
        self.statuses.view_at(seqno)
    }

    fn untrusted_time_ms(&self) -> u64 {
        self.time_ms
    }

    fn random_seed(&self) -> u64 {
        self.seed
    }

    fn entropy(&self) -> [u8; 32] {
        self.entropy.0
    }

    fn historical(&self) -> Option<&dyn HistoricalHost> {
        Some(&self.historical)
    }
}

/// A request's `ccf.crypto` bytes: a DRBG (SHA-256 in counter mode, `SeededEntropy`) keyed by
/// the node's secret `entropy_seed` and the node id, at position `counter`. Fresh per request;
/// secret as long as the seed is (the host draws it from the OS at every start).
fn request_entropy(seed: &[u8; 32], node: &NodeId, counter: u64) -> RequestEntropy {
    let key = sha256_concat(&[
        b"cloister js request entropy",
        seed,
        node.as_str().as_bytes(),
    ]);
    let mut stream =
        SeededEntropy::from_seed_bytes(sha256_concat(&[key.as_bytes(), &counter.to_le_bytes()]).0);
    let mut out = [0u8; 32];
    stream.fill_bytes(&mut out);
    RequestEntropy(out)
}

/// A per-request seed without OS randomness: the node id (unique per node), the request
/// counter and the clock, hashed, so that seeds neither repeat within a run nor line up
/// across restarts.
fn request_seed(node: &NodeId, counter: u64, now_ms: u64) -> u64 {
    let digest: Sha256Hash = sha256_concat(&[
        node.as_str().as_bytes(),
        &counter.to_le_bytes(),
        &now_ms.to_le_bytes(),
    ]);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.0[..8]);
    u64::from_le_bytes(first)
}

/// Maps the stored names to the policies the node runs; an unknown name is CCF's 500
/// "Unknown auth policy: X".
fn map_policies(policies: &[AuthnPolicy]) -> Result<Vec<AuthPolicy>, ApiError> {
    let one = |name: &str| -> Result<AuthPolicy, ApiError> {
        AuthPolicy::from_name(name).ok_or_else(|| {
            ApiError::new(500, "InternalError", format!("Unknown auth policy: {name}"))
        })
    };
    policies
        .iter()
        .map(|policy| match policy {
            AuthnPolicy::Named(name) => one(name),
            AuthnPolicy::AllOf(names) => names
                .iter()
                .map(|name| one(name))
                .collect::<Result<Vec<_>, _>>()
                .map(AuthPolicy::AllOf),
        })
        .collect()
}

/// Tries the policies in order (CCF's order); the first that accepts gives the caller. When
/// none does: 401 with one detail per policy, as for built-in endpoints.
fn js_authenticate(
    policies: &[AuthPolicy],
    request: &Request,
    tx: &mut Tx,
    now_unix: i64,
) -> Result<JsCaller, ApiError> {
    if policies.is_empty() {
        return Ok(JsCaller::Unauthenticated);
    }
    let mut details = Vec::with_capacity(policies.len());
    for policy in policies {
        match authenticate(std::slice::from_ref(policy), request, tx, now_unix) {
            Ok(caller) => return Ok(js_caller(policy, &caller, tx)),
            // A malformed COSE envelope: CCF throws, the request ends (500).
            Err(error) if error.status != 401 => return Err(error),
            Err(error) => details.extend(error.details),
        }
    }
    Err(ApiError::new(
        401,
        "InvalidAuthenticationInfo",
        "Invalid authentication credentials.",
    )
    .with_details(details))
}

/// The 401 (or other error) response; as in CCF, the last policy tried sets its
/// `www-authenticate` header (JWT: `Bearer …`, COSE: `COSE-SIGN1 …`).
fn refusal(policies: &[AuthPolicy], error: &ApiError) -> Response {
    let mut response = Response::error(error);
    let header = match policies.last() {
        Some(policy) if error.status == 401 => policy.www_authenticate(),
        _ => None,
    };
    if let Some(value) = header {
        response
            .headers
            .push(("www-authenticate".to_owned(), value.to_owned()));
    }
    response
}

/// The identity a handler sees as `request.caller` (spec/ccf-js.md §2.3).
fn js_caller(policy: &AuthPolicy, caller: &Caller, tx: &mut Tx) -> JsCaller {
    match (policy, caller) {
        (AuthPolicy::AllOf(policies), Caller::AllOf(callers)) => JsCaller::AllOf(
            policies
                .iter()
                .zip(callers)
                .map(|(policy, caller)| js_caller(policy, caller, tx))
                .collect(),
        ),
        (_, Caller::User { id, cert_der }) => JsCaller::UserCert {
            id: id.as_str().to_owned(),
            data: info_field(tx, USERS_INFO, id.as_str(), "user_data"),
            cert: cert_pem(tx, USERS_CERTS, id.as_str(), cert_der),
        },
        (_, Caller::Member { id, cert_der }) => JsCaller::MemberCert {
            id: id.as_str().to_owned(),
            data: info_field(tx, MEMBERS_INFO, id.as_str(), "member_data"),
            cert: cert_pem(tx, MEMBERS_CERTS, id.as_str(), cert_der),
        },
        (_, Caller::AnyCert { cert_der }) => JsCaller::AnyCert {
            cert: der_to_pem(cert_der),
        },
        (_, Caller::Jwt(jwt)) => JsCaller::Jwt {
            key_issuer: jwt.key_issuer.clone(),
            header: jwt.header.clone(),
            payload: jwt.payload.clone(),
        },
        (_, Caller::UserCose(user)) => JsCaller::UserCoseSign1 {
            id: user.id.as_str().to_owned(),
            data: info_field(tx, USERS_INFO, user.id.as_str(), "user_data"),
            cert: user.cert_pem.clone(),
            content: user.content.clone(),
        },
        (_, Caller::MemberCose(member)) => JsCaller::MemberCoseSign1 {
            id: member.id.as_str().to_owned(),
            data: info_field(tx, MEMBERS_INFO, member.id.as_str(), "member_data"),
            cert: member.cert_pem.clone(),
            content: member.content.clone(),
        },
        (AuthPolicy::NoAuth, _) => JsCaller::NoAuth,
        (_, _) => JsCaller::Unauthenticated,
    }
}

/// `user_data` / `member_data` of the identity's info record; `null` when unset.
fn info_field(tx: &mut Tx, table: &str, id: &str, field: &str) -> Value {
    tx.get(table, id.as_bytes())
        .and_then(|raw| serde_json::from_slice::<Value>(&raw).ok())
        .and_then(|info| info.get(field).cloned())
        .unwrap_or(Value::Null)
}

/// The registered PEM (as CCF hands it over), else the presented certificate re-encoded.
fn cert_pem(tx: &mut Tx, table: &str, id: &str, der: &[u8]) -> String {
    match tx.get(table, id.as_bytes()) {
        Some(pem) => String::from_utf8_lossy(&pem).into_owned(),
        None => der_to_pem(der),
    }
}

fn der_to_pem(der: &[u8]) -> String {
    Certificate::from_der(der)
        .map(|cert| cert.to_pem())
        .unwrap_or_default()
}

fn to_response(response: cloister_js::JsResponse) -> Response {
    Response {
        status: response.status,
        headers: response.headers,
        body: response.body,
    }
}

fn internal_error(message: String) -> Response {
    Response::error(&ApiError::new(500, "InternalError", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_map_to_cloister_policies_or_are_refused() {
        let named = |n: &str| AuthnPolicy::Named(n.to_owned());
        assert_eq!(
            map_policies(&[
                named("user_cert"),
                named("jwt"),
                named("user_cose_sign1"),
                named("member_cose_sign1")
            ])
            .unwrap(),
            vec![
                AuthPolicy::UserCert,
                AuthPolicy::Jwt,
                AuthPolicy::UserCoseSign1,
                AuthPolicy::MemberCoseSign1
            ]
        );
        assert_eq!(
            map_policies(&[AuthnPolicy::AllOf(vec![
                "user_cert".to_owned(),
                "any_cert".to_owned()
            ])])
            .unwrap(),
            vec![AuthPolicy::AllOf(vec![
                AuthPolicy::UserCert,
                AuthPolicy::AnyCert
            ])]
        );
        for policies in [
            vec![named("bogus")],
            vec![AuthnPolicy::AllOf(vec![
                "user_cert".to_owned(),
                "bogus".to_owned(),
            ])],
        ] {
            let unknown = map_policies(&policies).unwrap_err();
            assert_eq!(
                (unknown.status, unknown.message.as_str()),
                (500, "Unknown auth policy: bogus")
            );
        }
    }

    #[test]
    fn no_policies_is_unauthenticated_and_no_auth_is_its_own_caller() {
        let store = cloister_kv::Store::new(cloister_kv::LedgerSecrets::with_first([3; 32]));
        let mut tx = store.begin();
        assert_eq!(
            js_authenticate(&[], &Request::default(), &mut tx, 0).unwrap(),
            JsCaller::Unauthenticated
        );
        assert_eq!(
            js_authenticate(&[AuthPolicy::NoAuth], &Request::default(), &mut tx, 0).unwrap(),
            JsCaller::NoAuth
        );
    }

    #[test]
    fn seeds_differ_per_request_and_per_node() {
        let a = NodeId::from_digest(&[1; 32]);
        let b = NodeId::from_digest(&[2; 32]);
        assert_ne!(request_seed(&a, 1, 0), request_seed(&a, 2, 0));
        assert_ne!(request_seed(&a, 1, 0), request_seed(&b, 1, 0));
        assert_eq!(request_seed(&a, 1, 5), request_seed(&a, 1, 5));
    }

    #[test]
    fn request_entropy_is_keyed_by_the_secret_seed_node_and_counter() {
        let a = NodeId::from_digest(&[1; 32]);
        let b = NodeId::from_digest(&[2; 32]);
        let bytes = |seed: u8, node: &NodeId, n: u64| request_entropy(&[seed; 32], node, n).0;
        assert_eq!(bytes(1, &a, 1), bytes(1, &a, 1));
        assert_ne!(bytes(1, &a, 1), bytes(1, &a, 2));
        assert_ne!(bytes(1, &a, 1), bytes(1, &b, 1));
        assert_ne!(bytes(1, &a, 1), bytes(2, &a, 1));
    }

    fn store_with_endpoints(keys: &[&str]) -> cloister_kv::Store {
        let mut store = cloister_kv::Store::new(cloister_kv::LedgerSecrets::with_first([3; 32]));
        let mut tx = store.begin();
        for key in keys {
            tx.put(
                cloister_js::ENDPOINTS_TABLE,
                key.as_bytes().to_vec(),
                br#"{"js_module":"/m.js","js_function":"f","authn_policies":[]}"#.to_vec(),
            );
        }
        store
            .commit(tx, View(2), None, EntryFlags(0))
            .unwrap()
            .unwrap();
        store
    }

    fn found(lookup: JsLookup) -> (String, PathParams) {
        match lookup {
            JsLookup::Endpoint { endpoint, params } => (endpoint.path, params),
            other => panic!("no endpoint: {other:?}"),
        }
    }

    #[test]
    fn exact_paths_win_then_templates_with_raw_params() {
        let store = store_with_endpoints(&["GET /log/{id}", "GET /log/all", "POST /log/{id}"]);
        let mut tx = store.begin();
        assert_eq!(
            found(find_js_endpoint(&mut tx, "GET", "/log/all")).0,
            "/log/all"
        );
        let (path, params) = found(find_js_endpoint(&mut tx, "GET", "/log/a%20b"));
        assert_eq!(path, "/log/{id}");
        assert_eq!(params["id"], "a%20b");
        assert!(matches!(
            find_js_endpoint(&mut tx, "DELETE", "/log/1"),
            JsLookup::OtherMethods(methods) if methods == ["GET", "POST"]
        ));
        assert!(matches!(
            find_js_endpoint(&mut tx, "GET", "/other"),
            JsLookup::NoPath
        ));
    }

    #[test]
    fn two_matching_templates_are_an_internal_error() {
        let store = store_with_endpoints(&["GET /a/{x}", "GET /{y}/b"]);
        let mut tx = store.begin();
        match find_js_endpoint(&mut tx, "GET", "/a/b") {
            JsLookup::Answer(response) => assert_eq!(response.status, 500),
            other => panic!("{other:?}"),
        }
    }
}
