//! `ccf.crypto` (spec/ccf-js.md §3.4): the natives behind crypto.js. Digests and certificate
//! checks are here; key generation, signing, key wrapping and JWK conversion have a file each
//! (crypto_*.rs). Every random byte comes from the call's entropy (`CallState::crypto_seed`),
//! never from the operating system: the crate is sans-IO.

#[path = "crypto_jwk.rs"]
mod jwk;
#[path = "crypto_keys.rs"]
mod keys;
#[path = "crypto_sign.rs"]
mod sign;
#[path = "crypto_wrap.rs"]
mod wrap;

use std::fmt::Display;

use cloister_crypto::{Certificate, SeededEntropy, sha256, verify_cert_chain};
use rquickjs::{Ctx, Exception, Function, Object, Value};

use super::{array_buffer, borrow_state, bytes_from_latin1};
use crate::state::Shared;

const CRYPTO_JS: &str = include_str!("crypto.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<&'static str> {
    natives.set(
        "sha256",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, bytes: String| -> rquickjs::Result<Value<'js>> {
                array_buffer(&ctx, sha256(&bytes_from_latin1(&ctx, &bytes)?).as_bytes())
            },
        )?,
    )?;
    natives.set(
        "isValidX509CertBundle",
        Function::new(ctx.clone(), |pem: String| is_valid_cert_bundle(&pem))?,
    )?;
    let s = state.clone();
    natives.set(
        "isValidX509CertChain",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, chain: String, trusted: String| -> rquickjs::Result<bool> {
                // Validity periods are checked against the host's clock when there is one.
                let now_ms = borrow_state(&ctx, &s)?.host_time_ms;
                let now = (now_ms > 0).then(|| i64::try_from(now_ms / 1000).unwrap_or(i64::MAX));
                Ok(verify_cert_chain(&chain, &trusted, now))
            },
        )?,
    )?;
    keys::register(ctx, natives, state)?;
    sign::register(ctx, natives, state)?;
    wrap::register(ctx, natives, state)?;
    jwk::register(ctx, natives)?;
    Ok(CRYPTO_JS)
}

/// At least one certificate, and every `CERTIFICATE` block parses (a syntactic check, as CCF's).
pub(crate) fn is_valid_cert_bundle(pem: &str) -> bool {
    Certificate::all_from_pem(pem).is_ok_and(|certs| !certs.is_empty())
}

/// A generator for one native call, seeded with 32 fresh bytes of the call's entropy.
fn call_entropy(ctx: &Ctx<'_>, state: &Shared) -> rquickjs::Result<SeededEntropy> {
    let seed = borrow_state(ctx, state)?.crypto_seed();
    Ok(SeededEntropy::from_seed_bytes(seed))
}

/// CCF's InternalError for a library failure: "`what`: `why`".
fn internal(ctx: &Ctx<'_>, what: &str, why: impl Display) -> rquickjs::Error {
    Exception::throw_internal(ctx, &format!("{what}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_bundles_are_invalid() {
        assert!(!is_valid_cert_bundle(""));
        assert!(!is_valid_cert_bundle("hello"));
        assert!(!is_valid_cert_bundle(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        ));
    }
}
