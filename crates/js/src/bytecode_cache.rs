//! Compiled modules, kept across calls: the glue scripts of each execution context, an
//! application's modules and the constitution are parsed once and then loaded as bytecode
//! (`cloister-js-bytecode`), as CCF keeps QuickJS bytecode of the app (spec/ccf-js.md §4.7).
//!
//! Entries are keyed by module name and the SHA-256 of the source, so a changed module (a new
//! `set_js_app`) simply misses: nothing needs flushing for correctness. The cache is bounded in
//! bytes; when full it starts over.

use std::cell::RefCell;
use std::collections::BTreeMap;

use cloister_crypto::{Sha256Hash, sha256};
use cloister_js_bytecode::ModuleBytecode;
use rquickjs::module::Declared;
use rquickjs::{Ctx, Module};

use crate::permissions::ExecContext;

/// Most bytecode bytes kept (the logging sample's 10 KiB module is 17 KiB of bytecode).
pub const BYTECODE_CACHE_BYTES_MAX: usize = 32 * 1024 * 1024;

#[derive(Debug, Default, Clone)]
pub(crate) struct BytecodeCache {
    entries: BTreeMap<(String, Sha256Hash), ModuleBytecode>,
    /// Cloister's own glue, per execution context: its sources are compiled into the binary,
    /// so the context names them and nothing needs hashing.
    glue: BTreeMap<ExecContext, ModuleBytecode>,
    bytes: usize,
    /// Compilations so far (what tests and metrics read).
    pub compiled: u64,
}

impl BytecodeCache {
    /// The module `name` with `source`, declared in `ctx`: from bytecode if this source was
    /// compiled before, else compiled now and kept.
    pub fn declare<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        source: &[u8],
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let key = (name.to_owned(), sha256(source));
        if let Some(bytecode) = self.entries.get(&key) {
            return bytecode.declare(ctx);
        }
        let (module, bytecode) = ModuleBytecode::compile(ctx, name, source)?;
        self.insert(key, bytecode);
        Ok(module)
    }

    /// [`BytecodeCache::declare`] for a cache shared with a module loader: QuickJS resolves a
    /// module's imports while declaring it, which calls the loader, which uses the cache again.
    /// So no borrow is held while QuickJS runs (and a busy cache is skipped, never a panic:
    /// a panic cannot unwind through QuickJS).
    pub fn declare_shared<'js>(
        cache: &RefCell<BytecodeCache>,
        ctx: &Ctx<'js>,
        name: &str,
        source: &[u8],
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let key = (name.to_owned(), sha256(source));
        let cached = cache
            .try_borrow()
            .ok()
            .and_then(|cache| cache.entries.get(&key).cloned());
        if let Some(bytecode) = cached {
            return bytecode.declare(ctx);
        }
        let (module, bytecode) = ModuleBytecode::compile(ctx, name, source)?;
        if let Ok(mut cache) = cache.try_borrow_mut() {
            cache.insert(key, bytecode);
        }
        Ok(module)
    }

    fn insert(&mut self, key: (String, Sha256Hash), bytecode: ModuleBytecode) {
        self.compiled += 1;
        if self.bytes + bytecode.len() > BYTECODE_CACHE_BYTES_MAX {
            self.entries.clear();
            self.bytes = 0;
        }
        self.bytes += bytecode.len();
        self.entries.insert(key, bytecode);
    }

    /// The glue module of `context`, built by `source` the first time only (stripped: glue
    /// functions stand for CCF's natives).
    pub fn declare_glue<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        context: ExecContext,
        name: &str,
        source: impl FnOnce() -> String,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        if let Some(bytecode) = self.glue.get(&context) {
            return bytecode.declare(ctx);
        }
        let (module, bytecode) = ModuleBytecode::compile_stripped(ctx, name, source())?;
        self.compiled += 1;
        self.glue.insert(context, bytecode);
        Ok(module)
    }

    /// Bytes of bytecode held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rquickjs::{Context, Runtime};

    #[test]
    fn a_source_compiles_once_and_a_changed_source_again() {
        let mut cache = BytecodeCache::default();
        for _ in 0..3 {
            let runtime = Runtime::new().unwrap();
            let context = Context::full(&runtime).unwrap();
            context.with(|ctx| {
                let module = cache.declare(&ctx, "m.js", b"export const x = 1;").unwrap();
                let (module, _) = module.eval().unwrap();
                assert_eq!(module.get::<_, i32>("x").unwrap(), 1);
            });
        }
        assert_eq!(cache.compiled, 1);
        let runtime = Runtime::new().unwrap();
        let context = Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let (module, _) = cache
                .declare(&ctx, "m.js", b"export const x = 2;")
                .unwrap()
                .eval()
                .unwrap();
            assert_eq!(module.get::<_, i32>("x").unwrap(), 2);
        });
        assert_eq!(cache.compiled, 2);
        assert!(cache.bytes() > 0);
    }
}
