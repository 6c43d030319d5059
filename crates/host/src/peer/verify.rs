//! Who may be a peer: a leaf certificate signed by the service certificate's key and within its
//! validity window. The same check serves both ends of a channel (rustls `ServerCertVerifier`
//! when dialling, `ClientCertVerifier` when accepting); TLS handshake signatures are still
//! verified with the aws-lc provider, so the peer proves it holds the certificate's key.
//! A peer's NodeId is CCF's: hex SHA-256 of its SubjectPublicKeyInfo DER.

use std::fmt;

use cloister_crypto::{Certificate, EcPublicKey, sha256};
use cloister_types::NodeId;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// The NodeId of a certificate: hex SHA-256 of its SubjectPublicKeyInfo DER (as
/// `cloister_node`'s `node_id_of`).
pub(crate) fn node_id_of_cert(cert: &Certificate) -> Result<NodeId, rustls::Error> {
    let spki = cert
        .spki_der()
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    Ok(NodeId::from_digest(&sha256(&spki).0))
}

/// The NodeId of a DER certificate already accepted by [`ServiceEndorsed`].
pub(crate) fn node_id_of_der(der: &[u8]) -> Result<NodeId, rustls::Error> {
    let cert = Certificate::from_der(der)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    node_id_of_cert(&cert)
}

/// Accepts a peer certificate iff the service key signed it, it is valid now and (when dialling)
/// it names the node meant.
pub(crate) struct ServiceEndorsed {
    service_key: EcPublicKey,
    /// When dialling: the NodeId the address was meant to reach.
    expected: Option<NodeId>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServiceEndorsed {
    pub(crate) fn new(
        service_key: EcPublicKey,
        expected: Option<NodeId>,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> ServiceEndorsed {
        ServiceEndorsed {
            service_key,
            expected,
            algorithms,
        }
    }

    /// The check itself, returning the peer's NodeId.
    pub(crate) fn check(&self, end_entity: &[u8], now: UnixTime) -> Result<NodeId, rustls::Error> {
        let cert = Certificate::from_der(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        cert.verify_issued_by(&self.service_key)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadSignature))?;
        let (not_before, not_after) = cert
            .validity_unix()
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now < not_before {
            return Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidYet,
            ));
        }
        if now > not_after {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
        }
        let id = node_id_of_cert(&cert)?;
        match &self.expected {
            Some(expected) if *expected != id => Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
            _ => Ok(id),
        }
    }

    fn tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
}

/// Channels are TLS 1.3 only; a TLS 1.2 signature never reaches a verifier of ours.
fn no_tls12() -> Result<HandshakeSignatureValid, rustls::Error> {
    Err(rustls::Error::General(
        "node-to-node channels use TLS 1.3 only".into(),
    ))
}

impl ServerCertVerifier for ServiceEndorsed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Names are not checked: the NodeId (the key) is what identifies a node.
        self.check(end_entity.as_ref(), now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        no_tls12()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl ClientCertVerifier for ServiceEndorsed {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity.as_ref(), now)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        no_tls12()
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl fmt::Debug for ServiceEndorsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceEndorsed")
            .field("service_key", &self.service_key.to_pem())
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use cloister_crypto::SeededEntropy;
    use cloister_node::{NodeIdentity, ServiceIdentity};

    use super::*;

    const NOT_BEFORE: i64 = 1_700_000_000;
    const NOT_AFTER: i64 = 1_800_000_000;

    fn at(unix: i64) -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(unix as u64))
    }

    fn verifier(service: &ServiceIdentity, expected: Option<NodeId>) -> ServiceEndorsed {
        ServiceEndorsed::new(
            service.cert.public_key().unwrap(),
            expected,
            rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms,
        )
    }

    fn setup(seed: u64) -> (ServiceIdentity, NodeIdentity) {
        let mut entropy = SeededEntropy::from_seed(seed);
        let service = ServiceIdentity::generate(&mut entropy, NOT_BEFORE, NOT_AFTER).unwrap();
        let node =
            NodeIdentity::generate(&mut entropy, &service, vec![], NOT_BEFORE, NOT_AFTER).unwrap();
        (service, node)
    }

    #[test]
    fn endorsed_certificate_is_accepted_and_named_by_its_node_id() {
        let (service, node) = setup(1);
        let id = verifier(&service, None)
            .check(node.endorsed_cert.der(), at(NOT_BEFORE + 10))
            .unwrap();
        assert_eq!(id, node.id);
        let expecting = verifier(&service, Some(node.id.clone()));
        assert_eq!(
            expecting
                .check(node.endorsed_cert.der(), at(NOT_BEFORE + 10))
                .unwrap(),
            node.id
        );
        assert_eq!(node_id_of_der(node.endorsed_cert.der()).unwrap(), node.id);
    }

    #[test]
    fn other_service_self_signed_and_garbage_certificates_are_refused() {
        let (service, node) = setup(2);
        let (_, stranger) = setup(3);
        let verifier = verifier(&service, None);
        let now = at(NOT_BEFORE + 10);
        let bad_signature = Err(rustls::Error::InvalidCertificate(
            CertificateError::BadSignature,
        ));
        assert_eq!(
            verifier.check(stranger.endorsed_cert.der(), now),
            bad_signature
        );
        assert_eq!(
            verifier.check(node.self_signed_cert.der(), now),
            bad_signature
        );
        assert_eq!(
            verifier.check(&[0x30, 0x03, 0x02, 0x01, 0x01], now),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::BadEncoding
            ))
        );
    }

    #[test]
    fn certificates_outside_their_validity_window_are_refused() {
        let (service, node) = setup(4);
        let verifier = verifier(&service, None);
        assert_eq!(
            verifier.check(node.endorsed_cert.der(), at(NOT_BEFORE - 1)),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidYet
            ))
        );
        assert_eq!(
            verifier.check(node.endorsed_cert.der(), at(NOT_AFTER + 1)),
            Err(rustls::Error::InvalidCertificate(CertificateError::Expired))
        );
    }

    #[test]
    fn a_different_node_than_the_one_dialled_is_refused() {
        let mut entropy = SeededEntropy::from_seed(5);
        let service = ServiceIdentity::generate(&mut entropy, NOT_BEFORE, NOT_AFTER).unwrap();
        let meant =
            NodeIdentity::generate(&mut entropy, &service, vec![], NOT_BEFORE, NOT_AFTER).unwrap();
        let other =
            NodeIdentity::generate(&mut entropy, &service, vec![], NOT_BEFORE, NOT_AFTER).unwrap();
        assert_eq!(
            verifier(&service, Some(meant.id))
                .check(other.endorsed_cert.der(), at(NOT_BEFORE + 10)),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure
            ))
        );
    }

    #[test]
    fn client_certificates_are_mandatory_and_tls12_is_refused() {
        let (service, _) = setup(6);
        let verifier = verifier(&service, None);
        assert!(verifier.offer_client_auth());
        assert!(verifier.client_auth_mandatory());
        assert!(
            ClientCertVerifier::supported_verify_schemes(&verifier)
                .contains(&SignatureScheme::ECDSA_NISTP384_SHA384)
        );
        assert!(no_tls12().is_err());
    }
}
