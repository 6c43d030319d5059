//! Node-to-node channels over real sockets on 127.0.0.1: delivery both ways between the nodes of
//! one service, refusal of strangers (another service, self-signed, the wrong node at an
//! address), oversized frames, reconnection, and bounded queues.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod peer_support;

use std::time::Duration;

use cloister_crypto::Certificate;
use cloister_host::peer::{PeerConfig, PeerNetwork};
use cloister_node::{NodeIdentity, ServiceIdentity};
use cloister_types::NodeId;
use peer_support::*;

/// Sends `payload` from `from` to `to` every 100 ms until `inbox` yields a frame; returns it.
/// For frames that follow a connection loss, which the sender may need a moment to notice.
async fn send_until_received(
    from: &PeerNetwork,
    to: &NodeId,
    inbox: &mut Inbox,
    payload: &[u8],
) -> (NodeId, Vec<u8>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        from.send(to, payload.to_vec());
        if let Ok(Some(frame)) =
            tokio::time::timeout(Duration::from_millis(100), inbox.recv()).await
        {
            return frame;
        }
        assert!(tokio::time::Instant::now() < deadline, "never delivered");
    }
}

#[tokio::test]
async fn three_nodes_of_one_service_exchange_frames_both_ways() {
    let service = service();
    let ids = [node(&service), node(&service), node(&service)];
    let mut nets = Vec::new();
    let mut inboxes = Vec::new();
    for id in &ids {
        let (net, inbox) = start(config(id, &service)).await;
        assert_eq!(net.node_id(), &id.id);
        nets.push(net);
        inboxes.push(inbox);
    }
    let directory: Vec<(NodeId, String)> = ids
        .iter()
        .zip(&nets)
        .map(|(id, net)| (id.id.clone(), address(net)))
        .collect();
    for net in &nets {
        // Includes the node itself, which is ignored.
        net.set_peers(directory.clone());
    }
    const PER_PAIR: usize = 50;
    for (i, net) in nets.iter().enumerate() {
        for (j, target) in ids.iter().enumerate() {
            if i != j {
                for k in 0..PER_PAIR {
                    net.send(&target.id, format!("{i}->{j} #{k}").into_bytes());
                }
            }
        }
    }
    for (j, inbox) in inboxes.iter_mut().enumerate() {
        let mut next_expected = [0usize; 3];
        for _ in 0..2 * PER_PAIR {
            let (from, payload) = next(inbox).await;
            let i = ids.iter().position(|id| id.id == from).unwrap();
            assert_ne!(i, j, "a node does not send to itself");
            // Attributed to the authenticated sender, in order per channel.
            let k = next_expected[i];
            assert_eq!(
                String::from_utf8(payload).unwrap(),
                format!("{i}->{j} #{k}")
            );
            next_expected[i] += 1;
        }
        expect_quiet(inbox).await;
    }
    for net in &nets {
        assert_eq!(net.dropped_frames(), 0);
    }
}

/// A stranger whose certificate `victim`'s service did not endorse, but who trusts that service
/// (so only `victim`'s own checks can stop it), dials `victim`; `victim` dials it too. Frames in
/// neither direction may arrive, while an honest node's frames do.
async fn stranger_is_refused_both_ways(
    service: &ServiceIdentity,
    stranger: &NodeIdentity,
    stranger_cert: &Certificate,
) {
    let (victim, honest) = (node(service), node(service));
    let (victim_net, mut victim_inbox) = start(config(&victim, service)).await;
    let (honest_net, _honest_inbox) = start(config(&honest, service)).await;
    let (stranger_net, mut stranger_inbox) =
        start(config_with(stranger, stranger_cert, service, 0)).await;
    stranger_net.set_peers(vec![(victim.id.clone(), address(&victim_net))]);
    victim_net.set_peers(vec![(stranger.id.clone(), address(&stranger_net))]);
    honest_net.set_peers(vec![(victim.id.clone(), address(&victim_net))]);
    for _ in 0..5 {
        stranger_net.send(&victim.id, b"from the stranger".to_vec());
        victim_net.send(&stranger.id, b"to the stranger".to_vec());
    }
    honest_net.send(&victim.id, b"from an honest node".to_vec());
    let (from, payload) = next(&mut victim_inbox).await;
    assert_eq!(
        (from, payload),
        (honest.id.clone(), b"from an honest node".to_vec())
    );
    expect_quiet(&mut victim_inbox).await;
    expect_quiet(&mut stranger_inbox).await;
    // The victim refuses the stranger's certificate before its handshake completes, so its
    // frames stay queued. (The stranger's own frames are lost instead: in TLS 1.3 a client
    // finishes its handshake before the server has judged its certificate.)
    assert_eq!(victim_net.queued(&stranger.id), Some(5));
}

