//! CCF's logging sample app, natively (spec/schemas/app_openapi.json): records in a private map
//! `records` and a public map `public:records`, keyed by a u64 id. Keys and values are stored as
//! CCF's `kv::Map<size_t, std::string>` stores them: JSON (`42`, `"hello"`).

use cloister_types::ApiError;
use serde::Deserialize;
use serde_json::json;

use crate::apps::App;
use crate::endpoints::common::unreachable_template;
use crate::endpoints::{EndpointContext, Handler, bad_query, handler};
use crate::rpc::{
    AuthPolicy, Endpoint, EndpointRegistry, Forwarding, Mode, PathTemplate, Response,
};

pub const PRIVATE_RECORDS: &str = "records";
pub const PUBLIC_RECORDS: &str = "public:records";

/// The logging app.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoggingApp;

#[derive(Deserialize)]
struct Record {
    id: u64,
    msg: String,
}

impl App for LoggingApp {
    fn install(&self, registry: &mut EndpointRegistry<Handler>) {
        for (path, table) in [
            ("/log/private", PRIVATE_RECORDS),
            ("/log/public", PUBLIC_RECORDS),
        ] {
            let endpoint = |method: &str, path: &str, mode: Mode, handler: Handler| Endpoint {
                method: method.to_owned(),
                template: PathTemplate::parse(path).unwrap_or_else(|| unreachable_template(path)),
                policies: vec![AuthPolicy::UserCert],
                mode,
                forwarding: if mode == Mode::ReadWrite {
                    Forwarding::Always
                } else {
                    Forwarding::Sometimes
                },
                handler,
            };
            registry.install(endpoint(
                "POST",
                path,
                Mode::ReadWrite,
                handler(move |ctx| post(ctx, table)),
            ));
            registry.install(endpoint(
                "GET",
                path,
                Mode::ReadOnly,
                handler(move |ctx| get(ctx, table)),
            ));
            registry.install(endpoint(
                "DELETE",
                path,
                Mode::ReadWrite,
                handler(move |ctx| delete(ctx, table)),
            ));
            let count = format!("{path}/count");
            registry.install(endpoint(
                "GET",
                &count,
                Mode::ReadOnly,
                handler(move |ctx| count_records(ctx, table)),
            ));
        }
    }
}

fn post(ctx: &mut EndpointContext<'_>, table: &str) -> Result<Response, ApiError> {
    let record: Record = serde_json::from_slice(&ctx.request.body)
        .map_err(|e| ApiError::new(400, "InvalidInput", format!("Invalid request body: {e}")))?;
    if record.msg.is_empty() {
        return Err(ApiError::new(
            400,
            "InvalidInput",
            "Cannot record an empty log message.",
        ));
    }
    let value = serde_json::to_vec(&record.msg).unwrap_or_default();
    ctx.tx.put(table, key(record.id), value);
    Ok(Response::json(&json!(true)))
}

fn id_param(ctx: &EndpointContext<'_>) -> Result<u64, ApiError> {
    let text = ctx
        .request
        .query_param("id")
        .ok_or_else(|| bad_query("Missing query parameter 'id'"))?;
    text.parse()
        .map_err(|_| bad_query(format!("Unable to parse value '{text}' in parameter 'id'")))
}

fn get(ctx: &mut EndpointContext<'_>, table: &str) -> Result<Response, ApiError> {
    let id = id_param(ctx)?;
    let raw = ctx
        .tx
        .get(table, &key(id))
        .ok_or_else(|| ApiError::new(404, "ResourceNotFound", format!("No such record: {id}.")))?;
    let msg: String = serde_json::from_slice(&raw)
        .map_err(|e| ApiError::new(500, "InternalError", e.to_string()))?;
    Ok(Response::json(&json!({ "msg": msg })))
}

fn delete(ctx: &mut EndpointContext<'_>, table: &str) -> Result<Response, ApiError> {
    let id = id_param(ctx)?;
    ctx.tx.remove(table, key(id));
    Ok(Response::json(&json!(true)))
}

fn count_records(ctx: &mut EndpointContext<'_>, table: &str) -> Result<Response, ApiError> {
    Ok(Response::json(&json!(ctx.tx.iter(table).len())))
}

/// CCF's JSON key encoding for `size_t` keys.
fn key(id: u64) -> Vec<u8> {
    id.to_string().into_bytes()
}
