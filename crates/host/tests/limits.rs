//! CCF's request limits on a live interface (spec/ccf-api.md §0 "Dispatcher-level errors"):
//! 413 `RequestBodyTooLarge` and 431 `RequestHeaderTooLarge`, each with CCF's JSON error body,
//! and the session closed afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use cloister_host::{AppProtocol, RpcInterfaceConfig};
use hyper::body::{Body, Frame};
use support::{
    Echo, Pki, Running, WAIT, collect, config, connect, h1, h2, raw_h1_until_close, request,
    send_h1,
};

const BODY_LIMIT: usize = 1024;

fn limited(protocol: AppProtocol) -> RpcInterfaceConfig {
    let mut config = config(protocol);
    config.max_body_size_bytes = BODY_LIMIT;
    config.max_headers_count = 20;
    config
}

fn assert_ccf_error(body: &str, code: &str, message_start: &str) {
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["error"]["code"], code, "{body}");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(message_start), "{message}");
}

#[tokio::test]
async fn body_over_the_limit_is_413_and_the_session_closes() {
    let pki = Pki::new();
    let server = Running::start(limited(AppProtocol::Http1), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"http/1.1", false))
        .await
        .unwrap();
    let body = vec![b'x'; BODY_LIMIT + 1];
    let mut raw = format!(
        "POST /app/log HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);

    let (status, body) = raw_h1_until_close(stream, &raw).await;

    assert_eq!(status, 413);
    assert_ccf_error(
        &body,
        "RequestBodyTooLarge",
        "HTTP message body is too large",
    );
    server.stop().await;
}

#[tokio::test]
async fn body_of_exactly_the_limit_is_served() {
    let pki = Pki::new();
    let server = Running::start(limited(AppProtocol::Http1), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"http/1.1", false))
        .await
        .unwrap();
    let (mut sender, _connection) = h1(stream).await;
    let reply = send_h1(&mut sender, request("POST", "/", vec![0; BODY_LIMIT])).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["body_len"], BODY_LIMIT);
    server.stop().await;
}

/// Frames of `chunk` bytes, `count` of them, with no length announced up front.
struct Unsized {
    chunk: usize,
    count: usize,
}

impl Body for Unsized {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.count == 0 {
            return Poll::Ready(None);
        }
        self.count -= 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![1u8; self.chunk])))))
    }
}

#[tokio::test]
async fn streamed_http2_body_over_the_limit_is_413() {
    let pki = Pki::new();
    let server = Running::start(limited(AppProtocol::Http2), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"h2", false))
        .await
        .unwrap();
    let (sender, connection) = h2_unsized(stream).await;
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("https://127.0.0.1:{}/app/log", server.addr.port()))
        .body(Unsized {
            chunk: 300,
            count: 8,
        })
        .unwrap();

    let response = tokio::time::timeout(WAIT, sender.clone().send_request(request))
        .await
        .unwrap()
        .unwrap();
    let reply = collect(response).await;

    assert_eq!(reply.status, 413);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_ccf_error(
        std::str::from_utf8(&reply.body).unwrap(),
        "RequestBodyTooLarge",
        "HTTP request body is too large (max size allowed: 1024)",
    );
    // The server sends GOAWAY and closes the session.
    tokio::time::timeout(WAIT, connection)
        .await
        .unwrap()
        .unwrap();
    server.stop().await;
}

async fn h2_unsized(
    stream: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> (
    hyper::client::conn::http2::SendRequest<Unsized>,
    tokio::task::JoinHandle<()>,
) {
    let (sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    (
        sender,
        tokio::spawn(async move {
            let _ = connection.await;
        }),
    )
}

#[tokio::test]
async fn header_value_over_16kb_is_431_naming_the_header() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"http/1.1", false))
        .await
        .unwrap();
    let big = "a".repeat(16 * 1024 + 1);
    let raw = format!("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: {big}\r\n\r\n");

    let (status, body) = raw_h1_until_close(stream, raw.as_bytes()).await;

    assert_eq!(status, 431);
    assert_ccf_error(
        &body,
        "RequestHeaderTooLarge",
        "Header value for 'x-big' is too large (max size allowed: 16384)",
    );
    server.stop().await;
}

#[tokio::test]
async fn header_value_of_exactly_16kb_is_served() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"http/1.1", false))
        .await
        .unwrap();
    let (mut sender, _connection) = h1(stream).await;
    let mut request = request("GET", "/", vec![]);
    request
        .headers_mut()
        .insert("authorization", "b".repeat(16 * 1024).parse().unwrap());
    assert_eq!(send_h1(&mut sender, request).await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn too_many_headers_is_431() {
    let pki = Pki::new();
    let server = Running::start(limited(AppProtocol::Http1), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"http/1.1", false))
        .await
        .unwrap();
    let mut raw = String::from("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    for i in 0..20 {
        raw.push_str(&format!("x-h{i}: {i}\r\n"));
    }
    raw.push_str("\r\n");

    let (status, body) = raw_h1_until_close(stream, raw.as_bytes()).await;

    assert_eq!(status, 431);
    assert_ccf_error(
        &body,
        "RequestHeaderTooLarge",
        "Too many headers (max number allowed: 20)",
    );
    server.stop().await;
}

#[tokio::test]
async fn http2_header_over_the_limit_is_431_with_ccfs_body() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http2), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"h2", false))
        .await
        .unwrap();
    let (sender, _connection) = h2(stream).await;
    let mut request = request(
        "GET",
        &format!("https://127.0.0.1:{}/", server.addr.port()),
        vec![],
    );
    request
        .headers_mut()
        .insert("x-big", "c".repeat(16 * 1024 + 1).parse().unwrap());

    let reply = collect(sender.clone().send_request(request).await.unwrap()).await;

    assert_eq!(reply.status, 431);
    assert_ccf_error(
        std::str::from_utf8(&reply.body).unwrap(),
        "RequestHeaderTooLarge",
        "Header value for 'x-big'",
    );
    server.stop().await;
}
