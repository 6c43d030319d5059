//! A signed governance request: the body of every COSE-authenticated `/gov` POST is a tagged
//! COSE_Sign1 whose payload is the request body proper (spec/ccf-api.md §3 "Envelope").
//!
//! Decoding follows CCF's `extract_governance_protected_header_and_signature`
//! (`src/endpoints/authentication/cose_auth.cpp`): the same checks in the same order, and the
//! same messages. CCF throws on a malformed envelope, and its frontend answers 500
//! `InternalError` with the message (spec §0 "Dispatcher-level errors", §9 item 3), so every
//! error from [`GovRequest::parse`] is that 500.

use std::collections::BTreeSet;

use ciborium::Value;
use cloister_crypto::cose::{COSE_SIGN1_TAG, HEADER_ALG, HEADER_KID, Sign1};
use cloister_crypto::{CryptoError, EcPublicKey, Sha256Hash, sha256};
use cloister_types::ApiError;

use crate::error::{bad_request, codes, internal_error};

/// The only content type governance requests are accepted with (exact match, spec §0).
pub const COSE_CONTENT_TYPE: &str = "application/cose";
/// Protected header label: which governance message this is (`proposal`, `ballot`, …).
pub const HEADER_MSG_TYPE: &str = "ccf.gov.msg.type";
/// Protected header label: signing time, seconds since the Unix epoch (uint).
pub const HEADER_MSG_CREATED_AT: &str = "ccf.gov.msg.created_at";
/// Protected header label: the proposal a ballot or withdrawal is about.
pub const HEADER_MSG_PROPOSAL_ID: &str = "ccf.gov.msg.proposal_id";
/// Largest `created_at` a proposal may carry: the replay window compares it as 10-digit text
/// (spec §3 "Proposal IDs and replay protection").
pub const CREATED_AT_MAX: u64 = 9_999_999_999;

/// QCBOR's error numbers (1.x and later), which CCF prints in "Failed to decode protected
/// header: N": an item of the wrong type, and a label present twice.
const QCBOR_ERR_UNEXPECTED_TYPE: u8 = 61;
const QCBOR_ERR_DUPLICATE_LABEL: u8 = 62;

/// A decoded governance request. Not yet authenticated: see `member_auth`.
#[derive(Debug, Clone, PartialEq)]
pub struct GovRequest {
    /// The whole COSE_Sign1, as received (stored in `cose_history` and acks).
    pub envelope: Vec<u8>,
    /// Protected `alg` (1).
    pub alg: i64,
    /// Protected `kid` (4): ASCII of the signer's member id, used as the `members.certs` key.
    pub kid: Vec<u8>,
    /// Protected `ccf.gov.msg.type`, if present.
    pub msg_type: Option<String>,
    /// Protected `ccf.gov.msg.created_at` (0 ..= i64::MAX).
    pub created_at: u64,
    /// Protected `ccf.gov.msg.proposal_id`, if present.
    pub proposal_id: Option<String>,
    /// The signed content (the request body proper); empty when the payload is empty or absent.
    pub payload: Vec<u8>,
    /// The raw r‖s signature.
    pub signature: Vec<u8>,
    sign1: Sign1,
}

impl GovRequest {
    /// Decodes a governance envelope. Every error is a 500 `InternalError` carrying CCF's
    /// decode message (e.g. "Missing created_at in protected header").
    pub fn parse(envelope: &[u8]) -> Result<GovRequest, ApiError> {
        let (items, trailing) = outer_array(envelope)?;
        let protected = match items.first() {
            Some(Value::Bytes(bytes)) => bytes,
            _ => return Err(header_error(QCBOR_ERR_UNEXPECTED_TYPE)),
        };
        let header = ProtectedHeader::decode(protected)?;
        if items.len() != 4 || trailing {
            return Err(decode_error("Failed to decode COSE_Sign1"));
        }
        let sign1 =
            Sign1::parse(envelope).map_err(|_| decode_error("Failed to decode COSE_Sign1"))?;
        Ok(GovRequest {
            envelope: envelope.to_vec(),
            alg: header.alg,
            kid: header.kid,
            msg_type: header.msg_type,
            created_at: header.created_at,
            proposal_id: header.proposal_id,
            payload: sign1.payload.clone().unwrap_or_default(),
            signature: sign1.signature.clone(),
            sign1,
        })
    }

    /// SHA-256 of the signature bytes: the request digest of proposal ids and of the replay
    /// window (spec §3).
    pub fn signature_digest(&self) -> Sha256Hash {
        sha256(&self.signature)
    }

