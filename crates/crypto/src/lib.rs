//! Cloister's crypto façade over well-kept libraries (aws-lc-rs, rcgen, x509-parser, ciborium).
//!
//! Every other crate reaches cryptography only through this one, so the choice of library is
//! made in one place. Sans-IO: randomness comes in through [`Entropy`], times as arguments.
#![forbid(unsafe_code)]

mod aead;
mod aes_kwp;
pub mod cose;
mod csr;
mod ec_keygen;
mod ecdsa;
mod ecdsa_p1363;
mod eddsa;
mod entropy;
mod entropy_rng;
mod error;
mod hash;
mod hash_alg;
mod hmac;
pub mod jwk;
pub mod jwk_pem;
mod jwt;
mod key_wrap;
mod pem;
mod rfc6979;
mod rsa;
mod rsa_keygen;
mod rsa_oaep;
mod rsa_pss;
mod x509;
mod x509_chain;

pub use aead::{AES_256_KEY_BYTES, Aes256GcmKey, GCM_IV_BYTES, GCM_TAG_BYTES};
pub use aes_kwp::{aes_kwp_unwrap, aes_kwp_wrap};
pub use csr::{CertificateSigningRequest, issue_from_csr};
pub use ec_keygen::{ec_curve_from_name, generate_ec_key_pair};
pub use ecdsa::{Curve, EcKeyPair, EcPublicKey};
pub use ecdsa_p1363::{
    ecdsa_der_to_p1363, ecdsa_p1363_to_der, ecdsa_sign_p1363, ecdsa_verify_p1363,
};
pub use eddsa::{OkpCurve, OkpPrivateKey, OkpPublicKey};
pub use entropy::{Entropy, OsEntropy, SeededEntropy};
pub use error::CryptoError;
pub use hash::{Sha256Hash, Sha256Hasher, sha256, sha256_concat};
pub use hash_alg::HashAlg;
pub use hmac::{hkdf_sha256, hmac_sha256};
pub use jwt::{JwsAlg, verify_jws};
pub use key_wrap::{rsa_aes_kwp_unwrap, rsa_aes_kwp_wrap};
pub use pem::{PemBlock, encode_pem, first_pem_block, parse_pem_blocks};
pub use rsa::{RsaKeyPair, RsaPublicKey};
pub use rsa_keygen::{
    PemKeyPair, RSA_DEFAULT_EXPONENT, RSA_KEYGEN_BITS_MAX, RSA_KEYGEN_BITS_MIN,
    generate_rsa_key_pair,
};
pub use rsa_oaep::{rsa_oaep_decrypt, rsa_oaep_encrypt};
pub use rsa_pss::{rsa_pss_sign, rsa_pss_verify};
pub use x509::{Certificate, CertificateSpec, issue_endorsed, issue_self_signed};
pub use x509_chain::verify_cert_chain;
