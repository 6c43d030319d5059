//! One-way throughput of a node-to-node channel between two nodes on 127.0.0.1, for small
//! (100-byte, Raft heartbeat/ack sized) and large (20 KB, append-entries sized) frames. Prints
//! frames/s and MB/s (`cargo test -p cloister-host --test peer_throughput -- --nocapture`) and
//! checks every frame arrives, in order.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod peer_support;

use std::time::Instant;

use cloister_host::peer::PeerConfig;
use peer_support::*;

async fn measure(frame_bytes: usize, frames: u32) {
    let service = service();
    let (a, b) = (node(&service), node(&service));
    let queue = 4096;
    let (a_net, _a_inbox) = start(PeerConfig {
        queue_frames_max: queue,
        ..config(&a, &service)
    })
    .await;
    let (b_net, mut b_inbox) = start(config(&b, &service)).await;
    a_net.set_peers(vec![(b.id.clone(), address(&b_net))]);
    // Warm up: the channel is open once one frame has come through.
    a_net.send(&b.id, vec![0xff; 4]);
    next(&mut b_inbox).await;

    let receiver = tokio::spawn(async move {
        let mut bytes = 0usize;
        for k in 0..frames {
            let (_, payload) = next(&mut b_inbox).await;
            assert_eq!(payload[..4], k.to_be_bytes(), "frame {k} out of order");
            bytes += payload.len();
        }
        bytes
    });
    let started = Instant::now();
    let mut payload = vec![0x5a; frame_bytes];
    for k in 0..frames {
        // `send` never blocks and drops when the queue is full: pace on the queue length.
        while a_net.queued(&b.id).unwrap() >= queue {
            tokio::task::yield_now().await;
        }
        payload[..4].copy_from_slice(&k.to_be_bytes());
        a_net.send(&b.id, payload.clone());
    }
    let bytes = receiver.await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(a_net.dropped_frames(), 0);
    println!(
        "peer channel, {frame_bytes}-byte frames: {frames} in {seconds:.2} s = {:.0} frames/s, {:.1} MB/s",
        f64::from(frames) / seconds,
        bytes as f64 / seconds / 1e6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_way_throughput_of_small_and_large_frames() {
    measure(100, 100_000).await;
    measure(20_000, 10_000).await;
}
