//! Application calls only: `ccf.rpc.setApplyWrites(bool)` and `ccf.rpc.setClaimsDigest(buf)`
//! (spec/ccf-js.md §3.5, §4.1). Both are recorded in the call's state for the response.

use cloister_crypto::Sha256Hash;
use rquickjs::{Ctx, Exception, Function, Object};

use super::{borrow_state, bytes_from_latin1};
use crate::state::Shared;

const RPC_JS: &str = include_str!("rpc.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    let s = state.clone();
    natives.set(
        "setApplyWrites",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, apply: bool| -> rquickjs::Result<()> {
                borrow_state(&ctx, &s)?.rpc.apply_writes = Some(apply);
                Ok(())
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "setClaimsDigest",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, digest: String| -> rquickjs::Result<()> {
                let bytes = bytes_from_latin1(&ctx, &digest)?;
                let Ok(digest) = <[u8; 32]>::try_from(bytes.as_slice()) else {
                    return Err(Exception::throw_type(
                        &ctx,
                        "claims digest must be 32 bytes",
                    ));
                };
                borrow_state(&ctx, &s)?.rpc.claims_digest = Some(Sha256Hash(digest));
                Ok(())
            },
        )?,
    )?;
    Ok(RPC_JS)
}
