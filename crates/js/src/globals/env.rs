//! `Math.random` and `Date` made deterministic (sans-IO). CCF overrides `Math.random` with a
//! CSPRNG and pins `Date` to the epoch unless `ccf.enableUntrustedDateTime(true)`
//! (spec/ccf-js.md §4.8); here `Math.random` draws from a generator seeded by the caller from the
//! call's inputs, so a re-run of the same call sees the same numbers, and `Date` stays at the
//! epoch (this crate reads no clock).

use rquickjs::{Ctx, Function, Object};

use super::borrow_state;
use crate::state::Shared;

const ENV_JS: &str = include_str!("env.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let state = state.clone();
    natives.set(
        "random",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| -> rquickjs::Result<f64> {
            Ok(borrow_state(&ctx, &state)?.next_random())
        })?,
    )?;
    Ok(ENV_JS)
}
