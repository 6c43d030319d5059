//! GOV_RW only: `ccf.network.*` through the node's `GovHost` (spec/ccf-api.md §4). The latest
//! ledger secret seqno is read before the call; certificate requests are answered through the
//! re-run protocol of [`crate::state::HostBridge`].

use rquickjs::{Ctx, Exception, Function, Object};

use super::borrow_state;
use crate::state::{HostRequest, Shared};

const NETWORK_JS: &str = include_str!("network.js");

/// What a native does with a host request: the host's answer when the engine has it; else the
/// request is recorded and the script gets an empty string and runs on, so that one run finds
/// every request it can. That run's results are thrown away (see [`crate::state::HostBridge`]).
fn answer(ctx: &Ctx<'_>, state: &Shared, request: HostRequest) -> rquickjs::Result<String> {
    let mut state = borrow_state(ctx, state)?;
    match state.host.answers.get(&request).cloned() {
        Some(Ok(pem)) => Ok(pem),
        Some(Err(reason)) => {
            drop(state);
            Err(Exception::throw_internal(ctx, &reason))
        }
        None => {
            state.host.unanswered.insert(request);
            Ok(String::new())
        }
    }
}

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let s = state.clone();
    natives.set(
        "latestLedgerSecretSeqno",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>| -> rquickjs::Result<f64> {
            // JavaScript numbers: seqnos stay far below 2^53.
            Ok(borrow_state(&ctx, &s)?.host.latest_ledger_secret_seqno as f64)
        })?,
    )?;
    let s = state.clone();
    natives.set(
        "generateEndorsedCertificate",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, csr_pem: String, valid_from: String, validity_days: u64| {
                let request = HostRequest::EndorsedCertificate {
                    csr_pem,
                    valid_from,
                    validity_days,
                };
                answer(&ctx, &s, request)
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "generateNetworkCertificate",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, valid_from: String, validity_days: u64| {
                let request = HostRequest::NetworkCertificate {
                    valid_from,
                    validity_days,
                };
                answer(&ctx, &s, request)
            },
        )?,
    )?;
    Ok(NETWORK_JS)
}
