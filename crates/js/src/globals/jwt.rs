//! GOV_RW only: `ccf.setJwtPublicSigningKeys(issuer, metadata, jwks)` and
//! `ccf.removeJwtPublicSigningKeys(issuer)` (spec/ccf-api.md §4). The table bookkeeping is in
//! `jwt.js` (it writes through `ccf.kv`, so a failing `apply` leaves nothing behind); this
//! native turns one JWK into the base64 DER SubjectPublicKeyInfo CCF stores.

use cloister_crypto::jwk::{b64_encode, ec_jwk_spki, rsa_jwk_spki, x5c_spki};
use rquickjs::{Ctx, Exception, Function, Object};
use serde_json::Value;

const JWT_JS: &str = include_str!("jwt.js");

pub(super) fn register<'js>(
    ctx: &Ctx<'js>,
    natives: &Object<'js>,
) -> rquickjs::Result<&'static str> {
    natives.set(
        "jwkPublicKey",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, jwk_json: String| -> rquickjs::Result<String> {
                jwk_public_key(&jwk_json).map_err(|reason| Exception::throw_internal(&ctx, &reason))
            },
        )?,
    )?;
    Ok(JWT_JS)
}

/// CCF's `try_parse_jwk`: RSA `n`/`e` first, then EC `crv`/`x`/`y`, then the first `x5c`.
fn jwk_public_key(jwk_json: &str) -> Result<String, String> {
    let jwk: Value = serde_json::from_str(jwk_json).map_err(|e| format!("JWK is not JSON: {e}"))?;
    let text = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let kid = text("kid").unwrap_or_default();
    let der = if let (Some(n), Some(e)) = (text("n"), text("e")) {
        rsa_jwk_spki(n, e).map_err(|e| format!("Failed to construct RSA public key: {e}"))?
    } else if let (Some(crv), Some(x), Some(y)) = (text("crv"), text("x"), text("y")) {
        ec_jwk_spki(crv, x, y).map_err(|e| format!("Failed to construct EC public key: {e}"))?
    } else if let Some(first) = jwk
        .get("x5c")
        .and_then(Value::as_array)
        .and_then(|chain| chain.first())
        .and_then(Value::as_str)
    {
        x5c_spki(first)
            .map_err(|e| format!("JWKS kid {kid} has an invalid X.509 certificate: {e}"))?
    } else {
        return Err(format!(
            "JWKS kid {kid} has neither RSA/EC public key or x5c"
        ));
    };
    Ok(b64_encode(&der))
}
