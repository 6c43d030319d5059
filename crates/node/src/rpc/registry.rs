//! The endpoint registry: endpoints by method and path template, and CCF's dispatcher answers
//! when none fits (spec/ccf-api.md §0 "Dispatcher-level errors"): 404 `ResourceNotFound`
//! "Unknown path: <path>.", 405 `UnsupportedHttpVerb` with an `allow` header, 204 for `OPTIONS`.

use cloister_types::ApiError;

use crate::rpc::auth::AuthPolicy;
use crate::rpc::path_template::{PathParams, PathTemplate};

/// How an endpoint uses the store (CCF's endpoint mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    ReadWrite,
    ReadOnly,
    Historical,
}

/// Whether a backup forwards the request to the primary (CCF's `forwarding_required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarding {
    Sometimes,
    Always,
    Never,
}

/// One endpoint; `H` is what runs it (a built-in function, a JS module and function, …).
#[derive(Debug, Clone)]
pub struct Endpoint<H> {
    pub method: String,
    pub template: PathTemplate,
    /// Tried in order; the first that accepts the caller wins. Empty = unauthenticated.
    pub policies: Vec<AuthPolicy>,
    pub mode: Mode,
    pub forwarding: Forwarding,
    pub handler: H,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Found<'r, H> {
    Endpoint {
        endpoint: &'r Endpoint<H>,
        params: PathParams,
    },
    /// An `OPTIONS` request for a known path: answer 204 with this `allow` value.
    Options { allow: String },
}

/// Endpoints of one frontend.
#[derive(Debug, Clone)]
pub struct EndpointRegistry<H> {
    endpoints: Vec<Endpoint<H>>,
}

impl<H> Default for EndpointRegistry<H> {
    fn default() -> EndpointRegistry<H> {
        EndpointRegistry {
            endpoints: Vec::new(),
        }
    }
}

/// HTTP methods in the order CCF's `allow` header lists them (llhttp's method order).
const METHOD_ORDER: &[&str] = &[
    "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

impl<H> EndpointRegistry<H> {
    pub fn new() -> EndpointRegistry<H> {
        EndpointRegistry::default()
    }

    /// Adds an endpoint; a later one with the same method and template replaces the earlier.
    pub fn install(&mut self, endpoint: Endpoint<H>) {
        self.endpoints
            .retain(|e| !(e.method == endpoint.method && e.template == endpoint.template));
        self.endpoints.push(endpoint);
    }

    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint<H>> {
        self.endpoints.iter()
    }

    /// The endpoint for `method` and `path`, or CCF's answer when there is none.
    pub fn find(&self, method: &str, path: &str) -> Result<Found<'_, H>, NotFound> {
        let mut matching: Vec<(&Endpoint<H>, PathParams)> = self
            .endpoints
            .iter()
            .filter_map(|e| e.template.matches(path).map(|params| (e, params)))
            .collect();
        if matching.is_empty() {
            let error = ApiError::new(404, "ResourceNotFound", format!("Unknown path: {path}."));
            return Err(NotFound { error, allow: None });
        }
        // Exact paths win over templates (CCF tries fully-qualified endpoints first).
        if matching.iter().any(|(e, _)| e.template.is_literal()) {
            matching.retain(|(e, _)| e.template.is_literal());
        }
        if let Some(position) = matching.iter().position(|(e, _)| e.method == method) {
            let (endpoint, params) = matching.swap_remove(position);
            return Ok(Found::Endpoint { endpoint, params });
        }
        let allow = allow_header(matching.iter().map(|(e, _)| e.method.as_str()));
        if method == "OPTIONS" {
            return Ok(Found::Options { allow });
        }
        let message = format!("Allowed methods for '{path}' are: {allow}.");
        let error = ApiError::new(405, "UnsupportedHttpVerb", message);
        Err(NotFound {
            error,
            allow: Some(allow),
        })
    }
}

/// No endpoint for a request: CCF's error, and for a 405 the `allow` header's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    pub error: ApiError,
    pub allow: Option<String>,
}

/// `OPTIONS, <verbs>` in CCF's order.
pub(crate) fn allow_header<'m>(methods: impl Iterator<Item = &'m str>) -> String {
    let mut verbs: Vec<&str> = methods.collect();
    verbs.sort_by_key(|verb| {
        METHOD_ORDER
            .iter()
            .position(|m| m == verb)
            .unwrap_or(METHOD_ORDER.len())
    });
    verbs.dedup();
    let mut allow = vec!["OPTIONS"];
    allow.extend(verbs.into_iter().filter(|verb| *verb != "OPTIONS"));
    allow.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: &str, template: &str) -> Endpoint<&'static str> {
        Endpoint {
            method: method.to_owned(),
            template: PathTemplate::parse(template).unwrap(),
            policies: Vec::new(),
            mode: Mode::ReadOnly,
            forwarding: Forwarding::Sometimes,
            handler: "h",
        }
    }

    fn registry() -> EndpointRegistry<&'static str> {
        let mut registry = EndpointRegistry::new();
        registry.install(endpoint("GET", "/log/private"));
        registry.install(endpoint("POST", "/log/private"));
        registry.install(endpoint("DELETE", "/log/private"));
        registry.install(endpoint("GET", "/log/{kind}"));
        registry
    }

    #[test]
    fn unknown_paths_are_404_resource_not_found() {
        let error = registry().find("GET", "/nope").unwrap_err().error;
        assert_eq!(
            (error.status, error.code.as_str(), error.message.as_str()),
            (404, "ResourceNotFound", "Unknown path: /nope.")
        );
    }

    #[test]
    fn wrong_verbs_are_405_with_the_allowed_list_in_ccf_order() {
        let not_found = registry().find("PUT", "/log/private").unwrap_err();
        assert_eq!(
            not_found.allow.as_deref(),
            Some("OPTIONS, DELETE, GET, POST")
        );
        let error = not_found.error;
        assert_eq!(error.status, 405);
        assert_eq!(error.code, "UnsupportedHttpVerb");
        assert_eq!(
            error.message,
            "Allowed methods for '/log/private' are: OPTIONS, DELETE, GET, POST."
        );
    }

    #[test]
    fn options_lists_the_verbs() {
        match registry().find("OPTIONS", "/log/private").unwrap() {
            Found::Options { allow } => assert_eq!(allow, "OPTIONS, DELETE, GET, POST"),
            Found::Endpoint { .. } => panic!("OPTIONS is answered by the dispatcher"),
        }
    }

    #[test]
    fn literal_paths_win_over_templates_and_templates_bind_parameters() {
        let registry = registry();
        match registry.find("GET", "/log/private").unwrap() {
            Found::Endpoint { endpoint, params } => {
                assert!(endpoint.template.is_literal());
                assert!(params.is_empty());
            }
            Found::Options { .. } => panic!(),
        }
        match registry.find("GET", "/log/public").unwrap() {
            Found::Endpoint { params, .. } => assert_eq!(params["kind"], "public"),
            Found::Options { .. } => panic!(),
        }
    }
}
