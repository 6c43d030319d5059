//! CCF's session caps (spec/ccf-api.md §0, `src/enclave/rpc_sessions.h`): above
//! `max_open_sessions_soft` a new session gets one 503 `SessionCapExhausted` and is closed;
//! above `max_open_sessions_hard` the connection is dropped without a TLS handshake.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::time::Duration;

use cloister_host::{AppProtocol, RpcInterfaceConfig};
use support::{
    Echo, Pki, Running, WAIT, config, connect, h1, raw_h1_until_close, request, send_h1,
};

const GET: &[u8] = b"GET /app/x HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n";

fn capped(soft: usize, hard: usize) -> RpcInterfaceConfig {
    let mut config = config(AppProtocol::Http1);
    config.max_open_sessions_soft = soft;
    config.max_open_sessions_hard = hard;
    config
}

#[tokio::test]
async fn third_session_over_a_soft_cap_of_two_gets_503_session_cap_exhausted() {
    let pki = Pki::new();
    let server = Running::start(capped(2, 10), &pki, Echo::new()).await;
    let tls = pki.client_config(b"http/1.1", false);
    let mut held = Vec::new();
    for _ in 0..2 {
        let (mut sender, connection) = h1(connect(server.addr, tls.clone()).await.unwrap()).await;
        assert_eq!(
            send_h1(&mut sender, request("GET", "/", vec![]))
                .await
                .status,
            200
        );
        held.push((sender, connection));
    }

    let third = connect(server.addr, tls.clone()).await.unwrap();
    let (status, body) = raw_h1_until_close(third, GET).await;

    assert_eq!(status, 503);
    assert_eq!(
        body,
        r#"{"error":{"code":"SessionCapExhausted","message":"Service is currently busy and unable to serve new connections"}}"#
    );

    // Once the held sessions end, their places are free again.
    drop(held);
    let served = async {
        loop {
            let stream = connect(server.addr, tls.clone()).await.unwrap();
            let (mut sender, _connection) = h1(stream).await;
            if send_h1(&mut sender, request("GET", "/", vec![]))
                .await
                .status
                == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, served)
        .await
        .expect("served again");
    server.stop().await;
}

#[tokio::test]
async fn connection_over_the_hard_cap_is_dropped_before_tls() {
    let pki = Pki::new();
    let server = Running::start(capped(1, 2), &pki, Echo::new()).await;
    let tls = pki.client_config(b"http/1.1", false);
    let (mut open, _connection) = h1(connect(server.addr, tls.clone()).await.unwrap()).await;
    assert_eq!(
        send_h1(&mut open, request("GET", "/", vec![])).await.status,
        200
    );
    // Handshake done, no request yet: a capped session holding the second place.
    let _capped = connect(server.addr, tls.clone()).await.unwrap();

    let dropped = connect(server.addr, tls.clone()).await;

    assert!(
        dropped.is_err(),
        "a session over the hard cap completed TLS"
    );
    // The sessions already open are unaffected.
    assert_eq!(
        send_h1(&mut open, request("GET", "/", vec![])).await.status,
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn http2_session_over_the_soft_cap_gets_503_then_goaway() {
    let pki = Pki::new();
    let mut config = capped(0, 10);
    config.app_protocol = AppProtocol::Http2;
    let server = Running::start(config, &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"h2", false))
        .await
        .unwrap();
    let (sender, connection) = support::h2(stream).await;
    let uri = format!("https://127.0.0.1:{}/app/x", server.addr.port());

    let response = sender
        .clone()
        .send_request(request("GET", &uri, vec![]))
        .await
        .unwrap();
    let reply = support::collect(response).await;

    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["error"]["code"], "SessionCapExhausted");
    tokio::time::timeout(WAIT, connection)
        .await
        .unwrap()
        .unwrap();
    server.stop().await;
}
