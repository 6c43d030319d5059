//! ECDSA over P-256 and P-384, the curves CCF uses for service, node, member and user keys
//! (spec/ccf-internals.md §7).
//!
//! Two signature shapes matter for CCF:
//! * "prehashed" DER signatures over a caller-supplied digest: node signatures over the 32-byte
//!   Merkle root (§3.5), verified by CCF with `ECDSA(Prehashed(SHA256))` whatever the curve;
//! * COSE-style fixed-width `r‖s` signatures over a message hashed with the curve's own hash
//!   (§3.6, RFC 9053 §2.1).

use std::fmt;

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    self as sig, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair,
    UnparsedPublicKey,
};
use cloister_types::NodeId;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use aws_lc_rs::encoding::{AsBigEndian, EcPrivateKeyBin};

use crate::entropy::Entropy;
use crate::error::CryptoError;
use crate::hash::sha256;
use crate::pem::{encode_pem, first_pem_block};
use crate::rfc6979::DeterministicSigner;

/// A NIST curve supported for signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// secp256r1, ES256 in COSE.
    P256,
    /// secp384r1, ES384 in COSE; CCF's default for service and node keys.
    P384,
}

/// Attempts at drawing a scalar below the group order before giving up. For P-256 a draw is
/// rejected with probability below 2^-32, so running out means the `Entropy` is broken.
const KEYGEN_ATTEMPTS_MAX: usize = 64;

impl Curve {
    /// Bytes in a scalar or a coordinate (32 for P-256, 48 for P-384).
    pub fn scalar_bytes(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    /// The COSE `alg` for ECDSA with this curve's hash (RFC 9053 §2.1): ES256 = -7, ES384 = -35.
    pub fn cose_alg(self) -> i64 {
        match self {
            Curve::P256 => -7,
            Curve::P384 => -35,
        }
    }

    /// The curve whose ECDSA is the COSE `alg`, if it is one of ours.
    pub fn from_cose_alg(alg: i64) -> Option<Curve> {
        [Curve::P256, Curve::P384]
            .into_iter()
            .find(|curve| curve.cose_alg() == alg)
    }

    /// The hash that goes with the curve (SHA-256 / SHA-384), as for COSE and X.509 signing.
    fn digest_algorithm(self) -> &'static digest::Algorithm {
        match self {
            Curve::P256 => &digest::SHA256,
            Curve::P384 => &digest::SHA384,
        }
    }

    fn der_signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
        }
    }

    fn raw_signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            Curve::P384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
        }
    }

    pub(crate) fn der_verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &sig::ECDSA_P256_SHA256_ASN1,
            Curve::P384 => &sig::ECDSA_P384_SHA384_ASN1,
        }
    }

    fn raw_verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &sig::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &sig::ECDSA_P384_SHA384_FIXED,
        }
    }

    /// DER of the named-curve OID (RFC 5480 §2.1.1.1).
    fn oid_der(self) -> &'static [u8] {
        match self {
            Curve::P256 => &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
            Curve::P384 => &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
        }
    }

    fn from_oid_text(oid: &str) -> Option<Curve> {
        match oid {
            "1.2.840.10045.3.1.7" => Some(Curve::P256),
            "1.3.132.0.34" => Some(Curve::P384),
            _ => None,
        }
    }

    /// The group order n, big-endian (SEC 2 §2.4.2, §2.5.1).
    pub(crate) fn order(self) -> &'static [u8] {
        match self {
            Curve::P256 => &P256_ORDER,
            Curve::P384 => &P384_ORDER,
        }
    }
}

/// An ECDSA private key. `Debug` shows only the curve and the public key's digest.
///
/// Signatures are randomised (aws-lc) unless the key signs deterministically (RFC 6979): keys
/// generated from an [`Entropy`] whose `deterministic_signatures()` is true, such as
/// `SeededEntropy`, and keys opted in with [`EcKeyPair::with_deterministic_signatures`].
#[derive(Clone)]
pub struct EcKeyPair {
    curve: Curve,
    der_signer: EcdsaKeyPair,
    raw_signer: EcdsaKeyPair,
    public: EcPublicKey,
    deterministic: Option<DeterministicSigner>,
}

