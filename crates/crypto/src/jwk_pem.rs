//! PEM ↔ JSON Web Key for CCF's `pubPemToJwk`/`pemToJwk` (EC), `pubRsaPemToJwk`/`rsaPemToJwk`,
//! `pubEddsaPemToJwk`/`eddsaPemToJwk` and the reverse `*JwkToPem` (spec/ccf-js.md §3.4).
//! Members are returned in a `BTreeMap`, which orders them as CCF's JSON does (nlohmann sorts
//! keys); values are base64url without padding. Private keys come out as PKCS#8 `PRIVATE KEY`
//! and public keys as `PUBLIC KEY`, as OpenSSL writes them.

use std::collections::BTreeMap;

use aws_lc_rs::encoding::{AsBigEndian, AsDer, EcPrivateKeyBin, PublicKeyX509Der};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
    EcdsaSigningAlgorithm, KeyPair,
};
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};

use crate::ecdsa::{Curve, EcPublicKey};
use crate::eddsa::{OkpCurve, OkpPrivateKey, OkpPublicKey};
use crate::error::CryptoError;
use crate::jwk::{b64url_decode, b64url_encode, ec_jwk_spki, jwk_members, rsa_jwk_spki};
use crate::pem::{encode_pem, first_pem_block};
use crate::rsa_keygen::rsa_private_from_pem;

/// A JWK's members by name.
pub type JwkMap = BTreeMap<String, String>;

fn invalid(why: impl std::fmt::Display) -> CryptoError {
    CryptoError::InvalidKey(why.to_string())
}

fn member<'a>(jwk: &'a JwkMap, name: &str) -> Result<&'a str, CryptoError> {
    jwk.get(name)
        .map(String::as_str)
        .ok_or_else(|| invalid(format!("JWK has no string member '{name}'")))
}

fn expect_kty(jwk: &JwkMap, kty: &str) -> Result<(), CryptoError> {
    match member(jwk, "kty")? {
        found if found == kty => Ok(()),
        found => Err(invalid(format!("JWK kty is {found}, expected {kty}"))),
    }
}

fn owned(members: Vec<(&'static str, String)>) -> JwkMap {
    members
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

fn curve_signing(curve: Curve) -> &'static EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
        Curve::P384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
    }
}

/// `{crv, kty: "EC", x, y}` of an EC `PUBLIC KEY` PEM.
pub fn ec_public_pem_to_jwk(pem: &str) -> Result<JwkMap, CryptoError> {
    let key = EcPublicKey::from_pem(pem)?;
    Ok(owned(jwk_members(key.spki_der())?))
}

fn ec_private_from_pem(pem: &str) -> Result<(Curve, EcdsaKeyPair), CryptoError> {
    let der = first_pem_block(pem, &["EC PRIVATE KEY", "PRIVATE KEY"])?.der;
    for curve in [Curve::P256, Curve::P384] {
        if let Ok(pair) = EcdsaKeyPair::from_private_key_der(curve_signing(curve), &der) {
            return Ok((curve, pair));
        }
    }
    Err(invalid("not a P-256 or P-384 EC private key"))
}

/// The public members plus `d` of an EC private key PEM (SEC1 or PKCS#8).
pub fn ec_private_pem_to_jwk(pem: &str) -> Result<JwkMap, CryptoError> {
    let (_, pair) = ec_private_from_pem(pem)?;
    let spki: PublicKeyX509Der<'_> = pair
        .public_key()
        .as_der()
        .map_err(|_| invalid("cannot encode the EC public key"))?;
    let mut jwk = owned(jwk_members(spki.as_ref())?);
    let d: EcPrivateKeyBin<'_> = pair
        .private_key()
        .as_be_bytes()
        .map_err(|_| invalid("cannot export the EC private scalar"))?;
    jwk.insert("d".into(), b64url_encode(d.as_ref()));
    Ok(jwk)
}

/// `PUBLIC KEY` PEM of an EC JWK (`crv`, `x`, `y`).
pub fn ec_public_jwk_to_pem(jwk: &JwkMap) -> Result<String, CryptoError> {
    expect_kty(jwk, "EC")?;
    let spki = ec_jwk_spki(member(jwk, "crv")?, member(jwk, "x")?, member(jwk, "y")?)?;
    Ok(encode_pem("PUBLIC KEY", &spki))
}

