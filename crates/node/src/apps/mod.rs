//! Native applications: Cloister's counterpart of CCF's C++ apps. An app registers endpoints
//! (method, path template, auth policies, mode) whose handlers get the request, the caller and a
//! transaction.

pub mod logging;

use crate::endpoints::Handler;
use crate::rpc::EndpointRegistry;

/// An application the node serves under `/app`.
pub trait App: Send + Sync {
    /// Adds the app's endpoints (paths without the `/app` prefix).
    fn install(&self, registry: &mut EndpointRegistry<Handler>);
}
