//! Cloister's crypto façade over well-kept libraries (aws-lc-rs, rcgen, x509-parser, coset).
//!
//! Every other crate reaches cryptography only through this one, so the choice of library is
//! made in one place.
#![forbid(unsafe_code)]

mod hash;

pub use hash::{Sha256Hash, Sha256Hasher, sha256, sha256_concat};