/// PKCS#8 `PRIVATE KEY` PEM of an EC JWK (`crv`, `x`, `y`, `d`); `x`/`y` must match `d`.
pub fn ec_private_jwk_to_pem(jwk: &JwkMap) -> Result<String, CryptoError> {
    let public = EcPublicKey::from_pem(&ec_public_jwk_to_pem(jwk)?)?;
    let curve = public.curve();
    let d = b64url_decode(member(jwk, "d")?)?;
    if d.len() != curve.scalar_bytes() {
        return Err(invalid(format!(
            "EC d must be {} bytes",
            curve.scalar_bytes()
        )));
    }
    let point = &public.spki_der()[public.spki_der().len() - (2 * curve.scalar_bytes() + 1)..];
    let pair = EcdsaKeyPair::from_private_key_and_public_key(curve_signing(curve), &d, point)
        .map_err(|e| invalid(format!("EC private key: {e}")))?;
    let pkcs8 = pair
        .to_pkcs8v1()
        .map_err(|_| invalid("cannot encode the EC private key"))?;
    Ok(encode_pem("PRIVATE KEY", pkcs8.as_ref()))
}

/// `{e, kty: "RSA", n}` of an RSA `PUBLIC KEY` PEM.
pub fn rsa_public_pem_to_jwk(pem: &str) -> Result<JwkMap, CryptoError> {
    let der = first_pem_block(pem, &["PUBLIC KEY"])?.der;
    RsaPublicKey::from_public_key_der(&der).map_err(invalid)?;
    Ok(owned(jwk_members(&der)?))
}

fn b64_uint(value: &BigUint) -> String {
    b64url_encode(&value.to_bytes_be())
}

/// The public members plus `d`, `p`, `q`, `dp`, `dq`, `qi` of an RSA private key PEM.
pub fn rsa_private_pem_to_jwk(pem: &str) -> Result<JwkMap, CryptoError> {
    let key = rsa_private_from_pem(pem)?;
    let [p, q] = key.primes() else {
        return Err(invalid("multi-prime RSA keys have no JWK form here"));
    };
    let missing = || invalid("RSA key lacks its CRT values");
    let mut jwk = JwkMap::new();
    jwk.insert("kty".into(), "RSA".into());
    jwk.insert("n".into(), b64_uint(key.n()));
    jwk.insert("e".into(), b64_uint(key.e()));
    jwk.insert("d".into(), b64_uint(key.d()));
    jwk.insert("p".into(), b64_uint(p));
    jwk.insert("q".into(), b64_uint(q));
    jwk.insert("dp".into(), b64_uint(key.dp().ok_or_else(missing)?));
    jwk.insert("dq".into(), b64_uint(key.dq().ok_or_else(missing)?));
    jwk.insert(
        "qi".into(),
        b64_uint(&key.crt_coefficient().ok_or_else(missing)?),
    );
    Ok(jwk)
}

/// `PUBLIC KEY` PEM of an RSA JWK (`n`, `e`).
pub fn rsa_public_jwk_to_pem(jwk: &JwkMap) -> Result<String, CryptoError> {
    expect_kty(jwk, "RSA")?;
    let spki = rsa_jwk_spki(member(jwk, "n")?, member(jwk, "e")?)?;
    Ok(encode_pem("PUBLIC KEY", &spki))
}

/// PKCS#8 `PRIVATE KEY` PEM of an RSA JWK (`n`, `e`, `d`, `p`, `q`; the CRT values are
/// recomputed and the key checked).
pub fn rsa_private_jwk_to_pem(jwk: &JwkMap) -> Result<String, CryptoError> {
    expect_kty(jwk, "RSA")?;
    let uint = |name: &str| -> Result<BigUint, CryptoError> {
        Ok(BigUint::from_bytes_be(&b64url_decode(member(jwk, name)?)?))
    };
    let key = RsaPrivateKey::from_components(
        uint("n")?,
        uint("e")?,
        uint("d")?,
        vec![uint("p")?, uint("q")?],
    )
    .map_err(invalid)?;
    key.validate().map_err(invalid)?;
    let der = key.to_pkcs8_der().map_err(invalid)?;
    Ok(encode_pem("PRIVATE KEY", der.as_bytes()))
}

/// `{crv, kty: "OKP", x}` of an Ed25519 or X25519 `PUBLIC KEY` PEM.
pub fn okp_public_pem_to_jwk(pem: &str) -> Result<JwkMap, CryptoError> {
    Ok(okp_public_members(&OkpPublicKey::from_pem(pem)?))
}

fn okp_public_members(key: &OkpPublicKey) -> JwkMap {
    let mut jwk = JwkMap::new();
    jwk.insert("kty".into(), "OKP".into());
    jwk.insert("crv".into(), key.curve().jwk_name().into());
    jwk.insert("x".into(), b64url_encode(key.raw()));
    jwk
}

/// The public members plus `d` of an Ed25519 or X25519 private key PEM.
pub fn okp_private_pem_to_jwk(pem: &str) -> Result<JwkMap, CryptoError> {
    let key = OkpPrivateKey::from_pem(pem)?;
    let mut jwk = okp_public_members(&key.public_key()?);
    jwk.insert("d".into(), b64url_encode(key.raw()));
    Ok(jwk)
}

