//! Built-in endpoints and what every endpoint handler sees.

pub mod common;
pub mod gov;
pub mod join;
pub mod node;
pub mod openapi;
pub mod snapshot;

use std::sync::Arc;

use cloister_gov::{ConstitutionEngine, NodeAction};
use cloister_kv::Tx;
use cloister_types::ApiError;

use crate::core::{NodeGovHost, NodeView};
use crate::rpc::{Caller, PathParams, Request, Response};

/// What a handler gets: the request, its path parameters, the authenticated caller, the
/// transaction it runs in, and a read-only view of the node.
pub struct EndpointContext<'a> {
    pub request: &'a Request,
    pub params: &'a PathParams,
    pub caller: &'a Caller,
    pub tx: &'a mut Tx,
    pub node: &'a NodeView<'a>,
    /// The constitution's interpreter (governance endpoints).
    pub engine: &'a mut (dyn ConstitutionEngine + Send),
    /// `ccf.network.*` for the constitution's `apply`.
    pub gov_host: &'a mut NodeGovHost<'a>,
    /// `ccf.node.*` requests made by `apply`.
    pub node_actions: &'a mut Vec<NodeAction>,
}

impl std::fmt::Debug for EndpointContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointContext")
            .field("path", &self.request.path)
            .finish()
    }
}

/// An endpoint's code. Writes apply iff it returns a 2xx response (CCF's default).
pub type Handler =
    Arc<dyn Fn(&mut EndpointContext<'_>) -> Result<Response, ApiError> + Send + Sync>;

/// Wraps a function as a [`Handler`].
pub fn handler(
    f: impl Fn(&mut EndpointContext<'_>) -> Result<Response, ApiError> + Send + Sync + 'static,
) -> Handler {
    Arc::new(f)
}

/// 400 `InvalidQueryParameterValue`, as CCF phrases a missing or bad query parameter.
pub fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidQueryParameterValue", message)
}
