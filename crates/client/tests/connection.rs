//! The HTTPS client against a local TLS server: round trips over HTTP/1.1 and HTTP/2, the
//! service certificate as the only trust anchor, client certificates, connection reuse.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use cloister_client::{Client, ClientError, ClientOptions, HttpVersion, Method};
use cloister_crypto::{Certificate, Curve, sha256};
use cloister_types::TxId;
use http::Version;
use rustls::CertificateError;

use support::{Reply, TestPki, TestServer, self_signed_identity};

fn echo() -> support::Handler {
    Arc::new(|seen| {
        Reply::new(201, seen.body.clone())
            .header("x-ms-ccf-transaction-id", "2.42")
            .header("x-path", &seen.path_and_query)
    })
}

/// The rustls certificate error inside a handshake failure.
fn certificate_error(error: &ClientError) -> CertificateError {
    let ClientError::TlsHandshake { source, .. } = error else {
        panic!("expected a handshake error, got {error:?}");
    };
    match source
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(reason)) => reason.clone(),
        other => panic!("expected an invalid certificate, got {other:?}"),
    }
}

fn options(http_version: HttpVersion) -> ClientOptions {
    ClientOptions {
        http_version,
        ..ClientOptions::default()
    }
}

#[tokio::test]
async fn request_and_response_round_trip_over_http1() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let server = TestServer::start(&pki, echo()).await;
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    let response = client
        .request(
            Method::POST,
            "/app/log?id=1",
            &[("content-type", "application/json"), ("x-extra", "yes")],
            b"{\"msg\":\"hello\"}".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 201);
    assert_eq!(response.body, b"{\"msg\":\"hello\"}");
    assert_eq!(response.tx_id(), Some(TxId::new(2, 42)));
    assert_eq!(response.header("x-path"), Some("/app/log?id=1"));

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(seen[0].version, Version::HTTP_11);
    assert_eq!(seen[0].headers["content-type"], "application/json");
    assert_eq!(seen[0].headers["x-extra"], "yes");
    assert_eq!(seen[0].headers["host"], server.addr.to_string().as_str());
    assert_eq!(seen[0].headers["content-length"], "15");
    assert_eq!(seen[0].client_cert, None, "no identity, no certificate");
}

#[tokio::test]
async fn request_and_response_round_trip_over_http2() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let server = TestServer::start(&pki, echo()).await;
    let client = Client::with_options(
        &server.url(),
        &pki.service_cert_pem(),
        None,
        options(HttpVersion::Http2),
    )
    .unwrap();
    let response = client
        .post("/gov/x?api-version=1", "application/cose", vec![1, 2, 3])
        .await
        .unwrap();
    assert_eq!(
        (response.status, response.body.as_slice()),
        (201, &[1, 2, 3][..])
    );
    assert_eq!(response.header("x-path"), Some("/gov/x?api-version=1"));
    let seen = server.seen();
    assert_eq!(seen[0].version, Version::HTTP_2);
    assert_eq!(seen[0].headers["content-type"], "application/cose");
}

#[tokio::test]
async fn http2_requests_from_many_tasks_share_one_connection() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let server = TestServer::start(&pki, echo()).await;
    let client = Arc::new(
        Client::with_options(
            &server.url(),
            &pki.service_cert_pem(),
            None,
            options(HttpVersion::Http2),
        )
        .unwrap(),
    );
    // Open the connection first, so the tasks below find it rather than racing to dial.
    client.get("/node/state").await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let body = format!("request {i}").into_bytes();
                let response = client
                    .post("/app/echo", "text/plain", body.clone())
                    .await
                    .unwrap();
                assert_eq!(response.body, body);
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(server.seen().len(), 17);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn http1_connection_is_reused_between_requests() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let server = TestServer::start(&pki, echo()).await;
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    for _ in 0..5 {
        assert_eq!(client.get("/node/commit").await.unwrap().status, 201);
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    assert!(server.seen().iter().all(|s| s.connection == 0));
}