impl EcKeyPair {
    /// A fresh key whose scalar comes from `entropy` (rejection sampling below the order), so a
    /// seeded `Entropy` gives the same key every time; if `entropy.deterministic_signatures()`,
    /// the key's signatures are RFC 6979 deterministic too.
    pub fn generate(curve: Curve, entropy: &mut dyn Entropy) -> Result<EcKeyPair, CryptoError> {
        let mut scalar = [0u8; 48];
        let scalar = &mut scalar[..curve.scalar_bytes()];
        for _ in 0..KEYGEN_ATTEMPTS_MAX {
            entropy.fill_bytes(scalar);
            if scalar.iter().any(|b| *b != 0) && *scalar < *curve.order() {
                let mut der = sec1_private_key_der(curve, scalar);
                let key = EcKeyPair::from_private_der(&der);
                der.fill(0);
                let key = match key {
                    Ok(key) if entropy.deterministic_signatures() => {
                        DeterministicSigner::from_scalar(curve, scalar).map(|signer| EcKeyPair {
                            deterministic: Some(signer),
                            ..key
                        })
                    }
                    other => other,
                };
                scalar.fill(0);
                return key;
            }
        }
        Err(CryptoError::KeyGenerationFailed(KEYGEN_ATTEMPTS_MAX))
    }

    /// Parses the first `EC PRIVATE KEY` (SEC1, possibly after the `EC PARAMETERS` block CCF
    /// writes first) or `PRIVATE KEY` (PKCS#8) block.
    pub fn from_pem(pem: &str) -> Result<EcKeyPair, CryptoError> {
        let block = first_pem_block(pem, &["EC PRIVATE KEY", "PRIVATE KEY"])?;
        EcKeyPair::from_private_der(&block.der)
    }

    /// Parses a SEC1 `ECPrivateKey` (public key optional) or a PKCS#8 `PrivateKeyInfo`.
    pub fn from_private_der(der: &[u8]) -> Result<EcKeyPair, CryptoError> {
        for curve in [Curve::P384, Curve::P256] {
            // aws-lc checks that the key's own curve is the one asked for.
            if let Ok(der_signer) = EcdsaKeyPair::from_private_key_der(curve.der_signing(), der) {
                return EcKeyPair::from_signer(curve, der_signer);
            }
        }
        Err(CryptoError::InvalidKey(
            "not a P-256 or P-384 EC private key".into(),
        ))
    }

    /// The same key, signing with RFC 6979 deterministic nonces from now on (for keys read
    /// from PEM or DER that a replayable run signs with).
    pub fn with_deterministic_signatures(self) -> Result<EcKeyPair, CryptoError> {
        if self.deterministic.is_some() {
            return Ok(self);
        }
        let scalar: EcPrivateKeyBin<'static> = self
            .der_signer
            .private_key()
            .as_be_bytes()
            .map_err(|_| CryptoError::InvalidKey("cannot export the private scalar".into()))?;
        let signer = DeterministicSigner::from_scalar(self.curve, scalar.as_ref())?;
        Ok(EcKeyPair {
            deterministic: Some(signer),
            ..self
        })
    }

    /// Whether this key's signatures are deterministic (RFC 6979) rather than randomised.
    pub fn has_deterministic_signatures(&self) -> bool {
        self.deterministic.is_some()
    }

    /// PKCS#8 `PRIVATE KEY` PEM.
    pub fn to_pem(&self) -> String {
        let pkcs8 = self.der_signer.to_pkcs8v1();
        // Marshalling a key aws-lc already holds fails only if allocation fails.
        let Ok(pkcs8) = pkcs8 else {
            unreachable!("aws-lc could not marshal a valid EC key")
        };
        encode_pem("PRIVATE KEY", pkcs8.as_ref())
    }

    pub fn curve(&self) -> Curve {
        self.curve
    }

    pub fn public_key(&self) -> EcPublicKey {
        self.public.clone()
    }

