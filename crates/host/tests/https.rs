//! TLS and HTTP on a real socket: the service CA is the only trust anchor a client needs,
//! client certificates reach the handler unverified but intact, and each interface speaks the
//! one HTTP version its `app_protocol` names (spec/ccf-api.md §0 "Transport").
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use cloister_crypto::{Curve, EcKeyPair, OsEntropy, sha256};
use cloister_host::AppProtocol;
use support::{
    Echo, Pki, Running, client_config_with_stolen_cert, collect, config, connect, curl, h1, h2,
    request, send_h1,
};

#[tokio::test]
async fn client_trusting_the_service_ca_gets_200_and_the_echo() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"http/1.1", false))
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, _connection) = h1(stream).await;

    let reply = send_h1(
        &mut sender,
        request("POST", "/app/log/private?id=42&x=y", b"hello".to_vec()),
    )
    .await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.version, http::Version::HTTP_11);
    let echo = reply.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/app/log/private");
    assert_eq!(echo["query"], "id=42&x=y");
    assert_eq!(echo["body_len"], 5);
    assert_eq!(echo["interface"], "primary_rpc_interface");
    assert_eq!(echo["client_cert_sha256"], serde_json::Value::Null);
    server.stop().await;
}

#[tokio::test]
async fn keep_alive_requests_share_one_session_and_sessions_differ() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let mut session_ids = Vec::new();
    for _ in 0..2 {
        let stream = connect(server.addr, pki.client_config(b"http/1.1", false))
            .await
            .unwrap();
        let (mut sender, _connection) = h1(stream).await;
        let first = send_h1(&mut sender, request("GET", "/a", vec![]))
            .await
            .json();
        let second = send_h1(&mut sender, request("GET", "/b", vec![]))
            .await
            .json();
        assert_eq!(first["session_id"], second["session_id"]);
        session_ids.push(first["session_id"].as_u64().unwrap());
    }
    assert_ne!(session_ids[0], session_ids[1]);
    server.stop().await;
}

#[tokio::test]
async fn client_certificate_reaches_the_handler_as_its_der() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"http/1.1", true))
        .await
        .unwrap();
    let (mut sender, _connection) = h1(stream).await;

    let echo = send_h1(&mut sender, request("GET", "/app/whoami", vec![]))
        .await
        .json();

    // The user certificate is self-signed (not issued by any CA the node knows), as CCF's
    // users' are: the TLS layer accepts it and leaves authentication to the handler.
    assert_eq!(
        echo["client_cert_sha256"],
        sha256(&pki.user_cert_der).to_hex()
    );
    server.stop().await;
}

#[tokio::test]
async fn client_trusting_another_ca_refuses_the_node() {
    let pki = Pki::new();
    let other = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let refused = connect(server.addr, other.client_config(b"http/1.1", false)).await;
    assert!(refused.is_err(), "a client trusting another CA connected");
    server.stop().await;
}

#[tokio::test]
async fn http2_interface_serves_concurrent_streams_of_one_session() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http2), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"h2", true))
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (sender, _connection) = h2(stream).await;
    let uri = |path: &str| format!("https://127.0.0.1:{}{path}", server.addr.port());

    let (a, b) = tokio::join!(
        sender
            .clone()
            .send_request(request("PUT", &uri("/one?q=1"), vec![1; 10])),
        sender
            .clone()
            .send_request(request("GET", &uri("/two"), vec![])),
    );
    let (a, b) = (collect(a.unwrap()).await, collect(b.unwrap()).await);

    assert_eq!((a.status, a.version), (200, http::Version::HTTP_2));
    let (a, b) = (a.json(), b.json());
    assert_eq!(
        (a["method"].as_str(), a["path"].as_str()),
        (Some("PUT"), Some("/one"))
    );
    assert_eq!(
        (a["query"].as_str(), a["body_len"].as_u64()),
        (Some("q=1"), Some(10))
    );
    assert_eq!(b["path"], "/two");
    assert_eq!(a["session_id"], b["session_id"]);
    assert_eq!(a["client_cert_sha256"], sha256(&pki.user_cert_der).to_hex());
    server.stop().await;
}

