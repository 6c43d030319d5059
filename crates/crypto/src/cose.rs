//! COSE_Sign1 (RFC 9052 §4.2), as CCF uses it for ledger root signatures (spec/ccf-internals.md
//! §3.6), COSE receipts (§4.4) and signed governance requests.
//!
//! The protected header is encoded here with ciborium rather than coset, because CCF's header
//! is not canonically sorted (QCBOR insertion order: alg, kid, 395, 15, "ccf.v1") and its bytes
//! are signed, so they must be exactly CCF's to be byte-identical.

use std::fmt;

pub use ciborium::Value;

use crate::ecdsa::{EcKeyPair, EcPublicKey};
use crate::error::CryptoError;

/// CBOR tag of a COSE_Sign1 message (RFC 9052 §2).
pub const COSE_SIGN1_TAG: u64 = 18;
/// Header label `alg` (RFC 9052 §3.1).
pub const HEADER_ALG: i64 = 1;
/// Header label `kid` (RFC 9052 §3.1).
pub const HEADER_KID: i64 = 4;
/// Header label for CWT claims (RFC 9597).
pub const HEADER_CWT_CLAIMS: i64 = 15;
/// Header label `vds`, verifiable data structure (CCF sets 2 = CCF_LEDGER_SHA256, §3.6).
pub const HEADER_VDS: i64 = 395;
/// Header label `vdp`, verifiable data proofs (COSE receipts, §4.4).
pub const HEADER_VDP: i64 = 396;

/// A COSE header label: an integer or a text string (RFC 9052 §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    Int(i64),
    Text(String),
}

impl Label {
    fn to_value(&self) -> Value {
        match self {
            Label::Int(i) => Value::Integer((*i).into()),
            Label::Text(t) => Value::Text(t.clone()),
        }
    }

    fn from_value(value: &Value) -> Result<Label, CryptoError> {
        match value {
            Value::Integer(i) => i64::try_from(i128::from(*i))
                .map(Label::Int)
                .map_err(|_| malformed("header label out of i64 range")),
            Value::Text(t) => Ok(Label::Text(t.clone())),
            _ => Err(malformed("header label is neither an integer nor text")),
        }
    }
}

/// COSE_Sign1 (tag 18), protected header = `alg` from the key's curve (ES256 -7 / ES384 -35)
/// FIRST, then `extra_protected` in the given order (CCF's order matters for byte identity:
/// spec §3.6), unprotected header empty map, payload detached (null) or attached.
pub fn sign1(
    key: &EcKeyPair,
    extra_protected: &[(Label, Value)],
    payload: &[u8],
    detached: bool,
) -> Result<Vec<u8>, CryptoError> {
    let mut protected = vec![(
        Label::Int(HEADER_ALG),
        Value::Integer(key.curve().cose_alg().into()),
    )];
    protected.extend(extra_protected.iter().cloned());
    check_unique_labels(&protected)?;
    let protected_bytes = encode(&header_map(&protected))?;
    let signature = key.sign_cose(&sig_structure(&protected_bytes, payload)?)?;
    let message = Sign1 {
        protected_bytes,
        protected,
        unprotected: Vec::new(),
        payload: (!detached).then(|| payload.to_vec()),
        signature,
    };
    message.encode()
}

/// A decoded COSE_Sign1. `protected_bytes` are kept verbatim: they are what was signed.
#[derive(Clone, PartialEq)]
pub struct Sign1 {
    pub protected_bytes: Vec<u8>,
    pub protected: Vec<(Label, Value)>,
    pub unprotected: Vec<(Label, Value)>,
    pub payload: Option<Vec<u8>>,
    pub signature: Vec<u8>,
}

impl Sign1 {
    /// Decodes a COSE_Sign1, tagged (18) or untagged. Refuses trailing bytes, duplicate labels
    /// and any other shape.
    pub fn parse(bytes: &[u8]) -> Result<Sign1, CryptoError> {
        let value = decode_exact(bytes)?;
        let items = match value {
            Value::Tag(COSE_SIGN1_TAG, inner) => match *inner {
                Value::Array(items) => items,
                _ => return Err(malformed("tag 18 does not hold an array")),
            },
            Value::Tag(tag, _) => return Err(malformed(&format!("tag {tag} is not COSE_Sign1"))),
            Value::Array(items) => items,
            _ => return Err(malformed("not an array")),
        };
        let [protected, unprotected, payload, signature]: [Value; 4] = items
            .try_into()
            .map_err(|_| malformed("COSE_Sign1 is not a 4-element array"))?;
        let protected_bytes = into_bytes(protected, "protected header")?;
        let protected = parse_protected(&protected_bytes)?;
        let unprotected = match unprotected {
            Value::Map(entries) => header_entries(&entries)?,
            _ => return Err(malformed("unprotected header is not a map")),
        };
        let payload = match payload {
            Value::Null => None,
            Value::Bytes(bytes) => Some(bytes),
            _ => return Err(malformed("payload is neither bytes nor null")),
        };
        let signature = into_bytes(signature, "signature")?;
        Ok(Sign1 {
            protected_bytes,
            protected,
            unprotected,
            payload,
            signature,
        })
    }