fn okp_curve(jwk: &JwkMap) -> Result<OkpCurve, CryptoError> {
    expect_kty(jwk, "OKP")?;
    let crv = member(jwk, "crv")?;
    OkpCurve::from_jwk_name(crv).ok_or_else(|| CryptoError::UnsupportedCurve(crv.to_owned()))
}

/// `PUBLIC KEY` PEM of an OKP JWK (`crv`, `x`).
pub fn okp_public_jwk_to_pem(jwk: &JwkMap) -> Result<String, CryptoError> {
    let key = OkpPublicKey::from_raw(okp_curve(jwk)?, &b64url_decode(member(jwk, "x")?)?)?;
    Ok(key.to_pem())
}

/// PKCS#8 `PRIVATE KEY` PEM of an OKP JWK (`crv`, `d`).
pub fn okp_private_jwk_to_pem(jwk: &JwkMap) -> Result<String, CryptoError> {
    let key = OkpPrivateKey::from_raw(okp_curve(jwk)?, &b64url_decode(member(jwk, "d")?)?)?;
    Ok(key.to_pem())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecdsa::EcKeyPair;
    use crate::entropy::SeededEntropy;
    use crate::rsa_keygen::generate_rsa_key_pair;

    #[test]
    fn every_kind_round_trips_byte_for_byte() {
        let mut entropy = SeededEntropy::from_seed(11);
        for curve in [Curve::P256, Curve::P384] {
            let pair = crate::ec_keygen::generate_ec_key_pair(curve, &mut entropy).unwrap();
            let jwk = ec_private_pem_to_jwk(&pair.private_pem).unwrap();
            assert_eq!(ec_private_jwk_to_pem(&jwk).unwrap(), pair.private_pem);
            let public = pair.public_pem;
            let jwk = ec_public_pem_to_jwk(&public).unwrap();
            assert_eq!(jwk.keys().collect::<Vec<_>>(), ["crv", "kty", "x", "y"]);
            assert_eq!(ec_public_jwk_to_pem(&jwk).unwrap(), public);
        }
        let rsa = generate_rsa_key_pair(2048, 65537, &mut entropy).unwrap();
        let jwk = rsa_private_pem_to_jwk(&rsa.private_pem).unwrap();
        assert_eq!(
            jwk.keys().collect::<Vec<_>>(),
            ["d", "dp", "dq", "e", "kty", "n", "p", "q", "qi"]
        );
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(rsa_private_jwk_to_pem(&jwk).unwrap(), rsa.private_pem);
        let jwk = rsa_public_pem_to_jwk(&rsa.public_pem).unwrap();
        assert_eq!(rsa_public_jwk_to_pem(&jwk).unwrap(), rsa.public_pem);
        for curve in [OkpCurve::Ed25519, OkpCurve::X25519] {
            let key = OkpPrivateKey::generate(curve, &mut entropy);
            let jwk = okp_private_pem_to_jwk(&key.to_pem()).unwrap();
            assert_eq!(jwk["crv"], curve.jwk_name());
            assert_eq!(okp_private_jwk_to_pem(&jwk).unwrap(), key.to_pem());
            let public = key.public_key().unwrap().to_pem();
            let jwk = okp_public_pem_to_jwk(&public).unwrap();
            assert_eq!(okp_public_jwk_to_pem(&jwk).unwrap(), public);
        }
    }

    #[test]
    fn mismatched_or_incomplete_jwks_are_refused() {
        let mut entropy = SeededEntropy::from_seed(12);
        let key = EcKeyPair::generate(Curve::P256, &mut entropy).unwrap();
        let mut jwk = ec_private_pem_to_jwk(&key.to_pem()).unwrap();
        let other = EcKeyPair::generate(Curve::P256, &mut entropy).unwrap();
        jwk.insert(
            "d".into(),
            ec_private_pem_to_jwk(&other.to_pem()).unwrap()["d"].clone(),
        );
        assert!(ec_private_jwk_to_pem(&jwk).is_err());
        jwk.insert("kty".into(), "RSA".into());
        assert!(ec_public_jwk_to_pem(&jwk).is_err());
        jwk.remove("kty");
        assert!(ec_public_jwk_to_pem(&jwk).is_err());
        assert!(rsa_public_pem_to_jwk(&key.public_key().to_pem()).is_err());
        assert!(ec_public_pem_to_jwk("garbage").is_err());
    }

    #[test]
    fn ccf_pkcs1_member_key_converts() {
        let pem = include_str!("../../../testdata/ccf6/eol_service/common/member0_enc_privk.pem");
        let jwk = rsa_private_pem_to_jwk(pem).unwrap();
        let back = rsa_private_jwk_to_pem(&jwk).unwrap();
        assert_eq!(rsa_private_pem_to_jwk(&back).unwrap(), jwk);
    }
}
