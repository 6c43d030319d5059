//! The figures of one run, for people (a few lines) and for scripts (one `RESULT k=v ...` line).

use std::fmt::Write as _;
use std::time::Duration;

use cloister_types::TxId;

use crate::closed_loop::RunResult;
use crate::stats::{millis, per_second};

/// What one benchmark run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// `cloister` or `etcd`.
    pub system: &'static str,
    pub clients: usize,
    /// From the start until the last client's last answer.
    pub elapsed: Duration,
    pub acked: u64,
    pub committed: u64,
    /// From the start until the commit of the last counted write was observed (for etcd, whose
    /// answers come after commit, the same as `elapsed`).
    pub commit_elapsed: Duration,
    pub p50: Option<Duration>,
    pub p99: Option<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Cloister only: the highest transaction id seen Committed.
    pub last_committed: Option<TxId>,
}

impl Report {
    /// A report of a system whose answers come only after commit (etcd).
    pub fn committed_on_answer(system: &'static str, run: &RunResult) -> Report {
        Report {
            system,
            clients: run.clients,
            elapsed: run.elapsed,
            acked: run.acked,
            committed: run.acked,
            commit_elapsed: run.elapsed,
            p50: run.latencies.percentile(50.0),
            p99: run.latencies.percentile(99.0),
            errors: run.errors,
            first_error: run.first_error.clone(),
            last_committed: None,
        }
    }

    pub fn acked_per_second(&self) -> f64 {
        per_second(self.acked, self.elapsed)
    }

    pub fn committed_per_second(&self) -> f64 {
        per_second(self.committed, self.commit_elapsed)
    }

    /// One line of `key=value` pairs, starting `RESULT`, that scripts parse.
    pub fn result_line(&self) -> String {
        let ms = |d: Option<Duration>| d.map_or(f64::NAN, millis);
        format!(
            "RESULT system={} clients={} acked={} acked_per_s={:.0} committed={} committed_per_s={:.0} p50_ms={:.2} p99_ms={:.2} errors={}",
            self.system,
            self.clients,
            self.acked,
            self.acked_per_second(),
            self.committed,
            self.committed_per_second(),
            ms(self.p50),
            ms(self.p99),
            self.errors,
        )
    }

    /// A few lines for people.
    pub fn human(&self) -> String {
        let ms = |d: Option<Duration>| {
            d.map_or_else(|| "-".to_owned(), |d| format!("{:.2} ms", millis(d)))
        };
        let mut text = format!(
            "{} with {} closed-loop clients:\n  acked      {} writes in {:.2} s = {:.0}/s\n  committed  {} writes in {:.2} s = {:.0}/s\n  latency    p50 {}  p99 {}\n",
            self.system,
            self.clients,
            self.acked,
            self.elapsed.as_secs_f64(),
            self.acked_per_second(),
            self.committed,
            self.commit_elapsed.as_secs_f64(),
            self.committed_per_second(),
            ms(self.p50),
            ms(self.p99),
        );
        if let Some(tx) = self.last_committed {
            let _ = writeln!(text, "  last committed transaction {tx}");
        }
        if self.errors > 0 {
            let first = self.first_error.as_deref().unwrap_or("");
            let _ = writeln!(text, "  errors     {} (first: {first})", self.errors);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_line_carries_rates_and_percentiles_in_milliseconds() {
        let report = Report {
            system: "cloister",
            clients: 16,
            elapsed: Duration::from_secs(2),
            acked: 1000,
            committed: 900,
            commit_elapsed: Duration::from_millis(2250),
            p50: Some(Duration::from_micros(1500)),
            p99: Some(Duration::from_micros(12_345)),
            errors: 0,
            first_error: None,
            last_committed: Some(TxId::new(2, 950)),
        };
        assert_eq!(
            report.result_line(),
            "RESULT system=cloister clients=16 acked=1000 acked_per_s=500 committed=900 \
             committed_per_s=400 p50_ms=1.50 p99_ms=12.35 errors=0"
        );
        assert!(report.human().contains("last committed transaction 2.950"));
    }
}
