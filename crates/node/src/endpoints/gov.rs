//! The `/gov` frontend, new governance API (api-version 2024-07-01, spec/ccf-api.md §1.2): COSE
//! Sign1 signed proposals, ballots, withdrawals and acks through cloister-gov, and the
//! unauthenticated service-state reads.

use cloister_gov::{
    ProposalOutcome, WWW_AUTHENTICATE_COSE_SIGN1, ack, authenticate_member, create_proposal,
    get_ballot, get_proposal, get_proposal_actions, get_state_digest, list_proposals,
    proposal_list_json, submit_ballot, update_state_digest, withdraw_proposal,
};
use cloister_types::{ApiError, TxStatus};
use serde_json::{Map, Value, json};

use crate::endpoints::common::{parse_txid, status_name, unreachable_template};
use crate::endpoints::{EndpointContext, Handler, bad_query, handler};
use crate::rpc::{Endpoint, EndpointRegistry, Forwarding, Mode, PathTemplate, Response};
use crate::tables::{
    CONSTITUTION, MEMBERS_CERTS, MEMBERS_ENCRYPTION_PUBLIC_KEYS, MEMBERS_INFO,
    NODES_ENDORSED_CERTIFICATES, NODES_INFO, SERVICE_CONFIG, SERVICE_INFO, SINGLETON_KEY,
};

/// The api-versions of the new governance API, oldest first.
pub(crate) const API_VERSIONS: &[&str] = &["2023-06-01-preview", API_2024_07_01];
const API_2024_07_01: &str = "2024-07-01";
const USERS_CERTS: &str = "public:ccf.gov.users.certs";
const USERS_INFO: &str = "public:ccf.gov.users.info";

// The service's policies and JavaScript application (spec/ccf-api.md §1.2, §5). Table keys are
// raw strings; values are JSON unless noted.
const NODES_CODE_IDS: &str = "public:ccf.gov.nodes.code_ids";
const NODES_VIRTUAL_MEASUREMENTS: &str = "public:ccf.gov.nodes.virtual.measurements";
const NODES_VIRTUAL_HOST_DATA: &str = "public:ccf.gov.nodes.virtual.host_data";
const NODES_SNP_MEASUREMENTS: &str = "public:ccf.gov.nodes.snp.measurements";
const NODES_SNP_HOST_DATA: &str = "public:ccf.gov.nodes.snp.host_data";
const NODES_SNP_UVM_ENDORSEMENTS: &str = "public:ccf.gov.nodes.snp.uvm_endorsements";
const NODES_SNP_TCB_VERSIONS: &str = "public:ccf.gov.nodes.snp.tcb_versions";
const JWT_ISSUERS: &str = "public:ccf.gov.jwt.issuers";
const JWT_PUBLIC_SIGNING_KEYS_METADATA: &str = "public:ccf.gov.jwt.public_signing_keys_metadata_v2";
const TLS_CA_CERT_BUNDLES: &str = "public:ccf.gov.tls.ca_cert_bundles";
/// Key `"<VERB> <path>"`, value the endpoint's properties (`set_js_app`).
const ENDPOINTS: &str = "public:ccf.gov.endpoints";
/// Key the module's path, value its source: both raw.
const MODULES: &str = "public:ccf.gov.modules";

