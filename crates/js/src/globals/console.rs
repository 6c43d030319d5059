//! `console.{log,info,warn,error}` (spec/ccf-js.md §3.1): arguments joined with spaces, objects
//! as JSON; the lines are kept for the caller (`QuickJsConstitution::logs`), never printed.

use rquickjs::{Ctx, Function, Object};

use super::borrow_state;
use crate::state::{LogLevel, Shared};

const CONSOLE_JS: &str = include_str!("console.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let state = state.clone();
    natives.set(
        "log",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, level: String, text: String| -> rquickjs::Result<()> {
                let level = match level.as_str() {
                    "warn" => LogLevel::Warn,
                    "error" => LogLevel::Error,
                    _ => LogLevel::Info,
                };
                borrow_state(&ctx, &state)?.log(level, text);
                Ok(())
            },
        )?,
    )?;
    Ok(CONSOLE_JS)
}
