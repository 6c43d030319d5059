//! `POST /node/join` (spec/ccf-api.md §6), the service side of CCF's join protocol: a joining
//! node presents its self-signed certificate as TLS client certificate and sends JoinIn; it is
//! recorded in `public:ccf.gov.nodes.info` as Pending (an Open service: members trust it by
//! `transition_node_to_trusted`), or Trusted at once with its certificate endorsed while the
//! service is Opening or Recovering. A Trusted joiner's JoinOut carries `network_info`: the
//! ledger secrets and the service identity. Polling again answers the node's current status.
//!
//! The virtual platform only: a quote of format `Insecure_Virtual` is recorded, not verified
//! (there is nothing to verify); a report_data it carries must still name the node's key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_crypto::{Certificate, CertificateSigningRequest, issue_from_csr, sha256};
use cloister_kv::Tx;
use cloister_types::ApiError;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::core::NodeView;
use crate::endpoints::common::unreachable_template;
use crate::endpoints::{EndpointContext, Handler, handler};
use crate::identity::node_id_of;
use crate::rpc::{Endpoint, EndpointRegistry, Forwarding, Mode, PathTemplate, Response};
use crate::tables::{NODES_ENDORSED_CERTIFICATES, NODES_INFO, SERVICE_INFO, SINGLETON_KEY};

/// The one quote format a Cloister service accepts (CCF's virtual platform).
pub const VIRTUAL_QUOTE_FORMAT: &str = "Insecure_Virtual";

/// Installs `POST /node/join`: unauthenticated (the TLS client certificate identifies the
/// joiner), read-write, never forwarded.
pub fn install(registry: &mut EndpointRegistry<Handler>) {
    registry.install(Endpoint {
        method: "POST".to_owned(),
        template: PathTemplate::parse("/join").unwrap_or_else(|| unreachable_template("/join")),
        policies: Vec::new(),
        mode: Mode::ReadWrite,
        forwarding: Forwarding::Never,
        handler: handler(join),
    });
}

/// CCF's `JoinNetworkNodeToNode::In`. Unknown fields (CCF 5's `consensus_type`) are ignored.
#[derive(Debug, Deserialize)]
struct JoinIn {
    node_info_network: Map<String, Value>,
    quote_info: Value,
    public_encryption_key: String,
    #[serde(default)]
    startup_seqno: Option<u64>,
    #[serde(default)]
    certificate_signing_request: Option<String>,
    #[serde(default)]
    node_data: Value,
}

/// Who is joining: from the TLS client certificate.
struct Joiner {
    cert: Certificate,
    id: String,
    public_key_pem: String,
}

fn join(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    if !ctx.node.is_primary {
        // CCF: a backup sends joiners to the primary.
        return crate::endpoints::node::redirect_to_primary(ctx, "/node/join");
    }
    let joiner = joiner(ctx.request.client_cert_der.as_deref())?;
    let input: JoinIn = serde_json::from_slice(&ctx.request.body)
        .map_err(|e| ApiError::new(400, "InvalidInput", format!("Invalid JoinIn: {e}")))?;
    // This node started from no snapshot, so any joiner's snapshot is recent enough.
    let _ = input.startup_seqno;
    let service = read_json(ctx.tx, SERVICE_INFO, &SINGLETON_KEY).ok_or_else(|| {
        ApiError::new(
            500,
            "InternalError",
            "No service is available to accept new node.",
        )
    })?;
    let service_status = service["status"].as_str().unwrap_or_default().to_owned();
    if service_status == "Opening" || service_status == "Recovering" {
        // Before the service opens, joiners are trusted straight away.
        if let Some((id, info)) = existing_node(ctx.tx, &joiner, Some("Trusted")) {
            let network_info = network_info(ctx, &id, &info, &service_status);
            return Ok(Response::json(
                &json!({ "node_status": "Trusted", "network_info": network_info }),
            ));
        }
        return add_node(ctx, &joiner, &input, "Trusted", &service_status);
    }
    if let Some((id, info)) = existing_node(ctx.tx, &joiner, None) {
        return match info["status"].as_str() {
            Some("Trusted") => {
                let network_info = network_info(ctx, &id, &info, &service_status);
                Ok(Response::json(&json!({
                    "node_status": "Trusted",
                    "node_id": id,
                    "network_info": network_info,
                })))
            }
            Some("Pending") => Ok(Response::json(
                &json!({ "node_status": "Pending", "node_id": id }),
            )),
            other => Err(ApiError::new(
                400,
                "InvalidNodeState",
                format!(
                    "Joining node is not in expected state ({}).",
                    other.unwrap_or("unknown")
                ),
            )),
        };
    }
    add_node(ctx, &joiner, &input, "Pending", &service_status)
}

