//! The three frontends and how a path picks one (spec/ccf-api.md §0 "Frontends and URL
//! prefixes"): `/node/…`, `/gov/…`, `/app/…`; any other first segment goes to the app frontend
//! with the whole path (`GET /log/private` is `GET /app/log/private`).

use crate::apps::App;
use crate::endpoints::{self, Handler};
use crate::rpc::EndpointRegistry;

/// Which frontend serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frontend {
    Node,
    Gov,
    App,
}

/// Endpoint registries of the three frontends. Paths are registered without the prefix.
#[derive(Default)]
pub struct Frontends {
    pub node: EndpointRegistry<Handler>,
    pub gov: EndpointRegistry<Handler>,
    pub app: EndpointRegistry<Handler>,
}

impl std::fmt::Debug for Frontends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frontends").finish_non_exhaustive()
    }
}

impl Frontends {
    /// The built-in endpoints of CCF's three frontends, and `apps` under `/app`.
    pub fn with_builtins(apps: &[&dyn App]) -> Frontends {
        let mut frontends = Frontends::default();
        for registry in [&mut frontends.node, &mut frontends.gov, &mut frontends.app] {
            endpoints::common::install(registry);
        }
        endpoints::node::install(&mut frontends.node);
        endpoints::gov::install(&mut frontends.gov);
        for app in apps {
            app.install(&mut frontends.app);
        }
        // Last: each `/api` document lists what its registry holds now.
        endpoints::openapi::install(Frontend::Node, &mut frontends.node);
        endpoints::openapi::install(Frontend::Gov, &mut frontends.gov);
        endpoints::openapi::install(Frontend::App, &mut frontends.app);
        frontends
    }

    pub fn registry(&self, frontend: Frontend) -> &EndpointRegistry<Handler> {
        match frontend {
            Frontend::Node => &self.node,
            Frontend::Gov => &self.gov,
            Frontend::App => &self.app,
        }
    }
}

/// The frontend for `path` and the path within it.
pub fn route(path: &str) -> (Frontend, &str) {
    for (prefix, frontend) in [
        ("/node", Frontend::Node),
        ("/gov", Frontend::Gov),
        ("/app", Frontend::App),
    ] {
        if let Some(rest) = path.strip_prefix(prefix)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return (frontend, if rest.is_empty() { "/" } else { rest });
        }
    }
    (Frontend::App, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_to_frontends_like_ccf() {
        assert_eq!(route("/node/state"), (Frontend::Node, "/state"));
        assert_eq!(route("/gov/service/info"), (Frontend::Gov, "/service/info"));
        assert_eq!(route("/app/log/private"), (Frontend::App, "/log/private"));
        assert_eq!(route("/log/private"), (Frontend::App, "/log/private"));
        assert_eq!(route("/nodes"), (Frontend::App, "/nodes"));
    }
}
