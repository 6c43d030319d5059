//! Endpoints every frontend has (spec/ccf-api.md §1.0): `/commit`, `/tx`, `/receipt`, all
//! unauthenticated.

use std::str::FromStr;

use cloister_types::{ApiError, TxId, TxStatus, View};
use serde_json::json;

use crate::endpoints::{EndpointContext, Handler, bad_query, handler};
use crate::error::NodeError;
use crate::rpc::{Endpoint, EndpointRegistry, Forwarding, Mode, PathTemplate, Response};

/// Installs `/commit`, `/tx` and `/receipt` into `registry`.
pub fn install(registry: &mut EndpointRegistry<Handler>) {
    let get = |path: &str, handler: Handler| Endpoint {
        method: "GET".to_owned(),
        template: PathTemplate::parse(path).unwrap_or_else(|| unreachable_template(path)),
        policies: Vec::new(),
        mode: Mode::ReadOnly,
        forwarding: Forwarding::Sometimes,
        handler,
    };
    registry.install(get("/commit", handler(commit)));
    registry.install(get("/tx", handler(tx_status)));
    registry.install(get("/receipt", handler(receipt)));
}

/// Built-in templates are literals in this file; a malformed one is a bug caught by the tests.
pub(crate) fn unreachable_template(path: &str) -> PathTemplate {
    panic!("built-in path template {path:?} does not parse")
}

fn commit(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let mut body = json!({ "transaction_id": ctx.node.commit.to_string() });
    let since = match ctx.request.query_param("view_history_since") {
        Some(text) => {
            let since = text
                .parse::<u64>()
                .ok()
                .filter(|v| *v >= 1 && *v <= ctx.node.view.0)
                .ok_or_else(|| {
                    bad_query(
                        "Invalid value for view_history_since, must be in range [1, current_term]",
                    )
                })?;
            Some(View(since))
        }
        None => None,
    };
    let wanted = match ctx.request.query_param("view_history").as_deref() {
        None => false,
        Some("true") => true,
        Some("false") => false,
        Some(_) => {
            return Err(bad_query(
                "view_history must be one of [true, false] when present",
            ));
        }
    };
    if wanted || since.is_some() {
        let history: Vec<String> = ctx
            .node
            .statuses
            .view_history(since.unwrap_or(View(1)))
            .iter()
            .map(TxId::to_string)
            .collect();
        body["view_history"] = json!(history);
    }
    Ok(Response::json(&body))
}

/// The `transaction_id` query parameter as a TxId, with CCF's messages.
pub(crate) fn txid_param(ctx: &EndpointContext<'_>) -> Result<TxId, ApiError> {
    let text = ctx
        .request
        .query_param("transaction_id")
        .ok_or_else(|| bad_query("Query parameter 'transaction_id' is required"))?;
    parse_txid(&text, "transaction_id")
}

/// `v.s` with view and seqno ≥ 1.
pub(crate) fn parse_txid(text: &str, name: &str) -> Result<TxId, ApiError> {
    TxId::from_str(text).ok().filter(|t| t.view.0 > 0 && t.seqno.0 > 0).ok_or_else(|| {
        bad_query(format!(
            "The value '{text}' passed as parameter '{name}' could not be converted to a valid Transaction ID."
        ))
    })
}

pub(crate) fn status_name(status: TxStatus) -> &'static str {
    match status {
        TxStatus::Unknown => "Unknown",
        TxStatus::Pending => "Pending",
        TxStatus::Committed => "Committed",
        TxStatus::Invalid => "Invalid",
    }
}

fn tx_status(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let txid = txid_param(ctx)?;
    let status = ctx.node.statuses.status(txid);
    Ok(Response::json(
        &json!({ "transaction_id": txid.to_string(), "status": status_name(status) }),
    ))
}

/// Historical query (spec/ccf-api.md §1.0): committed transactions only.
fn receipt(ctx: &mut EndpointContext<'_>) -> Result<Response, ApiError> {
    let txid = txid_param(ctx)?;
    match ctx.node.statuses.status(txid) {
        TxStatus::Committed => {}
        TxStatus::Invalid => {
            return Err(ApiError::new(
                404,
                "TransactionInvalid",
                format!("Transaction {txid} is invalid."),
            ));
        }
        status => {
            let message = format!(
                "Only committed transactions can be queried. Transaction {txid} is {}",
                status_name(status)
            );
            return Err(ApiError::new(404, "TransactionPendingOrUnknown", message));
        }
    }
    match ctx.node.receipts.receipt(txid.seqno, ctx.node.commit.seqno) {
        Ok(receipt) => Ok(Response::with_body(
            200,
            "application/json",
            receipt.to_json().into_bytes(),
        )),
        Err(NodeError::NotYetSigned(_)) => {
            let mut response = Response::with_body(
                202,
                "text/plain",
                format!("Historical transaction {txid} is not currently available.").into_bytes(),
            );
            response
                .headers
                .push(("retry-after".to_owned(), "3".to_owned()));
            Ok(response)
        }
        Err(error) => Err(ApiError::new(500, "InternalError", error.to_string())),
    }
}
