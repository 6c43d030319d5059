//! Signed governance requests: what CCF's `ccf_cose_sign1` tool makes (spec/ccf-api.md §3).
//!
//! A tagged COSE_Sign1 with the payload attached and the protected header, in the order
//! `ccf_cose_sign1` writes it: `1` (alg, from the key's curve), `4` (kid = the member id as
//! ASCII bytes), `"ccf.gov.msg.type"`, `"ccf.gov.msg.proposal_id"` (ballots and withdrawals),
//! `"ccf.gov.msg.created_at"` (unix seconds). Same inputs, same protected bytes as CCF's tool.

use std::fmt;
use std::str::FromStr;

use cloister_crypto::cose::{self, HEADER_KID, Label, Value};
use cloister_crypto::{Certificate, EcKeyPair};
use cloister_types::MemberId;

use crate::error::ClientError;

/// Protected header label of the governance message type.
pub const MSG_TYPE_LABEL: &str = "ccf.gov.msg.type";
/// Protected header label of the proposal a ballot or withdrawal is about.
pub const PROPOSAL_ID_LABEL: &str = "ccf.gov.msg.proposal_id";
/// Protected header label of the signing time, unix seconds.
pub const CREATED_AT_LABEL: &str = "ccf.gov.msg.created_at";

/// `ccf.gov.msg.type`: which governance endpoint a signed request is for (§3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GovMsgType {
    /// `proposals:create`.
    Proposal,
    /// `ballots/{member}:submit`; needs a proposal id.
    Ballot,
    /// `proposals/{id}:withdraw`; needs a proposal id.
    Withdrawal,
    /// `state-digests/{member}:ack`.
    Ack,
    /// `state-digests/{member}:update`.
    StateDigest,
    /// `recovery/members/{member}:recover` (new API).
    RecoveryShare,
    /// The classic `/gov/recovery_share`.
    EncryptedRecoveryShare,
}

impl GovMsgType {
    /// Every type, in the order `ccf_cose_sign1 --help` lists them.
    pub const ALL: [GovMsgType; 7] = [
        GovMsgType::Proposal,
        GovMsgType::Ack,
        GovMsgType::StateDigest,
        GovMsgType::RecoveryShare,
        GovMsgType::EncryptedRecoveryShare,
        GovMsgType::Ballot,
        GovMsgType::Withdrawal,
    ];

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            GovMsgType::Proposal => "proposal",
            GovMsgType::Ballot => "ballot",
            GovMsgType::Withdrawal => "withdrawal",
            GovMsgType::Ack => "ack",
            GovMsgType::StateDigest => "state_digest",
            GovMsgType::RecoveryShare => "recovery_share",
            GovMsgType::EncryptedRecoveryShare => "encrypted_recovery_share",
        }
    }

    /// Ballots and withdrawals name their proposal in the signed header; the node checks it
    /// against the path (§1.2).
    pub fn needs_proposal_id(self) -> bool {
        matches!(self, GovMsgType::Ballot | GovMsgType::Withdrawal)
    }
}

impl fmt::Display for GovMsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GovMsgType {
    type Err = ClientError;

    fn from_str(text: &str) -> Result<GovMsgType, ClientError> {
        GovMsgType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| {
                ClientError::InvalidRequest(format!(
                    "unknown ccf.gov.msg.type {text:?}; expected one of {}",
                    GovMsgType::ALL.map(GovMsgType::as_str).join(", ")
                ))
            })
    }
}

/// What goes in the protected header besides alg and kid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovMessage<'a> {
    pub msg_type: GovMsgType,
    /// Required for ballots and withdrawals, refused for other types (CCF's tool takes it for
    /// any type, but a node ignores it there, so a stray one is most likely a mistake).
    pub proposal_id: Option<&'a str>,
    /// Unix seconds. CCF refuses values above 9 999 999 999 for proposals (§3).
    pub created_at: u64,
}

/// A member's signing key and certificate.
pub struct MemberSigner {
    key: EcKeyPair,
    cert: Certificate,
    member_id: MemberId,
}