/// Installs the `/gov` endpoints.
pub fn install(registry: &mut EndpointRegistry<Handler>) {
    let endpoint = |method: &str, path: &str, mode: Mode, handler: Handler| Endpoint {
        method: method.to_owned(),
        template: PathTemplate::parse(path).unwrap_or_else(|| unreachable_template(path)),
        policies: Vec::new(), // COSE requests authenticate inside the handler (cloister-gov)
        mode,
        forwarding: if mode == Mode::ReadWrite {
            Forwarding::Always
        } else {
            Forwarding::Sometimes
        },
        handler,
    };
    use Mode::{ReadOnly, ReadWrite};
    let endpoints: Vec<(&str, &str, Mode, Handler)> = vec![
        (
            "POST",
            "/members/proposals:create",
            ReadWrite,
            versioned(proposal_create),
        ),
        (
            "GET",
            "/members/proposals",
            ReadOnly,
            versioned(proposal_list),
        ),
        (
            "GET",
            "/members/proposals/{proposalId}",
            ReadOnly,
            versioned(proposal_get),
        ),
        (
            "GET",
            "/members/proposals/{proposalId}/actions",
            ReadOnly,
            versioned(proposal_actions),
        ),
        (
            "POST",
            "/members/proposals/{proposalId}:withdraw",
            ReadWrite,
            versioned(proposal_withdraw),
        ),
        (
            "POST",
            "/members/proposals/{proposalId}/ballots/{memberId}:submit",
            ReadWrite,
            versioned(ballot_submit),
        ),
        (
            "GET",
            "/members/proposals/{proposalId}/ballots/{memberId}",
            ReadOnly,
            versioned(ballot_get),
        ),
        (
            "GET",
            "/members/state-digests/{memberId}",
            ReadOnly,
            versioned(state_digest_get),
        ),
        (
            "POST",
            "/members/state-digests/{memberId}:update",
            ReadWrite,
            versioned(state_digest_update),
        ),
        (
            "POST",
            "/members/state-digests/{memberId}:ack",
            ReadWrite,
            versioned(state_digest_ack),
        ),
        ("GET", "/service/info", ReadOnly, versioned(service_info)),
        (
            "GET",
            "/service/constitution",
            ReadOnly,
            versioned(service_constitution),
        ),
        (
            "GET",
            "/service/members",
            ReadOnly,
            versioned(service_members),
        ),
        (
            "GET",
            "/service/members/{memberId}",
            ReadOnly,
            versioned(service_member),
        ),
        ("GET", "/service/users", ReadOnly, versioned(service_users)),
        (
            "GET",
            "/service/users/{userId}",
            ReadOnly,
            versioned(service_user),
        ),
        ("GET", "/service/nodes", ReadOnly, versioned(service_nodes)),
        (
            "GET",
            "/service/nodes/{nodeId}",
            ReadOnly,
            versioned(service_node),
        ),
        (
            "GET",
            "/service/join-policy",
            ReadOnly,
            versioned(service_join_policy),
        ),
        ("GET", "/service/jwk", ReadOnly, versioned(service_jwk)),
        (
            "GET",
            "/service/javascript-app",
            ReadOnly,
            versioned_since(API_2024_07_01, service_javascript_app),
        ),
        (
            "GET",
            "/service/javascript-modules",
            ReadOnly,
            versioned_since(API_2024_07_01, service_javascript_modules),
        ),
        (
            "GET",
            "/service/javascript-modules/{moduleName}",
            ReadOnly,
            versioned_since(API_2024_07_01, service_javascript_module),
        ),
        (
            "GET",
            "/service/transactions/commit",
            ReadOnly,
            versioned(transactions_commit),
        ),
        (
            "GET",
            "/service/transactions/{transactionId}",
            ReadOnly,
            versioned(transaction_status),
        ),
    ];
    for (method, path, mode, handler) in endpoints {
        registry.install(endpoint(method, path, mode, handler));
    }
}

type GovFn = fn(&mut EndpointContext<'_>) -> Result<Response, ApiError>;

/// Every new-API endpoint requires a known `api-version` (spec §1.2 "API version handling").
fn versioned(f: GovFn) -> Handler {
    versioned_since(API_VERSIONS[0], f)
}

/// An endpoint that exists from api-version `min` on (`javascript-app` and `javascript-modules`
/// need 2024-07-01, spec §1.2); older versions are refused as unsupported.
fn versioned_since(min: &'static str, f: GovFn) -> Handler {
    handler(move |ctx| {
        let version = ctx.request.query_param("api-version");
        match version {
            None => Err(ApiError::new(
                400,
                "MissingApiVersionParameter",
                format!(
                    "The api-version query parameter (?api-version=) is required for all requests. The supported api-versions are: {}",
                    supported_api_versions(min)
                ),
            )),
            Some(version) => {
                check_api_version(&version, min)?;
                f(ctx)
            }
        }
    })
}

/// `version` if it is `min` or later, else CCF's 400 `UnsupportedApiVersionValue`, which lists
/// the versions that would do.
pub(crate) fn check_api_version<'v>(version: &'v str, min: &str) -> Result<&'v str, ApiError> {
    let position = |v: &str| API_VERSIONS.iter().position(|known| *known == v);
    match (position(version), position(min)) {
        (Some(given), Some(least)) if given >= least => Ok(version),
        _ => Err(ApiError::new(
            400,
            "UnsupportedApiVersionValue",
            format!(
                "Unsupported api-version '{version}'. The supported api-versions are: {}",
                supported_api_versions(min)
            ),
        )),
    }
}

