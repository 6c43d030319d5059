//! Service and node identities (spec/ccf-internals.md §7): P-384 keys; the service certificate is
//! a self-signed CA, node certificates are endorsed by it. Key generation takes the caller's
//! entropy and certificate times are inputs, so the simulator can replay a service from a seed.

use cloister_crypto::{
    Certificate, CertificateSpec, Curve, EcKeyPair, Entropy, issue_endorsed, issue_self_signed,
    sha256,
};
use cloister_types::NodeId;

use crate::error::NodeError;

/// CCF's default subject for the service certificate (`service_subject_name`).
pub const SERVICE_SUBJECT_CN: &str = "CCF Service";
/// CCF's default subject for node certificates.
pub const NODE_SUBJECT_CN: &str = "CCF Node";

/// The service identity: its key signs node endorsements and the COSE root signatures.
#[derive(Debug)]
pub struct ServiceIdentity {
    pub key: EcKeyPair,
    pub cert: Certificate,
}

impl ServiceIdentity {
    /// A new P-384 service key and its self-signed CA certificate, valid over the given window.
    pub fn generate(
        entropy: &mut dyn Entropy,
        not_before_unix: i64,
        not_after_unix: i64,
    ) -> Result<ServiceIdentity, NodeError> {
        let key = EcKeyPair::generate(Curve::P384, entropy)?;
        let spec = CertificateSpec {
            subject_cn: SERVICE_SUBJECT_CN.to_owned(),
            sans: Vec::new(),
            not_before_unix,
            not_after_unix,
            is_ca: true,
        };
        let cert = issue_self_signed(&key, &spec)?;
        Ok(ServiceIdentity { key, cert })
    }

    /// The service certificate as PEM, as stored in `public:ccf.gov.service.info`.
    pub fn cert_pem(&self) -> String {
        self.cert.to_pem()
    }
}

/// A node identity: its key signs the JSON root signatures; its certificate is endorsed by the
/// service identity.
#[derive(Debug)]
pub struct NodeIdentity {
    pub id: NodeId,
    pub key: EcKeyPair,
    pub endorsed_cert: Certificate,
    /// The node's own certificate, before (and beside) the service's endorsement.
    pub self_signed_cert: Certificate,
}

impl NodeIdentity {
    /// A new P-384 node key with a certificate endorsed by `service`. `sans` are the node's RPC
    /// host names or addresses.
    pub fn generate(
        entropy: &mut dyn Entropy,
        service: &ServiceIdentity,
        sans: Vec<String>,
        not_before_unix: i64,
        not_after_unix: i64,
    ) -> Result<NodeIdentity, NodeError> {
        let key = EcKeyPair::generate(Curve::P384, entropy)?;
        let spec = CertificateSpec {
            subject_cn: NODE_SUBJECT_CN.to_owned(),
            sans,
            not_before_unix,
            not_after_unix,
            is_ca: false,
        };
        let public = key.public_key();
        let endorsed_cert = issue_endorsed(&public, &spec, &service.key, &service.cert)?;
        let self_signed_cert = issue_self_signed(&key, &spec)?;
        let id = node_id_of(public.spki_der());
        Ok(NodeIdentity {
            id,
            key,
            endorsed_cert,
            self_signed_cert,
        })
    }

    /// The endorsed certificate as PEM, as stored in `public:ccf.gov.nodes.endorsed_certificates`.
    pub fn cert_pem(&self) -> String {
        self.endorsed_cert.to_pem()
    }
}

/// CCF's node id: hex SHA-256 of the node's public key (SubjectPublicKeyInfo DER).
pub fn node_id_of(spki_der: &[u8]) -> NodeId {
    NodeId::from_digest(&sha256(spki_der).0)
}

#[cfg(test)]
mod tests {
    use cloister_crypto::SeededEntropy;

    use super::*;

    #[test]
    fn node_certificates_are_endorsed_by_the_service_and_name_the_node() {
        let mut entropy = SeededEntropy::from_seed(7);
        let service =
            ServiceIdentity::generate(&mut entropy, 1_700_000_000, 1_800_000_000).unwrap();
        let node = NodeIdentity::generate(
            &mut entropy,
            &service,
            vec!["127.0.0.1".to_owned()],
            1_700_000_000,
            1_800_000_000,
        )
        .unwrap();
        let service_key = service.cert.public_key().unwrap();
        node.endorsed_cert.verify_issued_by(&service_key).unwrap();
        let node_spki = node.endorsed_cert.spki_der().unwrap();
        assert_eq!(node_id_of(&node_spki), node.id);
        let other = ServiceIdentity::generate(&mut entropy, 1_700_000_000, 1_800_000_000).unwrap();
        assert!(
            node.endorsed_cert
                .verify_issued_by(&other.key.public_key())
                .is_err()
        );
    }
}