    /// The protected `alg`, if present and an integer.
    pub fn alg(&self) -> Option<i64> {
        match self.protected_get(&Label::Int(HEADER_ALG))? {
            Value::Integer(i) => i64::try_from(i128::from(*i)).ok(),
            _ => None,
        }
    }

    pub fn protected_get(&self, label: &Label) -> Option<&Value> {
        self.protected
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v)
    }

    /// Verifies with `payload` (pass the detached payload, or None to use the attached one).
    /// Refuses when alg does not match the key's curve.
    pub fn verify(
        &self,
        key: &EcPublicKey,
        detached_payload: Option<&[u8]>,
    ) -> Result<(), CryptoError> {
        let curve = key.curve();
        if self.alg() != Some(curve.cose_alg()) {
            return Err(CryptoError::CoseAlgorithmMismatch {
                alg: self.alg(),
                curve,
            });
        }
        let payload = detached_payload
            .or(self.payload.as_deref())
            .ok_or(CryptoError::CosePayloadMissing)?;
        key.verify_cose(
            &sig_structure(&self.protected_bytes, payload)?,
            &self.signature,
        )
    }

    /// Re-encodes with a replaced unprotected header (for COSE receipts, §4.4). The protected
    /// bytes, payload and signature are kept as they are.
    pub fn with_unprotected(
        &self,
        unprotected: Vec<(Label, Value)>,
    ) -> Result<Vec<u8>, CryptoError> {
        check_unique_labels(&unprotected)?;
        Sign1 {
            unprotected,
            ..self.clone()
        }
        .encode()
    }

    /// Tagged CBOR encoding: `18([protected_bytes, {unprotected}, payload / null, signature])`.
    pub fn encode(&self) -> Result<Vec<u8>, CryptoError> {
        let payload = match &self.payload {
            Some(bytes) => Value::Bytes(bytes.clone()),
            None => Value::Null,
        };
        let array = Value::Array(vec![
            Value::Bytes(self.protected_bytes.clone()),
            header_map(&self.unprotected),
            payload,
            Value::Bytes(self.signature.clone()),
        ]);
        encode(&Value::Tag(COSE_SIGN1_TAG, Box::new(array)))
    }
}

impl fmt::Debug for Sign1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sign1")
            .field("protected", &self.protected)
            .field("unprotected", &self.unprotected)
            .field("payload_bytes", &self.payload.as_ref().map(Vec::len))
            .field("signature", &hex::encode(&self.signature))
            .finish()
    }
}

/// `Sig_structure = ["Signature1", protected, external_aad = h'', payload]` (RFC 9052 §4.4).
fn sig_structure(protected_bytes: &[u8], payload: &[u8]) -> Result<Vec<u8>, CryptoError> {
    encode(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected_bytes.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// A zero-length protected header means an empty map (RFC 9052 §3).
fn parse_protected(bytes: &[u8]) -> Result<Vec<(Label, Value)>, CryptoError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    match decode_exact(bytes)? {
        Value::Map(entries) => header_entries(&entries),
        _ => Err(malformed("protected header is not a map")),
    }
}

fn header_entries(entries: &[(Value, Value)]) -> Result<Vec<(Label, Value)>, CryptoError> {
    let header = entries
        .iter()
        .map(|(k, v)| Ok((Label::from_value(k)?, v.clone())))
        .collect::<Result<Vec<_>, CryptoError>>()?;
    check_unique_labels(&header)?;
    Ok(header)
}

/// RFC 9052 §3: labels are unique within a header; a duplicate makes the message invalid.
fn check_unique_labels(header: &[(Label, Value)]) -> Result<(), CryptoError> {
    for (i, (label, _)) in header.iter().enumerate() {
        if header[..i].iter().any(|(earlier, _)| earlier == label) {
            return Err(malformed(&format!("duplicate header label {label:?}")));
        }
    }
    Ok(())
}

fn header_map(header: &[(Label, Value)]) -> Value {
    Value::Map(
        header
            .iter()
            .map(|(l, v)| (l.to_value(), v.clone()))
            .collect(),
    )
}

fn into_bytes(value: Value, what: &str) -> Result<Vec<u8>, CryptoError> {
    match value {
        Value::Bytes(bytes) => Ok(bytes),
        _ => Err(malformed(&format!("{what} is not a byte string"))),
    }
}

fn decode_exact(bytes: &[u8]) -> Result<Value, CryptoError> {
    let mut reader = bytes;
    let value: Value =
        ciborium::from_reader(&mut reader).map_err(|e| malformed(&format!("bad CBOR: {e}")))?;
    if !reader.is_empty() {
        return Err(malformed(&format!(
            "{} bytes after the CBOR item",
            reader.len()
        )));
    }
    Ok(value)
}

fn encode(value: &Value) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out)
        .map_err(|e| malformed(&format!("cannot encode CBOR: {e}")))?;
    Ok(out)
}