#[tokio::test]
async fn http2_interface_refuses_a_client_offering_only_http1() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http2), &pki, Echo::new()).await;
    let refused = connect(server.addr, pki.client_config(b"http/1.1", false)).await;
    assert!(
        refused.is_err(),
        "ALPN http/1.1 accepted by an HTTP2 interface"
    );
    server.stop().await;
}

#[tokio::test]
async fn http1_interface_works_with_curl_and_its_client_certificate() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let url = format!("https://127.0.0.1:{}/app/log?id=1", server.addr.port());

    let reply = curl(&pki, &["--http1.1", "-d", "abc"], url.clone()).await;
    assert_eq!((reply.status, reply.http_version.as_str()), (200, "1.1"));
    let echo = reply.json();
    assert_eq!(
        (echo["method"].as_str(), echo["body_len"].as_u64()),
        (Some("POST"), Some(3))
    );
    assert_eq!(echo["client_cert_sha256"], serde_json::Value::Null);

    let cert = pki.file("user0_cert.pem");
    let key = pki.file("user0_privk.pem");
    let args = [
        "--http1.1",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    let reply = curl(&pki, &args, url.clone()).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["client_cert_sha256"],
        sha256(&pki.user_cert_der).to_hex()
    );

    // TLS 1.2 checks the client's signature through the other verifier entry point.
    let tls12 = [&args[..], &["--tls-max", "1.2"]].concat();
    let reply = curl(&pki, &tls12, url).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["client_cert_sha256"],
        sha256(&pki.user_cert_der).to_hex()
    );
    server.stop().await;
}

#[tokio::test]
async fn client_certificate_without_its_private_key_is_refused() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let other_key = EcKeyPair::generate(Curve::P256, &mut OsEntropy).unwrap();
    let config = client_config_with_stolen_cert(&pki, &other_key.to_pem());

    // In TLS 1.3 the client finishes its side before the server has checked its
    // CertificateVerify, so the refusal may only show on first use.
    let answered = match connect(server.addr, config).await {
        Err(_) => false,
        Ok(stream) => {
            let (mut sender, _connection) = h1(stream).await;
            sender
                .send_request(request("GET", "/", vec![]))
                .await
                .is_ok()
        }
    };
    assert!(!answered, "a forged CertificateVerify was accepted");
    server.stop().await;
}

#[tokio::test]
async fn http2_interface_works_with_curl() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http2), &pki, Echo::new()).await;
    let url = format!("https://127.0.0.1:{}/node/state", server.addr.port());
    let reply = curl(&pki, &["--http2"], url).await;
    assert_eq!((reply.status, reply.http_version.as_str()), (200, "2"));
    assert_eq!(reply.json()["path"], "/node/state");
    server.stop().await;
}

fn ccf_common(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ccf6/cose_flipflop_service/common")
        .join(file)
}

#[test]
fn key_and_certificate_written_by_ccf_make_a_tls_identity() {
    // CCF writes SEC1 keys after an EC PARAMETERS block (P-384).
    let cert = std::fs::read_to_string(ccf_common("user0_cert.pem")).unwrap();
    let key = std::fs::read_to_string(ccf_common("user0_privk.pem")).unwrap();
    let identity = cloister_host::TlsIdentity::from_pem(&cert, &key).unwrap();
    let der = cloister_crypto::Certificate::from_pem(&cert).unwrap();
    assert_eq!(identity.leaf_der(), der.der());
}

#[tokio::test]
async fn ccf_user_certificate_is_seen_by_the_handler_whatever_its_dates() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let cert_path = ccf_common("user0_cert.pem");
    let key_path = ccf_common("user0_privk.pem");
    let url = format!("https://127.0.0.1:{}/app/log", server.addr.port());
    let args = [
        "--http1.1",
        "--cert",
        cert_path.to_str().unwrap(),
        "--key",
        key_path.to_str().unwrap(),
    ];

    let reply = curl(&pki, &args, url).await;

    // The TLS layer checks neither issuer nor validity period: auth policies do (CCF).
    let cert = std::fs::read_to_string(&cert_path).unwrap();
    let der = cloister_crypto::Certificate::from_pem(&cert).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json()["client_cert_sha256"],
        sha256(der.der()).to_hex()
    );
    server.stop().await;
}
