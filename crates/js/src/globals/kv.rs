//! `ccf.kv[name]`: a map handle per table name, bound to the call's transaction, with CCF's
//! permissions for the execution context (spec/ccf-js.md §3.3, spec/ccf-api.md §4).

use cloister_types::SeqNo;
use rquickjs::{Array, Ctx, Exception, Function, Object, Value};

use super::{array_buffer, borrow_state, bytes_from_latin1};
use crate::permissions;
use crate::state::{CallState, Shared};

const KV_JS: &str = include_str!("kv.js");

/// What a method needs of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Read,
    Write,
}

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let s = state.clone();
    natives.set(
        "kvCheck",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  map: String,
                  method: String,
                  write: bool|
                  -> rquickjs::Result<()> {
                let need = if write { Need::Write } else { Need::Read };
                checked(&ctx, &s, &method, &map, need)?;
                Ok(())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "kvGet",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String, key: String| -> rquickjs::Result<Value<'js>> {
                let key = bytes_from_latin1(&ctx, &key)?;
                let found = checked(&ctx, &s, "get", &map, Need::Read)?.get(&map, &key);
                match found {
                    Some(value) => array_buffer(&ctx, &value),
                    None => Ok(Value::new_undefined(ctx)),
                }
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "kvHas",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String, key: String| -> rquickjs::Result<bool> {
                let key = bytes_from_latin1(&ctx, &key)?;
                Ok(checked(&ctx, &s, "has", &map, Need::Read)?
                    .get(&map, &key)
                    .is_some())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "kvSet",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String, key: String, value: String| -> rquickjs::Result<()> {
                let key = bytes_from_latin1(&ctx, &key)?;
                let value = bytes_from_latin1(&ctx, &value)?;
                checked(&ctx, &s, "set", &map, Need::Write)?.put(&map, key, value);
                Ok(())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "kvDelete",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String, key: String| -> rquickjs::Result<()> {
                let key = bytes_from_latin1(&ctx, &key)?;
                checked(&ctx, &s, "delete", &map, Need::Write)?.remove(&map, key);
                Ok(())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "kvClear",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String| -> rquickjs::Result<()> {
                let mut state = checked(&ctx, &s, "clear", &map, Need::Write)?;
                for (key, _) in state.entries(&map) {
                    state.remove(&map, key);
                }
                Ok(())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "kvEntries",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String| -> rquickjs::Result<Array<'js>> {
                // Copied out first: the callbacks run with the state free to use.
                let entries = checked(&ctx, &s, "forEach", &map, Need::Read)?.entries(&map);
                let out = Array::new(ctx.clone())?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    let pair = Array::new(ctx.clone())?;
                    pair.set(0, array_buffer(&ctx, key)?)?;
                    pair.set(1, array_buffer(&ctx, value)?)?;
                    out.set(i, pair)?;
                }
                Ok(out)
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "kvSize",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String| -> rquickjs::Result<usize> {
                Ok(checked(&ctx, &s, "size", &map, Need::Read)?
                    .entries(&map)
                    .len())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "kvVersionOfPreviousWrite",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, map: String, key: String| -> rquickjs::Result<Value<'js>> {
                let key = bytes_from_latin1(&ctx, &key)?;
                let version = checked(&ctx, &s, "getVersionOfPreviousWrite", &map, Need::Read)?
                    .version_of(&map, &key);
                Ok(match version {
                    Some(seqno) => seqno_value(&ctx, seqno),
                    None => Value::new_undefined(ctx),
                })
            },
        )?,
    )?;
    Ok(KV_JS)
}

/// A seqno as CCF's `JS_NewInt64` makes it: an integer when it fits in 32 bits, else a double.
fn seqno_value<'js>(ctx: &Ctx<'js>, seqno: SeqNo) -> Value<'js> {
    match i32::try_from(seqno.0) {
        Ok(small) => Value::new_int(ctx.clone(), small),
        Err(_) => Value::new_float(ctx.clone(), seqno.0 as f64),
    }
}

/// The call's state once `method` on `map` is allowed in its execution context; else the
/// TypeError CCF throws, naming the table.
fn checked<'a>(
    ctx: &Ctx<'_>,
    state: &'a Shared,
    method: &str,
    map: &str,
    need: Need,
) -> rquickjs::Result<std::cell::RefMut<'a, CallState>> {
    let state = borrow_state(ctx, state)?;
    let allowed = permissions::access(state.context, map);
    let ok = match need {
        Need::Read => allowed.can_read(),
        Need::Write => allowed.can_write(),
    };
    if ok {
        Ok(state)
    } else {
        let message = permissions::denied_message(method, map, allowed, state.context);
        drop(state);
        Err(Exception::throw_type(ctx, &message))
    }
}
