//! The one error type of the crypto façade.

use crate::ecdsa::Curve;

/// Why a cryptographic operation failed. Inputs from the network or disk never panic: they
/// end up here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The text is not PEM, or a PEM block's body is not base64.
    #[error("malformed PEM: {0}")]
    MalformedPem(String),
    /// The PEM text holds no block with any of the labels wanted.
    #[error("no PEM block labelled {0}")]
    MissingPemBlock(String),
    /// A private or public key could not be parsed, or is not a valid point/scalar.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The key is on a curve other than P-256 or P-384.
    #[error("unsupported curve: {0}")]
    UnsupportedCurve(String),
    /// A prehashed digest was empty.
    #[error("the digest to sign or verify is empty")]
    EmptyDigest,
    /// The signature does not verify with this key over this message.
    #[error("signature verification failed")]
    BadSignature,
    /// The underlying library refused to sign (should not happen for a valid key).
    #[error("signing failed")]
    SigningFailed,
    /// `Entropy` produced no valid scalar after many attempts (a broken entropy source).
    #[error("key generation found no valid scalar in {0} attempts")]
    KeyGenerationFailed(usize),
    /// AES-GCM authentication failed: wrong key, IV, AAD, tag or a modified ciphertext.
    #[error("AES-GCM authentication failed")]
    AeadAuthentication,
    /// AES-GCM refused to encrypt (input too long for one GCM invocation).
    #[error("AES-GCM encryption failed")]
    AeadEncryption,
    /// A key of the wrong length was given.
    #[error("key must be {expected} bytes, got {actual}")]
    KeyLength {
        /// Length the algorithm needs.
        expected: usize,
        /// Length that was given.
        actual: usize,
    },
    /// HKDF cannot produce that many bytes (at most 255 × 32 for SHA-256).
    #[error("HKDF-SHA256 cannot produce {0} bytes")]
    HkdfOutputLength(usize),
    /// The bytes are not a well-formed X.509 certificate.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
    /// The certificate is signed with an algorithm this façade does not verify.
    #[error("unsupported certificate signature algorithm {0}")]
    UnsupportedSignatureAlgorithm(String),
    /// A certificate could not be produced from its spec.
    #[error("cannot issue certificate: {0}")]
    CertificateIssuance(String),
    /// The bytes are not a well-formed COSE_Sign1 (or its CBOR is malformed).
    #[error("malformed COSE_Sign1: {0}")]
    MalformedCose(String),
    /// The COSE `alg` header is missing or does not match the key's curve.
    #[error("COSE alg {alg:?} does not match a {curve:?} key")]
    CoseAlgorithmMismatch {
        /// The `alg` found in the protected header, if any.
        alg: Option<i64>,
        /// The curve of the key used.
        curve: Curve,
    },
    /// A COSE_Sign1 with a detached payload was verified without the payload.
    #[error("COSE_Sign1 payload is detached and none was supplied")]
    CosePayloadMissing,
}
