//! [`QuickJsConstitution`]: cloister-gov's `ConstitutionEngine` on QuickJS. Each call gets a fresh
//! runtime with CCF's governance globals (GOV_RO for validate, ballots and resolve; GOV_RW for
//! apply) and the limits of `js_runtime_options`, never below the floor (spec/ccf-js.md §4.6).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use cloister_crypto::sha256_concat;
use cloister_gov::{ConstitutionEngine, GovHost, JsFailure, NodeAction, Validation};
use cloister_kv::{Store, Tx};
use rquickjs::convert::Coerced;
use rquickjs::module::Evaluated;
use rquickjs::{Array, Ctx, Exception, Function, Module, Object, Value};

use crate::bytecode_cache::BytecodeCache;
use crate::error::JsError;
use crate::globals::check_constitution_exports;
use crate::limits::JsLimits;
use crate::permissions::ExecContext;
use crate::runtime::{Interpreter, eval_module};
use crate::state::{CallState, HostBridge, HostRequest, LogLine};

/// Most runs of one `apply`. A run finds the host requests it can reach with the answers known
/// so far; the next run has those answered. Default actions need at most two runs (one request
/// per node or one for the service); a script whose requests depend on earlier answers needs
/// one more run per step.
pub const APPLY_RUNS_MAX: usize = 64;

/// The JavaScript constitution engine.
///
/// Run it on a thread with a stack well above `max_stack_bytes` (QuickJS measures its stack
/// use on the caller's thread; the default limit is 1 MiB, Rust's and async runtimes' worker threads have
/// 2 MiB).
#[derive(Debug, Clone)]
pub struct QuickJsConstitution {
    floor: JsLimits,
    logs: Vec<LogLine>,
    /// The glue and the constitution, compiled once.
    cache: BytecodeCache,
}

impl Default for QuickJsConstitution {
    fn default() -> QuickJsConstitution {
        QuickJsConstitution::new()
    }
}

impl QuickJsConstitution {
    /// An engine whose limits never go below CCF's defaults (governance's
    /// `NO_LOWER_THAN_DEFAULTS`).
    pub fn new() -> QuickJsConstitution {
        QuickJsConstitution::with_limits_floor(JsLimits::default())
    }

    /// An engine whose limits never go below `floor`; options left unset in
    /// `js_runtime_options` take the floor's values (tests use small floors to run fast).
    pub fn with_limits_floor(floor: JsLimits) -> QuickJsConstitution {
        QuickJsConstitution {
            floor,
            logs: Vec::new(),
            cache: BytecodeCache::default(),
        }
    }

    /// The `console.*` lines of the last call.
    pub fn logs(&self) -> &[LogLine] {
        &self.logs
    }

    /// One run of `body` in `context` over `tx`; writes reach `tx` only if it succeeds.
    fn run<T>(
        &mut self,
        tx: &mut Tx,
        context: ExecContext,
        seed_parts: &[&[u8]],
        host: HostBridge,
        body: impl for<'js> FnOnce(&Ctx<'js>, &mut BytecodeCache) -> rquickjs::Result<T>,
    ) -> RunOutput<T> {
        // Unset options take the floor's values; set ones never go below it.
        let limits = JsLimits::configured(tx, self.floor).at_least(self.floor);
        let mut state = CallState::new(context, tx, seed(seed_parts));
        state.host = host;
        let shared = Rc::new(RefCell::new(state));
        let cache = &mut self.cache;
        let result = Interpreter::new(&shared, cache, |_| {})
            .and_then(|interpreter| interpreter.call(&limits, |ctx, _| body(ctx, cache)));
        let mut state = shared.borrow_mut();
        let host_pending = !state.host.unanswered.is_empty();
        state.finish(tx, result.is_ok() && !host_pending);
        self.logs = std::mem::take(&mut state.logs);
        RunOutput {
            result,
            actions: std::mem::take(&mut state.actions),
            unanswered: std::mem::take(&mut state.host.unanswered)
                .into_iter()
                .collect(),
        }
    }
}

struct RunOutput<T> {
    result: Result<T, JsError>,
    actions: Vec<NodeAction>,
    unanswered: Vec<HostRequest>,
}

impl ConstitutionEngine for QuickJsConstitution {
    fn validate(
        &mut self,
        tx: &mut Tx,
        constitution: &str,
        proposal: &str,
    ) -> Result<Validation, JsFailure> {
        let seed = [b"validate".as_slice(), proposal.as_bytes()];
        let out = self.run(
            tx,
            ExecContext::GovRo,
            &seed,
            HostBridge::default(),
            |ctx, cache| {
                let validate = export(
                    ctx,
                    &eval_module(ctx, cache, "constitution", constitution)?,
                    "validate",
                )?;
                let answer: Value = validate.call((proposal,))?;
                validation_of(ctx, &answer)
            },
        );
        out.result.map_err(failure)
    }

    fn vote(
        &mut self,
        tx: &mut Tx,
        ballot: &str,
        proposal: &str,
        proposer_id: &str,
    ) -> Result<bool, JsFailure> {
        let seed = [b"vote".as_slice(), ballot.as_bytes(), proposal.as_bytes()];
        let out = self.run(
            tx,
            ExecContext::GovRo,
            &seed,
            HostBridge::default(),
            |ctx, cache| {
                let vote = export(ctx, &eval_module(ctx, cache, "ballot", ballot)?, "vote")?;
                let answer: Value = vote.call((proposal, proposer_id))?;
                // Only a JavaScript `true` is a yes (spec/ccf-api.md §3 "resolve step").
                Ok(answer.as_bool() == Some(true))
            },
        );
        out.result.map_err(failure)
    }

