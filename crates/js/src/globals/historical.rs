//! Application calls only: `ccf.historical.*` and `ccf.historicalState` through the node's
//! [`HistoricalHost`] (spec/ccf-js.md §3.7). States handed to JavaScript are kept in the call's
//! [`HistoricalCall`](crate::app::HistoricalCall); their tables are read-only whatever the
//! endpoint's mode, and tables the context may not touch stay illegal.

use std::rc::Rc;

use cloister_types::SeqNo;
use rquickjs::{Array, Ctx, Exception, Function, Object, Value};

use super::{array_buffer, borrow_state, bytes_from_latin1};
use crate::app::{AppHost, HistoricalState};
use crate::permissions::{self, MapAccess};
use crate::state::Shared;

const HISTORICAL_JS: &str = include_str!("historical.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let s = state.clone();
    natives.set(
        "histTarget",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>| -> rquickjs::Result<Value<'js>> {
                let Some(host) = app_host(&ctx, &s)? else {
                    return Ok(Value::new_null(ctx));
                };
                let Some(target) = host.historical().and_then(|h| h.target_state()) else {
                    return Ok(Value::new_null(ctx));
                };
                let mut state = borrow_state(&ctx, &s)?;
                let (index, fresh) = state.historical.target(target);
                let Some(found) = state.historical.state(index).cloned() else {
                    return Err(Exception::throw_internal(&ctx, "historical state lost"));
                };
                drop(state);
                let info = state_info(&ctx, index, &found)?;
                info.set(4, fresh)?;
                Ok(info.into_value())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "histRange",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  handle: f64,
                  start: f64,
                  end: f64,
                  expiry: f64|
                  -> rquickjs::Result<Value<'js>> {
                let host = historical_host(&ctx, &s)?;
                let Some(historical) = host.historical() else {
                    return Err(Exception::throw_internal(&ctx, "Failed to get state cache"));
                };
                // The glue truncated all four to non-negative integers.
                let range = historical.state_range(
                    handle as u64,
                    SeqNo(start as u64),
                    SeqNo(end as u64),
                    expiry as u64,
                );
                let states = match range {
                    Ok(Some(states)) => states,
                    Ok(None) => return Ok(Value::new_null(ctx)),
                    Err(reason) => {
                        return Err(Exception::throw_internal(
                            &ctx,
                            &format!("Failed to get state range: {reason}"),
                        ));
                    }
                };
                let out = Array::new(ctx.clone())?;
                for (i, found) in states.into_iter().enumerate() {
                    let index = borrow_state(&ctx, &s)?.historical.add(found.clone());
                    out.set(i, state_info(&ctx, index, &found)?)?;
                }
                Ok(out.into_value())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "histDrop",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, handle: f64| -> rquickjs::Result<bool> {
                let host = historical_host(&ctx, &s)?;
                match host.historical() {
                    Some(historical) => Ok(historical.drop_cached_states(handle as u64)),
                    None => Err(Exception::throw_internal(&ctx, "Failed to get state cache")),
                }
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "histCheck",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String, method: String, write: bool| {
                check(&ctx, &s, &map, &method, write)
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "histGet",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  index: usize,
                  seqno: f64,
                  map: String,
                  key: String|
                  -> rquickjs::Result<Value<'js>> {
                let key = bytes_from_latin1(&ctx, &key)?;
                let found = owned_state(&ctx, &s, index, seqno)?;
                match found.get(&map, &key) {
                    Some(value) => array_buffer(&ctx, value),
                    None => Ok(Value::new_undefined(ctx)),
                }
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "histEntries",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  index: usize,
                  seqno: f64,
                  map: String|
                  -> rquickjs::Result<Array<'js>> {
                let found = owned_state(&ctx, &s, index, seqno)?;
                let out = Array::new(ctx.clone())?;
                let entries = found.tables.get(&map).into_iter().flatten();
                for (i, (key, value)) in entries.enumerate() {
                    let pair = Array::new(ctx.clone())?;
                    pair.set(0, array_buffer(&ctx, key)?)?;
                    pair.set(1, array_buffer(&ctx, value)?)?;
                    out.set(i, pair)?;
                }
                Ok(out)
            },
        )?,
    )?;
    Ok(HISTORICAL_JS)
}

/// `[index, seqno, "view.seqno", receipt JSON]`: what the glue builds a state object from.
fn state_info<'js>(
    ctx: &Ctx<'js>,
    index: usize,
    state: &HistoricalState,
) -> rquickjs::Result<Array<'js>> {
    let info = Array::new(ctx.clone())?;
    info.set(0, index)?;
    info.set(1, state.tx_id.seqno.0 as f64)?;
    info.set(2, state.tx_id.to_string())?;
    info.set(3, state.receipt_json.as_str())?;
    Ok(info)
}

/// The node behind the call, if any; the state is released before the host is asked.
fn app_host(ctx: &Ctx<'_>, state: &Shared) -> rquickjs::Result<Option<Rc<dyn AppHost>>> {
    Ok(borrow_state(ctx, state)?
        .app_host
        .as_ref()
        .map(|handle| handle.0.clone()))
}

fn historical_host(ctx: &Ctx<'_>, state: &Shared) -> rquickjs::Result<Rc<dyn AppHost>> {
    app_host(ctx, state)?
        .ok_or_else(|| Exception::throw_internal(ctx, "Failed to get extension object"))
}

/// The state at `index` of this call, if it is the transaction at `seqno` (a state object
/// kept from an earlier request of a reused interpreter names another call's list).
fn owned_state(
    ctx: &Ctx<'_>,
    state: &Shared,
    index: usize,
    seqno: f64,
) -> rquickjs::Result<Rc<HistoricalState>> {
    borrow_state(ctx, state)?
        .historical
        .state(index)
        .filter(|found| found.tx_id.seqno.0 as f64 == seqno)
        .cloned()
        .ok_or_else(|| {
            Exception::throw_internal(ctx, "historical state is not held by this request")
        })
}

/// Reads need the context to reach the table at all; writes are always refused, with CCF's
/// explanation for historical tables (`historical.cpp`).
fn check(
    ctx: &Ctx<'_>,
    state: &Shared,
    map: &str,
    method: &str,
    write: bool,
) -> rquickjs::Result<()> {
    let context = borrow_state(ctx, state)?.context;
    let allowed = permissions::access(context, map);
    if allowed == MapAccess::Illegal {
        let message = permissions::denied_message(method, map, allowed, context);
        return Err(Exception::throw_type(ctx, &message));
    }
    if write {
        return Err(Exception::throw_type(
            ctx,
            &format!(
                "Cannot call {method} on table named {map}. All tables are read-only during \
                 historical transaction."
            ),
        ));
    }
    Ok(())
}