    /// CCF's `sign_hash`: DER ECDSA over `digest` used directly as the hash (no re-hashing).
    /// CCF signs 32-byte Merkle roots with P-384 node keys this way (§3.5).
    pub fn sign_prehashed_der(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let digest = prehashed_digest(self.curve, digest)?;
        if let Some(signer) = &self.deterministic {
            return signer.sign_der(digest.as_ref());
        }
        let signature = self
            .der_signer
            .sign_digest(&digest)
            .map_err(|_| CryptoError::SigningFailed)?;
        Ok(signature.as_ref().to_vec())
    }

    /// DER ECDSA over `message` hashed with the curve's hash (ecdsa-with-SHA256/384, as X.509
    /// and TLS use it).
    pub fn sign_der(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let digest = digest::digest(self.curve.digest_algorithm(), message);
        if let Some(signer) = &self.deterministic {
            return signer.sign_der(digest.as_ref());
        }
        let signature = self
            .der_signer
            .sign_digest(&digest)
            .map_err(|_| CryptoError::SigningFailed)?;
        Ok(signature.as_ref().to_vec())
    }

    /// COSE-style signature: hash the message with the curve's hash (SHA-256 for P-256, SHA-384
    /// for P-384), raw r‖s fixed-width output.
    pub fn sign_cose(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let digest = digest::digest(self.curve.digest_algorithm(), message);
        if let Some(signer) = &self.deterministic {
            return signer.sign_raw(digest.as_ref());
        }
        let signature = self
            .raw_signer
            .sign_digest(&digest)
            .map_err(|_| CryptoError::SigningFailed)?;
        Ok(signature.as_ref().to_vec())
    }

    fn from_signer(curve: Curve, der_signer: EcdsaKeyPair) -> Result<EcKeyPair, CryptoError> {
        let invalid = |what: &str| CryptoError::InvalidKey(format!("cannot {what} the key"));
        let pkcs8 = der_signer.to_pkcs8v1().map_err(|_| invalid("marshal"))?;
        let raw_signer = EcdsaKeyPair::from_pkcs8(curve.raw_signing(), pkcs8.as_ref())
            .map_err(|_| invalid("reload"))?;
        let spki = der_signer
            .public_key()
            .as_der()
            .map_err(|_| invalid("encode the public half of"))?;
        let public = EcPublicKey::from_spki_der(spki.as_ref())?;
        Ok(EcKeyPair {
            curve,
            der_signer,
            raw_signer,
            public,
            deterministic: None,
        })
    }
}

impl fmt::Debug for EcKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcKeyPair")
            .field("curve", &self.curve)
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}

/// An ECDSA public key, held as its SubjectPublicKeyInfo DER.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EcPublicKey {
    curve: Curve,
    spki_der: Vec<u8>,
    /// The uncompressed point (SEC1 §2.3.3), the BIT STRING inside the SPKI.
    point: Vec<u8>,
}

impl EcPublicKey {
    /// Parses and validates (point on the curve) a SubjectPublicKeyInfo. The DER kept is
    /// aws-lc's canonical re-encoding (named curve, uncompressed point), the form OpenSSL writes
    /// and CCF hashes into a NodeId.
    pub fn from_spki_der(der: &[u8]) -> Result<EcPublicKey, CryptoError> {
        let (curve, _) = parse_ec_spki(der)?;
        let parsed = UnparsedPublicKey::new(curve.der_verification(), der)
            .parse()
            .map_err(|e| CryptoError::InvalidKey(format!("public key rejected: {e}")))?;
        let canonical = parsed
            .as_der()
            .map_err(|_| CryptoError::InvalidKey("cannot re-encode the public key".into()))?;
        let spki_der = canonical.as_ref().to_vec();
        let (_, point) = parse_ec_spki(&spki_der)?;
        Ok(EcPublicKey {
            curve,
            spki_der,
            point,
        })
    }

