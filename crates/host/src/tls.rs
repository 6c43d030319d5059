//! The server side of TLS for one RPC interface: the node's certificate chain and key, client
//! certificates requested but optional (see `client_auth`), and ALPN per `app_protocol`.

use std::fmt;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::client_auth::AnyClientCert;
use crate::config::AppProtocol;
use crate::error::HostError;

/// The certificate chain a node presents and its private key.
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TlsIdentity {
    /// `cert_chain_pem`: the node certificate first (endorsed by the service identity, or
    /// self-signed), optionally followed by the service certificate. `private_key_pem`: the
    /// node's key as PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY` (other blocks, such as the
    /// `EC PARAMETERS` CCF writes first, are skipped).
    pub fn from_pem(cert_chain_pem: &str, private_key_pem: &str) -> Result<TlsIdentity, HostError> {
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem.as_bytes())
            .map(|cert| cert.map_err(pem_error))
            .collect::<Result<Vec<_>, _>>()?;
        if chain.is_empty() {
            return Err(HostError::NoCertificate);
        }
        for cert in &chain {
            cloister_crypto::Certificate::from_der(cert.as_ref())
                .map_err(|e| HostError::MalformedCertificate(e.to_string()))?;
        }
        let key =
            PrivateKeyDer::from_pem_slice(private_key_pem.as_bytes()).map_err(|e| match e {
                pem::Error::NoItemsFound => HostError::NoPrivateKey,
                other => pem_error(other),
            })?;
        Ok(TlsIdentity { chain, key })
    }

    /// The DER of the leaf (node) certificate.
    pub fn leaf_der(&self) -> &[u8] {
        self.chain.first().map_or(&[], |cert| cert.as_ref())
    }

    /// A rustls server configuration over the aws-lc-rs provider: TLS 1.3 and 1.2, any
    /// well-formed client certificate (optional), and the one ALPN id of `app_protocol`.
    pub fn server_config(&self, app_protocol: AppProtocol) -> Result<Arc<ServerConfig>, HostError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(AnyClientCert::new(
            provider.signature_verification_algorithms,
        ));
        // with_single_cert also checks that the key is the leaf certificate's key.
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![app_protocol.alpn_id().to_vec()];
        Ok(Arc::new(config))
    }
}

impl fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("chain_len", &self.chain.len())
            .field(
                "leaf_sha256",
                &cloister_crypto::sha256(self.leaf_der()).to_hex(),
            )
            .finish_non_exhaustive()
    }
}

fn pem_error(error: pem::Error) -> HostError {
    HostError::MalformedPem(error.to_string())
}

#[cfg(test)]
mod tests {
    use cloister_crypto::{
        CertificateSpec, Curve, EcKeyPair, SeededEntropy, encode_pem, issue_self_signed,
    };

    use super::*;

    fn key(seed: u64) -> EcKeyPair {
        EcKeyPair::generate(Curve::P384, &mut SeededEntropy::from_seed(seed)).unwrap()
    }

    fn cert_pem(key: &EcKeyPair) -> String {
        let spec = CertificateSpec {
            subject_cn: "CCF Node".into(),
            sans: vec!["127.0.0.1".into()],
            not_before_unix: 1_700_000_000,
            not_after_unix: 1_900_000_000,
            is_ca: false,
        };
        issue_self_signed(key, &spec).unwrap().to_pem()
    }

    /// A throwaway test key as CCF writes node keys: `EC PARAMETERS` then SEC1 (made with
    /// `openssl ecparam -name secp384r1 -genkey`).
    const SEC1_P384_PEM: &str = "-----BEGIN EC PARAMETERS-----
BgUrgQQAIg==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDBV4aK4pZAyKfBkrGHeBvE7q4fwqOecKLtwlog1HAaq37PXZ1mpp1ie
ryowno4QUfWgBwYFK4EEACKhZANiAAT6XV6vnrW5Ie9z9xeXrvWGtqdNI8MSaR4k
HRae/yNQmr0QQrEnBbPqZg7CLZXVHo7Weyw1qTYOKC1JY+ehSIO7Eti4YH+dIgNO
9nKHMIXqd69HC2nO3otaw8n8izeEE3s=
-----END EC PRIVATE KEY-----
";

    #[test]
    fn pkcs8_key_and_chain_make_a_server_config_with_the_interface_alpn() {
        let key = key(1);
        let identity = TlsIdentity::from_pem(&cert_pem(&key), &key.to_pem()).unwrap();
        let h2 = identity.server_config(AppProtocol::Http2).unwrap();
        assert_eq!(h2.alpn_protocols, vec![b"h2".to_vec()]);
        let h1 = identity.server_config(AppProtocol::Http1).unwrap();
        assert_eq!(h1.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn sec1_key_after_ec_parameters_is_accepted() {
        let key = EcKeyPair::from_pem(SEC1_P384_PEM).unwrap();
        let identity = TlsIdentity::from_pem(&cert_pem(&key), SEC1_P384_PEM).unwrap();
        assert!(identity.server_config(AppProtocol::Http1).is_ok());
    }

    #[test]
    fn chain_keeps_every_certificate_in_order() {
        let node = key(3);
        let service = key(4);
        // ECDSA signatures are randomised: issue each certificate once.
        let (node_pem, service_pem) = (cert_pem(&node), cert_pem(&service));
        let identity =
            TlsIdentity::from_pem(&format!("{node_pem}{service_pem}"), &node.to_pem()).unwrap();
        assert_eq!(identity.chain.len(), 2);
        let leaf = cloister_crypto::Certificate::from_pem(&node_pem).unwrap();
        let service_cert = cloister_crypto::Certificate::from_pem(&service_pem).unwrap();
        assert_eq!(identity.leaf_der(), leaf.der());
        assert_eq!(identity.chain[1].as_ref(), service_cert.der());
    }

    #[test]
    fn key_of_another_certificate_is_refused() {
        let key_a = key(5);
        let key_b = key(6);
        let identity = TlsIdentity::from_pem(&cert_pem(&key_a), &key_b.to_pem()).unwrap();
        assert!(matches!(
            identity.server_config(AppProtocol::Http1),
            Err(HostError::Tls(_))
        ));
    }

    #[test]
    fn missing_or_broken_pem_blocks_are_named() {
        let key = key(7);
        assert!(matches!(
            TlsIdentity::from_pem("no pem here", &key.to_pem()),
            Err(HostError::NoCertificate)
        ));
        assert!(matches!(
            TlsIdentity::from_pem(&cert_pem(&key), &cert_pem(&key)),
            Err(HostError::NoPrivateKey)
        ));
        let broken = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            TlsIdentity::from_pem(broken, &key.to_pem()),
            Err(HostError::MalformedPem(_))
        ));
        let not_x509 = encode_pem("CERTIFICATE", b"\x30\x03\x02\x01\x01");
        assert!(matches!(
            TlsIdentity::from_pem(&not_x509, &key.to_pem()),
            Err(HostError::MalformedCertificate(_))
        ));
    }
}