    /// The payload as text, as the constitution sees it (invalid UTF-8 replaced).
    pub fn payload_text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }

    /// Verifies the signature over the attached payload with `key` (whose curve must match
    /// `alg`).
    pub(crate) fn verify(&self, key: &EcPublicKey) -> Result<(), CryptoError> {
        self.sign1.verify(key, None)
    }
}

/// `created_at` as the 10-digit text the replay window compares, or 400 `InvalidCreatedAt`
/// when it does not fit in 10 digits (spec §1.2 proposals:create).
pub fn created_at_text(created_at: u64) -> Result<String, ApiError> {
    if created_at > CREATED_AT_MAX {
        return Err(bad_request(
            codes::INVALID_CREATED_AT,
            "Header parameter created_at value is too large",
        ));
    }
    Ok(format!("{created_at:010}"))
}

/// The fields of the protected header governance reads.
struct ProtectedHeader {
    alg: i64,
    kid: Vec<u8>,
    msg_type: Option<String>,
    created_at: u64,
    proposal_id: Option<String>,
}

impl ProtectedHeader {
    /// Type and duplicate errors first (QCBOR reports them while searching the map), then the
    /// missing fields in CCF's order: alg, kid, created_at.
    fn decode(bytes: &[u8]) -> Result<ProtectedHeader, ApiError> {
        let entries = match decode_exact(bytes) {
            Some((Value::Map(entries), false)) => entries,
            _ => return Err(header_error(QCBOR_ERR_UNEXPECTED_TYPE)),
        };
        let mut fields = HeaderFields::default();
        let mut seen = BTreeSet::new();
        for (label, value) in &entries {
            let label = HeaderLabel::of(label)?;
            if !seen.insert(label.clone()) {
                return Err(header_error(QCBOR_ERR_DUPLICATE_LABEL));
            }
            fields.take(&label, value)?;
        }
        fields.finish()
    }
}

#[derive(Default)]
struct HeaderFields {
    alg: Option<i64>,
    kid: Option<Vec<u8>>,
    msg_type: Option<String>,
    created_at: Option<i64>,
    proposal_id: Option<String>,
}

