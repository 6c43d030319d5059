//! Cloister's crypto façade over well-kept libraries (aws-lc-rs, rcgen, x509-parser, ciborium).
//!
//! Every other crate reaches cryptography only through this one, so the choice of library is
//! made in one place. Sans-IO: randomness comes in through [`Entropy`], times as arguments.
#![forbid(unsafe_code)]

mod aead;
pub mod cose;
mod csr;
mod ecdsa;
mod entropy;
mod error;
mod hash;
mod hmac;
pub mod jwk;
mod jwt;
mod pem;
mod rfc6979;
mod rsa;
mod x509;

pub use aead::{AES_256_KEY_BYTES, Aes256GcmKey, GCM_IV_BYTES, GCM_TAG_BYTES};
pub use csr::{CertificateSigningRequest, issue_from_csr};
pub use ecdsa::{Curve, EcKeyPair, EcPublicKey};
pub use entropy::{Entropy, OsEntropy, SeededEntropy};
pub use error::CryptoError;
pub use hash::{Sha256Hash, Sha256Hasher, sha256, sha256_concat};
pub use hmac::{hkdf_sha256, hmac_sha256};
pub use jwt::{JwsAlg, verify_jws};
pub use pem::{PemBlock, encode_pem, first_pem_block, parse_pem_blocks};
pub use rsa::{RsaKeyPair, RsaPublicKey};
pub use x509::{Certificate, CertificateSpec, issue_endorsed, issue_self_signed};
