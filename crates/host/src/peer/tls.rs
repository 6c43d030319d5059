//! TLS 1.3 for node-to-node channels: one server configuration for accepted connections (client
//! certificate mandatory) and, per dial, a client configuration that presents this node's
//! certificate and expects one particular peer. Both sides accept only service-endorsed
//! certificates ([`ServiceEndorsed`]); no session resumption, so every connection is fully
//! authenticated.

use std::fmt;
use std::sync::Arc;

use cloister_crypto::{Certificate, EcPublicKey};
use cloister_types::NodeId;
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::NoServerSessionStorage;
use rustls::{ClientConfig, ServerConfig};

use super::verify::{ServiceEndorsed, node_id_of_cert};
use crate::error::HostError;

/// This node's channel credentials and the service trust anchor.
pub(crate) struct PeerTls {
    provider: Arc<CryptoProvider>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    service_key: EcPublicKey,
    own_id: NodeId,
    server: Arc<ServerConfig>,
}

impl PeerTls {
    pub(crate) fn from_pem(
        node_cert_pem: &str,
        node_key_pem: &str,
        service_cert_pem: &str,
    ) -> Result<PeerTls, HostError> {
        let chain = CertificateDer::pem_slice_iter(node_cert_pem.as_bytes())
            .map(|cert| cert.map_err(pem_error))
            .collect::<Result<Vec<_>, _>>()?;
        let leaf = chain.first().ok_or(HostError::NoCertificate)?;
        let leaf = Certificate::from_der(leaf.as_ref())
            .map_err(|e| HostError::MalformedCertificate(e.to_string()))?;
        let own_id =
            node_id_of_cert(&leaf).map_err(|e| HostError::MalformedCertificate(e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(node_key_pem.as_bytes()).map_err(|e| match e {
            pem::Error::NoItemsFound => HostError::NoPrivateKey,
            other => pem_error(other),
        })?;
        let service_key = Certificate::from_pem(service_cert_pem)
            .and_then(|cert| cert.public_key())
            .map_err(|e| HostError::MalformedCertificate(format!("service certificate: {e}")))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(ServiceEndorsed::new(
            service_key.clone(),
            None,
            provider.signature_verification_algorithms,
        ));
        // with_single_cert also checks that the key is the leaf certificate's key.
        let mut server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key.clone_key())?;
        server.session_storage = Arc::new(NoServerSessionStorage {});
        server.send_tls13_tickets = 0;
        Ok(PeerTls {
            provider,
            chain,
            key,
            service_key,
            own_id,
            server: Arc::new(server),
        })
    }

    /// This node's id (from its certificate).
    pub(crate) fn own_id(&self) -> &NodeId {
        &self.own_id
    }

    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }

    /// A client configuration that presents this node's certificate and accepts only `peer`.
    pub(crate) fn client_config(&self, peer: &NodeId) -> Result<Arc<ClientConfig>, rustls::Error> {
        let verifier = Arc::new(ServiceEndorsed::new(
            self.service_key.clone(),
            Some(peer.clone()),
            self.provider.signature_verification_algorithms,
        ));
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())?;
        config.resumption = Resumption::disabled();
        Ok(Arc::new(config))
    }
}

fn pem_error(error: pem::Error) -> HostError {
    HostError::MalformedPem(error.to_string())
}

impl fmt::Debug for PeerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerTls")
            .field("own_id", &self.own_id)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use cloister_crypto::SeededEntropy;
    use cloister_node::{NodeIdentity, ServiceIdentity};

    use super::*;

    fn setup() -> (ServiceIdentity, NodeIdentity, NodeIdentity) {
        let mut entropy = SeededEntropy::from_seed(11);
        let service =
            ServiceIdentity::generate(&mut entropy, 1_700_000_000, 1_900_000_000).unwrap();
        let node =
            NodeIdentity::generate(&mut entropy, &service, vec![], 1_700_000_000, 1_900_000_000)
                .unwrap();
        let other =
            NodeIdentity::generate(&mut entropy, &service, vec![], 1_700_000_000, 1_900_000_000)
                .unwrap();
        (service, node, other)
    }

    #[test]
    fn credentials_load_and_name_this_node() {
        let (service, node, other) = setup();
        let tls =
            PeerTls::from_pem(&node.cert_pem(), &node.key.to_pem(), &service.cert_pem()).unwrap();
        assert_eq!(tls.own_id(), &node.id);
        assert!(tls.client_config(&other.id).is_ok());
        let server = tls.server_config();
        assert_eq!(server.send_tls13_tickets, 0);
    }

    #[test]
    fn key_of_another_node_or_missing_pieces_are_refused() {
        let (service, node, other) = setup();
        assert!(matches!(
            PeerTls::from_pem(&node.cert_pem(), &other.key.to_pem(), &service.cert_pem()),
            Err(HostError::Tls(_))
        ));
        assert!(matches!(
            PeerTls::from_pem("", &node.key.to_pem(), &service.cert_pem()),
            Err(HostError::NoCertificate)
        ));
        assert!(matches!(
            PeerTls::from_pem(&node.cert_pem(), &node.cert_pem(), &service.cert_pem()),
            Err(HostError::NoPrivateKey)
        ));
        assert!(matches!(
            PeerTls::from_pem(&node.cert_pem(), &node.key.to_pem(), "no service"),
            Err(HostError::MalformedCertificate(_))
        ));
    }
}
