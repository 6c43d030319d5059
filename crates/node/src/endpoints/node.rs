//! The `/node` frontend (spec/ccf-api.md §1.1): what a node says about itself and the network.
//! All unauthenticated.

use cloister_types::ApiError;
use serde_json::{Value, json};

use crate::endpoints::common::unreachable_template;
use crate::endpoints::{EndpointContext, Handler, handler};
use crate::rpc::{Endpoint, EndpointRegistry, Forwarding, Mode, PathTemplate, Response};
use crate::tables::{
    NODES_ENDORSED_CERTIFICATES, NODES_INFO, SERVICE_CONFIG, SERVICE_INFO, SINGLETON_KEY,
};

/// The version Cloister reports as `ccf_version` (the CCF release it is compatible with).
pub const CCF_VERSION: &str = "ccf-6.0.17";

/// Installs the `/node` endpoints.
pub fn install(registry: &mut EndpointRegistry<Handler>) {
    let endpoint = |method: &str, path: &str, forwarding: Forwarding, handler: Handler| Endpoint {
        method: method.to_owned(),
        template: PathTemplate::parse(path).unwrap_or_else(|| unreachable_template(path)),
        policies: Vec::new(),
        mode: Mode::ReadOnly,
        forwarding,
        handler,
    };
    use Forwarding::{Never, Sometimes};
    let endpoints: [(&str, &str, Forwarding, Handler); 16] = [
        ("GET", "/state", Never, handler(state)),
        ("GET", "/version", Never, handler(version)),
        ("GET", "/network", Sometimes, handler(network)),
        ("GET", "/network/nodes", Sometimes, handler(network_nodes)),
        (
            "GET",
            "/network/nodes/self",
            Never,
            handler(network_node_self),
        ),
        (
            "GET",
            "/network/nodes/primary",
            Sometimes,
            handler(network_node_self),
        ),
        (
            "GET",
            "/network/nodes/{node_id}",
            Sometimes,
            handler(network_node),
        ),
        ("GET", "/primary", Never, handler(primary)),
        ("HEAD", "/primary", Never, handler(primary)),
        ("GET", "/backup", Never, handler(backup)),
        (
            "GET",
            "/self_signed_certificate",
            Never,
            handler(self_signed_certificate),
        ),
        (
            "GET",
            "/service/configuration",
            Never,
            handler(service_configuration),
        ),
        ("GET", "/ready/app", Never, handler(ready_app)),
        ("GET", "/ready/gov", Never, handler(ready_gov)),
        ("GET", "/quotes/self", Never, handler(quote_self)),
        ("GET", "/attestations/self", Never, handler(quote_self)),
    ];
    for (method, path, forwarding, handler) in endpoints {
        registry.install(endpoint(method, path, forwarding, handler));
    }
}

fn state(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    Ok(Response::json(&json!({
        "node_id": ctx.node.node_id.to_string(),
        "state": "PartOfNetwork",
        "last_signed_seqno": ctx.node.last_signed.0,
        "startup_seqno": 0,
        "stop_notice": false,
    })))
}

fn version(_: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    Ok(Response::json(
        &json!({ "ccf_version": CCF_VERSION, "quickjs_version": "quickjs-ng", "unsafe": false }),
    ))
}

fn read_json(ctx: &mut EndpointContext<'_>, table: &str, key: &[u8]) -> Option<Value> {
    ctx.tx
        .get(table, key)
        .and_then(|raw| serde_json::from_slice(&raw).ok())
}

fn network(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let info = read_json(ctx, SERVICE_INFO, &SINGLETON_KEY)
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", "Service state not available."))?;
    Ok(Response::json(&json!({
        "service_status": info["status"],
        "service_certificate": info["cert"],
        "current_view": ctx.node.view.0,
        "primary_id": ctx.node.node_id.to_string(),
        "recovery_count": info.get("recovery_count").cloned().unwrap_or(json!(0)),
        "service_data": info.get("service_data").cloned().unwrap_or(Value::Null),
        "current_service_create_txid": info.get("current_service_create_txid").cloned().unwrap_or(Value::Null),
    })))
}

