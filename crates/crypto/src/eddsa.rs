//! Ed25519 and X25519 keys as CCF's JavaScript API handles them (`generateEddsaKeyPair`,
//! `sign`/`verifySignature` with EdDSA, the `*EddsaPemToJwk` conversions): PKCS#8 v1
//! `PRIVATE KEY` and SubjectPublicKeyInfo `PUBLIC KEY` PEM, as OpenSSL writes them (RFC 8410).
//! Keys come from 32 bytes of the caller's [`Entropy`]; Ed25519 signing is deterministic.

use aws_lc_rs::agreement::{self, X25519};
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use rsa::pkcs8::PrivateKeyInfo;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::entropy::Entropy;
use crate::error::CryptoError;
use crate::pem::{encode_pem, first_pem_block};

/// Which curve-25519 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OkpCurve {
    /// Signing (CCF's `"curve25519"`, JWK `"Ed25519"`).
    Ed25519,
    /// Key agreement (`"x25519"`, JWK `"X25519"`).
    X25519,
}

impl OkpCurve {
    /// The last byte of the RFC 8410 OID 1.3.101.x.
    fn oid_tail(self) -> u8 {
        match self {
            OkpCurve::Ed25519 => 0x70,
            OkpCurve::X25519 => 0x6e,
        }
    }

    fn from_oid(oid: &str) -> Option<OkpCurve> {
        match oid {
            "1.3.101.112" => Some(OkpCurve::Ed25519),
            "1.3.101.110" => Some(OkpCurve::X25519),
            _ => None,
        }
    }

    /// The JWK `crv` (RFC 8037).
    pub fn jwk_name(self) -> &'static str {
        match self {
            OkpCurve::Ed25519 => "Ed25519",
            OkpCurve::X25519 => "X25519",
        }
    }

    pub fn from_jwk_name(name: &str) -> Option<OkpCurve> {
        match name {
            "Ed25519" => Some(OkpCurve::Ed25519),
            "X25519" => Some(OkpCurve::X25519),
            _ => None,
        }
    }
}

fn invalid(why: impl Into<String>) -> CryptoError {
    CryptoError::InvalidKey(why.into())
}

/// An Ed25519 or X25519 private key (the 32-byte seed / scalar); `Debug` hides it.
#[derive(Clone)]
pub struct OkpPrivateKey {
    curve: OkpCurve,
    secret: [u8; 32],
}

impl std::fmt::Debug for OkpPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OkpPrivateKey")
            .field("curve", &self.curve)
            .finish_non_exhaustive()
    }
}

impl Drop for OkpPrivateKey {
    fn drop(&mut self) {
        self.secret.fill(0);
    }
}

impl OkpPrivateKey {
    pub fn generate(curve: OkpCurve, entropy: &mut dyn Entropy) -> OkpPrivateKey {
        let mut secret = [0u8; 32];
        entropy.fill_bytes(&mut secret);
        OkpPrivateKey { curve, secret }
    }

    /// From the raw 32 bytes (a JWK's `d`).
    pub fn from_raw(curve: OkpCurve, raw: &[u8]) -> Result<OkpPrivateKey, CryptoError> {
        let secret: [u8; 32] = raw
            .try_into()
            .map_err(|_| invalid(format!("{} private key must be 32 bytes", curve.jwk_name())))?;
        Ok(OkpPrivateKey { curve, secret })
    }

    /// From a PKCS#8 `PRIVATE KEY` PEM holding an Ed25519 or X25519 key.
    pub fn from_pem(pem: &str) -> Result<OkpPrivateKey, CryptoError> {
        let der = first_pem_block(pem, &["PRIVATE KEY"])?.der;
        let info = PrivateKeyInfo::try_from(der.as_slice())
            .map_err(|e| invalid(format!("not a PKCS#8 private key: {e}")))?;
        let curve = OkpCurve::from_oid(&info.algorithm.oid.to_string())
            .ok_or_else(|| invalid("not an Ed25519 or X25519 private key"))?;
        // RFC 8410 §7: the private key is an OCTET STRING inside the OCTET STRING.
        match info.private_key {
            [0x04, 0x20, raw @ ..] => OkpPrivateKey::from_raw(curve, raw),
            _ => Err(invalid("malformed RFC 8410 private key")),
        }
    }

    pub fn curve(&self) -> OkpCurve {
        self.curve
    }

    /// The raw private bytes (JWK `d`).
    pub fn raw(&self) -> &[u8; 32] {
        &self.secret
    }

    /// PKCS#8 v1 `PRIVATE KEY` PEM.
    pub fn to_pem(&self) -> String {
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
        ];
        der.extend([self.curve.oid_tail(), 0x04, 0x22, 0x04, 0x20]);
        der.extend_from_slice(&self.secret);
        let pem = encode_pem("PRIVATE KEY", &der);
        der.fill(0);
        pem
    }

    pub fn public_key(&self) -> Result<OkpPublicKey, CryptoError> {
        let raw: Vec<u8> = match self.curve {
            OkpCurve::Ed25519 => self.ed25519()?.public_key().as_ref().to_vec(),
            OkpCurve::X25519 => {
                let key = agreement::PrivateKey::from_private_key(&X25519, &self.secret)
                    .map_err(|_| invalid("X25519 private key"))?;
                let public = key
                    .compute_public_key()
                    .map_err(|_| invalid("X25519 public key"))?;
                public.as_ref().to_vec()
            }
        };
        OkpPublicKey::from_raw(self.curve, &raw)
    }

    /// An Ed25519 signature over `message`; X25519 keys cannot sign.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if self.curve != OkpCurve::Ed25519 {
            return Err(invalid("only Ed25519 keys sign"));
        }
        Ok(self.ed25519()?.sign(message).as_ref().to_vec())
    }

    fn ed25519(&self) -> Result<Ed25519KeyPair, CryptoError> {
        Ed25519KeyPair::from_seed_unchecked(&self.secret).map_err(|_| invalid("Ed25519 seed"))
    }
}