/// The api-versions from `min` on, as CCF lists them in its messages.
fn supported_api_versions(min: &str) -> String {
    let from = API_VERSIONS.iter().position(|v| *v == min).unwrap_or(0);
    API_VERSIONS[from..].join(", ")
}

/// Authenticates a COSE request; a 401 carries CCF's `www-authenticate` header.
fn member(
    ctx: &mut EndpointContext<'_>,
    msg_type: &str,
    active: bool,
) -> Result<Result<cloister_gov::AuthenticatedMember, Response>, ApiError> {
    let content_type = ctx.request.header("content-type");
    match authenticate_member(ctx.tx, content_type, &ctx.request.body, msg_type, active) {
        Ok(member) => Ok(Ok(member)),
        Err(error) if error.status == 401 => {
            let mut response = Response::error(&error);
            response.headers.push((
                "www-authenticate".to_owned(),
                WWW_AUTHENTICATE_COSE_SIGN1.to_owned(),
            ));
            Ok(Err(response))
        }
        Err(error) => Err(error),
    }
}

fn outcome(outcome: ProposalOutcome) -> Result<Response, ApiError> {
    match outcome {
        ProposalOutcome::Proposal(view) => {
            Ok(Response::with_body(200, "application/json", view.to_json()))
        }
        ProposalOutcome::NoContent => Ok(Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }),
        ProposalOutcome::Discard(error) => Err(error),
    }
}

fn param(ctx: &EndpointContext<'_>, name: &str) -> String {
    ctx.params.get(name).cloned().unwrap_or_default()
}

fn proposal_create(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let member = match member(ctx, "proposal", true)? {
        Ok(member) => member,
        Err(response) => return Ok(response),
    };
    let root = ctx.node.root_at_read_version;
    outcome(create_proposal(
        ctx.tx,
        ctx.engine,
        ctx.gov_host,
        ctx.node_actions,
        &member,
        root.as_ref(),
    )?)
}

fn proposal_list(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let views = list_proposals(ctx.tx)?;
    Ok(Response::with_body(
        200,
        "application/json",
        proposal_list_json(&views),
    ))
}

fn proposal_get(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let view = get_proposal(ctx.tx, &param(ctx, "proposalId"))?;
    Ok(Response::with_body(200, "application/json", view.to_json()))
}

fn proposal_actions(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let body = get_proposal_actions(ctx.tx, &param(ctx, "proposalId"))?;
    Ok(Response::with_body(200, "application/json", body))
}

fn proposal_withdraw(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let member = match member(ctx, "withdrawal", true)? {
        Ok(member) => member,
        Err(response) => return Ok(response),
    };
    outcome(withdraw_proposal(
        ctx.tx,
        &member,
        &param(ctx, "proposalId"),
    )?)
}

fn ballot_submit(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let member = match member(ctx, "ballot", true)? {
        Ok(member) => member,
        Err(response) => return Ok(response),
    };
    let (proposal_id, member_id) = (param(ctx, "proposalId"), param(ctx, "memberId"));
    outcome(submit_ballot(
        ctx.tx,
        ctx.engine,
        ctx.gov_host,
        ctx.node_actions,
        &member,
        &proposal_id,
        &member_id,
    )?)
}

fn ballot_get(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let ballot = get_ballot(ctx.tx, &param(ctx, "proposalId"), &param(ctx, "memberId"))?;
    Ok(Response::with_body(
        200,
        "text/javascript",
        ballot.into_bytes(),
    ))
}

fn state_digest_get(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let digest = get_state_digest(ctx.tx, &param(ctx, "memberId"))?;
    Ok(Response::with_body(
        200,
        "application/json",
        digest.to_json(),
    ))
}

fn state_digest_update(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let member = match member(ctx, "state_digest", false)? {
        Ok(member) => member,
        Err(response) => return Ok(response),
    };
    let root = ctx.node.latest_signed_root;
    let digest = update_state_digest(ctx.tx, &member, &param(ctx, "memberId"), root.as_ref())?;
    Ok(Response::with_body(
        200,
        "application/json",
        digest.to_json(),
    ))
}

