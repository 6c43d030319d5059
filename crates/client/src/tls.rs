//! Client-side TLS: the service certificate is the only trust anchor, and a client certificate is
//! presented when the caller has one.
//!
//! CCF nodes present a certificate endorsed by the service identity, and clients pin
//! `service_cert.pem` as their CA (spec/ccf-api.md §0 "Transport"); node certificates name the
//! node by IP SAN, so the host is checked like any other name. Client certificates are needed
//! only for `user_cert`/`member_cert`/`any_cert` endpoints; COSE-signed governance needs none.

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ClientError;

/// The ALPN id offered for each HTTP version. Only the one wanted is offered: a server that
/// speaks the other would otherwise pick it (CCF fixes the protocol per interface).
pub(crate) fn alpn_id(http2: bool) -> &'static [u8] {
    if http2 { b"h2" } else { b"http/1.1" }
}

/// A rustls client configuration over aws-lc-rs, trusting only the certificates in `ca_pem`.
/// `identity` is `(certificate chain PEM, private key PEM)`; the key may be PKCS#8 or SEC1 after
/// CCF's `EC PARAMETERS` block.
pub(crate) fn client_config(
    ca_pem: &str,
    identity: Option<(&str, &str)>,
    http2: bool,
) -> Result<Arc<ClientConfig>, ClientError> {
    let roots = root_store(ca_pem)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_root_certificates(roots);
    let mut config = match identity {
        Some((cert_pem, key_pem)) => {
            let chain = certificates(cert_pem, "client certificate")?;
            let key = private_key(key_pem)?;
            // Also checks that the key is the certificate's key.
            builder.with_client_auth_cert(chain, key)?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![alpn_id(http2).to_vec()];
    Ok(Arc::new(config))
}

fn root_store(ca_pem: &str) -> Result<RootCertStore, ClientError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(ca_pem, "CA certificate")? {
        roots.add(cert).map_err(|e| ClientError::Credentials {
            what: "CA certificate",
            why: e.to_string(),
        })?;
    }
    Ok(roots)
}

/// Every `CERTIFICATE` block, each checked to be a certificate; at least one.
fn certificates(
    text: &str,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let chain = CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| credentials(what, &e))?;
    if chain.is_empty() {
        return Err(ClientError::Credentials {
            what,
            why: "no PEM CERTIFICATE block found".into(),
        });
    }
    for cert in &chain {
        cloister_crypto::Certificate::from_der(cert.as_ref()).map_err(|e| {
            ClientError::Credentials {
                what,
                why: e.to_string(),
            }
        })?;
    }
    Ok(chain)
}

fn private_key(text: &str) -> Result<PrivateKeyDer<'static>, ClientError> {
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|e| match e {
        pem::Error::NoItemsFound => ClientError::Credentials {
            what: "client key",
            why: "no PEM private key block found".into(),
        },
        other => credentials("client key", &other),
    })
}

fn credentials(what: &'static str, error: &pem::Error) -> ClientError {
    ClientError::Credentials {
        what,
        why: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use cloister_crypto::{CertificateSpec, Curve, EcKeyPair, SeededEntropy, issue_self_signed};

    use super::*;

    fn key_and_cert(seed: u64) -> (EcKeyPair, String) {
        let key = EcKeyPair::generate(Curve::P256, &mut SeededEntropy::from_seed(seed)).unwrap();
        let spec = CertificateSpec {
            subject_cn: "member".into(),
            sans: vec![],
            not_before_unix: 1_700_000_000,
            not_after_unix: 1_900_000_000,
            is_ca: false,
        };
        let pem = issue_self_signed(&key, &spec).unwrap().to_pem();
        (key, pem)
    }

    #[test]
    fn config_offers_only_the_asked_protocol() {
        let (_, ca) = key_and_cert(1);
        let h1 = client_config(&ca, None, false).unwrap();
        assert_eq!(h1.alpn_protocols, vec![b"http/1.1".to_vec()]);
        let h2 = client_config(&ca, None, true).unwrap();
        assert_eq!(h2.alpn_protocols, vec![b"h2".to_vec()]);
        assert!(!h1.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn client_identity_is_loaded_when_key_matches() {
        let (key, cert) = key_and_cert(2);
        let config = client_config(&cert, Some((&cert, &key.to_pem())), false).unwrap();
        assert!(config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let (_, cert) = key_and_cert(3);
        let (other_key, _) = key_and_cert(4);
        assert!(matches!(
            client_config(&cert, Some((&cert, &other_key.to_pem())), false),
            Err(ClientError::TlsConfig(_))
        ));
    }

    #[test]
    fn missing_or_garbled_pem_names_the_input() {
        let (key, cert) = key_and_cert(5);
        let err = client_config("not a pem", None, false).unwrap_err();
        assert!(matches!(
            err,
            ClientError::Credentials {
                what: "CA certificate",
                ..
            }
        ));
        let err = client_config(&cert, Some(("", &key.to_pem())), false).unwrap_err();
        assert!(matches!(
            err,
            ClientError::Credentials {
                what: "client certificate",
                ..
            }
        ));
        let err = client_config(&cert, Some((&cert, &cert)), false).unwrap_err();
        assert!(matches!(
            err,
            ClientError::Credentials {
                what: "client key",
                ..
            }
        ));
        let garbled = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            client_config(garbled, None, false),
            Err(ClientError::Credentials {
                what: "CA certificate",
                ..
            })
        ));
    }
}
