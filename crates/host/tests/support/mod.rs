//! Shared test fixtures: a test PKI made with cloister-crypto, an echo handler, a running
//! server, and clients (rustls + hyper, raw HTTP/1.1, curl).
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // test code; each binary uses a part

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use cloister_crypto::{
    CertificateSpec, Curve, EcKeyPair, OsEntropy, issue_endorsed, issue_self_signed, sha256,
};
use cloister_host::{
    AppProtocol, HostRequest, HostResponse, RequestHandler, RpcInterfaceConfig, RpcServer,
    TlsIdentity,
};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Bound on every wait in these tests, so a bug fails a test instead of hanging it.
pub const WAIT: Duration = Duration::from_secs(10);

/// A service CA (self-signed, as CCF's service identity), a node certificate it endorses, and
/// a self-signed user certificate, as CCF's users have.
pub struct Pki {
    pub ca_pem: String,
    pub node_chain_pem: String,
    pub node_key_pem: String,
    pub user_cert_pem: String,
    pub user_cert_der: Vec<u8>,
    pub user_key_pem: String,
    dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let spec = |cn: &str, is_ca: bool| CertificateSpec {
            subject_cn: cn.into(),
            sans: if is_ca {
                vec![]
            } else {
                vec!["127.0.0.1".into(), "localhost".into()]
            },
            not_before_unix: now - 3600,
            not_after_unix: now + 86_400,
            is_ca,
        };
        let ca_key = EcKeyPair::generate(Curve::P384, &mut OsEntropy).unwrap();
        let ca = issue_self_signed(&ca_key, &spec("CCF Service", true)).unwrap();
        let node_key = EcKeyPair::generate(Curve::P384, &mut OsEntropy).unwrap();
        let node = issue_endorsed(
            &node_key.public_key(),
            &spec("CCF Node", false),
            &ca_key,
            &ca,
        )
        .unwrap();
        let user_key = EcKeyPair::generate(Curve::P256, &mut OsEntropy).unwrap();
        let user = issue_self_signed(&user_key, &spec("user0", false)).unwrap();
        let pki = Pki {
            ca_pem: ca.to_pem(),
            node_chain_pem: format!("{}{}", node.to_pem(), ca.to_pem()),
            node_key_pem: node_key.to_pem(),
            user_cert_pem: user.to_pem(),
            user_cert_der: user.der().to_vec(),
            user_key_pem: user_key.to_pem(),
            dir: tempfile::tempdir().unwrap(),
        };
        for (name, text) in [
            ("service_cert.pem", &pki.ca_pem),
            ("user0_cert.pem", &pki.user_cert_pem),
            ("user0_privk.pem", &pki.user_key_pem),
        ] {
            std::fs::write(pki.dir.path().join(name), text).unwrap();
        }
        pki
    }

    pub fn identity(&self) -> TlsIdentity {
        TlsIdentity::from_pem(&self.node_chain_pem, &self.node_key_pem).unwrap()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A rustls client trusting only the service CA, offering `alpn`, with the user
    /// certificate if `with_user_cert`.
    pub fn client_config(&self, alpn: &[u8], with_user_cert: bool) -> Arc<rustls::ClientConfig> {
        client_config_trusting(&self.ca_pem, alpn, with_user_cert.then_some(self))
    }
}

pub fn client_config_trusting(
    ca_pem: &str,
    alpn: &[u8],
    user: Option<&Pki>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let mut config = match user {
        None => builder.with_no_client_auth(),
        Some(pki) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from(pki.user_cert_der.clone())],
                PrivateKeyDer::from_pem_slice(pki.user_key_pem.as_bytes()).unwrap(),
            )
            .unwrap(),
    };
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

/// Echoes what the handler was given as JSON. `GET /slow` sleeps `slow` first, after
/// signalling `slow_started`.
pub struct Echo {
    pub slow: Duration,
    pub slow_started: Arc<Notify>,
}

impl Echo {
    pub fn new() -> Arc<Echo> {
        Arc::new(Echo {
            slow: Duration::from_millis(500),
            slow_started: Arc::new(Notify::new()),
        })
    }
}

impl RequestHandler for Echo {
    fn handle(
        &self,
        request: HostRequest,
    ) -> Pin<Box<dyn std::future::Future<Output = HostResponse> + Send + '_>> {
        Box::pin(async move {
            if request.path == "/slow" {
                self.slow_started.notify_one();
                tokio::time::sleep(self.slow).await;
            }
            let echo = serde_json::json!({
                "session_id": request.session_id,
                "interface": request.interface,
                "method": request.method.as_str(),
                "path": request.path,
                "query": request.query,
                "body_len": request.body.len(),
                "client_cert_sha256": request.client_cert_der.as_deref().map(|der| sha256(der).to_hex()),
            });
            HostResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: serde_json::to_vec(&echo).unwrap(),
            }
        })
    }
}

