//! Graceful shutdown: once signalled, the interface stops accepting at once, answers the
//! requests already in flight, closes idle sessions, and only then returns.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::sync::Arc;
use std::time::Duration;

use cloister_host::AppProtocol;
use support::{Echo, Pki, Running, WAIT, collect, config, connect, h1, h2, request, send_h1};
use tokio::net::TcpStream;
use tokio::sync::Notify;

async fn refused(addr: std::net::SocketAddr) -> bool {
    matches!(
        TcpStream::connect(addr).await,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
    )
}

#[tokio::test]
async fn in_flight_request_completes_after_shutdown_and_new_connections_are_refused() {
    let pki = Pki::new();
    let echo = Arc::new(Echo {
        slow: Duration::from_millis(700),
        slow_started: Arc::new(Notify::new()),
    });
    let mut server = Running::start(config(AppProtocol::Http1), &pki, Arc::clone(&echo)).await;
    let addr = server.addr;
    let stream = connect(addr, pki.client_config(b"http/1.1", false))
        .await
        .unwrap();
    let (mut sender, _connection) = h1(stream).await;
    let slow =
        tokio::spawn(async move { send_h1(&mut sender, request("GET", "/slow", vec![])).await });
    tokio::time::timeout(WAIT, echo.slow_started.notified())
        .await
        .unwrap();

    server.signal_stop();

    let refusing = async {
        while !refused(addr).await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(WAIT, refusing)
        .await
        .expect("port closes");
    assert!(!slow.is_finished(), "the slow request was cut short");
    assert!(
        !server.task_finished(),
        "run returned with a request in flight"
    );
    let reply = tokio::time::timeout(WAIT, slow).await.unwrap().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["path"], "/slow");
    server.stop().await;
}

#[tokio::test]
async fn in_flight_http2_stream_completes_after_shutdown() {
    let pki = Pki::new();
    let echo = Echo::new();
    let mut server = Running::start(config(AppProtocol::Http2), &pki, Arc::clone(&echo)).await;
    let stream = connect(server.addr, pki.client_config(b"h2", false))
        .await
        .unwrap();
    let (sender, _connection) = h2(stream).await;
    let uri = format!("https://127.0.0.1:{}/slow", server.addr.port());
    let slow = tokio::spawn(async move {
        collect(
            sender
                .clone()
                .send_request(request("GET", &uri, vec![]))
                .await
                .unwrap(),
        )
        .await
    });
    tokio::time::timeout(WAIT, echo.slow_started.notified())
        .await
        .unwrap();

    server.signal_stop();

    let reply = tokio::time::timeout(WAIT, slow).await.unwrap().unwrap();
    assert_eq!(reply.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn idle_sessions_do_not_hold_up_shutdown() {
    let pki = Pki::new();
    let server = Running::start(config(AppProtocol::Http1), &pki, Echo::new()).await;
    let stream = connect(server.addr, pki.client_config(b"http/1.1", false))
        .await
        .unwrap();
    let (mut sender, connection) = h1(stream).await;
    assert_eq!(
        send_h1(&mut sender, request("GET", "/", vec![]))
            .await
            .status,
        200
    );
    // A connected client that never finishes its handshake must not hold it up either.
    let _half_open = TcpStream::connect(server.addr).await.unwrap();

    tokio::time::timeout(Duration::from_secs(3), server.stop())
        .await
        .expect("shutdown does not wait for idle sessions");
    // The idle keep-alive session was closed by the server.
    tokio::time::timeout(WAIT, connection)
        .await
        .unwrap()
        .unwrap();
}
