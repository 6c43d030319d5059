//! A tiny HTTPS server for the client's tests: a node certificate endorsed by a test service
//! identity (IP SAN 127.0.0.1), any client certificate accepted (as CCF does), HTTP/1.1 and
//! HTTP/2, and a handler that sees each request with the client certificate it came with.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cloister_crypto::{
    Certificate, CertificateSpec, Curve, EcKeyPair, OsEntropy, issue_endorsed, issue_self_signed,
};
use http::{HeaderMap, Method, Request, Response, Version};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A service identity and one node certificate it endorsed, as a CCF service has.
pub struct TestPki {
    pub service_key: EcKeyPair,
    pub service_cert: Certificate,
    pub node_key: EcKeyPair,
    pub node_cert: Certificate,
}

impl TestPki {
    /// A fresh service identity; the node certificate names `sans` (IP or DNS).
    pub fn new(sans: &[&str]) -> TestPki {
        let now = unix_now();
        let service_key = EcKeyPair::generate(Curve::P384, &mut OsEntropy).unwrap();
        let service_cert = issue_self_signed(
            &service_key,
            &CertificateSpec {
                subject_cn: "CCF Service".into(),
                sans: vec![],
                not_before_unix: now - 3600,
                not_after_unix: now + 86_400,
                is_ca: true,
            },
        )
        .unwrap();
        let node_key = EcKeyPair::generate(Curve::P384, &mut OsEntropy).unwrap();
        let node_cert = issue_endorsed(
            &node_key.public_key(),
            &CertificateSpec {
                subject_cn: "CCF Node".into(),
                sans: sans.iter().map(|s| (*s).to_owned()).collect(),
                not_before_unix: now - 3600,
                not_after_unix: now + 86_400,
                is_ca: false,
            },
            &service_key,
            &service_cert,
        )
        .unwrap();
        TestPki {
            service_key,
            service_cert,
            node_key,
            node_cert,
        }
    }

    pub fn service_cert_pem(&self) -> String {
        self.service_cert.to_pem()
    }
}

/// A self-signed member/user identity: (certificate PEM, key PEM).
pub fn self_signed_identity(curve: Curve, cn: &str) -> (String, String) {
    let now = unix_now();
    let key = EcKeyPair::generate(curve, &mut OsEntropy).unwrap();
    let cert = issue_self_signed(
        &key,
        &CertificateSpec {
            subject_cn: cn.into(),
            sans: vec![],
            not_before_unix: now - 3600,
            not_after_unix: now + 86_400,
            is_ca: false,
        },
    )
    .unwrap();
    (cert.to_pem(), key.to_pem())
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub version: Version,
    /// DER of the client certificate, if one was presented.
    pub client_cert: Option<Vec<u8>>,
    /// Which TCP connection (0, 1, …) carried the request.
    pub connection: usize,
}

/// What the handler answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply::new(status, serde_json::to_vec(value).unwrap())
            .header("content-type", "application/json")
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

pub type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A running server; requests it saw are kept in order.
pub struct TestServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub connections: Arc<AtomicUsize>,
}

impl TestServer {
    /// Serves on 127.0.0.1 (a free port) with `pki`'s node certificate, until the test ends.
    pub async fn start(pki: &TestPki, handler: Handler) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(server_config(pki));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (seen2, connections2) = (seen.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let index = connections2.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let (handler, seen) = (handler.clone(), seen2.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let client_cert = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|certs| certs.first())
                        .map(|cert| cert.as_ref().to_vec());
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (handler, seen, client_cert) =
                            (handler.clone(), seen.clone(), client_cert.clone());
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.unwrap().to_bytes().to_vec();
                            let request = Seen {
                                path_and_query: parts
                                    .uri
                                    .path_and_query()
                                    .map(|p| p.as_str().to_owned())
                                    .unwrap_or_default(),
                                method: parts.method,
                                headers: parts.headers,
                                body,
                                version: parts.version,
                                client_cert,
                                connection: index,
                            };
                            let reply = handler(&request);
                            seen.lock().unwrap().push(request);
                            let mut response = Response::builder().status(reply.status);
                            for (name, value) in &reply.headers {
                                response = response.header(name, value);
                            }
                            Ok::<_, Infallible>(
                                response.body(Full::new(Bytes::from(reply.body))).unwrap(),
                            )
                        }
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TestServer {
            addr,
            seen,
            connections,
        }
    }

    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn server_config(pki: &TestPki) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(AnyClientCert(provider.signature_verification_algorithms));
    let chain = vec![CertificateDer::from(pki.node_cert.der().to_vec())];
    let key = PrivateKeyDer::from_pem_slice(pki.node_key.to_pem().as_bytes()).unwrap();
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// CCF's TLS accepts any client certificate and leaves the decision to endpoint policies.
#[derive(Debug)]
struct AnyClientCert(WebPkiSupportedAlgorithms);

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
