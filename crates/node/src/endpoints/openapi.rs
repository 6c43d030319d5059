//! `GET /{node,gov,app}/api` (spec/ccf-api.md §1.0, §1.2): an OpenAPI 3.0 document per frontend
//! listing the endpoints of its registry under their full paths (`/node/state`,
//! `/app/log/private`). Where CCF documents an endpoint, its operation object is CCF's own, copied
//! from CCF 6's documents (`openapi/`, see PROVENANCE.md) with the components it references;
//! only `x-ccf-forwarding` and `security` are rewritten to say what Cloister does. An endpoint
//! CCF does not document gets an operation in the shape CCF generates for endpoints without
//! schemas.
//!
//! `GET /gov/api?api-version=<v>` returns CCF's typespec-generated Swagger 2.0 document of that
//! governance API version, verbatim, as CCF 6 does; without `api-version` it returns the classic
//! document built from the registry.
//!
//! Handlers cannot see their registry, so [`install`] builds each document once, when the
//! frontends are built, and the `/api` handler serves the captured bytes.

use std::collections::BTreeSet;
use std::sync::Arc;

use cloister_types::ApiError;
use serde_json::{Map, Value, json};

use crate::core::Frontend;
use crate::endpoints::common::unreachable_template;
use crate::endpoints::gov::{API_VERSIONS, check_api_version};
use crate::endpoints::{EndpointContext, Handler, handler};
use crate::rpc::{
    AuthPolicy, Endpoint, EndpointRegistry, Forwarding, Mode, PathTemplate, Response,
};

/// CCF's `/node/api` document (CCF 6.0.17, `doc/schemas/node_openapi.json`).
pub const CCF_NODE_OPENAPI: &str = include_str!("../../openapi/node_openapi.json");
/// CCF's classic `/gov/api` document (`doc/schemas/gov_openapi.json`).
pub const CCF_GOV_OPENAPI: &str = include_str!("../../openapi/gov_openapi.json");
/// CCF's `/app/api` document for its logging sample app (`doc/schemas/app_openapi.json`).
pub const CCF_APP_OPENAPI: &str = include_str!("../../openapi/app_openapi.json");
/// `GET /gov/api?api-version=2024-07-01` (`doc/schemas/gov/2024-07-01/gov.json`).
pub const GOV_API_2024_07_01: &str = include_str!("../../openapi/gov_2024-07-01.json");
/// `GET /gov/api?api-version=2023-06-01-preview`
/// (`doc/schemas/gov/2023-06-01-preview/gov.json`).
pub const GOV_API_2023_06_01_PREVIEW: &str =
    include_str!("../../openapi/gov_2023-06-01-preview.json");

/// Installs `GET /api` into `frontend`'s registry. Call it after every other endpoint: the
/// document lists what the registry holds at that moment, `/api` included.
pub fn install(frontend: Frontend, registry: &mut EndpointRegistry<Handler>) {
    // A placeholder first, so that the document built from the registry lists `/api` itself.
    registry.install(api_endpoint(handler(|_| Ok(Response::default()))));
    let document: Arc<[u8]> = document(frontend, registry).to_string().into_bytes().into();
    let serve = match frontend {
        Frontend::Gov => handler(move |ctx| gov_api(ctx, &document)),
        Frontend::Node | Frontend::App => handler(move |_| Ok(json_response(document.to_vec()))),
    };
    registry.install(api_endpoint(serve));
}

/// The OpenAPI 3.0 document of `registry`, the endpoints of `frontend`.
pub fn document<H>(frontend: Frontend, registry: &EndpointRegistry<H>) -> Value {
    let ccf = ccf_document(frontend);
    let fallback = ccf_document(Frontend::Node);
    let prefix = prefix(frontend);
    let mut paths = Map::new();
    let mut ccf_operations = 0;
    for endpoint in registry.endpoints() {
        let template = endpoint.template.as_str();
        if is_hidden(frontend, &endpoint.method, template) {
            continue;
        }
        let path = format!("{prefix}{template}");
        let method = endpoint.method.to_ascii_lowercase();
        let operation = match ccf["paths"][&path].get(&method) {
            Some(operation) if operation.is_object() => {
                if !COMMON_PATHS.contains(&template) {
                    ccf_operations += 1;
                }
                cloister_operation(operation.clone(), endpoint)
            }
            _ => cloister_operation(generated_operation(&endpoint.method, &path), endpoint),
        };
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[method.as_str()] = operation;
        let parameters = path_parameters(&endpoint.template);
        if !parameters.is_empty() {
            item["parameters"] = Value::Array(parameters);
        }
    }
    let paths = Value::Object(paths);
    let components = referenced_components(&paths, &[&ccf["components"], &fallback["components"]]);
    // An app frontend serving CCF's logging sample describes itself as CCF's document does.
    let info = match frontend {
        Frontend::App if ccf_operations == 0 => json!({
            "title": "Cloister application",
            "description": "The application endpoints this Cloister node serves.",
            "version": "0.1.0",
        }),
        _ => ccf["info"].clone(),
    };
    json!({
        "openapi": "3.0.0",
        "info": info,
        "servers": [],
        "paths": paths,
        "components": components,
    })
}