fn malformed(why: &str) -> CryptoError {
    CryptoError::MalformedCose(why.to_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ecdsa::Curve;
    use crate::entropy::SeededEntropy;

    fn key(curve: Curve, seed: u64) -> EcKeyPair {
        EcKeyPair::generate(curve, &mut SeededEntropy::from_seed(seed)).unwrap()
    }

    fn ccf_like_headers() -> Vec<(Label, Value)> {
        vec![
            (Label::Int(HEADER_KID), Value::Bytes(b"abcd".to_vec())),
            (Label::Int(HEADER_VDS), Value::Integer(2.into())),
            (
                Label::Int(HEADER_CWT_CLAIMS),
                Value::Map(vec![
                    (
                        Value::Integer(6.into()),
                        Value::Integer(1_730_000_000.into()),
                    ),
                    (Value::Integer(1.into()), Value::Text("iss".into())),
                ]),
            ),
            (
                Label::Text("ccf.v1".into()),
                Value::Map(vec![(
                    Value::Text("txid".into()),
                    Value::Text("2.10".into()),
                )]),
            ),
        ]
    }

    #[test]
    fn detached_sign1_verifies_only_with_the_payload() {
        let key = key(Curve::P384, 1);
        let bytes = sign1(&key, &ccf_like_headers(), b"root", true).unwrap();
        let msg = Sign1::parse(&bytes).unwrap();
        assert_eq!(msg.payload, None);
        assert!(msg.unprotected.is_empty());
        assert_eq!(msg.signature.len(), 96);
        msg.verify(&key.public_key(), Some(b"root")).unwrap();
        assert_eq!(
            msg.verify(&key.public_key(), Some(b"rooT")),
            Err(CryptoError::BadSignature)
        );
        assert_eq!(
            msg.verify(&key.public_key(), None),
            Err(CryptoError::CosePayloadMissing)
        );
    }

    #[test]
    fn attached_sign1_verifies_with_its_own_payload() {
        let key = key(Curve::P256, 1);
        let bytes = sign1(&key, &[], b"{\"actions\":[]}", false).unwrap();
        let msg = Sign1::parse(&bytes).unwrap();
        assert_eq!(msg.payload.as_deref(), Some(&b"{\"actions\":[]}"[..]));
        assert_eq!(msg.alg(), Some(-7));
        msg.verify(&key.public_key(), None).unwrap();
    }

    #[test]
    fn protected_header_is_alg_then_extras_in_order() {
        let key = key(Curve::P384, 1);
        let msg = Sign1::parse(&sign1(&key, &ccf_like_headers(), b"root", true).unwrap()).unwrap();
        // a5 = map(5), 01 38 22 = alg: -35, 04 44 'abcd' = kid, 19 01 8b 02 = 395: 2, 0f = 15 …
        assert!(hex::encode(&msg.protected_bytes).starts_with("a501382204446162636419018b020fa2"));
        let labels: Vec<Label> = msg.protected.iter().map(|(l, _)| l.clone()).collect();
        assert_eq!(
            labels,
            vec![
                Label::Int(1),
                Label::Int(4),
                Label::Int(395),
                Label::Int(15),
                Label::Text("ccf.v1".into())
            ]
        );
        assert_eq!(msg.alg(), Some(-35));
        assert_eq!(
            msg.protected_get(&Label::Int(HEADER_VDS)),
            Some(&Value::Integer(2.into()))
        );
    }

    #[test]
    fn flipped_byte_in_signature_or_protected_header_fails() {
        let key = key(Curve::P384, 2);
        let bytes = sign1(&key, &ccf_like_headers(), b"root", true).unwrap();
        let mut msg = Sign1::parse(&bytes).unwrap();
        msg.signature[10] ^= 1;
        assert_eq!(
            msg.verify(&key.public_key(), Some(b"root")),
            Err(CryptoError::BadSignature)
        );

        let mut msg = Sign1::parse(&bytes).unwrap();
        let last = msg.protected_bytes.len() - 1;
        msg.protected_bytes[last] ^= 1;
        assert_eq!(
            msg.verify(&key.public_key(), Some(b"root")),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn alg_must_match_the_key_curve() {
        let p384 = key(Curve::P384, 1);
        let bytes = sign1(&p384, &[], b"x", false).unwrap();
        let msg = Sign1::parse(&bytes).unwrap();
        assert_eq!(
            msg.verify(&key(Curve::P256, 1).public_key(), None),
            Err(CryptoError::CoseAlgorithmMismatch {
                alg: Some(-35),
                curve: Curve::P256
            })
        );
    }

    #[test]
    fn duplicate_or_extra_alg_labels_are_refused() {
        let key = key(Curve::P256, 1);
        let extra_alg = [(Label::Int(HEADER_ALG), Value::Integer((-7).into()))];
        assert!(matches!(
            sign1(&key, &extra_alg, b"x", true),
            Err(CryptoError::MalformedCose(_))
        ));
        // A hand-made message whose protected map repeats a label.
        let protected = encode(&Value::Map(vec![
            (Value::Integer(1.into()), Value::Integer((-7).into())),
            (Value::Integer(1.into()), Value::Integer((-7).into())),
        ]))
        .unwrap();
        let bytes = encode(&Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![]),
            Value::Null,
            Value::Bytes(vec![0; 64]),
        ]))
        .unwrap();
        assert!(matches!(
            Sign1::parse(&bytes),
            Err(CryptoError::MalformedCose(_))
        ));
    }

    #[test]
    fn untagged_messages_parse_and_other_tags_do_not() {
        let key = key(Curve::P256, 1);
        let tagged = sign1(&key, &[], b"x", false).unwrap();
        assert_eq!(tagged[0], 0xd2); // tag 18
        let untagged = &tagged[1..];
        Sign1::parse(untagged)
            .unwrap()
            .verify(&key.public_key(), None)
            .unwrap();
        let mut other_tag = tagged.clone();
        other_tag[0] = 0xd1; // tag 17 = COSE_Mac0
        assert!(matches!(
            Sign1::parse(&other_tag),
            Err(CryptoError::MalformedCose(_))
        ));
        let mut trailing = tagged;
        trailing.push(0);
        assert!(matches!(
            Sign1::parse(&trailing),
            Err(CryptoError::MalformedCose(_))
        ));
    }

    #[test]
    fn with_unprotected_keeps_the_signature_valid() {
        let key = key(Curve::P384, 3);
        let msg = Sign1::parse(&sign1(&key, &ccf_like_headers(), b"root", true).unwrap()).unwrap();
        let proof = Value::Map(vec![(
            Value::Integer((-1).into()),
            Value::Array(vec![Value::Bytes(vec![1, 2, 3])]),
        )]);
        let receipt = msg
            .with_unprotected(vec![(Label::Int(HEADER_VDP), proof.clone())])
            .unwrap();
        let parsed = Sign1::parse(&receipt).unwrap();
        assert_eq!(parsed.protected_bytes, msg.protected_bytes);
        assert_eq!(parsed.unprotected, vec![(Label::Int(HEADER_VDP), proof)]);
        assert_eq!(parsed.payload, None);
        parsed.verify(&key.public_key(), Some(b"root")).unwrap();
    }

    #[test]
    fn encode_round_trips_a_parsed_message() {
        let key = key(Curve::P384, 3);
        let bytes = sign1(&key, &ccf_like_headers(), b"root", false).unwrap();
        assert_eq!(Sign1::parse(&bytes).unwrap().encode().unwrap(), bytes);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = Sign1::parse(&bytes);
        }

        #[test]
        fn mutated_messages_never_panic(at: usize, bit in 0u8..8) {
            let key = key(Curve::P256, 4);
            let mut bytes = sign1(&key, &ccf_like_headers(), b"root", false).unwrap();
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            if let Ok(msg) = Sign1::parse(&bytes) {
                let _ = msg.verify(&key.public_key(), None);
            }
        }
    }
}
