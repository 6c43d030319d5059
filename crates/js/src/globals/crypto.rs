//! `ccf.crypto.digest("SHA-256", buf)` and `ccf.crypto.isValidX509CertBundle(pem)`
//! (spec/ccf-js.md §3.4). The key-generation, signing and wrapping functions are not here yet:
//! the default constitution does not use them.

use cloister_crypto::{Certificate, sha256};
use rquickjs::{Ctx, Function, Object, Value};

use super::{array_buffer, bytes_from_latin1};

const CRYPTO_JS: &str = include_str!("crypto.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
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
    Ok(CRYPTO_JS)
}

/// At least one certificate, and every `CERTIFICATE` block parses (a syntactic check, as CCF's).
pub(crate) fn is_valid_cert_bundle(pem: &str) -> bool {
    Certificate::all_from_pem(pem).is_ok_and(|certs| !certs.is_empty())
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
