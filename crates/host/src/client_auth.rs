//! Client certificates as CCF uses them: requested, optional, and not chain-verified.
//!
//! CCF's TLS layer accepts any client certificate ("The caller certificate does not have to be
//! signed by a known CA", `src/enclave/rpc_sessions.h`); each endpoint's auth policy then looks
//! the certificate up in the user or member tables (spec/ccf-api.md §0 "Transport"). The
//! handshake signature is still verified, so the client proves it holds the certificate's key:
//! otherwise anyone could replay a member's public certificate.

use std::fmt;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Accepts any well-formed X.509 leaf; verifies handshake signatures with `algorithms`.
pub(crate) struct AnyClientCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AnyClientCert {
    pub(crate) fn new(algorithms: WebPkiSupportedAlgorithms) -> AnyClientCert {
        AnyClientCert { algorithms }
    }
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    /// No CA names: an empty list tells clients to send whatever certificate they have.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // Validity dates are left to the auth policies too, as in CCF.
        cloister_crypto::Certificate::from_der(end_entity.as_ref())
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

impl fmt::Debug for AnyClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnyClientCert")
            .field("schemes", &self.algorithms.supported_schemes())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> AnyClientCert {
        AnyClientCert::new(
            rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms,
        )
    }

    #[test]
    fn client_certificates_are_requested_but_optional() {
        let verifier = verifier();
        assert!(verifier.offer_client_auth());
        assert!(!verifier.client_auth_mandatory());
        assert!(verifier.root_hint_subjects().is_empty());
        assert!(
            verifier
                .supported_verify_schemes()
                .contains(&SignatureScheme::ECDSA_NISTP384_SHA384)
        );
    }

    #[test]
    fn garbage_certificate_is_refused_as_bad_encoding() {
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01]);
        let result = verifier().verify_client_cert(&garbage, &[], UnixTime::now());
        assert!(matches!(
            result,
            Err(rustls::Error::InvalidCertificate(
                CertificateError::BadEncoding
            ))
        ));
    }
}
