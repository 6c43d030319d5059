//! `ccf.crypto.wrapKey` / `unwrapKey`: RSA-OAEP (SHA-256, optional label), AES-KWP (RFC 5649)
//! and RSA-OAEP-AES-KWP. The RSA keys arrive as PEM in an ArrayBuffer; OAEP seeds and the
//! temporary AES key come from the call's entropy.

use cloister_crypto::{
    CryptoError, aes_kwp_unwrap, aes_kwp_wrap, rsa_aes_kwp_unwrap, rsa_aes_kwp_wrap,
    rsa_oaep_decrypt, rsa_oaep_encrypt,
};
use rquickjs::{Ctx, Function, Object, Value};

use super::{call_entropy, internal};
use crate::globals::{array_buffer, bytes_from_latin1};
use crate::state::Shared;

/// A PEM given as bytes (CCF builds a `Pem` from the buffer).
fn pem_text(bytes: &[u8]) -> Result<String, CryptoError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| CryptoError::MalformedPem("the key is not UTF-8 PEM text".into()))
}

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<()> {
    let s = state.clone();
    natives.set(
        "wrapKey",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  name: String,
                  key: String,
                  wrapping_key: String,
                  label: String,
                  aes_bits: i32|
                  -> rquickjs::Result<Value<'js>> {
                let key = bytes_from_latin1(&ctx, &key)?;
                let wrapping_key = bytes_from_latin1(&ctx, &wrapping_key)?;
                let label = bytes_from_latin1(&ctx, &label)?;
                let mut entropy = call_entropy(&ctx, &s)?;
                let wrapped = match name.as_str() {
                    "RSA-OAEP" => pem_text(&wrapping_key)
                        .and_then(|pem| rsa_oaep_encrypt(&pem, &key, &label, &mut entropy)),
                    "AES-KWP" => aes_kwp_wrap(&wrapping_key, &key),
                    _ => pem_text(&wrapping_key).and_then(|pem| {
                        rsa_aes_kwp_wrap(&pem, aes_bits, &key, &label, &mut entropy)
                    }),
                }
                .map_err(|e| internal(&ctx, "Failed to wrap key", e))?;
                array_buffer(&ctx, &wrapped)
            },
        )?,
    )?;
    natives.set(
        "unwrapKey",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             name: String,
             wrapped: String,
             unwrapping_key: String,
             label: String,
             _aes_bits: i32|
             -> rquickjs::Result<Value<'js>> {
                let wrapped = bytes_from_latin1(&ctx, &wrapped)?;
                let unwrapping_key = bytes_from_latin1(&ctx, &unwrapping_key)?;
                let label = bytes_from_latin1(&ctx, &label)?;
                let key = match name.as_str() {
                    "RSA-OAEP" => pem_text(&unwrapping_key)
                        .and_then(|pem| rsa_oaep_decrypt(&pem, &wrapped, &label)),
                    "AES-KWP" => aes_kwp_unwrap(&unwrapping_key, &wrapped),
                    _ => pem_text(&unwrapping_key)
                        .and_then(|pem| rsa_aes_kwp_unwrap(&pem, &wrapped, &label)),
                }
                .map_err(|e| internal(&ctx, "Failed to unwrap key", e))?;
                array_buffer(&ctx, &key)
            },
        )?,
    )?;
    Ok(())
}