    /// Parses the first `PUBLIC KEY` PEM block.
    pub fn from_pem(pem: &str) -> Result<EcPublicKey, CryptoError> {
        EcPublicKey::from_spki_der(&first_pem_block(pem, &["PUBLIC KEY"])?.der)
    }

    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    pub fn to_pem(&self) -> String {
        encode_pem("PUBLIC KEY", &self.spki_der)
    }

    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// CCF's node id for this key: hex SHA-256 of the SPKI DER (§7).
    pub fn node_id(&self) -> NodeId {
        NodeId::from_digest(&sha256(&self.spki_der).0)
    }

    /// Verifies a DER signature over `digest` used directly as the hash, as CCF checks node
    /// signatures over Merkle roots (`ECDSA(Prehashed(SHA256))`, §3.5, §4.3).
    pub fn verify_prehashed_der(&self, digest: &[u8], sig_der: &[u8]) -> Result<(), CryptoError> {
        let digest = prehashed_digest(self.curve, digest)?;
        UnparsedPublicKey::new(self.curve.der_verification(), &self.spki_der)
            .verify_digest(&digest, sig_der)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// Verifies a DER signature over `message` hashed with the curve's hash.
    pub fn verify_der(&self, message: &[u8], sig_der: &[u8]) -> Result<(), CryptoError> {
        UnparsedPublicKey::new(self.curve.der_verification(), &self.spki_der)
            .verify(message, sig_der)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// Verifies a fixed-width r‖s signature over `message` hashed with the curve's hash.
    pub fn verify_cose(&self, message: &[u8], sig_raw: &[u8]) -> Result<(), CryptoError> {
        UnparsedPublicKey::new(self.curve.raw_verification(), &self.spki_der)
            .verify(message, sig_raw)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// Verifies a DER signature with an explicit verification algorithm (X.509 signatures may
    /// pair a curve with another hash).
    pub(crate) fn verify_with(
        &self,
        algorithm: &'static EcdsaVerificationAlgorithm,
        message: &[u8],
        sig_der: &[u8],
    ) -> Result<(), CryptoError> {
        UnparsedPublicKey::new(algorithm, &self.spki_der)
            .verify(message, sig_der)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// The uncompressed point, as rcgen wants it.
    pub(crate) fn point(&self) -> &[u8] {
        &self.point
    }
}

impl fmt::Debug for EcPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EcPublicKey({:?}, spki sha256 {})",
            self.curve,
            sha256(&self.spki_der)
        )
    }
}

/// The digest aws-lc should sign or verify for a prehashed `digest`.
///
/// ECDSA uses the leftmost ⌈log2 n⌉ bits of the hash as the integer e (SEC 1 §4.1.3 step 5).
/// Both orders are byte-aligned, so a longer digest is cut to `scalar_bytes`, and a shorter one
/// (a 32-byte root on P-384) is left-padded with zeros, which is the same integer. aws-lc only
/// takes digests of the curve's own hash length, hence the re-shaping.
fn prehashed_digest(curve: Curve, digest: &[u8]) -> Result<Digest, CryptoError> {
    if digest.is_empty() {
        return Err(CryptoError::EmptyDigest);
    }
    let width = curve.scalar_bytes();
    let mut buf = [0u8; 48];
    let shaped = &mut buf[..width];
    if digest.len() >= width {
        shaped.copy_from_slice(&digest[..width]);
    } else {
        shaped[width - digest.len()..].copy_from_slice(digest);
    }
    Digest::import_less_safe(shaped, curve.digest_algorithm())
        .map_err(|_| CryptoError::SigningFailed)
}

/// (curve, uncompressed point) of an EC SubjectPublicKeyInfo; refuses trailing bytes.
fn parse_ec_spki(der: &[u8]) -> Result<(Curve, Vec<u8>), CryptoError> {
    let invalid = |why: &str| CryptoError::InvalidKey(why.to_owned());
    let (rest, spki) =
        SubjectPublicKeyInfo::from_der(der).map_err(|_| invalid("not a SubjectPublicKeyInfo"))?;
    if !rest.is_empty() {
        return Err(invalid("trailing bytes after the SubjectPublicKeyInfo"));
    }
    if spki.algorithm.algorithm.to_id_string() != ID_EC_PUBLIC_KEY {
        return Err(CryptoError::UnsupportedCurve(format!(
            "key algorithm {} is not id-ecPublicKey",
            spki.algorithm.algorithm.to_id_string()
        )));
    }
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| invalid("no curve parameters"))?;
    let oid = params
        .as_oid()
        .map_err(|_| invalid("curve parameters are not a named curve"))?;
    let curve = Curve::from_oid_text(&oid.to_id_string())
        .ok_or_else(|| CryptoError::UnsupportedCurve(oid.to_id_string()))?;
    Ok((curve, spki.subject_public_key.data.to_vec()))
}

