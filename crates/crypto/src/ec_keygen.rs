//! EC key pairs for CCF's `generateEcdsaKeyPair("secp256r1" | "secp384r1")`, from the caller's
//! [`Entropy`], written as OpenSSL writes them: PKCS#8 `PRIVATE KEY` whose inner `ECPrivateKey`
//! carries the public point, and a SubjectPublicKeyInfo `PUBLIC KEY`.

use crate::ecdsa::{Curve, EcKeyPair};
use crate::entropy::Entropy;
use crate::error::CryptoError;
use crate::jwk_pem::{ec_private_jwk_to_pem, ec_private_pem_to_jwk};
use crate::rsa_keygen::PemKeyPair;

/// The curve CCF names `secp256r1` / `secp384r1`.
pub fn ec_curve_from_name(name: &str) -> Option<Curve> {
    match name {
        "secp256r1" => Some(Curve::P256),
        "secp384r1" => Some(Curve::P384),
        _ => None,
    }
}

/// A fresh key pair as (PKCS#8 private, SPKI public) PEM.
pub fn generate_ec_key_pair(
    curve: Curve,
    entropy: &mut dyn Entropy,
) -> Result<PemKeyPair, CryptoError> {
    let key = EcKeyPair::generate(curve, entropy)?;
    // Through the JWK form so that the private key carries its public point (OpenSSL's form).
    let private_pem = ec_private_jwk_to_pem(&ec_private_pem_to_jwk(&key.to_pem())?)?;
    Ok(PemKeyPair {
        private_pem,
        public_pem: key.public_key().to_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::pem::first_pem_block;

    #[test]
    fn pairs_match_replay_and_carry_the_public_point() {
        for (name, len) in [("secp256r1", 138), ("secp384r1", 185)] {
            let curve = ec_curve_from_name(name).unwrap();
            let a = generate_ec_key_pair(curve, &mut SeededEntropy::from_seed(4)).unwrap();
            let b = generate_ec_key_pair(curve, &mut SeededEntropy::from_seed(4)).unwrap();
            assert_eq!(a, b);
            let key = EcKeyPair::from_pem(&a.private_pem).unwrap();
            assert_eq!(key.public_key().to_pem(), a.public_pem);
            let der = first_pem_block(&a.private_pem, &["PRIVATE KEY"])
                .unwrap()
                .der;
            assert_eq!(der.len(), len);
        }
        assert_eq!(ec_curve_from_name("secp521r1"), None);
    }
}
