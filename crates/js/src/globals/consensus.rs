//! Application calls only: `ccf.consensus.*` through the node's [`AppHost`] (spec/ccf-js.md
//! §3.6). Numbers cross as JavaScript numbers: views and seqnos stay far below 2^53.

use std::rc::Rc;

use cloister_types::{SeqNo, TxId, TxStatus, View};
use rquickjs::{Ctx, Exception, Function, Object, Value};

use super::borrow_state;
use crate::app::AppHost;
use crate::state::Shared;

const CONSENSUS_JS: &str = include_str!("consensus.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let s = state.clone();
    natives.set(
        "lastCommittedTxId",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>| -> rquickjs::Result<Vec<f64>> {
                let last = host(&ctx, &s)?.last_committed_tx_id();
                Ok(vec![last.view.0 as f64, last.seqno.0 as f64])
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "statusForTxId",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, view: f64, seqno: f64| -> rquickjs::Result<&'static str> {
                // The glue checked both are integers in [0, 2^53).
                let tx_id = TxId {
                    view: View(view as u64),
                    seqno: SeqNo(seqno as u64),
                };
                Ok(status_name(host(&ctx, &s)?.tx_status(tx_id)))
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "viewForSeqno",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, seqno: f64| -> rquickjs::Result<Value<'js>> {
                // CCF answers null, not undefined, for a seqno it does not know.
                Ok(match host(&ctx, &s)?.view_for_seqno(SeqNo(seqno as u64)) {
                    Some(view) => Value::new_number(ctx, view.0 as f64),
                    None => Value::new_null(ctx),
                })
            },
        )?,
    )?;
    Ok(CONSENSUS_JS)
}

/// The node behind the call; the state is released before the host is asked.
fn host(ctx: &Ctx<'_>, state: &Shared) -> rquickjs::Result<Rc<dyn AppHost>> {
    let handle = borrow_state(ctx, state)?.app_host.clone();
    match handle {
        Some(handle) => Ok(handle.0),
        None => Err(Exception::throw_internal(
            ctx,
            "ccf.consensus is not available in this context",
        )),
    }
}

/// CCF's names for transaction statuses (spec/ccf-api.md §2).
fn status_name(status: TxStatus) -> &'static str {
    match status {
        TxStatus::Unknown => "Unknown",
        TxStatus::Pending => "Pending",
        TxStatus::Committed => "Committed",
        TxStatus::Invalid => "Invalid",
    }
}
