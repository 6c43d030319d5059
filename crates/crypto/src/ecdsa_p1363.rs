//! ECDSA as CCF's JavaScript `sign`/`verifySignature` use it: the message hashed with any of
//! SHA-256/384/512 on either curve, signatures in IEEE P1363 form (fixed-width r ‖ s). Signing
//! uses RFC 6979 nonces, so no randomness is needed at all.

use p256::ecdsa::Signature as P256Signature;
use p384::ecdsa::Signature as P384Signature;

use crate::ecdsa::{Curve, EcKeyPair, EcPublicKey};
use crate::error::CryptoError;
use crate::hash_alg::HashAlg;

/// DER `Ecdsa-Sig-Value` → r ‖ s of the curve's width.
pub fn ecdsa_der_to_p1363(curve: Curve, der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let bad = |_| CryptoError::BadSignature;
    Ok(match curve {
        Curve::P256 => P256Signature::from_der(der)
            .map_err(bad)?
            .to_bytes()
            .to_vec(),
        Curve::P384 => P384Signature::from_der(der)
            .map_err(bad)?
            .to_bytes()
            .to_vec(),
    })
}

/// r ‖ s → DER; a wrong length or a zero/out-of-range r or s is refused.
pub fn ecdsa_p1363_to_der(curve: Curve, raw: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let bad = |_| CryptoError::BadSignature;
    Ok(match curve {
        Curve::P256 => P256Signature::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
        Curve::P384 => P384Signature::from_slice(raw)
            .map_err(bad)?
            .to_der()
            .as_bytes()
            .to_vec(),
    })
}

/// P1363 signature over `message` hashed with `hash`, with the EC private key PEM (SEC1 or
/// PKCS#8), deterministic (RFC 6979).
pub fn ecdsa_sign_p1363(
    private_pem: &str,
    hash: HashAlg,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = EcKeyPair::from_pem(private_pem)?.with_deterministic_signatures()?;
    let der = key.sign_prehashed_der(&hash.digest(message))?;
    ecdsa_der_to_p1363(key.curve(), &der)
}

/// Whether the P1363 `signature` over `message` hashed with `hash` verifies with `key`. A
/// malformed signature is `false`, as OpenSSL answers.
pub fn ecdsa_verify_p1363(
    key: &EcPublicKey,
    hash: HashAlg,
    message: &[u8],
    signature: &[u8],
) -> bool {
    ecdsa_p1363_to_der(key.curve(), signature)
        .and_then(|der| key.verify_prehashed_der(&hash.digest(message), &der))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, UnparsedPublicKey,
    };

    use super::*;
    use crate::entropy::SeededEntropy;

    #[test]
    fn signatures_are_p1363_deterministic_and_aws_lc_verifies_them() {
        for (curve, alg, width) in [
            (Curve::P256, &ECDSA_P256_SHA256_FIXED, 64),
            (Curve::P384, &ECDSA_P384_SHA384_FIXED, 96),
        ] {
            let key = EcKeyPair::generate(curve, &mut SeededEntropy::from_seed(2)).unwrap();
            let pem = key.to_pem();
            let hash = if curve == Curve::P256 {
                HashAlg::Sha256
            } else {
                HashAlg::Sha384
            };
            let sig = ecdsa_sign_p1363(&pem, hash, b"message").unwrap();
            assert_eq!(sig.len(), width);
            assert_eq!(sig, ecdsa_sign_p1363(&pem, hash, b"message").unwrap());
            let point = {
                let spki = key.public_key();
                spki.spki_der()[spki.spki_der().len() - (2 * width / 2 + 1)..].to_vec()
            };
            UnparsedPublicKey::new(alg, &point)
                .verify(b"message", &sig)
                .unwrap();
            assert!(ecdsa_verify_p1363(
                &key.public_key(),
                hash,
                b"message",
                &sig
            ));
            assert!(!ecdsa_verify_p1363(
                &key.public_key(),
                hash,
                b"massage",
                &sig
            ));
            assert!(!ecdsa_verify_p1363(
                &key.public_key(),
                hash,
                b"message",
                &sig[1..]
            ));
        }
    }

    #[test]
    fn any_hash_on_any_curve_round_trips() {
        let key = EcKeyPair::generate(Curve::P256, &mut SeededEntropy::from_seed(3)).unwrap();
        for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let sig = ecdsa_sign_p1363(&key.to_pem(), hash, b"m").unwrap();
            assert!(ecdsa_verify_p1363(&key.public_key(), hash, b"m", &sig));
        }
    }
}
