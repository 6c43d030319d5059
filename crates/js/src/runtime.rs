//! QuickJS interpreters: a runtime and context per call, or kept for reuse (spec/ccf-js.md §4.7);
//! heap and stack limits from [`JsLimits`], a deterministic time budget counted in interrupt polls,
//! the `ccf` globals of the call's context, and exceptions turned into [`JsError`]s.

use std::cell::Cell;
use std::rc::Rc;

use rquickjs::context::intrinsic;
use rquickjs::convert::Coerced;
use rquickjs::module::{Declared, Evaluated};
use rquickjs::{Context, Ctx, Error, Module, Object, Persistent, Runtime, Value};

use crate::bytecode_cache::BytecodeCache;
use crate::error::JsError;
use crate::globals;
use crate::limits::{JS_STACK_BYTES_CEILING, JsLimits};
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

/// A QuickJS runtime and context with the globals of one execution context installed: used for
/// one call and dropped (CCF's default), or kept and called again (`interpreter_reuse`,
/// spec/ccf-js.md §4.7). Its natives hold `state`; each call puts a fresh [`CallState`] in it.
///
/// [`CallState`]: crate::state::CallState
pub(crate) struct Interpreter {
    // Field order is drop order: JavaScript values before their context, the context before
    // the runtime (QuickJS aborts if a runtime is freed with live objects).
    natives: Persistent<Object<'static>>,
    context: Context,
    runtime: Runtime,
    state: Shared,
}

impl Interpreter {
    /// A runtime and context for `state`'s execution context. `setup` configures the runtime
    /// first (the module loader of an application). Installing the globals runs without
    /// limits: CCF's limits govern the script, and a tiny configured heap must fail the script,
    /// not the engine (spec/ccf-js.md §4.6).
    pub fn new(
        state: &Shared,
        cache: &mut BytecodeCache,
        setup: impl FnOnce(&Runtime),
    ) -> Result<Interpreter, JsError> {
        let runtime = Runtime::new().map_err(engine_error)?;
        setup(&runtime);
        let context = Context::custom::<Intrinsics>(&runtime).map_err(engine_error)?;
        let natives = context
            .with(|ctx| {
                globals::install(&ctx, state, cache)
                    .map(|natives| Persistent::save(&ctx, natives))
                    .map_err(|e| describe_error(&ctx, e))
            })
            .map_err(JsError::Engine)?;
        Ok(Interpreter {
            natives,
            context,
            runtime,
            state: state.clone(),
        })
    }

    /// The state the natives of this interpreter read and write.
    pub fn state(&self) -> &Shared {
        &self.state
    }

    /// Runs `body` under `limits`; `body` gets the object of natives the glue scripts share.
    /// Limits are lifted again afterwards (and while a failure is described).
    pub fn call<T>(
        &self,
        limits: &JsLimits,
        body: impl for<'js> FnOnce(&Ctx<'js>, &Object<'js>) -> rquickjs::Result<T>,
    ) -> Result<T, JsError> {
        let runtime = &self.runtime;
        runtime.set_memory_limit(usize::try_from(limits.max_heap_bytes).unwrap_or(usize::MAX));
        let stack = limits.max_stack_bytes.min(JS_STACK_BYTES_CEILING);
        runtime.set_max_stack_size(usize::try_from(stack).unwrap_or(usize::MAX));
        let polls = Rc::new(Cell::new(0u64));
        runtime.set_interrupt_handler(Some(interrupt_handler(
            polls.clone(),
            limits.interrupt_budget(),
        )));
        let outcome = self.context.with(|ctx| {
            let result = self
                .natives
                .clone()
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
        runtime.set_max_stack_size(DEFAULT_STACK_BYTES);

        let (reason, trace) = match outcome {
            Outcome::Done(value) if !timed_out => return Ok(value),
            Outcome::Done(_) => (String::new(), None),
            Outcome::Failed(reason) => (reason, None),
            Outcome::Threw(thrown) => self.context.with(|ctx| match thrown.restore(&ctx) {
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
}

/// QuickJS's own stack limit, restored between calls.
const DEFAULT_STACK_BYTES: usize = 1024 * 1024;

/// Evaluates a declared module. Top-level code runs now; a module that awaits at top level is
/// refused (CCF never runs the job queue, spec/ccf-js.md §0).
pub(crate) fn evaluate<'js>(
    ctx: &Ctx<'js>,
    module: Module<'js, Declared>,
    name: &str,
) -> rquickjs::Result<Module<'js, Evaluated>> {
    let (module, promise) = module.eval()?;
    match promise.result::<Value>() {
        Some(Ok(_)) => Ok(module),
        Some(Err(e)) => Err(e),
        None => Err(rquickjs::Exception::throw_type(
            ctx,
            &format!("module {name} did not finish evaluating (top-level await is not supported)"),
        )),
    }
}

/// Declares (from `cache` when compiled before) and evaluates the ES module `source` under
/// `name`.
pub(crate) fn eval_module<'js>(
    ctx: &Ctx<'js>,
    cache: &mut BytecodeCache,
    name: &str,
    source: &str,
) -> rquickjs::Result<Module<'js, Evaluated>> {
    let declared = cache.declare(ctx, name, source.as_bytes())?;
    evaluate(ctx, declared, name)
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
