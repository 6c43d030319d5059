//! The globals of a governance or application context (spec/ccf-api.md §4 "Execution contexts
//! and globals", spec/ccf-js.md §3.1), one file per namespace.
//!
//! Each namespace has Rust natives (what needs the transaction, the host or a library) and a
//! small JavaScript glue script that gives the API its CCF shape: exact argument counts,
//! ArrayBuffer-only byte arguments, detached-callable functions. The natives are handed to the
//! glue in an object that user code never sees. Byte arguments cross into Rust as strings of
//! code units below 256 (one per byte) — rquickjs offers byte access to ArrayBuffers only through
//! `unsafe`, and this crate forbids it.

mod consensus;
mod console;
mod converters;
mod crypto;
mod env;
mod gov;
mod historical;
mod host;
mod jwt;
mod kv;
mod network;
mod node;
mod rpc;
mod snp;

use std::cell::RefMut;

use rquickjs::{Array, ArrayBuffer, Ctx, Exception, Function, Object, Value};

use crate::bytecode_cache::BytecodeCache;

use crate::permissions::ExecContext;
use crate::state::{CallState, Shared};

pub(crate) use gov::check_constitution_exports;

/// Shared helpers of the glue scripts (run first).
const BASE_JS: &str = include_str!("base.js");

/// Installs `console`, `Math.random`, `Date` and `ccf` on the context's global object, and
/// returns the object of natives (for glue that runs later, such as an application's request
/// and response handling).
pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    state: &Shared,
    cache: &mut BytecodeCache,
) -> rquickjs::Result<Object<'js>> {
    let context = state.borrow().context;
    let natives = Object::new(ctx.clone())?;
    natives.set(
        "isArrayBuffer",
        Function::new(ctx.clone(), |value: Value<'js>| is_array_buffer(&value))?,
    )?;
    let mut scripts = vec![BASE_JS];
    scripts.push(env::register(ctx, &natives, state)?);
    scripts.push(console::register(ctx, &natives, state)?);
    scripts.push(converters::register(ctx, &natives, state)?);
    scripts.push(crypto::register(ctx, &natives, state)?);
    scripts.push(kv::register(ctx, &natives, state)?);
    scripts.push(snp::register(ctx, &natives)?); // app and governance contexts alike
    match context {
        ExecContext::GovRo => scripts.push(gov::register(ctx, &natives, state)?),
        ExecContext::GovRw => {
            scripts.push(gov::register(ctx, &natives, state)?);
            scripts.push(node::register(ctx, &natives, state)?);
            scripts.push(network::register(ctx, &natives, state)?);
            scripts.push(jwt::register(ctx, &natives)?);
        }
        // Applications get `ccf.rpc` and `ccf.consensus`, never the governance namespaces.
        ExecContext::AppRw | ExecContext::AppRo => {
            scripts.push(rpc::register(ctx, &natives, state)?);
            scripts.push(consensus::register(ctx, &natives, state)?);
            scripts.push(historical::register(ctx, &natives, state)?);
            scripts.push(host::register(ctx, &natives, state)?);
            scripts.push(crate::app::APP_JS);
        }
    }
    let ccf = Object::new(ctx.clone())?;
    ctx.globals().set("ccf", ccf.clone())?;
    for glue in glue_functions(ctx, cache, context, &scripts)? {
        glue.call::<_, ()>((natives.clone(), ccf.clone()))?;
    }
    Ok(natives)
}

/// The glue functions of `scripts` (the scripts of `context`), in order. Each script is one
/// function expression; they are evaluated as the default export (an array) of one module, so
/// that the set for a context is compiled once and then loaded from bytecode.
pub(crate) fn glue_functions<'js>(
    ctx: &Ctx<'js>,
    cache: &mut BytecodeCache,
    context: ExecContext,
    scripts: &[&str],
) -> rquickjs::Result<Vec<Function<'js>>> {
    let module = cache.declare_glue(ctx, context, GLUE_MODULE, || {
        let mut source = String::from("export default [\n");
        for script in scripts {
            source.push_str(script.trim_end().trim_end_matches(';'));
            source.push_str(",\n");
        }
        source.push_str("];\n");
        source
    })?;
    let module = crate::runtime::evaluate(ctx, module, GLUE_MODULE)?;
    let functions: Array<'js> = module.get("default")?;
    functions.iter::<Function>().collect()
}

/// The name the glue module is declared under (no bundle module can be reached by it: bundle
/// names are paths).
const GLUE_MODULE: &str = "cloister:glue";

/// The call's state, or a thrown InternalError if a native is re-entered while it is in use.
pub(crate) fn borrow_state<'a>(
    ctx: &Ctx<'_>,
    state: &'a Shared,
) -> rquickjs::Result<RefMut<'a, CallState>> {
    state
        .try_borrow_mut()
        .map_err(|_| Exception::throw_internal(ctx, "re-entrant call into the ccf globals"))
}

fn is_array_buffer(value: &Value<'_>) -> bool {
    value
        .as_object()
        .is_some_and(|object| object.as_array_buffer().is_some())
}

/// The bytes a glue script passed as a string of code units below 256.
pub(crate) fn bytes_from_latin1(ctx: &Ctx<'_>, text: &str) -> rquickjs::Result<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| Exception::throw_internal(ctx, "byte string holds a code unit above 255"))
}

pub(crate) fn array_buffer<'js>(ctx: &Ctx<'js>, bytes: &[u8]) -> rquickjs::Result<Value<'js>> {
    Ok(ArrayBuffer::new_copy(ctx.clone(), bytes)?.into_value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn latin1_strings_carry_every_byte(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let runtime = rquickjs::Runtime::new().unwrap();
            let context = rquickjs::Context::full(&runtime).unwrap();
            context.with(|ctx| {
                let text: String = bytes.iter().map(|&b| char::from(b)).collect();
                assert_eq!(bytes_from_latin1(&ctx, &text).unwrap(), bytes);
            });
        }
    }
}