impl MemberSigner {
    /// From the member's certificate and private key PEM (as CCF writes `member0_cert.pem` and
    /// `member0_privk.pem`). Refuses a key that is not the certificate's.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<MemberSigner, ClientError> {
        let cert = Certificate::from_pem(cert_pem).map_err(|e| ClientError::Credentials {
            what: "member certificate",
            why: e.to_string(),
        })?;
        let key = EcKeyPair::from_pem(key_pem).map_err(|e| ClientError::Credentials {
            what: "member key",
            why: e.to_string(),
        })?;
        MemberSigner::new(key, cert)
    }

    /// From parsed parts; refuses a key that is not the certificate's.
    pub fn new(key: EcKeyPair, cert: Certificate) -> Result<MemberSigner, ClientError> {
        let cert_key = cert.public_key().map_err(|e| ClientError::Credentials {
            what: "member certificate",
            why: e.to_string(),
        })?;
        if cert_key != key.public_key() {
            return Err(ClientError::Credentials {
                what: "member key",
                why: "the key is not the member certificate's key".into(),
            });
        }
        let member_id = cert.member_id();
        Ok(MemberSigner {
            key,
            cert,
            member_id,
        })
    }

    /// The member id: hex SHA-256 of the certificate DER, also the COSE `kid`.
    pub fn member_id(&self) -> &MemberId {
        &self.member_id
    }

    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// A tagged COSE_Sign1 over `payload` (attached), ready to POST with
    /// `content-type: application/cose`.
    pub fn sign(&self, message: &GovMessage<'_>, payload: &[u8]) -> Result<Vec<u8>, ClientError> {
        let header = self.protected_header(message)?;
        Ok(cose::sign1(&self.key, &header, payload, false)?)
    }

    /// The protected header after `alg` (which `cose::sign1` puts first), in
    /// `ccf_cose_sign1`'s order.
    fn protected_header(
        &self,
        message: &GovMessage<'_>,
    ) -> Result<Vec<(Label, Value)>, ClientError> {
        let mut header = vec![
            (
                Label::Int(HEADER_KID),
                Value::Bytes(self.member_id.as_str().as_bytes().to_vec()),
            ),
            text_entry(MSG_TYPE_LABEL, message.msg_type.as_str()),
        ];
        match (message.msg_type.needs_proposal_id(), message.proposal_id) {
            (true, Some(id)) => header.push(text_entry(PROPOSAL_ID_LABEL, id)),
            (false, None) => {}
            (true, None) => {
                return Err(ClientError::InvalidRequest(format!(
                    "a {} needs a proposal id",
                    message.msg_type
                )));
            }
            (false, Some(_)) => {
                return Err(ClientError::InvalidRequest(format!(
                    "a {} does not take a proposal id",
                    message.msg_type
                )));
            }
        }
        header.push((
            Label::Text(CREATED_AT_LABEL.into()),
            Value::Integer(message.created_at.into()),
        ));
        Ok(header)
    }
}

impl fmt::Debug for MemberSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemberSigner")
            .field("member_id", &self.member_id)
            .field("curve", &self.key.curve())
            .finish_non_exhaustive()
    }
}

fn text_entry(label: &str, value: &str) -> (Label, Value) {
    (Label::Text(label.into()), Value::Text(value.into()))
}

#[cfg(test)]
mod tests {
    use cloister_crypto::cose::Sign1;
    use cloister_crypto::{CertificateSpec, Curve, SeededEntropy, issue_self_signed};
    use proptest::prelude::*;

    use super::*;

    fn signer(curve: Curve, seed: u64) -> MemberSigner {
        let key = EcKeyPair::generate(curve, &mut SeededEntropy::from_seed(seed)).unwrap();
        let spec = CertificateSpec {
            subject_cn: "member0".into(),
            sans: vec![],
            not_before_unix: 1_700_000_000,
            not_after_unix: 1_900_000_000,
            is_ca: false,
        };
        let cert = issue_self_signed(&key, &spec).unwrap();
        MemberSigner::new(key, cert).unwrap()
    }

    fn text(msg: &Sign1, label: &str) -> Option<String> {
        match msg.protected_get(&Label::Text(label.into()))? {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }
    }

