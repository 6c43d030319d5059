//! QuickJS bytecode of ES modules, compiled and loaded within one process.
//!
//! Parsing is most of what a fresh interpreter costs (about 18 µs per KiB of source on the
//! project machine); loading the same module from bytecode is about 7 times faster. CCF caches
//! compiled modules for the same reason (spec/ccf-js.md §4.7).
//!
//! Loading bytecode is `unsafe` in QuickJS: a crafted byte string can corrupt the engine. The
//! safety argument here is by construction: a [`ModuleBytecode`] can only be made by
//! [`ModuleBytecode::compile`], which asks QuickJS itself to serialise a module it has just
//! compiled from source, and its bytes are immutable and private. Bytes never come from a file,
//! a peer or a user. This file is the only `unsafe` in Cloister outside its dependencies.

use std::sync::Arc;

use rquickjs::module::{Declared, WriteOptions};
use rquickjs::{Ctx, Module};

/// One module's bytecode, produced by this process's QuickJS. Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct ModuleBytecode {
    bytes: Arc<[u8]>,
}

impl std::fmt::Debug for ModuleBytecode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleBytecode")
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl ModuleBytecode {
    /// Compiles `source` as the module `name` in `ctx` and returns the declared module (ready to
    /// evaluate, so the caller pays for one compilation only) with its bytecode. Debug
    /// information (line numbers for stack traces) and the source (`Function.prototype.toString`)
    /// are kept.
    pub fn compile<'js>(
        ctx: &Ctx<'js>,
        name: &str,
        source: impl Into<Vec<u8>>,
    ) -> rquickjs::Result<(Module<'js, Declared>, ModuleBytecode)> {
        ModuleBytecode::compile_with(ctx, name, source, WriteOptions::default())
    }

    /// [`ModuleBytecode::compile`] without debug information or source: smaller and faster to
    /// load, for code whose functions should look native (stack frames without lines,
    /// `toString` without source).
    pub fn compile_stripped<'js>(
        ctx: &Ctx<'js>,
        name: &str,
        source: impl Into<Vec<u8>>,
    ) -> rquickjs::Result<(Module<'js, Declared>, ModuleBytecode)> {
        let options = WriteOptions {
            strip_debug: true,
            strip_source: true,
            ..WriteOptions::default()
        };
        ModuleBytecode::compile_with(ctx, name, source, options)
    }

    fn compile_with<'js>(
        ctx: &Ctx<'js>,
        name: &str,
        source: impl Into<Vec<u8>>,
        options: WriteOptions,
    ) -> rquickjs::Result<(Module<'js, Declared>, ModuleBytecode)> {
        let module = Module::declare(ctx.clone(), name, source)?;
        let bytes = module.write(options)?;
        Ok((
            module,
            ModuleBytecode {
                bytes: bytes.into(),
            },
        ))
    }

    /// Declares the module again in `ctx` (any runtime of this process) from its bytecode.
    pub fn declare<'js>(&self, ctx: &Ctx<'js>) -> rquickjs::Result<Module<'js, Declared>> {
        // SAFETY: `self.bytes` was written by `Module::write` of this same QuickJS build in
        // `compile` and cannot be changed or constructed any other way (private field, no
        // constructor from bytes), so it is well-formed bytecode for this engine.
        #[allow(unsafe_code)]
        unsafe {
            Module::load(ctx.clone(), &self.bytes)
        }
    }

    /// Size of the bytecode in bytes (what a cache counts against its bound).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rquickjs::{Context, Runtime, Value};

    fn evaluate_answer(ctx: &Ctx<'_>, module: Module<'_, Declared>) -> i32 {
        let (module, promise) = module.eval().unwrap();
        promise.result::<Value>().unwrap().unwrap();
        let answer: rquickjs::Function = module.get("answer").unwrap();
        let _ = ctx;
        answer.call(()).unwrap()
    }

    #[test]
    fn bytecode_runs_in_another_runtime_like_the_source() {
        let source = "const base = 40;\nexport function answer() { return base + 2; }\n";
        let first = Runtime::new().unwrap();
        let first_ctx = Context::full(&first).unwrap();
        let bytecode = first_ctx.with(|ctx| {
            let (module, bytecode) = ModuleBytecode::compile(&ctx, "m.js", source).unwrap();
            assert_eq!(evaluate_answer(&ctx, module), 42);
            bytecode
        });
        assert!(!bytecode.is_empty());
        let second = Runtime::new().unwrap();
        let second_ctx = Context::full(&second).unwrap();
        second_ctx.with(|ctx| {
            let module = bytecode.declare(&ctx).unwrap();
            assert_eq!(evaluate_answer(&ctx, module), 42);
        });
    }

    #[test]
    fn stack_traces_keep_their_line_numbers() {
        let source = "export function answer() {\n  throw new Error('boom');\n}\n";
        let runtime = Runtime::new().unwrap();
        let context = Context::full(&runtime).unwrap();
        let bytecode = context.with(|ctx| ModuleBytecode::compile(&ctx, "t.js", source).unwrap().1);
        let other = Context::full(&runtime).unwrap();
        other.with(|ctx| {
            let (module, _) = bytecode.declare(&ctx).unwrap().eval().unwrap();
            let answer: rquickjs::Function = module.get("answer").unwrap();
            assert!(answer.call::<_, i32>(()).is_err());
            let thrown = ctx.catch();
            let stack: String = thrown.as_object().unwrap().get("stack").unwrap();
            assert!(stack.contains("t.js:2"), "{stack}");
        });
    }

    #[test]
    fn stripped_bytecode_is_smaller_and_runs_the_same() {
        let source = "// a comment that only the source keeps\nconst base = 40;\nexport function answer() { return base + 2; }\n";
        let runtime = Runtime::new().unwrap();
        let context = Context::full(&runtime).unwrap();
        let (full, stripped) = context.with(|ctx| {
            let full = ModuleBytecode::compile(&ctx, "m.js", source).unwrap().1;
            let stripped = ModuleBytecode::compile_stripped(&ctx, "s.js", source)
                .unwrap()
                .1;
            (full, stripped)
        });
        assert!(stripped.len() < full.len(), "{stripped:?} vs {full:?}");
        let other = Context::full(&runtime).unwrap();
        other.with(|ctx| {
            let module = stripped.declare(&ctx).unwrap();
            assert_eq!(evaluate_answer(&ctx, module), 42);
        });
    }

    #[test]
    fn a_syntax_error_is_an_error_not_bytecode() {
        let runtime = Runtime::new().unwrap();
        let context = Context::full(&runtime).unwrap();
        context.with(|ctx| {
            assert!(ModuleBytecode::compile(&ctx, "bad.js", "export function (").is_err());
            let _ = ctx.catch();
        });
    }
}