#[tokio::test]
async fn a_connection_the_server_closes_is_replaced() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let handler: support::Handler =
        Arc::new(|_| Reply::new(200, "bye").header("connection", "close"));
    let server = TestServer::start(&pki, handler).await;
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    for _ in 0..3 {
        let response = client.get("/node/network").await.unwrap();
        assert_eq!(response.body, b"bye");
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_server_not_endorsed_by_the_pinned_service_certificate_is_refused() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let other_service = TestPki::new(&["127.0.0.1"]);
    let server = TestServer::start(&pki, echo()).await;
    let client = Client::new(&server.url(), &other_service.service_cert_pem(), None).unwrap();
    let error = client.get("/node/state").await.unwrap_err();
    // Both services are named "CCF Service" (as every CCF service is "CCF Network"), so the
    // chain is built and refused on the issuer's signature.
    assert!(
        matches!(
            certificate_error(&error),
            CertificateError::BadSignature | CertificateError::UnknownIssuer
        ),
        "unexpected reason: {error}"
    );
    assert!(server.seen().is_empty(), "no request reached the server");
}

#[tokio::test]
async fn a_node_certificate_for_another_address_is_refused() {
    let pki = TestPki::new(&["10.1.2.3"]);
    let server = TestServer::start(&pki, echo()).await;
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    let error = client.get("/node/state").await.unwrap_err();
    assert!(
        matches!(
            certificate_error(&error),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ),
        "unexpected reason: {error}"
    );
}

#[tokio::test]
async fn the_client_certificate_is_presented_when_given() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let server = TestServer::start(&pki, echo()).await;
    let (cert_pem, key_pem) = self_signed_identity(Curve::P256, "user0");
    let client = Client::new(
        &server.url(),
        &pki.service_cert_pem(),
        Some((&cert_pem, &key_pem)),
    )
    .unwrap();
    client.get("/app/log").await.unwrap();
    let seen = server.seen();
    let presented = seen[0]
        .client_cert
        .as_deref()
        .expect("a client certificate");
    let cert = Certificate::from_pem(&cert_pem).unwrap();
    assert_eq!(presented, cert.der());
    // CCF names the caller by the hash of that DER (spec/ccf-api.md §0).
    assert_eq!(
        sha256(presented).to_hex(),
        cert.user_id().as_str().to_owned()
    );
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let pki = TestPki::new(&["127.0.0.1"]);
    // Bind then drop a listener: the port is free and nobody answers on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(
        &format!("https://127.0.0.1:{port}"),
        &pki.service_cert_pem(),
        None,
    )
    .unwrap();
    assert!(matches!(
        client.get("/node/state").await,
        Err(ClientError::Connect { .. })
    ));
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let handler: support::Handler = Arc::new(|_| Reply::new(200, vec![b'x'; 10_000]));
    let server = TestServer::start(&pki, handler).await;
    let client = Client::with_options(
        &server.url(),
        &pki.service_cert_pem(),
        None,
        ClientOptions {
            response_body_bytes_max: 1000,
            ..ClientOptions::default()
        },
    )
    .unwrap();
    assert!(matches!(
        client.get("/big").await,
        Err(ClientError::BodyTooLarge { limit_bytes: 1000 })
    ));
    // The connection that carried the refused body is not reused half-read.
    let default_limit = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    assert_eq!(default_limit.get("/big").await.unwrap().body.len(), 10_000);
}

#[tokio::test]
async fn paths_must_be_absolute() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let client = Client::new("https://127.0.0.1:1", &pki.service_cert_pem(), None).unwrap();
    assert!(matches!(
        client.get("node/state").await,
        Err(ClientError::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn ccf_error_bodies_are_readable_from_the_response() {
    let pki = TestPki::new(&["127.0.0.1"]);
    let handler: support::Handler = Arc::new(|_| {
        Reply::json(
            404,
            &serde_json::json!({"error": {"code": "ResourceNotFound", "message": "Unknown path: /x."}}),
        )
    });
    let server = TestServer::start(&pki, handler).await;
    let client = Client::new(&server.url(), &pki.service_cert_pem(), None).unwrap();
    let response = client.get("/x").await.unwrap();
    assert!(!response.is_success());
    let error = response.api_error();
    assert_eq!(
        (error.status, error.code.as_str(), error.message.as_str()),
        (404, "ResourceNotFound", "Unknown path: /x.")
    );
}
