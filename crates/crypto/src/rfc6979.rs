//! Deterministic ECDSA signing (RFC 6979) for keys made from a seeded `Entropy`, so that the
//! simulator replays node, COSE and certificate signatures byte for byte. RustCrypto's `p256` /
//! `p384` do the arithmetic; aws-lc-rs stays the signer for OS-entropy keys (it is several times
//! faster) and the verifier for everything.
//!
//! The nonce's HMAC_DRBG uses the curve's own hash (SHA-256 for P-256, SHA-384 for P-384), as
//! ECDSA is used in CCF. A prehashed digest of another length (a 32-byte Merkle root on P-384)
//! is first shaped to the order's width exactly as SEC 1 reads it, then treated as that hash's
//! output: the shaped value is RFC 6979's `bits2int(h1)`.

use std::fmt;

use p256::ecdsa::signature::hazmat::PrehashSigner;

use crate::ecdsa::Curve;
use crate::error::CryptoError;

/// A private scalar held by RustCrypto, signing with RFC 6979 nonces.
#[derive(Clone)]
pub(crate) enum DeterministicSigner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl DeterministicSigner {
    /// The signer for a big-endian scalar of exactly `curve.scalar_bytes()` bytes in [1, n).
    pub(crate) fn from_scalar(
        curve: Curve,
        scalar: &[u8],
    ) -> Result<DeterministicSigner, CryptoError> {
        let invalid = |_| CryptoError::InvalidKey("scalar is not in [1, n)".into());
        match curve {
            Curve::P256 => p256::ecdsa::SigningKey::from_slice(scalar)
                .map(DeterministicSigner::P256)
                .map_err(invalid),
            Curve::P384 => p384::ecdsa::SigningKey::from_slice(scalar)
                .map(DeterministicSigner::P384)
                .map_err(invalid),
        }
    }

    fn curve(&self) -> Curve {
        match self {
            DeterministicSigner::P256(_) => Curve::P256,
            DeterministicSigner::P384(_) => Curve::P384,
        }
    }

    /// Fixed-width `r‖s` over `digest`, which must already be the curve's width (the caller
    /// hashed the message with the curve's hash, or shaped a prehashed digest).
    pub(crate) fn sign_raw(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.sign(digest, Encoding::Raw)
    }

    /// The same signature as [`sign_raw`](Self::sign_raw), DER-encoded (X9.62 `Ecdsa-Sig-Value`).
    pub(crate) fn sign_der(&self, digest: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.sign(digest, Encoding::Der)
    }

    fn sign(&self, digest: &[u8], encoding: Encoding) -> Result<Vec<u8>, CryptoError> {
        let reduced = self.reduced(digest)?;
        let z = &reduced[..self.curve().scalar_bytes()];
        let signing = |_| CryptoError::SigningFailed;
        Ok(match self {
            DeterministicSigner::P256(key) => {
                let sig: p256::ecdsa::Signature = key.sign_prehash(z).map_err(signing)?;
                match encoding {
                    Encoding::Raw => sig.to_bytes().to_vec(),
                    Encoding::Der => sig.to_der().as_bytes().to_vec(),
                }
            }
            DeterministicSigner::P384(key) => {
                let sig: p384::ecdsa::Signature = key.sign_prehash(z).map_err(signing)?;
                match encoding {
                    Encoding::Raw => sig.to_bytes().to_vec(),
                    Encoding::Der => sig.to_der().as_bytes().to_vec(),
                }
            }
        })
    }

    /// RFC 6979 §2.3.4 `bits2octets`: the digest as an integer reduced modulo n. The `rfc6979`
    /// crate expects this done in advance and `ecdsa` does not do it; the signature itself is
    /// the same either way (ECDSA reduces e modulo n), only the nonce depends on it.
    fn reduced(&self, digest: &[u8]) -> Result<[u8; 48], CryptoError> {
        let curve = self.curve();
        let width = curve.scalar_bytes();
        if digest.len() != width {
            return Err(CryptoError::SigningFailed);
        }
        let mut z = [0u8; 48];
        z[..width].copy_from_slice(digest);
        let order = curve.order();
        // Any width-byte value is below 2n (both orders exceed 2^(8·width − 1)), so one
        // subtraction reduces it.
        if z[..width] >= *order {
            let mut borrow = 0u16;
            for i in (0..width).rev() {
                let difference = u16::from(z[i])
                    .wrapping_sub(u16::from(order[i]))
                    .wrapping_sub(borrow);
                z[i] = difference as u8;
                borrow = (difference >> 15) & 1;
            }
        }
        Ok(z)
    }
}

#[derive(Clone, Copy)]
enum Encoding {
    Raw,
    Der,
}

impl fmt::Debug for DeterministicSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeterministicSigner({:?})", self.curve())
    }
}
