//! GOV_RW only: `ccf.node.*` and `ccf.refreshAppBytecodeCache()` (spec/ccf-api.md §4). Each
//! call is recorded as a [`NodeAction`] for the node to carry out once the transaction commits.

use cloister_gov::NodeAction;
use rquickjs::{Ctx, Exception, Function, Object};

use super::{borrow_state, bytes_from_latin1};
use crate::state::Shared;

const NODE_JS: &str = include_str!("node.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let s = state.clone();
    natives.set(
        "nodeAction",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, kind: String| -> rquickjs::Result<()> {
                let action = match kind.as_str() {
                    "triggerLedgerRekey" => NodeAction::TriggerLedgerRekey,
                    "triggerRecoverySharesRefresh" => NodeAction::TriggerRecoverySharesRefresh,
                    "triggerLedgerChunk" => NodeAction::TriggerLedgerChunk,
                    "triggerSnapshot" => NodeAction::TriggerSnapshot,
                    "refreshAppBytecodeCache" => NodeAction::RefreshAppBytecodeCache,
                    other => {
                        return Err(Exception::throw_internal(
                            &ctx,
                            &format!("unknown node action {other}"),
                        ));
                    }
                };
                borrow_state(&ctx, &s)?.actions.push(action);
                Ok(())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "transitionServiceToOpen",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, previous: Option<String>, next: String| -> rquickjs::Result<()> {
                let previous_identity_pem = match previous {
                    Some(bytes) => Some(pem_text(&ctx, &bytes)?),
                    None => None,
                };
                let next_identity_pem = pem_text(&ctx, &next)?;
                borrow_state(&ctx, &s)?
                    .actions
                    .push(NodeAction::TransitionServiceToOpen {
                        previous_identity_pem,
                        next_identity_pem,
                    });
                Ok(())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "triggerAcmeRefresh",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, interfaces: Option<Vec<String>>| -> rquickjs::Result<()> {
                borrow_state(&ctx, &s)?
                    .actions
                    .push(NodeAction::TriggerAcmeRefresh { interfaces });
                Ok(())
            },
        )?,
    )?;
    Ok(NODE_JS)
}

/// A PEM passed as an ArrayBuffer of UTF-8 (what `ccf.strToBuf(pem)` gives).
fn pem_text(ctx: &Ctx<'_>, latin1: &str) -> rquickjs::Result<String> {
    String::from_utf8(bytes_from_latin1(ctx, latin1)?)
        .map_err(|_| Exception::throw_type(ctx, "service identity is not UTF-8 PEM text"))
}