#[tokio::test]
async fn node_certified_by_another_service_is_refused() {
    let (service, other_service) = (service(), service());
    let outsider = node(&other_service);
    stranger_is_refused_both_ways(&service, &outsider, &outsider.endorsed_cert).await;
}

#[tokio::test]
async fn self_signed_node_certificate_is_refused() {
    let service = service();
    // A key the service knows nothing of, certifying itself.
    let loner = node(&service);
    stranger_is_refused_both_ways(&service, &loner, &loner.self_signed_cert).await;
}

#[tokio::test]
async fn dial_reaching_a_different_node_of_the_service_does_not_deliver() {
    let service = service();
    let (a, b, c) = (node(&service), node(&service), node(&service));
    let (a_net, _a_inbox) = start(config(&a, &service)).await;
    let (b_net, mut b_inbox) = start(config(&b, &service)).await;
    let (c_net, mut c_inbox) = start(config(&c, &service)).await;
    // A believes B lives where C listens.
    a_net.set_peers(vec![(b.id.clone(), address(&c_net))]);
    a_net.send(&b.id, b"meant for B".to_vec());
    expect_quiet(&mut c_inbox).await;
    expect_quiet(&mut b_inbox).await;
    assert_eq!(a_net.queued(&b.id), Some(1));
    // With the right address, B gets what A sends.
    a_net.set_peers(vec![(b.id.clone(), address(&b_net))]);
    a_net.send(&b.id, b"meant for B, again".to_vec());
    assert_eq!(
        next(&mut b_inbox).await,
        (a.id.clone(), b"meant for B, again".to_vec())
    );
    expect_quiet(&mut c_inbox).await;
}

#[tokio::test]
async fn oversized_frame_closes_its_connection_and_the_receiver_keeps_working() {
    let service = service();
    let (a, b, c) = (node(&service), node(&service), node(&service));
    let (a_net, _a_inbox) = start(config(&a, &service)).await;
    let (b_net, mut b_inbox) = start(PeerConfig {
        frame_bytes_max: 1024,
        ..config(&b, &service)
    })
    .await;
    let (c_net, _c_inbox) = start(config(&c, &service)).await;
    a_net.set_peers(vec![(b.id.clone(), address(&b_net))]);
    c_net.set_peers(vec![(b.id.clone(), address(&b_net))]);
    a_net.send(&b.id, b"small".to_vec());
    assert_eq!(next(&mut b_inbox).await, (a.id.clone(), b"small".to_vec()));
    // A allows 64 MiB, B only 1 KiB.
    a_net.send(&b.id, vec![0xab; 2048]);
    c_net.send(&b.id, b"from C".to_vec());
    assert_eq!(next(&mut b_inbox).await, (c.id.clone(), b"from C".to_vec()));
    // A redials once B has closed its connection; later frames arrive again.
    let (from, payload) = send_until_received(&a_net, &b.id, &mut b_inbox, b"after").await;
    assert_eq!((from, payload), (a.id.clone(), b"after".to_vec()));
    // The oversized frame never came through.
    while let Ok(Some((_, payload))) = tokio::time::timeout(QUIET, b_inbox.recv()).await {
        assert_eq!(payload, b"after");
    }
    // B's own bound applies to what B sends too.
    b_net.set_peers(vec![(a.id.clone(), address(&a_net))]);
    b_net.send(&a.id, vec![0; 1025]);
    assert_eq!(b_net.dropped_frames(), 1);
}

#[tokio::test]
async fn peer_restarted_on_the_same_port_gets_queued_and_later_frames() {
    let service = service();
    let (a, b) = (node(&service), node(&service));
    let (a_net, _a_inbox) = start(config(&a, &service)).await;
    let (b_net, mut b_inbox) = start(config(&b, &service)).await;
    let b_addr = b_net.local_addr();
    a_net.set_peers(vec![(b.id.clone(), b_addr.to_string())]);
    a_net.send(&b.id, b"before".to_vec());
    assert_eq!(next(&mut b_inbox).await, (a.id.clone(), b"before".to_vec()));

    b_net.shutdown();
    drop(b_net);
    drop(b_inbox);
    // Give A time to notice the closed connection; then frames wait in its queue.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for k in 0..5 {
        a_net.send(&b.id, format!("queued #{k}").into_bytes());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(a_net.queued(&b.id), Some(5));

    let (_b_net, mut b_inbox) =
        start_retrying(config_with(&b, &b.endorsed_cert, &service, b_addr.port())).await;
    for k in 0..5 {
        assert_eq!(
            next(&mut b_inbox).await,
            (a.id.clone(), format!("queued #{k}").into_bytes())
        );
    }
    a_net.send(&b.id, b"later".to_vec());
    assert_eq!(next(&mut b_inbox).await, (a.id.clone(), b"later".to_vec()));
}