    fn resolve(
        &mut self,
        tx: &mut Tx,
        constitution: &str,
        proposal: &str,
        proposer_id: &str,
        votes: &[(String, bool)],
        proposal_id: &str,
    ) -> Result<String, JsFailure> {
        let seed = [
            b"resolve".as_slice(),
            proposal.as_bytes(),
            proposal_id.as_bytes(),
        ];
        let out = self.run(
            tx,
            ExecContext::GovRo,
            &seed,
            HostBridge::default(),
            |ctx, cache| {
                let resolve = export(
                    ctx,
                    &eval_module(ctx, cache, "constitution", constitution)?,
                    "resolve",
                )?;
                let ballots = votes_array(ctx, votes)?;
                let answer: Value = resolve.call((proposal, proposer_id, ballots, proposal_id))?;
                Ok(answer.get::<Coerced<String>>()?.0)
            },
        );
        out.result.map_err(failure)
    }

    fn apply(
        &mut self,
        tx: &mut Tx,
        constitution: &str,
        proposal: &str,
        proposal_id: &str,
        host: &mut dyn GovHost,
        actions: &mut Vec<NodeAction>,
    ) -> Result<(), JsFailure> {
        let seed = [
            b"apply".as_slice(),
            proposal.as_bytes(),
            proposal_id.as_bytes(),
        ];
        let mut answers = BTreeMap::new();
        for _ in 0..APPLY_RUNS_MAX {
            let bridge = HostBridge {
                latest_ledger_secret_seqno: host.latest_ledger_secret_seqno(),
                answers: answers.clone(),
                ..HostBridge::default()
            };
            let out = self.run(tx, ExecContext::GovRw, &seed, bridge, |ctx, cache| {
                let apply = export(
                    ctx,
                    &eval_module(ctx, cache, "constitution", constitution)?,
                    "apply",
                )?;
                apply.call::<_, ()>((proposal, proposal_id))
            });
            if out.unanswered.is_empty() {
                out.result.map_err(failure)?;
                actions.extend(out.actions);
                return Ok(());
            }
            for request in out.unanswered {
                let answer = ask_host(host, &request);
                answers.insert(request, answer);
            }
        }
        Err(JsFailure {
            reason: format!(
                "apply() needed more than {APPLY_RUNS_MAX} runs to answer its host calls"
            ),
            trace: None,
        })
    }

    fn validate_constitution(&mut self, constitution: &str) -> Result<(), JsFailure> {
        // No transaction comes with this call: top-level code sees an empty store.
        let mut tx = Store::default().begin();
        let seed = [b"validate_constitution".as_slice(), constitution.as_bytes()];
        let out = self.run(
            &mut tx,
            ExecContext::GovRo,
            &seed,
            HostBridge::default(),
            |ctx, _| check_constitution_exports(ctx, "constitution", constitution),
        );
        out.result.map_err(failure)
    }
}

/// The exported function `name` of `module`, or a TypeError saying it is missing.
fn export<'js>(
    ctx: &Ctx<'js>,
    module: &Module<'js, Evaluated>,
    name: &str,
) -> rquickjs::Result<Function<'js>> {
    let value: Value = module.get(name)?;
    match value.into_function() {
        Some(function) => Ok(function),
        None => Err(Exception::throw_type(
            ctx,
            &format!("module does not export a function named {name}"),
        )),
    }
}

/// `{valid, description}`: valid only if exactly `true` (spec/ccf-api.md §3 "create").
fn validation_of<'js>(ctx: &Ctx<'js>, answer: &Value<'js>) -> rquickjs::Result<Validation> {
    let Some(object) = answer.as_object() else {
        return Err(Exception::throw_type(
            ctx,
            "validate() must return an object {valid, description}",
        ));
    };
    let valid: Value = object.get("valid")?;
    let description: Value = object.get("description")?;
    let description = if description.is_undefined() {
        String::new()
    } else {
        description.get::<Coerced<String>>()?.0
    };
    Ok(Validation {
        valid: valid.as_bool() == Some(true),
        description,
    })
}

/// `[{member_id, vote}, …]` as CCF passes them to `resolve`.
fn votes_array<'js>(ctx: &Ctx<'js>, votes: &[(String, bool)]) -> rquickjs::Result<Array<'js>> {
    let array = Array::new(ctx.clone())?;
    for (i, (member_id, vote)) in votes.iter().enumerate() {
        let ballot = Object::new(ctx.clone())?;
        ballot.set("member_id", member_id.as_str())?;
        ballot.set("vote", *vote)?;
        array.set(i, ballot)?;
    }
    Ok(array)
}

fn ask_host(host: &mut dyn GovHost, request: &HostRequest) -> Result<String, String> {
    match request {
        HostRequest::EndorsedCertificate {
            csr_pem,
            valid_from,
            validity_days,
        } => host.generate_endorsed_certificate(csr_pem, valid_from, *validity_days),
        HostRequest::NetworkCertificate {
            valid_from,
            validity_days,
        } => host.generate_network_certificate(valid_from, *validity_days),
    }
}

/// The failure as governance reports it.
fn failure(error: JsError) -> JsFailure {
    JsFailure {
        reason: error.reason(),
        trace: error.trace().map(str::to_owned),
    }
}

/// `Math.random`'s seed: a digest of what the call is about, so a re-run draws the same numbers.
fn seed(parts: &[&[u8]]) -> u64 {
    let digest = sha256_concat(parts);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(first)
}
