//! AES Key Wrap with Padding (RFC 5649) under 128-, 192- or 256-bit keys, as CCF's `wrapKey`
//! `{name: "AES-KWP"}`. aws-lc-rs's key_wrap has no AES-192, so the wrap rounds are written
//! here over aws-lc's AES block (ECB on single blocks).

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptingKey, DecryptionContext, EncryptingKey, UnboundCipherKey,
};

use crate::error::CryptoError;

/// RFC 5649 §3: the alternative initial value's constant half.
const AIV_PREFIX: [u8; 4] = [0xa6, 0x59, 0x59, 0xa6];

fn cipher_key(kek: &[u8]) -> Result<UnboundCipherKey, CryptoError> {
    let algorithm = match kek.len() {
        16 => &AES_128,
        24 => &AES_192,
        32 => &AES_256,
        other => {
            return Err(CryptoError::InvalidKey(format!(
                "AES key-encryption key must be 16, 24 or 32 bytes, got {other}"
            )));
        }
    };
    UnboundCipherKey::new(algorithm, kek)
        .map_err(|_| CryptoError::InvalidKey("AES key-encryption key".into()))
}

fn failed() -> CryptoError {
    CryptoError::InvalidKey("AES-KWP failed".into())
}

/// Wraps `key` (1 to 2^32-1 bytes) under `kek`.
pub fn aes_kwp_wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let len = u32::try_from(key.len())
        .ok()
        .filter(|len| *len > 0)
        .ok_or_else(|| CryptoError::InvalidKey("AES-KWP wraps 1 to 2^32-1 bytes".into()))?;
    let aes = EncryptingKey::ecb(cipher_key(kek)?).map_err(|_| failed())?;
    let mut a = [0u8; 8];
    a[..4].copy_from_slice(&AIV_PREFIX);
    a[4..].copy_from_slice(&len.to_be_bytes());
    let mut r = key.to_vec();
    r.resize(key.len().div_ceil(8) * 8, 0);
    let n = r.len() / 8;
    let mut block = [0u8; 16];
    if n == 1 {
        block[..8].copy_from_slice(&a);
        block[8..].copy_from_slice(&r);
        aes.encrypt(&mut block).map_err(|_| failed())?;
        return Ok(block.to_vec());
    }
    // RFC 3394 §2.2.1, index-based.
    for j in 0..6u64 {
        for i in 0..n {
            block[..8].copy_from_slice(&a);
            block[8..].copy_from_slice(&r[8 * i..8 * i + 8]);
            aes.encrypt(&mut block).map_err(|_| failed())?;
            let t = (n as u64) * j + (i as u64) + 1;
            a.copy_from_slice(&block[..8]);
            for (byte, tb) in a.iter_mut().zip(t.to_be_bytes()) {
                *byte ^= tb;
            }
            r[8 * i..8 * i + 8].copy_from_slice(&block[8..]);
        }
    }
    let mut out = a.to_vec();
    out.extend_from_slice(&r);
    Ok(out)
}

/// Unwraps what [`aes_kwp_wrap`] made; a wrong key or a modified input is an error.
pub fn aes_kwp_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if wrapped.len() < 16 || wrapped.len() % 8 != 0 {
        return Err(CryptoError::InvalidKey(format!(
            "AES-KWP input of {} bytes is not 16 or more in 8-byte blocks",
            wrapped.len()
        )));
    }
    let aes = DecryptingKey::ecb(cipher_key(kek)?).map_err(|_| failed())?;
    let mut block = [0u8; 16];
    let mut a = [0u8; 8];
    let mut r;
    if wrapped.len() == 16 {
        block.copy_from_slice(wrapped);
        aes.decrypt(&mut block, DecryptionContext::None)
            .map_err(|_| failed())?;
        a.copy_from_slice(&block[..8]);
        r = block[8..].to_vec();
    } else {
        a.copy_from_slice(&wrapped[..8]);
        r = wrapped[8..].to_vec();
        let n = r.len() / 8;
        for j in (0..6u64).rev() {
            for i in (0..n).rev() {
                let t = (n as u64) * j + (i as u64) + 1;
                for (byte, tb) in a.iter_mut().zip(t.to_be_bytes()) {
                    *byte ^= tb;
                }
                block[..8].copy_from_slice(&a);
                block[8..].copy_from_slice(&r[8 * i..8 * i + 8]);
                aes.decrypt(&mut block, DecryptionContext::None)
                    .map_err(|_| failed())?;
                a.copy_from_slice(&block[..8]);
                r[8 * i..8 * i + 8].copy_from_slice(&block[8..]);
            }
        }
    }
    // RFC 5649 §3: check the AIV, the length and the zero padding.
    let mut len_bytes = [0u8; 4];
    len_bytes.copy_from_slice(&a[4..]);
    let len = u32::from_be_bytes(len_bytes) as usize;
    let intact = a[..4] == AIV_PREFIX
        && len <= r.len()
        && len + 8 > r.len()
        && r[len..].iter().all(|b| *b == 0);
    block.fill(0);
    if !intact {
        r.fill(0);
        return Err(CryptoError::InvalidKey(
            "AES-KWP integrity check failed".into(),
        ));
    }
    r.truncate(len);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::key_wrap::{
        AES_128 as KW_AES_128, AES_256 as KW_AES_256, AesKek, KeyWrapPadded,
    };
    use proptest::prelude::*;

    use super::*;

    const RFC5649_KEK: &str = "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8";

    #[test]
    fn rfc5649_section_6_vectors() {
        let kek = hex::decode(RFC5649_KEK).unwrap();
        let cases = [
            (
                "c37b7e6492584340bed12207808941155068f738",
                "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
            ),
            ("466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"),
        ];
        for (key, wrapped) in cases {
            let key = hex::decode(key).unwrap();
            let out = aes_kwp_wrap(&kek, &key).unwrap();
            assert_eq!(hex::encode(&out), wrapped);
            assert_eq!(aes_kwp_unwrap(&kek, &out).unwrap(), key);
        }
    }

    #[test]
    fn tampering_wrong_keys_and_bad_lengths_are_refused() {
        let kek = [1u8; 32];
        let mut out = aes_kwp_wrap(&kek, b"some key material").unwrap();
        assert!(aes_kwp_unwrap(&[2u8; 32], &out).is_err());
        out[3] ^= 1;
        assert!(aes_kwp_unwrap(&kek, &out).is_err());
        assert!(aes_kwp_unwrap(&kek, &[0; 15]).is_err());
        assert!(aes_kwp_wrap(&[0; 20], b"k").is_err());
        assert!(aes_kwp_wrap(&kek, b"").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// aws-lc's own KWP (128 and 256-bit keys) agrees byte for byte.
        #[test]
        fn agrees_with_aws_lc(key in proptest::collection::vec(any::<u8>(), 1..80), wide: bool, k: u8) {
            let kek = vec![k; if wide { 32 } else { 16 }];
            let aws = AesKek::new(if wide { &KW_AES_256 } else { &KW_AES_128 }, &kek).unwrap();
            let mut buf = vec![0u8; key.len() + 16];
            let expected = aws.wrap_with_padding(&key, &mut buf).unwrap().to_vec();
            let ours = aes_kwp_wrap(&kek, &key).unwrap();
            prop_assert_eq!(&ours, &expected);
            prop_assert_eq!(aes_kwp_unwrap(&kek, &ours).unwrap(), key);
        }
    }
}
