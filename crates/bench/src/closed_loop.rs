//! The closed-loop driver: N clients, each one connection doing one request at a time until
//! the run's deadline, with every request's latency recorded.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cloister_types::TxId;

use crate::stats::Latencies;

/// Pause after a failed request, so that a refused connection does not spin a core.
const ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// One client's connection and workload.
pub trait Writer: Send + 'static {
    /// Opens the connection (and anything else done before the clock starts).
    fn prepare(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Sends the client's `n`-th write and waits for its answer; Ok carries the transaction
    /// id when the system gives one.
    fn write(&mut self, n: u64) -> impl Future<Output = anyhow::Result<Option<TxId>>> + Send;
}

/// Everything one run saw.
#[derive(Debug)]
pub struct RunResult {
    pub clients: usize,
    /// When the clock started (every client connected).
    pub started: Instant,
    /// From the start until the last client's last answer.
    pub elapsed: Duration,
    /// Writes answered with success.
    pub acked: u64,
    pub latencies: Latencies,
    /// Transaction ids of the acknowledged writes, when the system gives them.
    pub tx_ids: Vec<TxId>,
    pub errors: u64,
    pub first_error: Option<String>,
}

#[derive(Default)]
struct ClientOutcome {
    latencies_micros: Vec<u64>,
    tx_ids: Vec<TxId>,
    errors: u64,
    first_error: Option<String>,
}

/// Connects every writer, then runs them all for `duration` from one common start.
pub async fn run<W: Writer>(writers: Vec<W>, duration: Duration) -> anyhow::Result<RunResult> {
    let clients = writers.len();
    let mut preparing = Vec::with_capacity(clients);
    for mut writer in writers {
        preparing.push(tokio::spawn(async move {
            writer.prepare().await.map(|()| writer)
        }));
    }
    let mut ready = Vec::with_capacity(clients);
    for (index, task) in preparing.into_iter().enumerate() {
        let writer = task
            .await
            .context("a client task failed")?
            .with_context(|| format!("client {index} could not connect"))?;
        ready.push(writer);
    }

    let started = Instant::now();
    let deadline = started + duration;
    let mut running = Vec::with_capacity(clients);
    for writer in ready {
        running.push(tokio::spawn(drive(writer, deadline)));
    }
    let mut result = RunResult {
        clients,
        started,
        elapsed: Duration::ZERO,
        acked: 0,
        latencies: Latencies::default(),
        tx_ids: Vec::new(),
        errors: 0,
        first_error: None,
    };
    let mut latencies_micros = Vec::new();
    for task in running {
        let outcome = task.await.context("a client task failed")?;
        latencies_micros.extend(outcome.latencies_micros);
        result.tx_ids.extend(outcome.tx_ids);
        result.errors += outcome.errors;
        result.first_error = result.first_error.or(outcome.first_error);
    }
    result.elapsed = started.elapsed();
    result.acked = latencies_micros.len() as u64;
    result.latencies = Latencies::from_micros(latencies_micros);
    Ok(result)
}

async fn drive<W: Writer>(mut writer: W, deadline: Instant) -> ClientOutcome {
    let mut outcome = ClientOutcome::default();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let sent = Instant::now();
        match writer.write(n).await {
            Ok(tx_id) => {
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                outcome.latencies_micros.push(micros);
                outcome.tx_ids.extend(tx_id);
            }
            Err(error) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert_with(|| format!("{error:#}"));
                tokio::time::sleep(ERROR_BACKOFF).await;
            }
        }
        n += 1;
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers after `delay`, failing every `fail_every`-th write; ids are `2.n`.
    struct FakeWriter {
        delay: Duration,
        fail_every: u64,
        prepared: bool,
    }

    impl Writer for FakeWriter {
        async fn prepare(&mut self) -> anyhow::Result<()> {
            self.prepared = true;
            Ok(())
        }

        async fn write(&mut self, n: u64) -> anyhow::Result<Option<TxId>> {
            assert!(self.prepared, "write before prepare");
            tokio::time::sleep(self.delay).await;
            if n % self.fail_every == self.fail_every - 1 {
                anyhow::bail!("write {n} refused");
            }
            Ok(Some(TxId::new(2, n)))
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_client_runs_until_the_deadline_and_records_each_answer() {
        let writers: Vec<FakeWriter> = (0..4)
            .map(|_| FakeWriter {
                delay: Duration::from_millis(5),
                fail_every: 3,
                prepared: false,
            })
            .collect();
        let result = run(writers, Duration::from_millis(200)).await.unwrap();
        assert_eq!(result.clients, 4);
        assert!(result.elapsed >= Duration::from_millis(200));
        // Successes and failures alternate 2:1 per client, so both were seen, in that ratio.
        assert!(result.acked >= 8, "acked {}", result.acked);
        assert!(result.errors >= 4, "errors {}", result.errors);
        assert_eq!(result.tx_ids.len() as u64, result.acked);
        assert_eq!(result.latencies.len() as u64, result.acked);
        assert!(result.latencies.percentile(50.0).unwrap() >= Duration::from_millis(5));
        assert!(result.first_error.unwrap().contains("refused"));
    }
}