/// A SEC1 `ECPrivateKey` (RFC 5915) with only version, scalar and named curve: aws-lc derives
/// the public point itself (as it does for CCF's own keys without one).
fn sec1_private_key_der(curve: Curve, scalar: &[u8]) -> Vec<u8> {
    let oid = curve.oid_der();
    let params_len = oid.len();
    let body_len = 3 + 2 + scalar.len() + 2 + params_len;
    let mut der = Vec::with_capacity(2 + body_len);
    // Every length here is below 128, so each fits the one-byte DER short form.
    der.extend([
        0x30,
        body_len as u8,
        0x02,
        0x01,
        0x01,
        0x04,
        scalar.len() as u8,
    ]);
    der.extend_from_slice(scalar);
    der.extend([0xa0, params_len as u8]);
    der.extend_from_slice(oid);
    der
}

const ID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";

const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::entropy::SeededEntropy;

    /// Made once with /tmp/ccfvenv's Python `cryptography`:
    /// `key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))` on a fresh SECP384R1 key.
    const PY_P384_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEJgFrugJ1drz1o/PvnwfuXzXO5AK3pvqF
lkWzQddmG1cmzg4r+clsCERcvsckoHoprPf6+2k3TdD4hEoVkCzp++Ow4Wt60iKa
vOU0B8Z6wby4kYi5n4SWZTNNnfV1r3Xd
-----END PUBLIC KEY-----
";
    const PY_DIGEST: &str = "ac2b666607465c1b3d6fc4b9dd1908fbd19dd0d2b4826672f09256b653e15d3f";
    const PY_P384_SIG: &str = "306502305f96e84cee44c851005c1b89a943310c19bb08994456915c3b909dcc1ba040d7\
        fefcafcecd0f4a8f6fd495a8fa2be09a0231008990422a207b1c7e944f08a0779a66a2b094b4b677fcdc2abf8ac27e36\
        4745aa371dfdf89aafe16e164424cbf378ffa5";
    /// The same digest signed the same way with a SECP256R1 key.
    const PY_P256_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKPKTOvb77NYF+4nTNCPVmcu5y0iW
