//! The Cloister workload: `POST /app/log/private {"id", "msg"}` as user0 (the native logging
//! app), then the commit tally of the acknowledged transaction ids.

use std::time::Duration;

use anyhow::{Context as _, bail};
use cloister_client::{Client, TX_POLL_INTERVAL_MS};
use cloister_types::TxId;
use serde_json::json;

use crate::closed_loop::{self, Writer};
use crate::commit::{PollPolicy, tally_commits};
use crate::report::Report;

/// How long the tally may wait for the last writes to commit.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Record ids of client `i` start at `(i + 1) * ID_STRIDE`, so clients never share a key.
const ID_STRIDE: u64 = 1_000_000_000;

/// Where and as whom to write.
#[derive(Debug, Clone)]
pub struct CloisterTarget {
    /// `https://host:port` of each node; clients are spread over them round-robin, and the
    /// first one is asked about commits.
    pub urls: Vec<String>,
    /// The service certificate (PEM).
    pub service_cert_pem: String,
    /// user0's certificate and private key (PEM).
    pub user_cert_pem: String,
    pub user_key_pem: String,
}

impl CloisterTarget {
    fn client(&self, url: &str) -> anyhow::Result<Client> {
        Client::new(
            url,
            &self.service_cert_pem,
            Some((&self.user_cert_pem, &self.user_key_pem)),
        )
        .with_context(|| format!("a client of {url}"))
    }
}

/// One closed-loop client of the logging app.
#[derive(Debug)]
pub struct CloisterWriter {
    client: Client,
    first_id: u64,
}

impl Writer for CloisterWriter {
    async fn prepare(&mut self) -> anyhow::Result<()> {
        // Opens the TLS connection (with the client certificate) before the clock starts.
        let response = self.client.get("/node/ready/app").await?;
        if response.status != 204 {
            bail!("GET /node/ready/app answered {}", response.status);
        }
        Ok(())
    }

    async fn write(&mut self, n: u64) -> anyhow::Result<Option<TxId>> {
        // "bench message 000042": 20 bytes, as small writes go.
        let body = json!({ "id": self.first_id + n, "msg": format!("bench message {:06}", n % 1_000_000) });
        let response = self
            .client
            .post(
                "/app/log/private",
                "application/json",
                body.to_string().into_bytes(),
            )
            .await?;
        if !response.is_success() {
            bail!(
                "POST /app/log/private answered {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        let tx_id = response
            .tx_id()
            .context("a successful write without x-ms-ccf-transaction-id")?;
        Ok(Some(tx_id))
    }
}

/// Runs `clients` closed-loop clients for `duration`, then waits until the acknowledged writes
/// commit: committed/s counts from the start until that commit was observed.
pub async fn bench(
    target: &CloisterTarget,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Report> {
    if target.urls.is_empty() {
        bail!("no Cloister URL given");
    }
    let mut writers = Vec::with_capacity(clients);
    for index in 0..clients {
        let url = &target.urls[index % target.urls.len()];
        writers.push(CloisterWriter {
            client: target.client(url)?,
            first_id: (index as u64 + 1) * ID_STRIDE,
        });
    }
    let run = closed_loop::run(writers, duration).await?;

    let poller = target.client(&target.urls[0])?;
    let poller = &poller;
    let policy = PollPolicy {
        interval: Duration::from_millis(TX_POLL_INTERVAL_MS),
        timeout: COMMIT_TIMEOUT,
    };
    let tally = tally_commits(
        &run.tx_ids,
        move |tx| async move { poller.tx_status(tx).await.ok() },
        policy,
    )
    .await;
    let mut report = Report::committed_on_answer("cloister", &run);
    report.committed = tally.committed;
    report.last_committed = tally.last_committed;
    report.commit_elapsed = tally
        .observed_at
        .map_or(Duration::ZERO, |at| at.duration_since(run.started));
    Ok(report)
}
