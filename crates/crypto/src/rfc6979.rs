//! Deterministic ECDSA signing (RFC 6979) for keys made from a seeded `Entropy`, so that the
//! simulator replays node, COSE and certificate signatures byte for byte. RustCrypto's `p256`
//! signs P-256; P-384 takes its nonce from the `rfc6979` crate, R = kG from aws-lc and s from
//! `p384` scalars (2x aws-lc's randomised signing instead of 13x). aws-lc-rs stays the signer
//! for OS-entropy keys and the verifier for everything.
//!
//! The nonce's HMAC_DRBG uses the curve's own hash (SHA-256 for P-256, SHA-384 for P-384), as
//! ECDSA is used in CCF. A prehashed digest of another length (a 32-byte Merkle root on P-384)
//! is first shaped to the order's width exactly as SEC 1 reads it, then treated as that hash's
//! output: the shaped value is RFC 6979's `bits2int(h1)`.

use std::fmt;

use aws_lc_rs::agreement;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p384::elliptic_curve::PrimeField;
use p384::elliptic_curve::bigint::U384;
use p384::elliptic_curve::ops::Reduce;

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
                let sig = sign_p384(key, &field_bytes_p384(z))?;
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

/// RFC 6979 ECDSA on P-384 with the point multiplication R = kG done by aws-lc: RustCrypto's
/// P-384 multiplication is ~10x slower than aws-lc's (fixed-base tables), and P-384 is the curve
/// of CCF's service and node keys. The nonce k comes from the `rfc6979` crate (HMAC-SHA-384)
/// and s = k⁻¹(z + r·d) mod n is computed with `p384`'s constant-time scalars.
fn sign_p384(
    key: &p384::ecdsa::SigningKey,
    z: &p384::FieldBytes,
) -> Result<p384::ecdsa::Signature, CryptoError> {
    let d = key.as_nonzero_scalar();
    let order = field_bytes_p384(Curve::P384.order());
    let mut d_bytes = d.to_repr();
    let mut k_bytes = rfc6979::generate_k::<sha2::Sha384, _>(&d_bytes, &order, z, &[]);
    d_bytes.fill(0);
    let point = agreement::PrivateKey::from_private_key(&agreement::ECDH_P384, &k_bytes)
        .ok()
        .and_then(|k| k.compute_public_key().ok());
    let k = Option::<p384::Scalar>::from(p384::Scalar::from_repr(k_bytes));
    k_bytes.fill(0);
    let (Some(point), Some(k)) = (point, k) else {
        return Err(CryptoError::SigningFailed);
    };
    // The uncompressed point is 04 ‖ x ‖ y; r = x mod n.
    let x = point
        .as_ref()
        .get(1..49)
        .ok_or(CryptoError::SigningFailed)?;
    let r = <p384::Scalar as Reduce<U384>>::reduce_bytes(&field_bytes_p384(x));
    let z = <p384::Scalar as Reduce<U384>>::reduce_bytes(z);
    let k_inverse = Option::<p384::Scalar>::from(k.invert()).ok_or(CryptoError::SigningFailed)?;
    let s = k_inverse * (z + r * d.as_ref());
    // Refuses r = 0 or s = 0 (probability about 2^-384; RFC 6979 would draw the next k).
    p384::ecdsa::Signature::from_scalars(r, s).map_err(|_| CryptoError::SigningFailed)
}

/// `bytes` (48 of them: a P-384 x coordinate, digest or order) as `p384`'s array type.
fn field_bytes_p384(bytes: &[u8]) -> p384::FieldBytes {
    let mut out = p384::FieldBytes::default();
    let n = bytes.len().min(out.len());
    out[..n].copy_from_slice(&bytes[..n]);
    out
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        // RustCrypto's own P-384 signing (RFC 6979 throughout) is slow in debug builds.
        #![proptest_config(ProptestConfig::with_cases(12))]
        #[test]
        fn p384_with_the_aws_lc_point_equals_rustcrypto_signing(
            scalar in prop::array::uniform32(1u8..),
            digest in prop::collection::vec(any::<u8>(), 48),
        ) {
            let mut padded = [0u8; 48];
            padded[16..].copy_from_slice(&scalar);
            let key = p384::ecdsa::SigningKey::from_slice(&padded).unwrap();
            let reference: p384::ecdsa::Signature = key.sign_prehash(&digest).unwrap();
            let signer = DeterministicSigner::P384(key);
            prop_assert_eq!(signer.sign_raw(&digest).unwrap(), reference.to_bytes().to_vec());
            prop_assert_eq!(
                signer.sign_der(&digest).unwrap(),
                reference.to_der().as_bytes().to_vec()
            );
        }
    }

    #[test]
    fn digests_of_another_width_are_refused() {
        let signer = DeterministicSigner::from_scalar(Curve::P384, &[1; 48]).unwrap();
        assert_eq!(signer.sign_raw(&[1; 32]), Err(CryptoError::SigningFailed));
        assert!(matches!(
            DeterministicSigner::from_scalar(Curve::P256, &[0; 32]),
            Err(CryptoError::InvalidKey(_))
        ));
    }
}