fn state_digest_ack(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let member = match member(ctx, "ack", false)? {
        Ok(member) => member,
        Err(response) => return Ok(response),
    };
    let _outcome = ack(ctx.tx, &member, &param(ctx, "memberId"))?;
    Ok(Response {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

fn read_json(ctx: &mut EndpointContext<'_>, table: &str, key: &[u8]) -> Option<Value> {
    ctx.tx
        .get(table, key)
        .and_then(|raw| serde_json::from_slice(&raw).ok())
}

fn service_info(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let info = read_json(ctx, SERVICE_INFO, &SINGLETON_KEY)
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", "Service info not yet available"))?;
    let config = read_json(ctx, SERVICE_CONFIG, &SINGLETON_KEY).unwrap_or(Value::Null);
    let mut body = json!({
        "status": info["status"],
        "certificate": info["cert"],
        "recoveryCount": info.get("recovery_count").cloned().unwrap_or(json!(0)),
        "serviceData": info.get("service_data").cloned().unwrap_or(Value::Null),
        "configuration": {
            "recoveryThreshold": config["recovery_threshold"],
            "maximumNodeCertificateValidityDays": config.get("maximum_node_certificate_validity_days").cloned().unwrap_or(json!(365)),
            "maximumServiceCertificateValidityDays": config.get("maximum_service_certificate_validity_days").cloned().unwrap_or(json!(365)),
            "recentCoseProposalsWindowSize": config.get("recent_cose_proposals_window_size").cloned().unwrap_or(json!(100)),
        },
    });
    if let Some(txid) = info.get("current_service_create_txid") {
        body["creationTransactionId"] = txid.clone();
    }
    Ok(Response::json(&body))
}

fn service_constitution(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let constitution: String = read_json(ctx, CONSTITUTION, &SINGLETON_KEY)
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", "Constitution not found"))?;
    Ok(Response::with_body(
        200,
        "text/javascript",
        constitution.into_bytes(),
    ))
}

fn member_json(ctx: &mut EndpointContext<'_>, id: &str) -> Option<Value> {
    let cert = ctx.tx.get(MEMBERS_CERTS, id.as_bytes())?;
    let info = read_json(ctx, MEMBERS_INFO, id.as_bytes()).unwrap_or(Value::Null);
    let key = ctx.tx.get(MEMBERS_ENCRYPTION_PUBLIC_KEYS, id.as_bytes());
    let default_role = if key.is_some() {
        "Participant"
    } else {
        "NonParticipant"
    };
    let mut member = json!({
        "memberId": id,
        "status": info["status"],
        "memberData": info.get("member_data").cloned().unwrap_or(Value::Null),
        "certificate": String::from_utf8_lossy(&cert),
        "recoveryRole": info.get("recovery_role").cloned().unwrap_or(json!(default_role)),
    });
    if let Some(key) = key {
        member["publicEncryptionKey"] = json!(String::from_utf8_lossy(&key));
    }
    Some(member)
}

fn service_members(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let ids: Vec<String> = ctx
        .tx
        .iter(MEMBERS_CERTS)
        .into_iter()
        .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
        .collect();
    let members: Vec<Value> = ids.iter().filter_map(|id| member_json(ctx, id)).collect();
    Ok(Response::json(&json!({ "value": members })))
}

fn service_member(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let id = param(ctx, "memberId");
    let member = member_json(ctx, &id).ok_or_else(|| {
        ApiError::new(
            404,
            "ResourceNotFound",
            format!("Member {id} does not exist."),
        )
    })?;
    Ok(Response::json(&member))
}

fn user_json(ctx: &mut EndpointContext<'_>, id: &str) -> Option<Value> {
    let cert = ctx.tx.get(USERS_CERTS, id.as_bytes())?;
    let info = read_json(ctx, USERS_INFO, id.as_bytes()).unwrap_or(Value::Null);
    Some(json!({
        "userId": id,
        "certificate": String::from_utf8_lossy(&cert),
        "userData": info.get("user_data").cloned().unwrap_or(Value::Null),
    }))
}

fn service_users(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let ids: Vec<String> = ctx
        .tx
        .iter(USERS_CERTS)
        .into_iter()
        .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
        .collect();
    let users: Vec<Value> = ids.iter().filter_map(|id| user_json(ctx, id)).collect();
    Ok(Response::json(&json!({ "value": users })))
}

fn service_user(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let id = param(ctx, "userId");
    let user = user_json(ctx, &id).ok_or_else(|| {
        ApiError::new(
            404,
            "ResourceNotFound",
            format!("User {id} does not exist."),
        )
    })?;
    Ok(Response::json(&user))
}

fn node_json(ctx: &mut EndpointContext<'_>, id: &str) -> Option<Value> {
    let info = read_json(ctx, NODES_INFO, id.as_bytes())?;
    let cert = ctx
        .tx
        .get(NODES_ENDORSED_CERTIFICATES, id.as_bytes())
        .map(|c| String::from_utf8_lossy(&c).into_owned());
    let mut interfaces = Map::new();
    if let Some(rpc) = info["rpc_interfaces"].as_object() {
        for (name, interface) in rpc {
            interfaces.insert(
                name.clone(),
                json!({ "publishedAddress": interface["published_address"], "protocol": interface.get("protocol").cloned().unwrap_or(json!("tcp")) }),
            );
        }
    }
    Some(json!({
        "nodeId": id,
        "status": info["status"],
        "nodeData": info.get("node_data").cloned().unwrap_or(Value::Null),
        "certificate": cert.unwrap_or_default(),
        "retiredCommitted": info.get("retired_committed").cloned().unwrap_or(json!(false)),
        "quoteInfo": { "format": "Insecure_Virtual", "rawQuote": info["quote_info"]["quote"], "details": {} },
        "rpcInterfaces": interfaces,
    }))
}

fn service_nodes(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let ids: Vec<String> = ctx
        .tx
        .iter(NODES_INFO)
        .into_iter()
        .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
        .collect();
    let nodes: Vec<Value> = ids.iter().filter_map(|id| node_json(ctx, id)).collect();
    Ok(Response::json(&json!({ "value": nodes })))
}

fn service_node(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let id = param(ctx, "nodeId");
    let node = node_json(ctx, &id).ok_or_else(|| {
        ApiError::new(
            404,
            "ResourceNotFound",
            format!("Node {id} does not exist."),
        )
    })?;
    Ok(Response::json(&node))
}

fn transactions_commit(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let txid = ctx.node.commit;
    Ok(Response::json(
        &json!({ "transactionId": txid.to_string(), "status": status_name(TxStatus::Committed) }),
    ))
}

fn transaction_status(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let txid = parse_txid(&param(ctx, "transactionId"), "transactionId")?;
    let status = ctx.node.statuses.status(txid);
    Ok(Response::json(
        &json!({ "transactionId": txid.to_string(), "status": status_name(status) }),
    ))
}

/// Who may join: only entries marked `AllowedToJoin` count, as in CCF's `get_join_policy`.
fn service_join_policy(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let body = json!({
        "sgx": { "measurements": allowed_to_join(ctx, NODES_CODE_IDS) },
        "virtual": {
            "measurements": allowed_to_join(ctx, NODES_VIRTUAL_MEASUREMENTS),
            "hostData": table_keys(ctx, NODES_VIRTUAL_HOST_DATA),
        },
        "snp": {
            "measurements": allowed_to_join(ctx, NODES_SNP_MEASUREMENTS),
            "hostData": json_table(ctx, NODES_SNP_HOST_DATA),
            "uvmEndorsements": json_table(ctx, NODES_SNP_UVM_ENDORSEMENTS),
            "tcbVersions": json_table(ctx, NODES_SNP_TCB_VERSIONS),
        },
    });
    Ok(Response::json(&body))
}

fn table_keys(ctx: &mut EndpointContext<'_>, table: &str) -> Vec<Value> {
    ctx.tx
        .iter(table)
        .into_iter()
        .map(|(key, _)| json!(String::from_utf8_lossy(&key)))
        .collect()
}

fn allowed_to_join(ctx: &mut EndpointContext<'_>, table: &str) -> Vec<Value> {
    ctx.tx
        .iter(table)
        .into_iter()
        .filter(|(_, value)| {
            serde_json::from_slice::<Value>(value).is_ok_and(|v| v == "AllowedToJoin")
        })
        .map(|(key, _)| json!(String::from_utf8_lossy(&key)))
        .collect()
}

/// A map table as a JSON object: key string → JSON value (unparsable values are skipped).
fn json_table(ctx: &mut EndpointContext<'_>, table: &str) -> Map<String, Value> {
    ctx.tx
        .iter(table)
        .into_iter()
        .filter_map(|(key, value)| {
            let value = serde_json::from_slice::<Value>(&value).ok()?;
            Some((String::from_utf8_lossy(&key).into_owned(), value))
        })
        .collect()
}

/// JWT issuers, their signing keys (as PEM public keys) and the CA bundles that auto-refresh uses.
fn service_jwk(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let mut issuers = Map::new();
    for (issuer, metadata) in json_table(ctx, JWT_ISSUERS) {
        let mut out = json!({
            "autoRefresh": metadata.get("auto_refresh").cloned().unwrap_or(json!(false)),
        });
        if let Some(bundle) = metadata.get("ca_cert_bundle_name") {
            out["caCertBundleName"] = bundle.clone();
        }
        issuers.insert(issuer, out);
    }
    let mut keys = Map::new();
    for (kid, entries) in json_table(ctx, JWT_PUBLIC_SIGNING_KEYS_METADATA) {
        let entries = entries.as_array().cloned().unwrap_or_default();
        let described: Result<Vec<Value>, ApiError> = entries.iter().map(jwk_key).collect();
        keys.insert(kid, Value::Array(described?));
    }
    let bundles = json_table(ctx, TLS_CA_CERT_BUNDLES);
    Ok(Response::json(&json!({
        "issuers": issuers,
        "keys": keys,
        "caCertBundles": bundles,
    })))
}

/// One stored key (`public_key` is base64 DER SubjectPublicKeyInfo) as CCF describes it; CCF
/// always sets `constraint`, null when the key has none.
fn jwk_key(metadata: &Value) -> Result<Value, ApiError> {
    use base64::Engine as _;
    let der = metadata["public_key"]
        .as_str()
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .ok_or_else(|| {
            ApiError::new(
                500,
                "InternalError",
                "A stored JWT signing key is not base64 DER.",
            )
        })?;
    Ok(json!({
        "publicKey": cloister_crypto::encode_pem("PUBLIC KEY", &der),
        "issuer": metadata["issuer"],
        "constraint": metadata.get("constraint").cloned().unwrap_or(Value::Null),
    }))
}

/// The JS application's endpoints by path and verb. `case=original` gives each operation as
/// stored (snake_case); otherwise CCF's camelCase view, with the defaults of CCF's
/// `EndpointProperties` for what the stored JSON leaves out.
fn service_javascript_app(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let original = match ctx.request.query_param("case").as_deref() {
        None => false,
        Some("original") => true,
        Some(_) => {
            return Err(bad_query(
                "Accepted values for the 'case' query parameter are: original",
            ));
        }
    };
    let mut endpoints = Map::new();
    for (key, raw) in ctx.tx.iter(ENDPOINTS) {
        let key = String::from_utf8_lossy(&key);
        let (Some((verb, path)), Ok(stored)) =
            (key.split_once(' '), serde_json::from_slice::<Value>(&raw))
        else {
            continue;
        };
        let operation = if original {
            stored
        } else {
            js_operation(&stored)
        };
        let operations = endpoints
            .entry(path.to_owned())
            .or_insert_with(|| json!({}));
        operations[verb] = operation;
    }
    Ok(Response::json(&json!({ "endpoints": endpoints })))
}

fn js_operation(stored: &Value) -> Value {
    let field = |name: &str, default: Value| stored.get(name).cloned().unwrap_or(default);
    json!({
        "jsModule": field("js_module", json!("")),
        "jsFunction": field("js_function", json!("")),
        "forwardingRequired": field("forwarding_required", json!("always")),
        "redirectionStrategy": field("redirection_strategy", json!("none")),
        "authnPolicies": field("authn_policies", json!([])),
        "mode": field("mode", json!("readwrite")),
        "openApi": field("openapi", Value::Null),
    })
}

fn service_javascript_modules(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let modules: Vec<Value> = table_keys(ctx, MODULES)
        .into_iter()
        .map(|name| json!({ "moduleName": name }))
        .collect();
    Ok(Response::json(&json!({ "value": modules })))
}

/// One module's source; the name arrives URL-encoded (`%2Fapp%2Fm.js`) and is decoded once.
fn service_javascript_module(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let name = param(ctx, "moduleName");
    let source = ctx.tx.get(MODULES, name.as_bytes()).ok_or_else(|| {
        ApiError::new(
            404,
            "ResourceNotFound",
            format!("Module {name} does not exist."),
        )
    })?;
    Ok(Response::with_body(200, "text/javascript", source))
}
