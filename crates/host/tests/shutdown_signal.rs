//! SIGTERM and SIGINT reach `ShutdownSignal` instead of killing the process. (Its own test
//! binary: the signals are sent to this process.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::process::Command;
use std::time::Duration;

use cloister_host::{ShutdownSignal, StopSignal};

fn send(signal: &str) {
    let status = Command::new("kill")
        .args([signal, &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_then_sigint_are_reported_in_turn() {
    let mut signals = ShutdownSignal::install().unwrap();

    send("-TERM");
    let first = tokio::time::timeout(Duration::from_secs(10), signals.recv()).await;
    assert_eq!(first.unwrap(), StopSignal::Terminate);

    send("-INT");
    let second = tokio::time::timeout(Duration::from_secs(10), signals.recv()).await;
    assert_eq!(second.unwrap(), StopSignal::Interrupt);
}
