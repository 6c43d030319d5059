//! One QuickJS runtime and context per call (spec/ccf-js.md §4.7 without interpreter reuse): heap
//! and stack limits from [`JsLimits`], a deterministic time budget counted in interrupt polls,
//! the `ccf` globals of the call's context, and exceptions turned into [`JsError`]s.

use std::cell::Cell;
use std::rc::Rc;

use rquickjs::context::intrinsic;
use rquickjs::convert::Coerced;
use rquickjs::module::Evaluated;
use rquickjs::{Context, Ctx, Error, Module, Object, Persistent, Runtime, Value};

use crate::error::JsError;
use crate::globals;
use crate::limits::JsLimits;
use crate::state::Shared;

/// The intrinsics of CCF's contexts (plain `JS_NewContext` of QuickJS 2024-01-13, spec/ccf-js.md
/// §0): no `performance` (a clock), no WeakRef (GC timing would leak into results).
type Intrinsics = (
    intrinsic::Date,
    intrinsic::Eval,
    intrinsic::RegExpCompiler,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::Proxy,
    intrinsic::MapSet,
    intrinsic::TypedArrays,
    intrinsic::Promise,
);

/// How the first pass over the context ended, before limits are lifted to describe a failure.
enum Outcome<T> {
    Done(T),
    Threw(Persistent<Value<'static>>),
    Failed(String),
}

/// Runs `body` in a fresh context with the globals of `state`'s execution context installed,
/// under `limits`. `setup` configures the runtime first (the module loader of an application);
/// `body` gets the object of natives the glue scripts share. The runtime is dropped afterwards:
/// nothing survives the call.
///
/// The limits apply to `body` only, not to installing the globals: CCF's limits govern the
/// script, and a tiny configured heap must fail the script, not the engine (spec/ccf-js.md §4.6).
pub(crate) fn run_call<T>(
    limits: &JsLimits,
    state: &Shared,
    setup: impl FnOnce(&Runtime),
    body: impl for<'js> FnOnce(&Ctx<'js>, &Object<'js>) -> rquickjs::Result<T>,
) -> Result<T, JsError> {
    let runtime = Runtime::new().map_err(engine_error)?;
    setup(&runtime);
    let context = Context::custom::<Intrinsics>(&runtime).map_err(engine_error)?;
    let natives = context
        .with(|ctx| {
            globals::install(&ctx, state)
                .map(|natives| Persistent::save(&ctx, natives))
                .map_err(|e| describe_error(&ctx, e))
        })
        .map_err(JsError::Engine)?;

    runtime.set_memory_limit(usize::try_from(limits.max_heap_bytes).unwrap_or(usize::MAX));
    runtime.set_max_stack_size(usize::try_from(limits.max_stack_bytes).unwrap_or(usize::MAX));
    let polls = Rc::new(Cell::new(0u64));
    runtime.set_interrupt_handler(Some(interrupt_handler(
        polls.clone(),
        limits.interrupt_budget(),
    )));
    let outcome = context.with(|ctx| {
        let result = natives
            .restore(&ctx)
            .and_then(|natives| body(&ctx, &natives));
        match result {
            Ok(value) => Outcome::Done(value),
            Err(Error::Exception) => Outcome::Threw(Persistent::save(&ctx, ctx.catch())),
            Err(other) => Outcome::Failed(other.to_string()),
        }
    });
    // Once over budget the call timed out, even if Rust code caught the interrupt on its way
    // out (an application's module loading reports its own errors).
    let timed_out = polls.get() > limits.interrupt_budget();
    // Describing the failure must not fail for the reason the call did (spec/ccf-js.md §4.6:
    // "outside the call, limits are reset to unlimited").
    runtime.set_interrupt_handler(None);
    runtime.set_memory_limit(0);

    let (reason, trace) = match outcome {
        Outcome::Done(value) if !timed_out => return Ok(value),
        Outcome::Done(_) => (String::new(), None),
        Outcome::Failed(reason) => (reason, None),
        Outcome::Threw(thrown) => context.with(|ctx| match thrown.restore(&ctx) {
            Ok(value) => describe_exception(&ctx, &value),
            Err(e) => (e.to_string(), None),
        }),
    };
    if timed_out {
        Err(JsError::Timeout { trace })
    } else {
        Err(JsError::Exception { reason, trace })
    }
}

/// Declares and evaluates the ES module `source` under `name`. Top-level code runs now; a module
/// that awaits at top level is refused (CCF never runs the job queue, spec/ccf-js.md §0).
pub(crate) fn eval_module<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    source: &str,
) -> rquickjs::Result<Module<'js, Evaluated>> {
    let (module, promise) = Module::declare(ctx.clone(), name, source)?.eval()?;
    match promise.result::<Value>() {
        Some(Ok(_)) => Ok(module),
        Some(Err(e)) => Err(e),
        None => Err(rquickjs::Exception::throw_type(
            ctx,
            &format!("module {name} did not finish evaluating (top-level await is not supported)"),
        )),
    }
}

/// `"<Name>: <message>"` (the thrown value as a string) and the stack, if any.
pub(crate) fn describe_exception<'js>(
    ctx: &Ctx<'js>,
    value: &Value<'js>,
) -> (String, Option<String>) {
    let reason = match value.get::<Coerced<String>>() {
        Ok(Coerced(text)) => text,
        Err(_) => {
            // A value whose toString throws: say so instead of failing.
            let _ = ctx.catch();
            format!(
                "uncaught {} that cannot be converted to a string",
                value.type_name()
            )
        }
    };
    let trace = value
        .as_object()
        .and_then(|object| object.get::<_, Option<String>>("stack").ok().flatten())
        .filter(|stack| !stack.is_empty());
    (reason, trace)
}

/// The text of an error raised while setting up the context.
fn describe_error(ctx: &Ctx<'_>, error: Error) -> String {
    match error {
        Error::Exception => describe_exception(ctx, &ctx.catch()).0,
        other => other.to_string(),
    }
}

/// Counts polls; once the budget is spent every poll interrupts, which QuickJS turns into an
/// uncatchable error.
fn interrupt_handler(polls: Rc<Cell<u64>>, budget: u64) -> Box<dyn FnMut() -> bool> {
    Box::new(move || {
        let count = polls.get().saturating_add(1);
        polls.set(count);
        count > budget
    })
}

fn engine_error(e: Error) -> JsError {
    JsError::Engine(e.to_string())
}