fn joiner(client_cert_der: Option<&[u8]>) -> Result<Joiner, ApiError> {
    let der = client_cert_der.ok_or_else(|| {
        // The endpoint is unauthenticated (as in CCF); the certificate is the joiner's input.
        ApiError::new(
            400,
            "InvalidInput",
            "Joining requires the node's certificate as TLS client certificate.",
        )
    })?;
    let invalid = |why: String| {
        ApiError::new(
            401,
            "Unauthorized",
            format!("Invalid TLS client certificate: {why}"),
        )
    };
    let cert = Certificate::from_der(der).map_err(|e| invalid(e.to_string()))?;
    let public_key = cert.public_key().map_err(|e| invalid(e.to_string()))?;
    Ok(Joiner {
        id: node_id_of(public_key.spki_der()).to_string(),
        public_key_pem: public_key.to_pem(),
        cert,
    })
}

/// The node already recorded with the joiner's public key (in `status`, if given).
fn existing_node(tx: &mut Tx, joiner: &Joiner, status: Option<&str>) -> Option<(String, Value)> {
    tx.iter(NODES_INFO).into_iter().find_map(|(key, raw)| {
        let info: Value = serde_json::from_slice(&raw).ok()?;
        let same_key = info["public_key"].as_str() == Some(joiner.public_key_pem.as_str());
        let status_ok = status.is_none_or(|s| info["status"] == s);
        (same_key && status_ok).then(|| (String::from_utf8_lossy(&key).into_owned(), info))
    })
}

fn add_node(
    ctx: &mut EndpointContext<'_>,
    joiner: &Joiner,
    input: &JoinIn,
    status: &str,
    service_status: &str,
) -> Result<Response, ApiError> {
    let address = published_node_address(&Value::Object(input.node_info_network.clone()));
    if let Some(conflict) = conflicting_node(ctx.tx, address.as_deref()) {
        return Err(ApiError::new(
            400,
            "NodeAlreadyExists",
            format!(
                "A node with the same published node address {} already exists (node id: {conflict}).",
                address.unwrap_or_default()
            ),
        ));
    }
    let code_digest = check_quote(&input.quote_info, &joiner.cert)?;
    if let Some(pem) = &input.certificate_signing_request {
        let csr = CertificateSigningRequest::from_pem(pem).map_err(|e| {
            ApiError::new(
                400,
                "CSRPublicKeyInvalid",
                format!("Invalid certificate signing request: {e}"),
            )
        })?;
        if csr.public_key().to_pem() != joiner.public_key_pem {
            return Err(ApiError::new(
                400,
                "CSRPublicKeyInvalid",
                "Public key in CSR does not match TLS client identity.",
            ));
        }
    }
    let mut info = input.node_info_network.clone();
    info.insert("quote_info".into(), input.quote_info.clone());
    info.insert(
        "encryption_pub_key".into(),
        input.public_encryption_key.clone().into(),
    );
    info.insert("status".into(), status.into());
    if status == "Trusted" {
        info.insert(
            "ledger_secret_seqno".into(),
            latest_secret_seqno(ctx.node).into(),
        );
    }
    if let Some(digest) = code_digest {
        info.insert("code_digest".into(), digest.into());
    }
    if let Some(csr) = &input.certificate_signing_request {
        info.insert("certificate_signing_request".into(), csr.clone().into());
    }
    info.insert("public_key".into(), joiner.public_key_pem.clone().into());
    if !input.node_data.is_null() {
        info.insert("node_data".into(), input.node_data.clone());
    }
    let info = Value::Object(info);
    let bytes = crate::to_ccf_json(&info).map_err(internal)?;
    ctx.tx.put(NODES_INFO, joiner.id.as_bytes().to_vec(), bytes);

    let mut out = json!({ "node_status": status, "node_id": joiner.id });
    if status == "Trusted" {
        if let Some(csr) = &input.certificate_signing_request {
            // As CCF before the service opens: the endorsed certificate keeps the validity of
            // the node's self-signed one.
            let csr = CertificateSigningRequest::from_pem(csr).map_err(internal)?;
            let (not_before, not_after) = joiner.cert.validity_unix().map_err(internal)?;
            let service = ctx.node.service;
            let endorsed = issue_from_csr(&csr, not_before, not_after, &service.key, &service.cert)
                .map_err(internal)?;
            ctx.tx.put(
                NODES_ENDORSED_CERTIFICATES,
                joiner.id.as_bytes().to_vec(),
                endorsed.to_pem().into_bytes(),
            );
        }
        out["network_info"] = network_info(ctx, &joiner.id, &info, service_status);
    }
    Ok(Response::json(&out))
}