/// Whether CCF leaves the endpoint out of its document (`set_openapi_hidden`): node-to-node and
/// snapshot endpoints, and the whole new governance API, which CCF 6 documents only in the
/// Swagger documents `GET /gov/api?api-version=…` returns (its paths are all under
/// `/members/`, `/recovery/` and `/service/`; the classic API has none there).
pub fn is_hidden(frontend: Frontend, method: &str, template: &str) -> bool {
    match frontend {
        Frontend::Node => HIDDEN_NODE_ENDPOINTS.contains(&(method, template)),
        Frontend::Gov => ["/members/", "/recovery/", "/service/"]
            .iter()
            .any(|versioned| template.starts_with(versioned)),
        Frontend::App => false,
    }
}

/// The operationId CCF generates: the verb, then every alphanumeric run of the path with its
/// first letter capitalised (`GET /node/network/nodes/{node_id}` → `GetNodeNetworkNodesNodeId`).
pub fn operation_id(method: &str, path: &str) -> String {
    let mut id = capitalised(&method.to_ascii_lowercase());
    for word in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        id.push_str(&capitalised(word));
    }
    id
}

/// CCF's node endpoints that its `/node/api` does not list.
const HIDDEN_NODE_ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/join"),
    ("GET", "/snapshot"),
    ("HEAD", "/snapshot"),
    ("GET", "/snapshot/{snapshot_name}"),
    ("HEAD", "/snapshot/{snapshot_name}"),
    ("POST", "/create"),
    ("GET", "/snapshot"),
    ("HEAD", "/snapshot"),
    ("GET", "/snapshot/{snapshot_name}"),
    ("HEAD", "/snapshot/{snapshot_name}"),
    ("POST", "/jwt_keys/refresh"),
    ("POST", "/network/nodes/set_retired_committed"),
];

/// The endpoints every frontend has (spec §1.0): they do not make a document the logging app's.
const COMMON_PATHS: &[&str] = &["/api", "/commit", "/tx", "/receipt"];

fn api_endpoint(handler: Handler) -> Endpoint<Handler> {
    Endpoint {
        method: "GET".to_owned(),
        template: PathTemplate::parse("/api").unwrap_or_else(|| unreachable_template("/api")),
        policies: Vec::new(),
        mode: Mode::ReadOnly,
        forwarding: Forwarding::Sometimes,
        handler,
    }
}

fn json_response(body: Vec<u8>) -> Response {
    Response::with_body(200, "application/json", body)
}

/// `/gov/api`: the classic document, or the Swagger document of the requested api-version.
fn gov_api(ctx: &mut EndpointContext<'_>, classic: &[u8]) -> Result<Response, ApiError> {
    let Some(version) = ctx.request.query_param("api-version") else {
        return Ok(json_response(classic.to_vec()));
    };
    let document = match check_api_version(&version, API_VERSIONS[0])? {
        "2023-06-01-preview" => GOV_API_2023_06_01_PREVIEW,
        _ => GOV_API_2024_07_01,
    };
    Ok(json_response(document.as_bytes().to_vec()))
}

fn prefix(frontend: Frontend) -> &'static str {
    match frontend {
        Frontend::Node => "/node",
        Frontend::Gov => "/gov",
        Frontend::App => "/app",
    }
}

/// CCF's document for `frontend`; the embedded files are tested to parse, so a failure here
/// only loses CCF's operation objects (generated ones take their place), never the endpoint.
fn ccf_document(frontend: Frontend) -> Value {
    let text = match frontend {
        Frontend::Node => CCF_NODE_OPENAPI,
        Frontend::Gov => CCF_GOV_OPENAPI,
        Frontend::App => CCF_APP_OPENAPI,
    };
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// `operation` with Cloister's forwarding and authentication.
fn cloister_operation<H>(mut operation: Value, endpoint: &Endpoint<H>) -> Value {
    operation["x-ccf-forwarding"] = json!({
        "$ref": format!("#/components/x-ccf-forwarding/{}", forwarding_name(endpoint.forwarding)),
    });
    let security: Vec<Value> = endpoint
        .policies
        .iter()
        .filter_map(security_scheme)
        .map(|scheme| json!({ scheme: [] }))
        .collect();
    if let Some(object) = operation.as_object_mut() {
        object.remove("security");
        if !security.is_empty() {
            object.insert("security".to_owned(), Value::Array(security));
        }
    }
    operation
}

/// The OpenAPI security scheme CCF names for a policy. Certificate policies are TLS-level and
/// have none in CCF's documents (only `jwt` and the COSE Sign1 policies appear there).
fn security_scheme(policy: &AuthPolicy) -> Option<&'static str> {
    match policy {
        AuthPolicy::NoAuth
        | AuthPolicy::UserCert
        | AuthPolicy::MemberCert
        | AuthPolicy::AnyCert
        | AuthPolicy::AllOf(_) => None,
        AuthPolicy::Jwt => Some("jwt"),
        AuthPolicy::UserCoseSign1 => Some("user_cose_sign1"),
        AuthPolicy::MemberCoseSign1 => Some("member_cose_sign1"),
    }
}

