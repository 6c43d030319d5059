//! JSON Web Keys (RFC 7517) as CCF's `set_jwt_issuer` / `set_jwt_public_signing_keys` store
//! them: every key becomes the DER SubjectPublicKeyInfo of its public key, computed from RSA
//! `n`/`e`, EC `crv`/`x`/`y`, or the first `x5c` certificate (CCF's `try_parse_jwk`, in that
//! order). The reverse (SPKI → JWK members) serves tools and tests that publish keys.

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::UnparsedPublicKey;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::ecdsa::{Curve, EcPublicKey};
use crate::error::CryptoError;
use crate::x509::Certificate;

fn invalid(why: String) -> CryptoError {
    CryptoError::InvalidKey(why)
}

/// base64url without padding (JOSE), tolerating padding as some issuers send it.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, CryptoError> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|e| invalid(format!("not base64url: {e}")))
}

/// Standard base64 with padding, as CCF stores `public_key` and `x5c` entries.
pub fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SPKI DER of an RSA JWK's `n` and `e` (base64url big-endian integers).
pub fn rsa_jwk_spki(n: &str, e: &str) -> Result<Vec<u8>, CryptoError> {
    let components = PublicKeyComponents {
        n: b64url_decode(n)?,
        e: b64url_decode(e)?,
    };
    let der: PublicKeyX509Der<'static> = components
        .as_der()
        .map_err(|_| invalid("Failed to construct RSA public key".into()))?;
    Ok(der.as_ref().to_vec())
}

/// SPKI DER of an EC JWK (`crv` P-256 or P-384; `x`, `y` base64url coordinates). The point is
/// checked to be on the curve.
pub fn ec_jwk_spki(crv: &str, x: &str, y: &str) -> Result<Vec<u8>, CryptoError> {
    let curve = match crv {
        "P-256" => Curve::P256,
        "P-384" => Curve::P384,
        other => return Err(CryptoError::UnsupportedCurve(other.to_owned())),
    };
    let (x, y) = (b64url_decode(x)?, b64url_decode(y)?);
    let width = curve.scalar_bytes();
    if x.len() != width || y.len() != width {
        return Err(invalid(format!("{crv} coordinates must be {width} bytes")));
    }
    let mut point = Vec::with_capacity(1 + 2 * width);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let parsed = UnparsedPublicKey::new(curve.der_verification(), &point)
        .parse()
        .map_err(|e| invalid(format!("Failed to construct EC public key: {e}")))?;
    let der = parsed
        .as_der()
        .map_err(|_| invalid("cannot encode the EC public key".into()))?;
    Ok(der.as_ref().to_vec())
}

/// SPKI DER of the first certificate of an `x5c` chain (standard base64 DER).
pub fn x5c_spki(first_cert_b64: &str) -> Result<Vec<u8>, CryptoError> {
    let der = STANDARD
        .decode(first_cert_b64)
        .map_err(|e| invalid(format!("x5c is not base64: {e}")))?;
    Certificate::from_der(&der)?.spki_der()
}

/// The JWK members of a public key: `{"kty":"RSA","n","e"}` or `{"kty":"EC","crv","x","y"}`,
/// as (name, value) pairs.
pub fn jwk_members(spki_der: &[u8]) -> Result<Vec<(&'static str, String)>, CryptoError> {
    let (_, spki) = SubjectPublicKeyInfo::from_der(spki_der)
        .map_err(|_| invalid("not a SubjectPublicKeyInfo".into()))?;
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => Ok(vec![
            ("kty", "RSA".to_owned()),
            ("n", b64url_encode(strip_zeros(rsa.modulus))),
            ("e", b64url_encode(strip_zeros(rsa.exponent))),
        ]),
        Ok(PublicKey::EC(_)) => {
            let key = EcPublicKey::from_spki_der(spki_der)?;
            let width = key.curve().scalar_bytes();
            let point = key.point();
            let crv = match key.curve() {
                Curve::P256 => "P-256",
                Curve::P384 => "P-384",
            };
            Ok(vec![
                ("kty", "EC".to_owned()),
                ("crv", crv.to_owned()),
                ("x", b64url_encode(&point[1..=width])),
                ("y", b64url_encode(&point[1 + width..])),
            ])
        }
        _ => Err(invalid("neither an RSA nor an EC public key".into())),
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EcKeyPair, RsaKeyPair, SeededEntropy};

    fn member<'a>(members: &'a [(&str, String)], name: &str) -> &'a str {
        &members.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn rsa_and_ec_keys_round_trip_through_jwk_members() {
        let rsa = RsaKeyPair::generate_2048().unwrap().public_key();
        let members = jwk_members(rsa.spki_der()).unwrap();
        let spki = rsa_jwk_spki(member(&members, "n"), member(&members, "e")).unwrap();
        assert_eq!(spki, rsa.spki_der());

        let ec = EcKeyPair::generate(Curve::P256, &mut SeededEntropy::from_seed(4)).unwrap();
        let members = jwk_members(ec.public_key().spki_der()).unwrap();
        let spki = ec_jwk_spki("P-256", member(&members, "x"), member(&members, "y")).unwrap();
        assert_eq!(spki, ec.public_key().spki_der());
    }

    #[test]
    fn bad_jwks_are_refused() {
        assert!(ec_jwk_spki("P-256", "AAAA", "AAAA").is_err());
        assert!(ec_jwk_spki("secp256k1", "AAAA", "AAAA").is_err());
        assert!(rsa_jwk_spki("!!", "AQAB").is_err());
        assert!(x5c_spki("bm90IGEgY2VydA==").is_err());
    }
}
