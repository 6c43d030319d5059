//! `ccf.crypto.*PemToJwk` and `*JwkToPem` for EC, RSA and EdDSA (OKP) keys. JWKs cross as
//! JSON text; members come out sorted by name, as CCF's JSON writes them.

use cloister_crypto::CryptoError;
use cloister_crypto::jwk_pem::{
    JwkMap, ec_private_jwk_to_pem, ec_private_pem_to_jwk, ec_public_jwk_to_pem,
    ec_public_pem_to_jwk, okp_private_jwk_to_pem, okp_private_pem_to_jwk, okp_public_jwk_to_pem,
    okp_public_pem_to_jwk, rsa_private_jwk_to_pem, rsa_private_pem_to_jwk, rsa_public_jwk_to_pem,
    rsa_public_pem_to_jwk,
};
use rquickjs::{Ctx, Exception, Function, Object};

fn pem_to_jwk(kind: &str, pem: &str) -> Result<JwkMap, CryptoError> {
    match kind {
        "ecPublic" => ec_public_pem_to_jwk(pem),
        "ecPrivate" => ec_private_pem_to_jwk(pem),
        "rsaPublic" => rsa_public_pem_to_jwk(pem),
        "rsaPrivate" => rsa_private_pem_to_jwk(pem),
        "okpPublic" => okp_public_pem_to_jwk(pem),
        _ => okp_private_pem_to_jwk(pem),
    }
}

fn jwk_to_pem(kind: &str, jwk: &JwkMap) -> Result<String, CryptoError> {
    match kind {
        "ecPublic" => ec_public_jwk_to_pem(jwk),
        "ecPrivate" => ec_private_jwk_to_pem(jwk),
        "rsaPublic" => rsa_public_jwk_to_pem(jwk),
        "rsaPrivate" => rsa_private_jwk_to_pem(jwk),
        "okpPublic" => okp_public_jwk_to_pem(jwk),
        _ => okp_private_jwk_to_pem(jwk),
    }
}

/// The string members of a JWK's JSON (others are not part of any key).
fn jwk_members(json: &str) -> Result<JwkMap, CryptoError> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| CryptoError::InvalidKey(format!("JWK is not JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| CryptoError::InvalidKey("JWK is not an object".into()))?;
    Ok(object
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
        .collect())
}

pub(super) fn register<'js>(ctx: &Ctx<'js>, natives: &Object<'js>) -> rquickjs::Result<()> {
    natives.set(
        "pemToJwk",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             kind: String,
             pem: String,
             kid: Option<String>|
             -> rquickjs::Result<String> {
                let mut jwk = pem_to_jwk(&kind, &pem).map_err(|e| {
                    Exception::throw_internal(&ctx, &format!("Failed to convert pem to jwk: {e}"))
                })?;
                if let Some(kid) = kid {
                    jwk.insert("kid".into(), kid);
                }
                serde_json::to_string(&jwk).map_err(|e| {
                    Exception::throw_internal(&ctx, &format!("Failed to serialise jwk: {e}"))
                })
            },
        )?,
    )?;
    natives.set(
        "jwkToPem",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, kind: String, json: String| -> rquickjs::Result<String> {
                jwk_members(&json)
                    .and_then(|jwk| jwk_to_pem(&kind, &jwk))
                    // CCF's message has no colon here.
                    .map_err(|e| {
                        Exception::throw_internal(
                            &ctx,
                            &format!("Failed to convert jwk to pem {e}"),
                        )
                    })
            },
        )?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_string_members_are_kept() {
        let jwk = jwk_members(r#"{"kty":"EC","x":"AA","n":1,"o":{}}"#).unwrap();
        assert_eq!(jwk.len(), 2);
        assert!(jwk_members("[1]").is_err());
        assert!(jwk_members("nope").is_err());
    }
}
