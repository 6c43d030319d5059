//! Application modules, loaded from `public:ccf.gov.modules` (spec/ccf-js.md §1.4).
//!
//! The table's keys are `"/" + name`; QuickJS sees names without the slash. Relative
//! specifiers (`./x.js`, `../y.js`) resolve against the importing module's name as QuickJS's
//! default normaliser does; any other specifier is used as it is (no extension inference, no
//! `node_modules`: bundlers resolve those at build time). Each module is compiled once per
//! interpreter, so one module reached by two import paths is one module.

use std::cell::RefCell;
use std::rc::Rc;

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Error, Exception, Function, Module, Object, Runtime, Value};

use super::EndpointProperties;
use crate::bytecode_cache::BytecodeCache;
use crate::error::JsError;
use crate::globals::borrow_state;
use crate::runtime::describe_exception;
use crate::state::Shared;

/// Module path (with a leading `/`) → JavaScript source (raw UTF-8), written by `set_js_app`.
pub const MODULES_TABLE: &str = "public:ccf.gov.modules";

/// The module name `specifier` names when imported from module `base`: QuickJS's default rule.
/// Only leading `./` and `../` segments are folded, against the directory of `base`; a `../`
/// that would leave the bundle's root is kept.
pub fn normalise_module_name(base: &str, specifier: &str) -> String {
    if !specifier.starts_with('.') {
        return specifier.to_owned();
    }
    let mut directory: Vec<&str> = match base.rfind('/') {
        Some(end) if end > 0 => base[..end].split('/').collect(),
        _ => Vec::new(),
    };
    let mut rest = specifier;
    loop {
        if let Some(after) = rest.strip_prefix("./") {
            rest = after;
        } else if let Some(after) = rest.strip_prefix("../") {
            match directory.last() {
                None | Some(&".") | Some(&"..") => break,
                Some(_) => {
                    directory.pop();
                    rest = after;
                }
            }
        } else {
            break;
        }
    }
    if directory.is_empty() {
        rest.to_owned()
    } else {
        format!("{}/{rest}", directory.join("/"))
    }
}

/// Makes `runtime` load imports from the bundle in the call's transaction, through `cache`.
pub(crate) fn install_loader(runtime: &Runtime, state: Shared, cache: Rc<RefCell<BytecodeCache>>) {
    runtime.set_loader(BundleResolver, BundleLoader { state, cache });
}

/// Where an interpreter keeps the namespaces of the endpoint modules it evaluated (a property
/// of the natives object, which user code never sees): a reused interpreter evaluates each
/// module once, as CCF's module cache does (spec/ccf-js.md §4.7).
const LOADED_MODULES: &str = "loadedModules";

/// The endpoint's function: its module compiled (or loaded from bytecode) and evaluated, imports
/// loaded on the way, unless this interpreter evaluated it before; then the named export.
/// Failures are CCF's texts (spec/ccf-js.md §1.4); an exception that is not the module's fault
/// (none today) propagates.
pub(crate) fn load_handler<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
    cache: &RefCell<BytecodeCache>,
    endpoint: &EndpointProperties,
) -> rquickjs::Result<Result<Function<'js>, JsError>> {
    let key = table_key(&endpoint.js_module);
    let loaded = match natives.get::<_, Option<Object>>(LOADED_MODULES)? {
        Some(loaded) => loaded,
        None => {
            let loaded = Object::new(ctx.clone())?;
            natives.set(LOADED_MODULES, loaded.clone())?;
            loaded
        }
    };
    let namespace = match loaded.get::<_, Option<Object>>(key.as_str())? {
        Some(namespace) => namespace,
        None => match evaluate_module(ctx, state, cache, &key)? {
            Ok(namespace) => {
                loaded.set(key.as_str(), namespace.clone())?;
                namespace
            }
            Err(error) => return Ok(Err(error)),
        },
    };
    let function = &endpoint.js_function;
    let export: Value = namespace.get(function.as_str())?;
    if export.is_undefined() {
        return Ok(Err(JsError::Module(format!(
            "Failed to find export '{function}' in module '{key}'"
        ))));
    }
    Ok(export.into_function().ok_or_else(|| {
        JsError::Module(format!(
            "Export '{function}' of module '{key}' is not a function"
        ))
    }))
}