cd++ba8FgYDEqCZCaAFmIV9AXUG3mbz7X74YT6cao2bXcppBpNpn0goL/w==
-----END PUBLIC KEY-----
";
    const PY_P256_SIG: &str = "3046022100fdd6a894045d0ecbc11b36980f60bc09700a1c5061a8c4b2c76b5f75d09825\
        9b022100d633af45b0fb601df3a866abfa9e4a191104ea55ed9d4a46bf4d8f7bcb03ae70";

    fn key(curve: Curve, seed: u64) -> EcKeyPair {
        EcKeyPair::generate(curve, &mut SeededEntropy::from_seed(seed)).unwrap()
    }

    /// An entropy source stuck on one byte value.
    struct Constant(u8);
    impl Entropy for Constant {
        fn fill_bytes(&mut self, out: &mut [u8]) {
            out.fill(self.0);
        }
    }

    #[test]
    fn prehashed_signatures_verify_on_both_curves() {
        let root = sha256(b"merkle root").0;
        for curve in [Curve::P256, Curve::P384] {
            let signer = key(curve, 1);
            let sig = signer.sign_prehashed_der(&root).unwrap();
            signer
                .public_key()
                .verify_prehashed_der(&root, &sig)
                .unwrap();
            let other = sha256(b"another root").0;
            assert_eq!(
                signer.public_key().verify_prehashed_der(&other, &sig),
                Err(CryptoError::BadSignature)
            );
            let stranger = key(curve, 2).public_key();
            assert_eq!(
                stranger.verify_prehashed_der(&root, &sig),
                Err(CryptoError::BadSignature)
            );
        }
    }

    #[test]
    fn python_prehashed_sha256_signatures_verify() {
        let digest = hex::decode(PY_DIGEST).unwrap();
        let p384 = EcPublicKey::from_pem(PY_P384_PUBLIC).unwrap();
        assert_eq!(p384.curve(), Curve::P384);
        p384.verify_prehashed_der(&digest, &hex::decode(PY_P384_SIG).unwrap())
            .unwrap();
        let p256 = EcPublicKey::from_pem(PY_P256_PUBLIC).unwrap();
        assert_eq!(p256.curve(), Curve::P256);
        p256.verify_prehashed_der(&digest, &hex::decode(PY_P256_SIG).unwrap())
            .unwrap();

        let mut flipped = digest.clone();
        flipped[31] ^= 1;
        assert!(
            p384.verify_prehashed_der(&flipped, &hex::decode(PY_P384_SIG).unwrap())
                .is_err()
        );
    }

    #[test]
    fn short_digest_on_p384_is_the_zero_padded_integer() {
        let key = key(Curve::P384, 3);
        let root = sha256(b"root").0;
        let sig = key.sign_prehashed_der(&root).unwrap();
        let mut padded = [0u8; 48];
        padded[16..].copy_from_slice(&root);
        key.public_key()
            .verify_prehashed_der(&padded, &sig)
            .unwrap();
    }

    #[test]
    fn long_digest_is_truncated_to_the_order_width() {
        let key = key(Curve::P256, 3);
        let long = [7u8; 64];
        let sig = key.sign_prehashed_der(&long).unwrap();
        key.public_key()
            .verify_prehashed_der(&long[..32], &sig)
            .unwrap();
    }

    #[test]
    fn empty_digest_is_refused() {
        let key = key(Curve::P384, 3);
        assert_eq!(key.sign_prehashed_der(&[]), Err(CryptoError::EmptyDigest));
        assert_eq!(
            key.public_key().verify_prehashed_der(&[], &[0x30, 0]),
            Err(CryptoError::EmptyDigest)
        );
    }

    #[test]
    fn cose_signatures_are_fixed_width_and_verify() {
        for curve in [Curve::P256, Curve::P384] {
            let key = key(curve, 4);
            let sig = key.sign_cose(b"Sig_structure bytes").unwrap();
            assert_eq!(sig.len(), 2 * curve.scalar_bytes());
            key.public_key()
                .verify_cose(b"Sig_structure bytes", &sig)
                .unwrap();
            assert!(
                key.public_key()
                    .verify_cose(b"Sig_structure bytez", &sig)
                    .is_err()
            );
            let der = key.sign_der(b"tbs").unwrap();
            key.public_key().verify_der(b"tbs", &der).unwrap();
            assert!(key.public_key().verify_cose(b"tbs", &der).is_err());
        }
    }

    #[test]
    fn generate_with_equal_seeds_gives_equal_keys() {
        for curve in [Curve::P256, Curve::P384] {
            assert_eq!(key(curve, 9).public_key(), key(curve, 9).public_key());
            assert_ne!(key(curve, 9).public_key(), key(curve, 10).public_key());
            assert_eq!(key(curve, 9).to_pem(), key(curve, 9).to_pem());
            assert_eq!(key(curve, 9).curve(), curve);
        }
    }

    #[test]
    fn generate_refuses_a_broken_entropy_source() {
        for stuck in [0x00, 0xff] {
            assert_eq!(
                EcKeyPair::generate(Curve::P384, &mut Constant(stuck)).map(|_| ()),
                Err(CryptoError::KeyGenerationFailed(KEYGEN_ATTEMPTS_MAX))
            );
        }
        // 0x01 repeated is a valid scalar on both curves.
        assert!(EcKeyPair::generate(Curve::P256, &mut Constant(1)).is_ok());
    }

    #[test]
    fn generated_scalar_is_the_entropy_bytes() {
        /// Yields 00 .. 00 01: the scalar 1.
        struct One;
        impl Entropy for One {
            fn fill_bytes(&mut self, out: &mut [u8]) {
                out.fill(0);
                if let Some(last) = out.last_mut() {
                    *last = 1;
                }
            }
        }
        // Scalar 1 ⇒ public point = the generator G (SEC 2 §2.4.2 and §2.5.1).
        let p256 = EcKeyPair::generate(Curve::P256, &mut One).unwrap();
        assert!(
            hex::encode(p256.public_key().point()).starts_with("046b17d1f2e12c4247f8bce6e563a440")
        );
        let p384 = EcKeyPair::generate(Curve::P384, &mut One).unwrap();
        assert!(
            hex::encode(p384.public_key().point()).starts_with("04aa87ca22be8b05378eb1c71ef320ad")
        );
    }

    #[test]
    fn private_key_pem_round_trips() {
        for curve in [Curve::P256, Curve::P384] {
            let key = key(curve, 5);
            let pem = key.to_pem();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            let again = EcKeyPair::from_pem(&pem).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            assert_eq!(again.curve(), curve);
        }
    }

    #[test]
    fn public_key_pem_round_trips_and_gives_node_id() {
        let public = key(Curve::P384, 5).public_key();
        let again = EcPublicKey::from_pem(&public.to_pem()).unwrap();
        assert_eq!(again, public);
        assert_eq!(
            public.node_id().as_str(),
            sha256(public.spki_der()).to_hex()
        );
    }

    #[test]
    fn debug_does_not_print_the_private_scalar() {
        let mut scalar = [0u8; 48];
        SeededEntropy::from_seed(6).fill_bytes(&mut scalar);
        let key = key(Curve::P384, 6);
        let text = format!("{key:?}");
        assert!(!text.contains(&hex::encode(scalar)[..16]), "{text}");
        assert!(!text.contains(&hex::encode_upper(scalar)[..16]), "{text}");
        assert!(text.contains("P384"));
    }

    #[test]
    fn public_key_parsing_refuses_bad_input() {
        assert!(matches!(
            EcPublicKey::from_spki_der(b"garbage"),
            Err(CryptoError::InvalidKey(_))
        ));
        let mut trailing = key(Curve::P256, 1).public_key().spki_der().to_vec();
        trailing.push(0);
        assert!(matches!(
            EcPublicKey::from_spki_der(&trailing),
            Err(CryptoError::InvalidKey(_))
        ));
        // A point not on the curve.
        let mut off_curve = key(Curve::P256, 1).public_key().spki_der().to_vec();
        let last = off_curve.len() - 1;
        off_curve[last] ^= 1;
        assert!(matches!(
            EcPublicKey::from_spki_der(&off_curve),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(matches!(
            EcKeyPair::from_pem("nothing"),
            Err(CryptoError::MissingPemBlock(_))
        ));
    }

    /// RFC 6979 A.2.5 (P-256, SHA-256) and A.2.6 (P-384, SHA-384): key x, message "sample",
    /// expected (r, s). Python `cryptography` with `deterministic_signing=True` agrees.
    const RFC6979_SAMPLE: [(Curve, &str, &str, &str); 2] = [
        (
            Curve::P256,
            "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
            "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
            "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
        ),
        (
            Curve::P384,
            "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d8\
             96d5724e4c70a825f872c9ea60d2edf5",
            "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c\
             81a648152e44acf96e36dd1e80fabe46",
            "99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94f\
             a329c145786e679e7b82c71a38628ac8",
        ),
    ];

    fn key_from_scalar_hex(curve: Curve, scalar: &str) -> EcKeyPair {
        let der = sec1_private_key_der(curve, &hex::decode(scalar).unwrap());
        EcKeyPair::from_private_der(&der).unwrap()
    }

    #[test]
    fn deterministic_signatures_are_rfc6979() {
        for (curve, x, r, s) in RFC6979_SAMPLE {
            let key = key_from_scalar_hex(curve, x)
                .with_deterministic_signatures()
                .unwrap();
            assert!(key.has_deterministic_signatures());
            let raw = key.sign_cose(b"sample").unwrap();
            assert_eq!(hex::encode(&raw), format!("{r}{s}"), "{curve:?}");
            // Both r and s have their top bit set, so each DER INTEGER gets a 0x00 prefix.
            let der = match curve {
                Curve::P256 => format!("3046022100{r}022100{s}"),
                Curve::P384 => format!("3066023100{r}023100{s}"),
            };
            assert_eq!(hex::encode(key.sign_der(b"sample").unwrap()), der);
            // The same as a prehashed signature over the curve hash of "sample".
            let digest = digest::digest(curve.digest_algorithm(), b"sample");
            assert_eq!(
                hex::encode(key.sign_prehashed_der(digest.as_ref()).unwrap()),
                der
            );
            key.public_key().verify_cose(b"sample", &raw).unwrap();
        }
    }

    #[test]
    fn a_digest_above_the_order_is_reduced_before_the_nonce_as_rfc6979_says() {
        // Python `cryptography`: deterministic ECDSA(Prehashed(SHA256)) over 32 bytes of 0xff
        // (above the P-256 order) with the A.2.5 key.
        const EXPECTED: &str = "304502201f2adbc54b88764c279f689fc9505959fc9e73e80dc20889a4e0be9\
            1865de75b0221009d109b65e2fbfc0ae42ba0b2e5f03670cd458cff4882df6783f3d93d607d1755";
        let (curve, x, _, _) = RFC6979_SAMPLE[0];
        let key = key_from_scalar_hex(curve, x)
            .with_deterministic_signatures()
            .unwrap();
        let digest = [0xffu8; 32];
        let sig = key.sign_prehashed_der(&digest).unwrap();
        assert_eq!(hex::encode(&sig), EXPECTED);
        key.public_key()
            .verify_prehashed_der(&digest, &sig)
            .unwrap();
    }

    #[test]
    fn seeded_keys_sign_deterministically_and_verify() {
        let root = sha256(b"merkle root").0;
        for curve in [Curve::P256, Curve::P384] {
            let (one, two) = (key(curve, 11), key(curve, 11));
            assert!(one.has_deterministic_signatures());
            let public = one.public_key();

            let der = one.sign_der(b"tbs").unwrap();
            assert_eq!(der, one.sign_der(b"tbs").unwrap());
            assert_eq!(der, two.sign_der(b"tbs").unwrap());
            assert_ne!(der, one.sign_der(b"tbs2").unwrap());
            public.verify_der(b"tbs", &der).unwrap();

            let prehashed = one.sign_prehashed_der(&root).unwrap();
            assert_eq!(prehashed, two.sign_prehashed_der(&root).unwrap());
            public.verify_prehashed_der(&root, &prehashed).unwrap();

            let cose = one.sign_cose(b"Sig_structure").unwrap();
            assert_eq!(cose.len(), 2 * curve.scalar_bytes());
            assert_eq!(cose, two.sign_cose(b"Sig_structure").unwrap());
            public.verify_cose(b"Sig_structure", &cose).unwrap();

            // Another seed, another key, other signatures.
            assert_ne!(cose, key(curve, 12).sign_cose(b"Sig_structure").unwrap());
        }
    }

    #[test]
    fn cose_alg_maps_to_curves() {
        assert_eq!(Curve::from_cose_alg(-35), Some(Curve::P384));
        assert_eq!(Curve::from_cose_alg(-7), Some(Curve::P256));
        assert_eq!(Curve::from_cose_alg(-36), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn key_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = EcPublicKey::from_spki_der(&bytes);
            let _ = EcKeyPair::from_private_der(&bytes);
        }

        #[test]
        fn signature_checks_never_panic(sig in prop::collection::vec(any::<u8>(), 0..120),
                                        digest in prop::collection::vec(any::<u8>(), 0..70)) {
            let public = key(Curve::P384, 1).public_key();
            let _ = public.verify_prehashed_der(&digest, &sig);
            prop_assert!(public.verify_cose(&digest, &sig).is_err());
        }
    }
}
