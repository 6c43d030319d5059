//! JWS signature verification for CCF's `jwt` authentication policy: RS256
//! (RSASSA-PKCS1-v1_5 with SHA-256) and ES256 (P-256, JOSE's fixed-width r‖s), the two
//! algorithms CCF accepts (`http::JwtCryptoAlgorithm`).

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

use crate::ecdsa::{Curve, EcPublicKey};
use crate::error::CryptoError;

/// A JWS `alg` Cloister verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlg {
    Rs256,
    Es256,
}

impl JwsAlg {
    /// The header's `alg` string, if supported.
    pub fn from_name(name: &str) -> Option<JwsAlg> {
        match name {
            "RS256" => Some(JwsAlg::Rs256),
            "ES256" => Some(JwsAlg::Es256),
            _ => None,
        }
    }
}

/// Verifies `signature` over `signed` (the JWS signing input `header.payload`) with the public
/// key `spki_der`. A key of the wrong type for `alg` fails like a bad signature.
pub fn verify_jws(
    alg: JwsAlg,
    spki_der: &[u8],
    signed: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    match alg {
        JwsAlg::Rs256 => UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki_der)
            .verify(signed, signature)
            .map_err(|_| CryptoError::BadSignature),
        JwsAlg::Es256 => {
            let key =
                EcPublicKey::from_spki_der(spki_der).map_err(|_| CryptoError::BadSignature)?;
            if key.curve() != Curve::P256 {
                return Err(CryptoError::BadSignature);
            }
            key.verify_cose(signed, signature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EcKeyPair, RsaKeyPair, SeededEntropy};

    #[test]
    fn rs256_and_es256_verify_and_refuse_tampering_or_wrong_keys() {
        let rsa = RsaKeyPair::generate_2048().unwrap();
        let signature = rsa.sign_pkcs1_sha256(b"h.p").unwrap();
        let spki = rsa.public_key().spki_der().to_vec();
        assert!(verify_jws(JwsAlg::Rs256, &spki, b"h.p", &signature).is_ok());
        assert!(verify_jws(JwsAlg::Rs256, &spki, b"h.q", &signature).is_err());
        assert!(verify_jws(JwsAlg::Es256, &spki, b"h.p", &signature).is_err());

        let ec = EcKeyPair::generate(Curve::P256, &mut SeededEntropy::from_seed(9)).unwrap();
        let signature = ec.sign_cose(b"h.p").unwrap();
        let spki = ec.public_key().spki_der().to_vec();
        assert!(verify_jws(JwsAlg::Es256, &spki, b"h.p", &signature).is_ok());
        assert!(verify_jws(JwsAlg::Es256, &spki, b"x.p", &signature).is_err());
        assert!(verify_jws(JwsAlg::Rs256, &spki, b"h.p", &signature).is_err());
        assert_eq!(JwsAlg::from_name("HS256"), None);
    }
}