/// The namespace of the module under `key`, compiled and evaluated.
fn evaluate_module<'js>(
    ctx: &Ctx<'js>,
    state: &Shared,
    cache: &RefCell<BytecodeCache>,
    key: &str,
) -> rquickjs::Result<Result<Object<'js>, JsError>> {
    let Some(source) = module_source(ctx, state, key)? else {
        return Ok(Err(JsError::Module(format!(
            "Failed to find module '{key}' in {MODULES_TABLE}"
        ))));
    };
    let declared = BytecodeCache::declare_shared(cache, ctx, module_name(key), source.as_bytes());
    let declared = match declared {
        Ok(declared) => declared,
        Err(e) => {
            return Ok(Err(stage_error(
                ctx,
                e,
                &format!("Failed to compile module '{key}'"),
            )));
        }
    };
    let executing = format!("Failed to execute {key}");
    let (module, promise) = match declared.eval() {
        Ok(evaluated) => evaluated,
        Err(e) => return Ok(Err(stage_error(ctx, e, &executing))),
    };
    match promise.result::<Value>() {
        Some(Ok(_)) => {}
        Some(Err(e)) => return Ok(Err(stage_error(ctx, e, &executing))),
        // CCF never runs the job queue (spec/ccf-js.md §0).
        None => {
            return Ok(Err(JsError::Module(format!(
                "{executing}: top-level await is not supported"
            ))));
        }
    }
    Ok(Ok(module.namespace()?))
}

/// Key of module `name` in [`MODULES_TABLE`].
fn table_key(name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("/{name}")
    }
}

/// The name QuickJS knows a module by: its key without the leading `/`.
fn module_name(key: &str) -> &str {
    key.strip_prefix('/').unwrap_or(key)
}

/// The source stored under `key`, read in the call's transaction (so it joins the read set).
fn module_source(ctx: &Ctx<'_>, state: &Shared, key: &str) -> rquickjs::Result<Option<String>> {
    let bytes = borrow_state(ctx, state)?.get(MODULES_TABLE, key.as_bytes());
    match bytes {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Exception::throw_syntax(ctx, &format!("module {key} is not UTF-8"))),
    }
}

/// `"<what>: <reason>"` for an error of compiling or evaluating a module.
fn stage_error(ctx: &Ctx<'_>, error: Error, what: &str) -> JsError {
    let reason = match error {
        Error::Exception => describe_exception(ctx, &ctx.catch()).0,
        other => other.to_string(),
    };
    JsError::Module(format!("{what}: {reason}"))
}

struct BundleResolver;

impl Resolver for BundleResolver {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        Ok(normalise_module_name(base, name))
    }
}

struct BundleLoader {
    state: Shared,
    cache: Rc<RefCell<BytecodeCache>>,
}

impl Loader for BundleLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let key = table_key(name);
        match module_source(ctx, &self.state, &key)? {
            Some(source) => {
                BytecodeCache::declare_shared(&self.cache, ctx, name, source.as_bytes())
            }
            None => Err(Exception::throw_reference(
                ctx,
                &format!("Module '{key}' is not in the application bundle"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn relative_specifiers_resolve_against_the_importer_directory() {
        assert_eq!(
            normalise_module_name("endpoints/a.js", "./b.js"),
            "endpoints/b.js"
        );
        assert_eq!(
            normalise_module_name("endpoints/a.js", "../lib/c.js"),
            "lib/c.js"
        );
        assert_eq!(normalise_module_name("a/b/c.js", "./../../d.js"), "d.js");
        assert_eq!(normalise_module_name("a.js", "./b.js"), "b.js");
    }

    #[test]
    fn bare_and_escaping_specifiers_are_kept() {
        assert_eq!(normalise_module_name("a/b.js", "lib.js"), "lib.js");
        assert_eq!(normalise_module_name("a/b.js", "/abs.js"), "/abs.js");
        assert_eq!(normalise_module_name("a.js", "../up.js"), "../up.js");
        // Only leading segments are folded.
        assert_eq!(normalise_module_name("a.js", "./x/../y.js"), "x/../y.js");
    }

    #[test]
    fn table_keys_have_exactly_one_leading_slash() {
        assert_eq!(table_key("a/b.js"), "/a/b.js");
        assert_eq!(table_key("/a/b.js"), "/a/b.js");
        assert_eq!(module_name("/a/b.js"), "a/b.js");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn a_sibling_import_stays_in_the_importer_directory(
            dir in "[a-z]{1,4}(/[a-z]{1,4}){0,3}",
            file in "[a-z]{1,6}\\.js",
        ) {
            let base = format!("{dir}/main.js");
            prop_assert_eq!(normalise_module_name(&base, &format!("./{file}")), format!("{dir}/{file}"));
            let up = normalise_module_name(&base, &format!("../{file}"));
            match dir.rfind('/') {
                Some(end) => prop_assert_eq!(up, format!("{}/{file}", &dir[..end])),
                None => prop_assert_eq!(up, file),
            }
        }
    }
}