/// `node_to_node_interface.published_address` (the bind address when none is published).
fn published_node_address(info: &Value) -> Option<String> {
    let interface = &info["node_to_node_interface"];
    interface["published_address"]
        .as_str()
        .or_else(|| interface["bind_address"].as_str())
        .map(str::to_owned)
}

/// A node that is not Retired and publishes the same node-to-node address.
fn conflicting_node(tx: &mut Tx, address: Option<&str>) -> Option<String> {
    let address = address?;
    tx.iter(NODES_INFO).into_iter().find_map(|(key, raw)| {
        let info: Value = serde_json::from_slice(&raw).ok()?;
        let same = published_node_address(&info).as_deref() == Some(address);
        (same && info["status"] != "Retired").then(|| String::from_utf8_lossy(&key).into_owned())
    })
}

/// Accepts the virtual platform's quote; returns the measurement as CCF records it
/// (`code_digest`: hex of the measurement bytes) when the quote carries one.
fn check_quote(quote_info: &Value, cert: &Certificate) -> Result<Option<String>, ApiError> {
    let refused = |message: &str| ApiError::new(401, "InvalidQuote", message);
    if quote_info["format"] != VIRTUAL_QUOTE_FORMAT {
        return Err(refused("Quote could not be verified"));
    }
    // CCF's virtual quote: base64 of {"measurement", "host_data", "report_data" (base64 of
    // SHA-256 of the node's public key DER)}. An empty quote (older virtual nodes) says nothing.
    let raw = quote_info["quote"].as_str().unwrap_or_default();
    if raw.is_empty() {
        return Ok(None);
    }
    let quote: Value = BASE64
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| refused("Quote could not be verified"))?;
    if let Some(report_data) = quote["report_data"].as_str() {
        let key_hash = cert
            .spki_der()
            .map(|spki| sha256(&spki).0.to_vec())
            .map_err(internal)?;
        if BASE64.decode(report_data).ok() != Some(key_hash) {
            return Err(refused(
                "Quote report data does not contain node's public key hash",
            ));
        }
    }
    Ok(quote["measurement"].as_str().map(hex::encode))
}

fn latest_secret_seqno(node: &NodeView<'_>) -> u64 {
    node.ledger_secrets.starts().last().map_or(0, |s| s.0)
}

/// CCF's `JoinNetworkNodeToNode::Out::NetworkInfo` for a Trusted node: the ledger secrets up to
/// the one in force when it was trusted (all of them if unrecorded), the service identity, and
/// its endorsed certificate.
fn network_info(
    ctx: &mut EndpointContext<'_>,
    node_id: &str,
    info: &Value,
    service_status: &str,
) -> Value {
    let up_to = info["ledger_secret_seqno"].as_u64().unwrap_or(u64::MAX);
    let secrets: Vec<Value> = ctx
        .node
        .ledger_secrets
        .starts()
        .filter(|start| start.0 <= up_to)
        .filter_map(|start| {
            let secret = ctx.node.ledger_secrets.secret_for(start)?;
            // nlohmann writes a map with integer keys as [key, value] pairs; CCF's JSON
            // writes byte vectors as base64.
            Some(json!([start.0, { "raw_key": BASE64.encode(secret.raw()) }]))
        })
        .collect();
    let endorsed = ctx
        .tx
        .get(NODES_ENDORSED_CERTIFICATES, node_id.as_bytes())
        .map(|pem| String::from_utf8_lossy(&pem).into_owned());
    let service = ctx.node.service;
    let cose = &ctx.node.settings.cose;
    let mut out = json!({
        "public_only": false,
        "last_recovered_signed_idx": 0,
        "ledger_secrets": secrets,
        "identity": { "cert": service.cert_pem(), "priv_key": service.key.to_pem() },
        "service_status": service_status,
        "cose_signatures_config": { "issuer": cose.issuer, "subject": cose.subject },
    });
    if let Some(pem) = endorsed {
        out["endorsed_certificate"] = pem.into();
    }
    out
}

fn read_json(tx: &mut Tx, table: &str, key: &[u8]) -> Option<Value> {
    tx.get(table, key)
        .and_then(|raw| serde_json::from_slice(&raw).ok())
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(500, "InternalError", error.to_string())
}