/// A server running on a background task until `stop`.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    pub async fn start(config: RpcInterfaceConfig, pki: &Pki, handler: Arc<Echo>) -> Running {
        let (addr, server) = RpcServer::bind(config, &pki.identity(), handler)
            .await
            .unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Running {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// Signals shutdown (idempotent).
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Signals shutdown and waits for `run` to return.
    pub async fn stop(mut self) {
        self.signal_stop();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("server stops in time")
            .unwrap();
    }

    pub fn task_finished(&self) -> bool {
        self.task.is_finished()
    }
}

pub fn config(protocol: AppProtocol) -> RpcInterfaceConfig {
    let mut config = RpcInterfaceConfig::new("primary_rpc_interface", "127.0.0.1:0");
    config.app_protocol = protocol;
    config
}

pub async fn connect(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::IpAddress(addr.ip().into());
    tokio::time::timeout(WAIT, TlsConnector::from(config).connect(name, tcp))
        .await
        .map_err(|_| std::io::Error::other("TLS handshake timed out"))?
}

/// A response read back whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub version: http::Version,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
}

/// An HTTP/1.1 client over one TLS connection; the connection task ends when the connection
/// closes.
pub async fn h1(
    stream: TlsStream<TcpStream>,
) -> (
    hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    JoinHandle<()>,
) {
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    (
        sender,
        tokio::spawn(async move {
            let _ = connection.await;
        }),
    )
}

pub async fn h2(
    stream: TlsStream<TcpStream>,
) -> (
    hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    JoinHandle<()>,
) {
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    (
        sender,
        tokio::spawn(async move {
            let _ = connection.await;
        }),
    )
}

pub fn request(method: &str, uri: &str, body: Vec<u8>) -> http::Request<Full<Bytes>> {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

pub async fn collect(response: http::Response<hyper::body::Incoming>) -> Reply {
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(WAIT, body.collect())
        .await
        .expect("body in time")
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status: parts.status.as_u16(),
        version: parts.version,
        headers: parts.headers,
        body,
    }
}

pub async fn send_h1(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Reply {
    let response = tokio::time::timeout(WAIT, sender.send_request(request))
        .await
        .expect("response in time")
        .unwrap();
    collect(response).await
}

/// Writes `request` as raw bytes, then reads until the server closes the connection: returns
/// the status line's code and the body. Proves the server closed (else it times out).
pub async fn raw_h1_until_close(mut stream: TlsStream<TcpStream>, request: &[u8]) -> (u16, String) {
    stream.write_all(request).await.unwrap();
    stream.flush().await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut received))
        .await
        .expect("server closes the connection")
        .unwrap();
    let text = String::from_utf8(received).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// What curl got back.
#[derive(Debug)]
pub struct CurlReply {
    pub status: u16,
    /// curl's `%{http_version}`: "1.1" or "2".
    pub http_version: String,
    pub body: String,
}

impl CurlReply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Runs curl against `url`, trusting only the service CA.
pub async fn curl(pki: &Pki, args: &[&str], url: String) -> CurlReply {
    let mut command = std::process::Command::new("curl");
    command
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(pki.file("service_cert.pem"))
        .args(args)
        .args(["-w", "\n%{http_version}\n%{http_code}"])
        .arg(url);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("curl runs");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "curl failed: {}{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (rest, code) = stdout.rsplit_once('\n').unwrap();
    let (body, http_version) = rest.rsplit_once('\n').unwrap();
    CurlReply {
        status: code.parse().unwrap(),
        http_version: http_version.to_owned(),
        body: body.to_owned(),
    }
}

/// A client that presents the user's certificate but signs the handshake with `key_pem`, a
/// different key: what someone who copied a public certificate could do.
pub fn client_config_with_stolen_cert(pki: &Pki, key_pem: &str) -> Arc<rustls::ClientConfig> {
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap())
        .unwrap();
    let certified = rustls::sign::CertifiedKey::new(
        vec![CertificateDer::from(pki.user_cert_der.clone())],
        signing_key,
    );
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(PresentAnyway(Arc::new(certified))));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

#[derive(Debug)]
struct PresentAnyway(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for PresentAnyway {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }

    fn has_certs(&self) -> bool {
        true
    }
}