fn forwarding_name(forwarding: Forwarding) -> &'static str {
    match forwarding {
        Forwarding::Always => "always",
        Forwarding::Sometimes => "sometimes",
        Forwarding::Never => "never",
    }
}

/// What CCF generates for an endpoint without schemas (as for `GET /node/primary`).
fn generated_operation(method: &str, path: &str) -> Value {
    json!({
        "operationId": operation_id(method, path),
        "responses": {
            "200": { "description": "Default response description" },
            "default": { "$ref": "#/components/responses/default" },
        },
    })
}

/// CCF puts a template's parameters on the path item, all required strings.
fn path_parameters(template: &PathTemplate) -> Vec<Value> {
    template
        .as_str()
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}'))
        .map(|(name, _)| json!({ "in": "path", "name": name, "required": true, "schema": { "type": "string" } }))
        .collect()
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// The components `root` references, directly or through other components, looked up in
/// `sources` in order (`#/components/<section>/<name>` references only).
fn referenced_components(root: &Value, sources: &[&Value]) -> Value {
    let mut components = json!({});
    let mut seen = BTreeSet::new();
    let mut pending = Vec::new();
    collect_refs(root, &mut pending);
    while let Some(reference) = pending.pop() {
        if !seen.insert(reference.clone()) {
            continue;
        }
        let Some((section, name)) = reference
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
        else {
            continue;
        };
        let Some(found) = sources
            .iter()
            .find_map(|source| source.get(section).and_then(|s| s.get(name)))
        else {
            continue;
        };
        collect_refs(found, &mut pending);
        components[section][name] = found.clone();
    }
    components
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => out.push(reference.clone()),
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_ccf_documents_parse() {
        for text in [
            CCF_NODE_OPENAPI,
            CCF_GOV_OPENAPI,
            CCF_APP_OPENAPI,
            GOV_API_2024_07_01,
            GOV_API_2023_06_01_PREVIEW,
        ] {
            let document: Value = serde_json::from_str(text).unwrap();
            assert!(document["paths"].as_object().is_some_and(|p| !p.is_empty()));
        }
    }

    #[test]
    fn generated_operation_ids_are_ccfs_for_every_documented_operation() {
        let mut checked = 0;
        for frontend in [Frontend::Node, Frontend::Gov, Frontend::App] {
            let document = ccf_document(frontend);
            for (path, item) in document["paths"].as_object().unwrap() {
                for (method, operation) in item.as_object().unwrap() {
                    if method == "parameters" {
                        continue;
                    }
                    assert_eq!(
                        operation_id(method, path),
                        operation["operationId"].as_str().unwrap(),
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 125);
    }

    #[test]
    fn path_parameters_are_required_strings_on_the_path_item() {
        let template = PathTemplate::parse("/proposals/{proposal_id}/ballots/{member_id}").unwrap();
        let names: Vec<Value> = path_parameters(&template)
            .iter()
            .map(|p| p["name"].clone())
            .collect();
        assert_eq!(names, [json!("proposal_id"), json!("member_id")]);
        let suffixed = PathTemplate::parse("/members/state-digests/{memberId}:ack").unwrap();
        assert_eq!(
            path_parameters(&suffixed),
            [
                json!({ "in": "path", "name": "memberId", "required": true, "schema": { "type": "string" } })
            ]
        );
    }

    #[test]
    fn components_are_copied_transitively_and_only_when_referenced() {
        let source = json!({
            "schemas": {
                "A": { "$ref": "#/components/schemas/B" },
                "B": { "type": "string" },
                "Unused": { "type": "object" },
            },
        });
        let root = json!({ "get": { "schema": { "$ref": "#/components/schemas/A" } } });
        assert_eq!(
            referenced_components(&root, &[&source]),
            json!({ "schemas": { "A": { "$ref": "#/components/schemas/B" }, "B": { "type": "string" } } })
        );
    }

    #[test]
    fn the_versioned_gov_api_and_node_internal_endpoints_are_hidden() {
        assert!(is_hidden(Frontend::Gov, "GET", "/service/info"));
        assert!(is_hidden(
            Frontend::Gov,
            "POST",
            "/members/proposals:create"
        ));
        assert!(!is_hidden(Frontend::Gov, "GET", "/members"));
        assert!(!is_hidden(Frontend::Gov, "GET", "/commit"));
        assert!(is_hidden(Frontend::Node, "POST", "/join"));
        assert!(!is_hidden(Frontend::Node, "GET", "/state"));
        assert!(!is_hidden(Frontend::App, "GET", "/service/info"));
    }
}
