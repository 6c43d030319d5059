//! `Math.random` and `Date` made deterministic (sans-IO). CCF overrides `Math.random` with a
//! CSPRNG and pins `Date` to the epoch unless `ccf.enableUntrustedDateTime(true)`
//! (spec/ccf-js.md §4.8); here `Math.random` draws from a generator seeded by the caller from the
//! call's inputs, so a re-run of the same call sees the same numbers, and `Date` stays at the
//! epoch, or shows the host time the caller passed in once the script enables untrusted time
//! (this crate reads no clock).

use rquickjs::{Ctx, Function, Object};

use super::borrow_state;
use crate::state::Shared;

const ENV_JS: &str = include_str!("env.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let s = state.clone();
    natives.set(
        "random",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| -> rquickjs::Result<f64> {
            Ok(borrow_state(&ctx, &s)?.next_random())
        })?,
    )?;
    let s = state.clone();
    natives.set(
        "now",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| -> rquickjs::Result<f64> {
            let state = borrow_state(&ctx, &s)?;
            // Milliseconds since the epoch stay far below 2^53.
            Ok(if state.untrusted_time {
                state.host_time_ms as f64
            } else {
                0.0
            })
        })?,
    )?;
    Ok(ENV_JS)
}
