//! `ccf.crypto.sign` and `verifySignature`: EdDSA, ECDSA (IEEE P1363 r ‖ s, RFC 6979 nonces),
//! RSA-PSS (salt from the call's entropy) and HMAC. crypto.js has checked the names and hashes.

use cloister_crypto::{
    Certificate, CryptoError, EcPublicKey, HashAlg, OkpPrivateKey, OkpPublicKey, ecdsa_sign_p1363,
    ecdsa_verify_p1363, first_pem_block, rsa_pss_sign, rsa_pss_verify,
};
use rquickjs::{Ctx, Exception, Function, Object, Value};

use super::{call_entropy, internal};
use crate::globals::{array_buffer, bytes_from_latin1};
use crate::state::Shared;

fn hash_of(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<HashAlg> {
    HashAlg::from_name(name).ok_or_else(|| {
        Exception::throw_range(
            ctx,
            "Unsupported hash algorithm, supported: SHA-256, SHA-384, SHA-512",
        )
    })
}

/// CCF reads `saltLength` with ToInt64 and hands it on as a size_t: a negative one fails.
fn salt_len(salt: f64) -> Result<usize, CryptoError> {
    if (0.0..=f64::from(u32::MAX)).contains(&salt) {
        Ok(salt as usize)
    } else {
        Err(CryptoError::InvalidKey(format!(
            "invalid salt length {salt}"
        )))
    }
}

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
    state: &Shared,
) -> rquickjs::Result<()> {
    let s = state.clone();
    natives.set(
        "sign",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  name: String,
                  hash: String,
                  key: String,
                  data: String,
                  salt: f64|
                  -> rquickjs::Result<Value<'js>> {
                let data = bytes_from_latin1(&ctx, &data)?;
                if name == "EdDSA" {
                    let signature = OkpPrivateKey::from_pem(&key)
                        .and_then(|key| key.sign(&data))
                        .map_err(|e| internal(&ctx, "Failed to sign with EdDSA pair", e))?;
                    return array_buffer(&ctx, &signature);
                }
                let hash = hash_of(&ctx, &hash)?;
                let signature = match name.as_str() {
                    "ECDSA" => ecdsa_sign_p1363(&key, hash, &data),
                    "RSA-PSS" => {
                        let mut entropy = call_entropy(&ctx, &s)?;
                        salt_len(salt)
                            .and_then(|salt| rsa_pss_sign(&key, hash, salt, &data, &mut entropy))
                    }
                    // CCF uses the key string's bytes as the raw HMAC key.
                    _ => Ok(hash.hmac(key.as_bytes(), &data)),
                }
                .map_err(|e| internal(&ctx, "Failed to sign", e))?;
                array_buffer(&ctx, &signature)
            },
        )?,
    )?;
    natives.set(
        "verify",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             name: String,
             _hash: String,
             key: String,
             signature: String,
             data: String,
             salt: f64|
             -> rquickjs::Result<bool> {
                let signature = bytes_from_latin1(&ctx, &signature)?;
                let data = bytes_from_latin1(&ctx, &data)?;
                if name == "EdDSA" {
                    // CCF throws a RangeError for an EdDSA key it cannot read.
                    let public = OkpPublicKey::from_pem(&key).map_err(|e| {
                        Exception::throw_range(
                            &ctx,
                            &format!("Failed to verify EdDSA signature: {e}"),
                        )
                    })?;
                    return Ok(public.verify(&data, &signature));
                }
                verify_sha256(&name, &key, &signature, &data, salt)
                    .map_err(|e| internal(&ctx, "Failed to verify signature", e))
            },
        )?,
    )?;
    Ok(())
}

/// ECDSA or RSA-PSS over SHA-256 with a public key PEM or a certificate PEM.
fn verify_sha256(
    name: &str,
    key: &str,
    signature: &[u8],
    data: &[u8],
    salt: f64,
) -> Result<bool, CryptoError> {
    let spki = if key.starts_with("-----BEGIN CERTIFICATE") {
        Certificate::from_pem(key)?.spki_der()?
    } else {
        first_pem_block(key, &["PUBLIC KEY"])?.der
    };
    if name == "ECDSA" {
        let public = EcPublicKey::from_spki_der(&spki)?;
        Ok(ecdsa_verify_p1363(
            &public,
            HashAlg::Sha256,
            data,
            signature,
        ))
    } else {
        rsa_pss_verify(&spki, HashAlg::Sha256, salt_len(salt)?, data, signature)
    }
}