    #[test]
    fn proposal_header_is_alg_kid_type_created_at() {
        let signer = signer(Curve::P384, 1);
        let message = GovMessage {
            msg_type: GovMsgType::Proposal,
            proposal_id: None,
            created_at: 1_704_067_200,
        };
        let bytes = signer.sign(&message, b"{\"actions\":[]}").unwrap();
        assert_eq!(bytes[0], 0xd2, "tagged COSE_Sign1");
        let msg = Sign1::parse(&bytes).unwrap();
        let labels: Vec<Label> = msg.protected.iter().map(|(l, _)| l.clone()).collect();
        assert_eq!(
            labels,
            vec![
                Label::Int(1),
                Label::Int(4),
                Label::Text(MSG_TYPE_LABEL.into()),
                Label::Text(CREATED_AT_LABEL.into()),
            ]
        );
        assert_eq!(msg.alg(), Some(-35));
        assert_eq!(
            msg.protected_get(&Label::Int(4)),
            Some(&Value::Bytes(
                signer.member_id().as_str().as_bytes().to_vec()
            ))
        );
        assert_eq!(text(&msg, MSG_TYPE_LABEL).as_deref(), Some("proposal"));
        assert_eq!(
            msg.protected_get(&Label::Text(CREATED_AT_LABEL.into())),
            Some(&Value::Integer(1_704_067_200u64.into()))
        );
        assert_eq!(msg.payload.as_deref(), Some(&b"{\"actions\":[]}"[..]));
        assert!(msg.unprotected.is_empty());
        msg.verify(&signer.certificate().public_key().unwrap(), None)
            .unwrap();
    }

    #[test]
    fn ballot_carries_the_proposal_id_before_created_at() {
        let signer = signer(Curve::P256, 2);
        let message = GovMessage {
            msg_type: GovMsgType::Ballot,
            proposal_id: Some("abcd"),
            created_at: 1,
        };
        let msg = Sign1::parse(&signer.sign(&message, b"{}").unwrap()).unwrap();
        assert_eq!(msg.alg(), Some(-7));
        assert_eq!(msg.protected[3].0, Label::Text(PROPOSAL_ID_LABEL.into()));
        assert_eq!(text(&msg, PROPOSAL_ID_LABEL).as_deref(), Some("abcd"));
        assert_eq!(msg.protected[4].0, Label::Text(CREATED_AT_LABEL.into()));
    }

    #[test]
    fn proposal_id_is_required_exactly_for_ballots_and_withdrawals() {
        let signer = signer(Curve::P256, 3);
        for msg_type in GovMsgType::ALL {
            let without = GovMessage {
                msg_type,
                proposal_id: None,
                created_at: 1,
            };
            let with = GovMessage {
                proposal_id: Some("ab"),
                ..without.clone()
            };
            assert_eq!(
                signer.sign(&without, b"").is_ok(),
                !msg_type.needs_proposal_id()
            );
            assert_eq!(
                signer.sign(&with, b"").is_ok(),
                msg_type.needs_proposal_id()
            );
        }
    }

    #[test]
    fn msg_types_parse_from_their_header_values() {
        for msg_type in GovMsgType::ALL {
            assert_eq!(msg_type.as_str().parse::<GovMsgType>().unwrap(), msg_type);
        }
        assert!(matches!(
            "vote".parse::<GovMsgType>(),
            Err(ClientError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let a = signer(Curve::P256, 4);
        let b = EcKeyPair::generate(Curve::P256, &mut SeededEntropy::from_seed(5)).unwrap();
        assert!(matches!(
            MemberSigner::new(b, a.certificate().clone()),
            Err(ClientError::Credentials {
                what: "member key",
                ..
            })
        ));
    }

    #[test]
    fn garbled_pem_names_the_bad_input() {
        let a = signer(Curve::P256, 6);
        let cert_pem = a.certificate().to_pem();
        assert!(matches!(
            MemberSigner::from_pem("nope", "nope"),
            Err(ClientError::Credentials {
                what: "member certificate",
                ..
            })
        ));
        assert!(matches!(
            MemberSigner::from_pem(&cert_pem, &cert_pem),
            Err(ClientError::Credentials {
                what: "member key",
                ..
            })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn every_signed_request_verifies_and_keeps_its_fields(
            payload in prop::collection::vec(any::<u8>(), 0..512),
            created_at: u64,
            type_index in 0usize..7,
            proposal_id in "[0-9a-f]{64}",
        ) {
            let signer = signer(Curve::P256, 7);
            let msg_type = GovMsgType::ALL[type_index];
            let message = GovMessage {
                msg_type,
                proposal_id: msg_type.needs_proposal_id().then_some(proposal_id.as_str()),
                created_at,
            };
            let msg = Sign1::parse(&signer.sign(&message, &payload).unwrap()).unwrap();
            msg.verify(&signer.certificate().public_key().unwrap(), None).unwrap();
            prop_assert_eq!(msg.payload.as_deref(), Some(&payload[..]));
            prop_assert_eq!(text(&msg, MSG_TYPE_LABEL), Some(msg_type.as_str().to_owned()));
            prop_assert_eq!(
                msg.protected_get(&Label::Text(CREATED_AT_LABEL.into())),
                Some(&Value::Integer(created_at.into()))
            );
        }
    }
}