/// An Ed25519 or X25519 public key (32 raw bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkpPublicKey {
    curve: OkpCurve,
    raw: [u8; 32],
}

impl OkpPublicKey {
    /// From the raw 32 bytes (a JWK's `x`).
    pub fn from_raw(curve: OkpCurve, raw: &[u8]) -> Result<OkpPublicKey, CryptoError> {
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| invalid(format!("{} public key must be 32 bytes", curve.jwk_name())))?;
        Ok(OkpPublicKey { curve, raw })
    }

    /// From a SubjectPublicKeyInfo DER.
    pub fn from_spki_der(der: &[u8]) -> Result<OkpPublicKey, CryptoError> {
        let (rest, spki) = SubjectPublicKeyInfo::from_der(der)
            .map_err(|_| invalid("not a SubjectPublicKeyInfo"))?;
        if !rest.is_empty() {
            return Err(invalid("trailing bytes after the SubjectPublicKeyInfo"));
        }
        let curve = OkpCurve::from_oid(&spki.algorithm.algorithm.to_id_string())
            .ok_or_else(|| invalid("not an Ed25519 or X25519 public key"))?;
        OkpPublicKey::from_raw(curve, &spki.subject_public_key.data)
    }

    /// From a `PUBLIC KEY` PEM.
    pub fn from_pem(pem: &str) -> Result<OkpPublicKey, CryptoError> {
        OkpPublicKey::from_spki_der(&first_pem_block(pem, &["PUBLIC KEY"])?.der)
    }

    pub fn curve(&self) -> OkpCurve {
        self.curve
    }

    pub fn raw(&self) -> &[u8; 32] {
        &self.raw
    }

    pub fn spki_der(&self) -> Vec<u8> {
        let mut der = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65];
        der.extend([self.curve.oid_tail(), 0x03, 0x21, 0x00]);
        der.extend_from_slice(&self.raw);
        der
    }

    /// `PUBLIC KEY` PEM.
    pub fn to_pem(&self) -> String {
        encode_pem("PUBLIC KEY", &self.spki_der())
    }

    /// Whether `signature` is this Ed25519 key's over `message` (false for X25519 keys).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.curve == OkpCurve::Ed25519
            && UnparsedPublicKey::new(&ED25519, &self.raw)
                .verify(message, signature)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};

    use super::*;
    use crate::entropy::SeededEntropy;

    /// RFC 8032 §7.1 test 1.
    const RFC8032_SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const RFC8032_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const RFC8032_SIG: &str = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

    #[test]
    fn rfc8032_vector_and_aws_lc_encodings_agree() {
        let key = OkpPrivateKey::from_raw(OkpCurve::Ed25519, &hex::decode(RFC8032_SECRET).unwrap())
            .unwrap();
        let public = key.public_key().unwrap();
        assert_eq!(hex::encode(public.raw()), RFC8032_PUBLIC);
        let sig = key.sign(b"").unwrap();
        assert_eq!(hex::encode(&sig), RFC8032_SIG);
        assert!(public.verify(b"", &sig));
        assert!(!public.verify(b"x", &sig));
        // Our hand-written DER is what aws-lc writes.
        let pair = Ed25519KeyPair::from_seed_unchecked(key.raw()).unwrap();
        let pkcs8: Pkcs8V1Der<'_> = pair.as_der().unwrap();
        assert_eq!(
            first_pem_block(&key.to_pem(), &["PRIVATE KEY"])
                .unwrap()
                .der,
            pkcs8.as_ref()
        );
        let spki: PublicKeyX509Der<'_> = pair.public_key().as_der().unwrap();
        assert_eq!(public.spki_der(), spki.as_ref());
    }

    #[test]
    fn x25519_keys_round_trip_and_do_not_sign() {
        let key = OkpPrivateKey::generate(OkpCurve::X25519, &mut SeededEntropy::from_seed(9));
        let again = OkpPrivateKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(again.raw(), key.raw());
        assert_eq!(again.curve(), OkpCurve::X25519);
        let public = key.public_key().unwrap();
        assert_eq!(OkpPublicKey::from_pem(&public.to_pem()).unwrap(), public);
        assert!(key.sign(b"m").is_err());
        // aws-lc's X25519 public key encodes the same way.
        let aws = agreement::PrivateKey::from_private_key(&X25519, key.raw()).unwrap();
        let spki: PublicKeyX509Der<'_> = aws.compute_public_key().unwrap().as_der().unwrap();
        assert_eq!(public.spki_der(), spki.as_ref());
    }

    #[test]
    fn other_keys_are_refused() {
        let ec = crate::EcKeyPair::generate(crate::Curve::P256, &mut SeededEntropy::from_seed(1))
            .unwrap();
        assert!(OkpPrivateKey::from_pem(&ec.to_pem()).is_err());
        assert!(OkpPublicKey::from_pem(&ec.public_key().to_pem()).is_err());
        assert!(OkpPrivateKey::from_raw(OkpCurve::Ed25519, &[0; 31]).is_err());
    }
}
