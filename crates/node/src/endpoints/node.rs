//! The `/node` frontend (spec/ccf-api.md §1.1): what a node says about itself and the network.
//! All unauthenticated.

use cloister_types::ApiError;
use serde_json::{Map, Value, json};

use crate::endpoints::common::{parse_txid, unreachable_template};
use crate::endpoints::{EndpointContext, Handler, handler};
use crate::rpc::{Endpoint, EndpointRegistry, Forwarding, Mode, PathTemplate, Response};
use crate::tables::{
    NODES_ENDORSED_CERTIFICATES, NODES_INFO, SERVICE_CONFIG, SERVICE_INFO, SINGLETON_KEY,
};

/// The version Cloister reports as `ccf_version` (the CCF release it is compatible with).
pub const CCF_VERSION: &str = "ccf-6.0.17";

const SERVICE_PREVIOUS_IDENTITY: &str = "public:ccf.gov.service.previous_service_identity";
const JS_RUNTIME_OPTIONS: &str = "public:ccf.gov.js_runtime_options";
const MODULES_QUICKJS_BYTECODE: &str = "public:ccf.gov.modules_quickjs_bytecode";
const MODULES_QUICKJS_VERSION: &str = "public:ccf.gov.modules_quickjs_version";

/// CCF's session caps when an interface sets none (spec/ccf-api.md §0, `SessionCapExhausted`).
const MAX_OPEN_SESSIONS_SOFT: u64 = 1000;
const MAX_OPEN_SESSIONS_HARD: u64 = 1010;

/// CCF's `JSRuntimeOptions` defaults, reported when governance has set none (spec §5).
const JS_MAX_HEAP_BYTES: u64 = 100 * 1024 * 1024;
const JS_MAX_STACK_BYTES: u64 = 1024 * 1024;
const JS_MAX_EXECUTION_TIME_MS: u64 = 5000;
const JS_MAX_CACHED_INTERPRETERS: u64 = 10;

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
    let endpoints: [(&str, &str, Forwarding, Handler); 25] = [
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
            handler(network_node_primary),
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
        (
            "GET",
            "/network/removable_nodes",
            Sometimes,
            handler(removable_nodes),
        ),
        ("GET", "/consensus", Never, handler(consensus)),
        ("GET", "/config", Never, handler(config)),
        ("GET", "/metrics", Never, handler(metrics)),
        ("GET", "/js_metrics", Sometimes, handler(js_metrics)),
        (
            "GET",
            "/service/previous_identity",
            Sometimes,
            handler(previous_identity),
        ),
        ("GET", "/quotes", Sometimes, handler(quotes)),
        ("GET", "/attestations", Sometimes, handler(attestations)),
        ("GET", "/index/strategies", Never, handler(index_strategies)),
    ];
    for (method, path, forwarding, handler) in endpoints {
        registry.install(endpoint(method, path, forwarding, handler));
    }
    crate::endpoints::join::install(registry);
    crate::endpoints::snapshot::install(registry);
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
        "primary_id": ctx.node.primary.map(|id| id.to_string()),
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
        "primary": ctx.node.primary.is_some_and(|primary| primary.as_str() == node_id),
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

/// The primary's node record.
fn network_node_primary(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let id = ctx
        .node
        .primary
        .map(|id| id.to_string())
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", "Primary unknown"))?;
    let info = read_json(ctx, NODES_INFO, id.as_bytes())
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", "Node not found"))?;
    let out = node_info_out(ctx, &id, &info);
    Ok(Response::json(&out))
}

/// 200 on the primary; elsewhere a 308 to the primary (CCF's `/node/primary`).
fn primary(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    if ctx.node.is_primary {
        return Ok(Response {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        });
    }
    redirect_to_primary(ctx, "/node/primary")
}

/// A 308 to the same path on the primary's RPC interface, or 404 when it is not known.
pub(crate) fn redirect_to_primary(
    ctx: &mut EndpointContext<'_>,
    path: &str,
) -> Result<Response, ApiError> {
    let address = ctx
        .node
        .primary
        .map(|id| id.to_string())
        .and_then(|id| read_json(ctx, NODES_INFO, id.as_bytes()))
        .and_then(|info| {
            let interfaces = info["rpc_interfaces"].as_object()?;
            let interface = interfaces
                .get("primary_rpc_interface")
                .or_else(|| interfaces.values().next())?;
            interface["published_address"].as_str().map(str::to_owned)
        })
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", "Primary unknown"))?;
    Ok(Response {
        status: 308,
        headers: vec![("location".to_owned(), format!("https://{address}{path}"))],
        body: Vec::new(),
    })
}

