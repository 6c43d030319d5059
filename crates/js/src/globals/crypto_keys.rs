//! `ccf.crypto.generate*`: AES keys, RSA, ECDSA and EdDSA key pairs from the call's entropy
//! (PKCS#8 `PRIVATE KEY` and `PUBLIC KEY` PEM, as CCF's OpenSSL writes them).

use cloister_crypto::{
    Entropy, OkpCurve, OkpPrivateKey, ec_curve_from_name, generate_ec_key_pair,
    generate_rsa_key_pair,
};
use rquickjs::{Ctx, Exception, Function, Object, Value};

use super::{call_entropy, internal};
use crate::globals::array_buffer;
use crate::state::Shared;

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<()> {
    let s = state.clone();
    natives.set(
        "randomBytes",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, len: usize| -> rquickjs::Result<Value<'js>> {
                // The glue only asks for 16, 24 or 32 bytes.
                let mut key = vec![0u8; len.min(64)];
                call_entropy(&ctx, &s)?.fill_bytes(&mut key);
                array_buffer(&ctx, &key)
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "rsaKeyPair",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, bits: u32, exponent: u32| -> rquickjs::Result<Vec<String>> {
                let mut entropy = call_entropy(&ctx, &s)?;
                let pair = generate_rsa_key_pair(bits, exponent, &mut entropy)
                    .map_err(|e| internal(&ctx, "Failed to generate RSA key pair", e))?;
                Ok(vec![pair.private_pem, pair.public_pem])
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "ecKeyPair",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, curve: String| -> rquickjs::Result<Vec<String>> {
                let curve = ec_curve_from_name(&curve)
                    .ok_or_else(|| Exception::throw_range(&ctx, "Unsupported curve id"))?;
                let mut entropy = call_entropy(&ctx, &s)?;
                let pair = generate_ec_key_pair(curve, &mut entropy)
                    .map_err(|e| internal(&ctx, "Failed to generate ECDSA key pair", e))?;
                Ok(vec![pair.private_pem, pair.public_pem])
            },
        )?,
    )?;
    let s = state.clone();
    natives.set(
        "okpKeyPair",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, curve: String| -> rquickjs::Result<Vec<String>> {
                let curve = if curve == "x25519" {
                    OkpCurve::X25519
                } else {
                    OkpCurve::Ed25519
                };
                let key = OkpPrivateKey::generate(curve, &mut call_entropy(&ctx, &s)?);
                let public = key
                    .public_key()
                    .map_err(|e| internal(&ctx, "Failed to generate EdDSA key pair", e))?;
                Ok(vec![key.to_pem(), public.to_pem()])
            },
        )?,
    )?;
    Ok(())
}