#[tokio::test]
async fn queue_to_a_down_peer_stays_bounded_and_keeps_the_oldest_frames() {
    let service = service();
    let (a, b) = (node(&service), node(&service));
    let (a_net, _a_inbox) = start(PeerConfig {
        queue_frames_max: 16,
        ..config(&a, &service)
    })
    .await;
    let port = free_port();
    a_net.set_peers(vec![(b.id.clone(), format!("127.0.0.1:{port}"))]);
    for k in 0..1000u32 {
        a_net.send(&b.id, k.to_be_bytes().to_vec());
    }
    assert_eq!(a_net.queued(&b.id), Some(16));
    assert_eq!(a_net.dropped_frames(), 1000 - 16);
    // Unknown peers: dropped and counted, never queued.
    a_net.send(&a.id, b"to myself".to_vec());
    assert_eq!(a_net.queued(&a.id), None);
    assert_eq!(a_net.dropped_frames(), 1000 - 16 + 1);

    // When B comes up, the 16 oldest frames arrive, in order, and nothing else.
    let (_b_net, mut b_inbox) =
        start_retrying(config_with(&b, &b.endorsed_cert, &service, port)).await;
    for k in 0..16u32 {
        assert_eq!(
            next(&mut b_inbox).await,
            (a.id.clone(), k.to_be_bytes().to_vec())
        );
    }
    expect_quiet(&mut b_inbox).await;
    assert_eq!(a_net.queued(&b.id), Some(0));
}

#[tokio::test]
async fn removed_peer_and_shutdown_stop_the_channels() {
    let service = service();
    let (a, b) = (node(&service), node(&service));
    let (a_net, _a_inbox) = start(config(&a, &service)).await;
    let (b_net, mut b_inbox) = start(config(&b, &service)).await;
    a_net.set_peers(vec![(b.id.clone(), address(&b_net))]);
    a_net.send(&b.id, b"one".to_vec());
    assert_eq!(next(&mut b_inbox).await.1, b"one");
    a_net.set_peers(Vec::new());
    assert_eq!(a_net.queued(&b.id), None);
    a_net.send(&b.id, b"two".to_vec());
    expect_quiet(&mut b_inbox).await;

    let b_addr = b_net.local_addr();
    b_net.shutdown();
    // The port closes: connecting is refused (eventually, once the listener task has stopped).
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(b_addr).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "port still open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn garbage_from_unauthenticated_connections_is_harmless() {
    use tokio::io::AsyncWriteExt;
    let service = service();
    let (a, b) = (node(&service), node(&service));
    let (a_net, _a_inbox) = start(config(&a, &service)).await;
    let (b_net, mut b_inbox) = start(config(&b, &service)).await;
    // Not TLS at all, then a TLS-looking record announcing a huge length, then silence.
    for garbage in [
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        vec![0x16, 0x03, 0x01, 0xff, 0xff, 0x01],
        vec![0; 4096],
    ] {
        let mut raw = tokio::net::TcpStream::connect(b_net.local_addr())
            .await
            .unwrap();
        raw.write_all(&garbage).await.unwrap();
    }
    a_net.set_peers(vec![(b.id.clone(), address(&b_net))]);
    a_net.send(&b.id, b"still here".to_vec());
    assert_eq!(
        next(&mut b_inbox).await,
        (a.id.clone(), b"still here".to_vec())
    );
}

#[tokio::test]
async fn accepted_connections_are_bounded() {
    let service = service();
    let (a, b) = (node(&service), node(&service));
    let (a_net, _a_inbox) = start(config(&a, &service)).await;
    let (b_net, mut b_inbox) = start(PeerConfig {
        incoming_connections_max: 2,
        ..config(&b, &service)
    })
    .await;
    // Two idle connections (handshakes never started) take both places.
    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(
            tokio::net::TcpStream::connect(b_net.local_addr())
                .await
                .unwrap(),
        );
    }
    a_net.set_peers(vec![(b.id.clone(), address(&b_net))]);
    a_net.send(&b.id, b"waits for a place".to_vec());
    expect_quiet(&mut b_inbox).await;
    drop(idle);
    assert_eq!(
        next(&mut b_inbox).await,
        (a.id.clone(), b"waits for a place".to_vec())
    );
}