fn backup(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    if ctx.node.is_primary {
        return Err(ApiError::new(404, "ResourceNotFound", "Node is not backup"));
    }
    Ok(Response {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    })
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

/// Nodes an operator may stop: Retired with `retired_committed` set (spec §1.1). CCF reads them
/// at the committed level; a single node reads its current state, which a signature commits.
fn removable_nodes(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let mut nodes = Vec::new();
    for (key, raw) in ctx.tx.iter(NODES_INFO) {
        let Ok(info) = serde_json::from_slice::<Value>(&raw) else {
            continue;
        };
        if info["status"] == "Retired" && info["retired_committed"] == true {
            let id = String::from_utf8_lossy(&key).into_owned();
            let mut node = node_info_out(ctx, &id, &info);
            node["primary"] = json!(false); // CCF reports removable nodes as never primary
            nodes.push(node);
        }
    }
    Ok(Response::json(&json!({ "nodes": nodes })))
}

/// The Raft configuration of a service that has not reconfigured since it was created: its
/// Trusted nodes by node-to-node address, created by the service's first transaction (CCF's
/// configuration hook on `nodes.info`; `rid` equals `idx`). Issue 4 (Raft) replaces this with
/// the consensus module's own configurations.
fn configuration(ctx: &mut EndpointContext<'_>) -> (u64, Map<String, Value>) {
    let created = read_json(ctx, SERVICE_INFO, &SINGLETON_KEY)
        .and_then(|info| {
            info["current_service_create_txid"]
                .as_str()
                .map(str::to_owned)
        })
        .and_then(|txid| parse_txid(&txid, "current_service_create_txid").ok())
        .map_or(1, |txid| txid.seqno.0);
    let mut nodes = Map::new();
    for (key, raw) in ctx.tx.iter(NODES_INFO) {
        let Ok(info) = serde_json::from_slice::<Value>(&raw) else {
            continue;
        };
        if info["status"] == "Trusted" {
            let address = info["node_to_node_interface"]["published_address"].clone();
            nodes.insert(
                String::from_utf8_lossy(&key).into_owned(),
                json!({ "address": address }),
            );
        }
    }
    (created, nodes)
}

/// Consensus as this node sees it (CCF's `ConsensusDetails`).
fn consensus(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let raft = ctx.node.raft;
    let mut addresses = Map::new();
    for (key, raw) in ctx.tx.iter(NODES_INFO) {
        if let Ok(info) = serde_json::from_slice::<Value>(&raw) {
            addresses.insert(
                String::from_utf8_lossy(&key).into_owned(),
                info["node_to_node_interface"]["published_address"].clone(),
            );
        }
    }
    // The genesis node's first configuration comes from the service's creation transaction.
    let (created, _) = configuration(ctx);
    let configs: Vec<Value> = raft
        .configurations()
        .iter()
        .map(|configuration| {
            let seqno = configuration.idx;
            let idx = if seqno.0 == 0 { created } else { seqno.0 };
            let nodes: Map<String, Value> = configuration
                .nodes
                .iter()
                .map(|id| {
                    let address = addresses.get(id.as_str()).cloned().unwrap_or(Value::Null);
                    (id.to_string(), json!({ "address": address }))
                })
                .collect();
            json!({ "idx": idx, "rid": idx, "nodes": nodes })
        })
        .collect();
    let acks: Map<String, Value> = raft
        .peer_matches()
        .iter()
        .map(|(id, seqno)| (id.to_string(), json!({ "seqno": seqno.0 })))
        .collect();
    let membership = match raft.membership() {
        cloister_raft::Membership::Active => "Active",
        cloister_raft::Membership::Retired(_) => "Retired",
    };
    Ok(Response::json(&json!({
        "details": {
            "configs": configs,
            "acks": acks,
            "membership_state": membership,
            "leadership_state": format!("{:?}", raft.leadership()),
            "primary_id": ctx.node.primary.map(|id| id.to_string()),
            "current_view": raft.view().0,
            "ticking": true,
        }
    })))
}

/// The latest configuration as `{node_id: {address}}`.
fn config(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let (_, nodes) = configuration(ctx);
    if nodes.is_empty() {
        return Err(ApiError::new(
            404,
            "ResourceNotFound",
            "No configured consensus",
        ));
    }
    Ok(Response::json(&Value::Object(nodes)))
}

/// Session counts live in the host, which does not report them to the node yet: they read 0.
fn metrics(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let mut interfaces = Map::new();
    for (name, _, _) in &ctx.node.settings.rpc_interfaces {
        interfaces.insert(
            name.clone(),
            json!({
                "active": 0,
                "peak": 0,
                "soft_cap": MAX_OPEN_SESSIONS_SOFT,
                "hard_cap": MAX_OPEN_SESSIONS_HARD,
                "errors": { "parsing": 0, "request_payload_too_large": 0, "request_header_too_large": 0 },
            }),
        );
    }
    Ok(Response::json(&json!({
        "sessions": { "active": 0, "peak": 0, "interfaces": interfaces }
    })))
}

/// The JavaScript limits governance set (`js_runtime_options`, as stored) and the size of the
/// module bytecode cache. CCF says the cache is used when it was built by this node's QuickJS;
/// the node cannot see the engine version, so a cache with a recorded version counts as used.
fn js_metrics(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let options = read_json(ctx, JS_RUNTIME_OPTIONS, &SINGLETON_KEY).unwrap_or(Value::Null);
    let option = |name: &str, default: u64| options[name].as_u64().unwrap_or(default);
    let bytecode_size: u64 = ctx
        .tx
        .iter(MODULES_QUICKJS_BYTECODE)
        .iter()
        .map(|(_, bytecode)| bytecode.len() as u64)
        .sum();
    let versioned = ctx
        .tx
        .get(MODULES_QUICKJS_VERSION, &SINGLETON_KEY)
        .is_some_and(|version| !version.is_empty());
    Ok(Response::json(&json!({
        "bytecode_size": bytecode_size,
        "bytecode_used": bytecode_size > 0 && versioned,
        "max_heap_size": option("max_heap_bytes", JS_MAX_HEAP_BYTES),
        "max_stack_size": option("max_stack_bytes", JS_MAX_STACK_BYTES),
        "max_execution_time": option("max_execution_time_ms", JS_MAX_EXECUTION_TIME_MS),
        "max_cached_interpreters": option("max_cached_interpreters", JS_MAX_CACHED_INTERPRETERS),
    })))
}

/// The identity of the service this one recovered (a JSON string PEM); 404 for a new service.
fn previous_identity(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let pem = read_json(ctx, SERVICE_PREVIOUS_IDENTITY, &SINGLETON_KEY)
        .and_then(|value| value.as_str().map(str::to_owned))
        .ok_or_else(|| {
            ApiError::new(
                404,
                "ResourceNotFound",
                "This service is not a recovery of a previous service.",
            )
        })?;
    Ok(Response::json(&json!({ "previous_service_identity": pem })))
}

/// The stored attestations of Trusted nodes (CCF's `Quote`: the quote and endorsements stay
/// base64, as `nodes.info` holds them).
fn trusted_quotes(ctx: &mut EndpointContext<'_>) -> Vec<Value> {
    let mut quotes = Vec::new();
    for (key, raw) in ctx.tx.iter(NODES_INFO) {
        let Ok(info) = serde_json::from_slice::<Value>(&raw) else {
            continue;
        };
        if info["status"] != "Trusted" {
            continue;
        }
        let quote_info = &info["quote_info"];
        let text = |name: &str| quote_info[name].as_str().unwrap_or_default().to_owned();
        let mut quote = json!({
            "node_id": String::from_utf8_lossy(&key),
            "raw": text("quote"),
            "endorsements": text("endorsements"),
            "format": quote_info["format"].as_str().unwrap_or("Insecure_Virtual"),
        });
        if let Some(uvm) = quote_info.get("uvm_endorsements").filter(|v| !v.is_null()) {
            quote["uvm_endorsements"] = uvm.clone();
        }
        quotes.push(quote);
    }
    quotes
}

fn quotes(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let quotes = trusted_quotes(ctx);
    Ok(Response::json(&json!({ "quotes": quotes })))
}

/// CCF 6's new name for `/quotes`, with the same entries.
fn attestations(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let attestations = trusted_quotes(ctx);
    Ok(Response::json(&json!({ "attestations": attestations })))
}

/// Cloister installs no indexing strategies (CCF: one description per installed strategy).
fn index_strategies(_: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    Ok(Response::json(&json!([])))
}