impl HeaderFields {
    fn take(&mut self, label: &HeaderLabel, value: &Value) -> Result<(), ApiError> {
        match label {
            HeaderLabel::Int(l) if *l == i128::from(HEADER_ALG) => self.alg = Some(int64(value)?),
            HeaderLabel::Int(l) if *l == i128::from(HEADER_KID) => self.kid = Some(bstr(value)?),
            HeaderLabel::Text(t) if t == HEADER_MSG_TYPE => self.msg_type = Some(tstr(value)?),
            HeaderLabel::Text(t) if t == HEADER_MSG_CREATED_AT => {
                self.created_at = Some(int64(value)?);
            }
            HeaderLabel::Text(t) if t == HEADER_MSG_PROPOSAL_ID => {
                self.proposal_id = Some(tstr(value)?);
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(self) -> Result<ProtectedHeader, ApiError> {
        let alg = self
            .alg
            .ok_or_else(|| decode_error("Missing algorithm in protected header"))?;
        let kid = self
            .kid
            .ok_or_else(|| decode_error("Missing kid in protected header"))?;
        let created_at = self
            .created_at
            .ok_or_else(|| decode_error("Missing created_at in protected header"))?;
        let created_at = u64::try_from(created_at)
            .map_err(|_| decode_error("Header parameter created_at must be positive"))?;
        Ok(ProtectedHeader {
            alg,
            kid,
            msg_type: self.msg_type,
            created_at,
            proposal_id: self.proposal_id,
        })
    }
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum HeaderLabel {
    Int(i128),
    Text(String),
}

impl HeaderLabel {
    fn of(value: &Value) -> Result<HeaderLabel, ApiError> {
        match value {
            Value::Integer(i) => Ok(HeaderLabel::Int(i128::from(*i))),
            Value::Text(t) => Ok(HeaderLabel::Text(t.clone())),
            _ => Err(header_error(QCBOR_ERR_UNEXPECTED_TYPE)),
        }
    }
}

/// The items of the outer array and whether bytes follow it. CCF enters the array first, then
/// checks the tag: an untagged array is "not tagged", anything else "outer array".
fn outer_array(envelope: &[u8]) -> Result<(Vec<Value>, bool), ApiError> {
    let outer_error = || decode_error("Failed to parse COSE_Sign1 outer array");
    let (value, trailing) = decode_exact(envelope).ok_or_else(outer_error)?;
    let (tag, inner) = match value {
        Value::Tag(tag, inner) => (Some(tag), *inner),
        other => (None, other),
    };
    let Value::Array(items) = inner else {
        return Err(outer_error());
    };
    if tag != Some(COSE_SIGN1_TAG) {
        return Err(decode_error("COSE_Sign1 is not tagged"));
    }
    Ok((items, trailing))
}

/// One CBOR item and whether bytes follow it; `None` if no well-formed item starts the input.
fn decode_exact(bytes: &[u8]) -> Option<(Value, bool)> {
    let mut reader = bytes;
    let value: Value = ciborium::from_reader(&mut reader).ok()?;
    Some((value, !reader.is_empty()))
}

fn int64(value: &Value) -> Result<i64, ApiError> {
    match value {
        Value::Integer(i) => {
            i64::try_from(i128::from(*i)).map_err(|_| header_error(QCBOR_ERR_UNEXPECTED_TYPE))
        }
        _ => Err(header_error(QCBOR_ERR_UNEXPECTED_TYPE)),
    }
}

fn bstr(value: &Value) -> Result<Vec<u8>, ApiError> {
    match value {
        Value::Bytes(bytes) => Ok(bytes.clone()),
        _ => Err(header_error(QCBOR_ERR_UNEXPECTED_TYPE)),
    }
}

fn tstr(value: &Value) -> Result<String, ApiError> {
    match value {
        Value::Text(text) => Ok(text.clone()),
        _ => Err(header_error(QCBOR_ERR_UNEXPECTED_TYPE)),
    }
}

fn header_error(qcbor_error: u8) -> ApiError {
    decode_error(&format!("Failed to decode protected header: {qcbor_error}"))
}

fn decode_error(message: &str) -> ApiError {
    internal_error(message)
}

#[cfg(test)]
mod tests {
    use cloister_crypto::cose::{Label, sign1};
    use cloister_crypto::{Curve, EcKeyPair, SeededEntropy};
    use proptest::prelude::*;

    use super::*;

    fn key() -> EcKeyPair {
        EcKeyPair::generate(Curve::P256, &mut SeededEntropy::from_seed(7)).unwrap()
    }

    fn text(label: &str) -> Label {
        Label::Text(label.to_owned())
    }

    fn full_header() -> Vec<(Label, Value)> {
        vec![
            (Label::Int(HEADER_KID), Value::Bytes(b"ab".to_vec())),
            (text(HEADER_MSG_TYPE), Value::Text("ballot".into())),
            (
                text(HEADER_MSG_CREATED_AT),
                Value::Integer(1_700_000_000.into()),
            ),
            (text(HEADER_MSG_PROPOSAL_ID), Value::Text("p".into())),
        ]
    }

    fn signed(header: &[(Label, Value)]) -> Vec<u8> {
        sign1(&key(), header, b"{}", false).unwrap()
    }

    fn message_of(result: Result<GovRequest, ApiError>) -> String {
        let error = result.unwrap_err();
        assert_eq!((error.status, error.code.as_str()), (500, "InternalError"));
        error.message
    }

    #[test]
    fn every_governance_field_is_read_from_the_protected_header() {
        let request = GovRequest::parse(&signed(&full_header())).unwrap();
        assert_eq!(request.alg, -7);
        assert_eq!(request.kid, b"ab");
        assert_eq!(request.msg_type.as_deref(), Some("ballot"));
        assert_eq!(request.created_at, 1_700_000_000);
        assert_eq!(request.proposal_id.as_deref(), Some("p"));
        assert_eq!(request.payload, b"{}");
        assert_eq!(request.signature.len(), 64);
        request.verify(&key().public_key()).unwrap();
    }

    #[test]
    fn missing_fields_give_ccfs_decode_messages_in_ccfs_order() {
        let without = |label: Label| -> Vec<(Label, Value)> {
            full_header()
                .into_iter()
                .filter(|(l, _)| *l != label)
                .collect()
        };
        assert_eq!(
            message_of(GovRequest::parse(&signed(&without(Label::Int(HEADER_KID))))),
            "Missing kid in protected header"
        );
        assert_eq!(
            message_of(GovRequest::parse(&signed(&without(text(
                HEADER_MSG_CREATED_AT
            ))))),
            "Missing created_at in protected header"
        );
        let no_kid_no_time: Vec<_> = without(Label::Int(HEADER_KID))
            .into_iter()
            .filter(|(l, _)| *l != text(HEADER_MSG_CREATED_AT))
            .collect();
        assert_eq!(
            message_of(GovRequest::parse(&signed(&no_kid_no_time))),
            "Missing kid in protected header"
        );
        // Type and proposal id are optional at this layer.
        let minimal: Vec<_> = without(text(HEADER_MSG_TYPE))
            .into_iter()
            .filter(|(l, _)| *l != text(HEADER_MSG_PROPOSAL_ID))
            .collect();
        let request = GovRequest::parse(&signed(&minimal)).unwrap();
        assert_eq!((request.msg_type, request.proposal_id), (None, None));
    }

    #[test]
    fn missing_alg_is_reported_first() {
        // sign1 always writes alg, so build the envelope by hand around a real one.
        let original = Sign1::parse(&signed(&full_header())).unwrap();
        let header = Value::Map(vec![(
            Value::Text(HEADER_MSG_TYPE.into()),
            Value::Text("proposal".into()),
        )]);
        let mut protected = Vec::new();
        ciborium::into_writer(&header, &mut protected).unwrap();
        let bytes = Sign1 {
            protected_bytes: protected,
            ..original
        }
        .encode()
        .unwrap();
        assert_eq!(
            message_of(GovRequest::parse(&bytes)),
            "Missing algorithm in protected header"
        );
    }

    #[test]
    fn created_at_must_be_a_non_negative_int64() {
        let with_time = |value: Value| -> Vec<u8> {
            let mut header = full_header();
            header[2].1 = value;
            signed(&header)
        };
        assert_eq!(
            message_of(GovRequest::parse(&with_time(Value::Integer((-1).into())))),
            "Header parameter created_at must be positive"
        );
        assert_eq!(
            message_of(GovRequest::parse(&with_time(Value::Integer(
                u64::MAX.into()
            )))),
            "Failed to decode protected header: 61"
        );
        assert_eq!(
            message_of(GovRequest::parse(&with_time(Value::Text("1".into())))),
            "Failed to decode protected header: 61"
        );
        assert_eq!(
            GovRequest::parse(&with_time(Value::Integer(0.into())))
                .unwrap()
                .created_at,
            0
        );
    }

    #[test]
    fn wrongly_typed_kid_or_msg_type_is_a_header_decode_error() {
        let mut header = full_header();
        header[0].1 = Value::Text("ab".into());
        assert_eq!(
            message_of(GovRequest::parse(&signed(&header))),
            "Failed to decode protected header: 61"
        );
        let mut header = full_header();
        header[1].1 = Value::Bytes(b"ballot".to_vec());
        assert_eq!(
            message_of(GovRequest::parse(&signed(&header))),
            "Failed to decode protected header: 61"
        );
    }

    #[test]
    fn untagged_non_array_and_trailing_envelopes_are_refused() {
        let tagged = signed(&full_header());
        assert_eq!(tagged[0], 0xd2);
        assert_eq!(
            message_of(GovRequest::parse(&tagged[1..])),
            "COSE_Sign1 is not tagged"
        );
        let mut other_tag = tagged.clone();
        other_tag[0] = 0xd1;
        assert_eq!(
            message_of(GovRequest::parse(&other_tag)),
            "COSE_Sign1 is not tagged"
        );
        assert_eq!(
            message_of(GovRequest::parse(b"not cbor at all")),
            "Failed to parse COSE_Sign1 outer array"
        );
        assert_eq!(
            message_of(GovRequest::parse(&[0xd2, 0x01])),
            "Failed to parse COSE_Sign1 outer array"
        );
        let mut trailing = tagged;
        trailing.push(0);
        assert_eq!(
            message_of(GovRequest::parse(&trailing)),
            "Failed to decode COSE_Sign1"
        );
    }

    #[test]
    fn created_at_text_is_ten_digits_up_to_the_maximum() {
        assert_eq!(created_at_text(42).unwrap(), "0000000042");
        assert_eq!(created_at_text(CREATED_AT_MAX).unwrap(), "9999999999");
        let error = created_at_text(CREATED_AT_MAX + 1).unwrap_err();
        assert_eq!(
            (error.status, error.code.as_str(), error.message.as_str()),
            (
                400,
                "InvalidCreatedAt",
                "Header parameter created_at value is too large"
            )
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = GovRequest::parse(&bytes);
        }

        #[test]
        fn parse_never_panics_on_mutated_envelopes(at: usize, byte: u8) {
            let mut bytes = signed(&full_header());
            let at = at % bytes.len();
            bytes[at] = byte;
            if let Ok(request) = GovRequest::parse(&bytes) {
                let _ = request.verify(&key().public_key());
            }
        }
    }
}