/// CCF's NodeInfoOut for one `nodes.info` entry.
fn node_info_out(ctx: &mut EndpointContext<'_>, node_id: &str, info: &Value) -> Value {
    let last_written = ctx
        .tx
        .get(NODES_INFO, node_id.as_bytes())
        .map(|_| ctx.node.commit.seqno.0)
        .unwrap_or(0);
    let mut interfaces = serde_json::Map::new();
    if let Some(rpc) = info["rpc_interfaces"].as_object() {
        for (name, interface) in rpc {
            interfaces.insert(name.clone(), interface.clone());
        }
    }
    json!({
        "node_id": node_id,
        "status": info["status"],
        "primary": node_id == ctx.node.node_id.as_str(),
        "rpc_interfaces": interfaces,
        "node_data": info.get("node_data").cloned().unwrap_or(Value::Null),
        "last_written": last_written,
    })
}

fn network_nodes(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let status_filter = ctx.request.query_param("status");
    if let Some(status) = &status_filter
        && !["Pending", "Trusted", "Retired"].contains(&status.as_str())
    {
        return Err(ApiError::new(
            400,
            "InvalidQueryParameterValue",
            format!("Query parameter '{status}' is not a valid node status"),
        ));
    }
    let host = ctx.request.query_param("host");
    let port = ctx.request.query_param("port");
    let mut nodes = Vec::new();
    for (key, raw) in ctx.tx.iter(NODES_INFO) {
        let Ok(info) = serde_json::from_slice::<Value>(&raw) else {
            continue;
        };
        let id = String::from_utf8_lossy(&key).into_owned();
        if status_filter
            .as_ref()
            .is_some_and(|s| info["status"] != s.as_str())
        {
            continue;
        }
        if (host.is_some() || port.is_some())
            && !published_matches(&info, host.as_deref(), port.as_deref())
        {
            continue;
        }
        nodes.push(node_info_out(ctx, &id, &info));
    }
    Ok(Response::json(&json!({ "nodes": nodes })))
}

fn published_matches(info: &Value, host: Option<&str>, port: Option<&str>) -> bool {
    info["rpc_interfaces"]
        .as_object()
        .is_some_and(|interfaces| {
            interfaces.values().any(|interface| {
                let address = interface["published_address"].as_str().unwrap_or_default();
                let (h, p) = address.rsplit_once(':').unwrap_or((address, ""));
                host.is_none_or(|want| want == h) && port.is_none_or(|want| want == p)
            })
        })
}

fn network_node(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let id = ctx.params.get("node_id").cloned().unwrap_or_default();
    let info = read_json(ctx, NODES_INFO, id.as_bytes())
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", "Node not found"))?;
    let out = node_info_out(ctx, &id, &info);
    Ok(Response::json(&out))
}

fn network_node_self(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let id = ctx.node.node_id.to_string();
    let info = read_json(ctx, NODES_INFO, id.as_bytes())
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", "Node not found"))?;
    let out = node_info_out(ctx, &id, &info);
    Ok(Response::json(&out))
}

/// One node: it is always the primary.
fn primary(_: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    Ok(Response {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

fn backup(_: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    Err(ApiError::new(404, "ResourceNotFound", "Node is not backup"))
}

fn self_signed_certificate(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    Ok(Response::json(
        &json!({ "self_signed_certificate": ctx.node.pems.self_signed_cert }),
    ))
}

fn service_configuration(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let mut config = read_json(ctx, SERVICE_CONFIG, &SINGLETON_KEY).ok_or_else(|| {
        ApiError::new(
            404,
            "ResourceNotFound",
            "Service configuration not available.",
        )
    })?;
    if config.get("consensus").is_none() {
        config["consensus"] = json!("CFT");
    }
    Ok(Response::json(&config))
}

fn ready_app(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let status = if ctx.node.service_open { 204 } else { 503 };
    Ok(Response {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

fn ready_gov(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let ready = ctx
        .tx
        .get(
            NODES_ENDORSED_CERTIFICATES,
            ctx.node.node_id.as_str().as_bytes(),
        )
        .is_some();
    let status = if ready && ctx.node.commit.seqno.0 > 0 {
        204
    } else {
        503
    };
    Ok(Response {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

/// The virtual platform's attestation proves nothing, and says so (`Insecure_Virtual`).
fn quote_self(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    Ok(Response::json(&json!({
        "node_id": ctx.node.node_id.to_string(),
        "raw": "",
        "endorsements": "",
        "format": "Insecure_Virtual",
    })))
}
