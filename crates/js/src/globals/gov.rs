//! `ccf.gov.validateConstitution(source)` (spec/ccf-api.md §4 "Shape"): the module must export
//! `validate` with 1 parameter, `resolve` with 3 or 4, and `apply` with 2.

use rquickjs::{Ctx, Exception, Function, Module, Object};

use super::borrow_state;
use crate::runtime::evaluate;
use crate::state::Shared;

const GOV_JS: &str = include_str!("gov.js");

/// The exports a constitution must have and the parameter counts each may declare.
const CONSTITUTION_EXPORTS: [(&str, &[usize]); 3] =
    [("validate", &[1]), ("resolve", &[3, 4]), ("apply", &[2])];

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let state = state.clone();
    natives.set(
        "validateConstitution",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, source: String| -> rquickjs::Result<()> {
                let name = {
                    let mut state = borrow_state(&ctx, &state)?;
                    state.modules_declared += 1;
                    format!("proposed_constitution_{}", state.modules_declared)
                };
                check_constitution_exports(&ctx, &name, &source)
            },
        )?,
    )?;
    Ok(GOV_JS)
}

/// Evaluates `source` as module `name` and checks its exports' parameter counts; throws a
/// TypeError naming the first export that is missing or has the wrong count.
pub(crate) fn check_constitution_exports(
    ctx: &Ctx<'_>,
    name: &str,
    source: &str,
) -> rquickjs::Result<()> {
    if source.trim().is_empty() {
        return Err(Exception::throw_type(ctx, "Constitution is empty"));
    }
    // Not through the bytecode cache: a proposed constitution is usually seen once.
    let module = evaluate(ctx, Module::declare(ctx.clone(), name, source)?, name)?;
    for (export, counts) in CONSTITUTION_EXPORTS {
        let found: Option<Function> = module.get(export).ok();
        let Some(function) = found else {
            return Err(Exception::throw_type(
                ctx,
                &format!("Constitution does not export a function named {export}"),
            ));
        };
        let declared: usize = function.get("length")?;
        if !counts.contains(&declared) {
            let expected = counts
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(Exception::throw_type(
                ctx,
                &format!(
                    "Constitution function {export} must declare {expected} parameters, \
                     but declares {declared}"
                ),
            ));
        }
    }
    Ok(())
}
