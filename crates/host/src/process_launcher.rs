//! Carries out the node's `Output::LaunchProcess` (a JS handler's
//! `ccf.host.triggerSubprocess`, CCF 6.x) the way CCF's host `ProcessLauncher` does: the program
//! is run directly (no shell) with the given arguments, at most [`RUNNING_MAX`] at a time and the
//! rest queued in order; stdin, when given, is written and then closed; output is discarded and
//! the exit status logged. CCF has no setting that turns this off, so neither does Cloister.
//!
//! Nothing here blocks the node's task: each launch is a task of its own, and the queue is
//! bounded ([`OUTSTANDING_MAX`]); a launch beyond it is dropped with a warning.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::Semaphore;

/// Processes running at once (CCF's `max_processes`).
pub const RUNNING_MAX: usize = 8;
/// Launches running or waiting to run; later ones are dropped.
pub const OUTSTANDING_MAX: usize = 1024;

/// Launches host processes for one node.
#[derive(Debug, Clone)]
pub struct ProcessLauncher {
    running: Arc<Semaphore>,
    outstanding: Arc<Semaphore>,
}

impl Default for ProcessLauncher {
    fn default() -> Self {
        ProcessLauncher {
            running: Arc::new(Semaphore::new(RUNNING_MAX)),
            outstanding: Arc::new(Semaphore::new(OUTSTANDING_MAX)),
        }
    }
}

impl ProcessLauncher {
    /// Queues `args` (program first) to run with `stdin`; returns at once. Must be called
    /// inside a tokio runtime with I/O enabled.
    pub fn launch(&self, args: Vec<String>, stdin: Option<Vec<u8>>) {
        let Ok(slot) = self.outstanding.clone().try_acquire_owned() else {
            tracing::warn!(
                "host process launch dropped: {OUTSTANDING_MAX} already queued: {}",
                args.join(" ")
            );
            return;
        };
        let running = self.running.clone();
        let queued_at = Instant::now();
        tokio::spawn(async move {
            // Tokio's semaphore is fair: launches start in the order they were asked for.
            let Ok(_permit) = running.acquire_owned().await else {
                return;
            };
            let queued_ms = queued_at.elapsed().as_millis();
            run(&args, stdin, queued_ms).await;
            drop(slot);
        });
    }
}

/// Runs one process to its end.
async fn run(args: &[String], stdin: Option<Vec<u8>>, queued_ms: u128) {
    let Some((program, arguments)) = args.split_first() else {
        return; // the node only sends non-empty argument lists
    };
    let mut command = Command::new(program);
    command
        .args(arguments)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            tracing::warn!("error starting host process {}: {error}", args.join(" "));
            return;
        }
    };
    let pid = child.id().unwrap_or(0);
    tracing::debug!(
        "launched host process: pid={pid} queuetime={queued_ms}ms cmd={}",
        args.join(" ")
    );
    let started = Instant::now();
    let pipe = child.stdin.take();
    // Written while the process runs: one that never reads its stdin still gets waited for
    // (the write then fails with a broken pipe once it exits).
    let write = async move {
        if let (Some(mut pipe), Some(bytes)) = (pipe, stdin) {
            if let Err(error) = pipe.write_all(&bytes).await {
                tracing::debug!("host process pid={pid}: stdin not fully written: {error}");
            }
            // Dropping the pipe closes it: the process sees end of file.
        }
    };
    let ((), status) = tokio::join!(write, child.wait());
    match status {
        Ok(status) => tracing::debug!(
            "host process exited: pid={pid} status={status} runtime={}ms cmd={}",
            started.elapsed().as_millis(),
            args.join(" ")
        ),
        Err(error) => tracing::warn!("waiting for host process pid={pid}: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    /// Polls for `path` for up to five seconds.
    async fn appears(path: &Path) -> bool {
        for _ in 0..100 {
            if path.exists() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_launch_runs_the_program_with_its_arguments_and_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let touched = dir.path().join("touched");
        let launcher = ProcessLauncher::default();
        launcher.launch(vec!["touch".into(), touched.display().to_string()], None);
        assert!(appears(&touched).await, "touch did not run");

        // stdin is written then closed: `cat` reaches end of file and the copy holds the bytes.
        let copied = dir.path().join("copied");
        let partial = dir.path().join("copied.tmp");
        let script = format!(
            "cat > {} && mv {} {}",
            partial.display(),
            partial.display(),
            copied.display()
        );
        launcher.launch(
            vec!["/bin/sh".into(), "-c".into(), script],
            Some(b"hello\x00world".to_vec()),
        );
        assert!(appears(&copied).await, "the stdin copy did not finish");
        assert_eq!(std::fs::read(&copied).unwrap(), b"hello\x00world");
    }

    #[tokio::test]
    async fn launches_run_at_most_running_max_at_once_and_all_run() {
        let dir = tempfile::tempdir().unwrap();
        let launcher = ProcessLauncher::default();
        // Each process records itself, holds its slot a moment, then finishes.
        let count = 3 * RUNNING_MAX;
        for i in 0..count {
            let script = format!(
                "touch {d}/start{i}; sleep 0.2; touch {d}/done{i}",
                d = dir.path().display()
            );
            launcher.launch(vec!["/bin/sh".into(), "-c".into(), script], None);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = (0..count)
            .filter(|i| dir.path().join(format!("start{i}")).exists())
            .count();
        assert!(started <= RUNNING_MAX, "{started} running at once");
        for i in 0..count {
            assert!(appears(&dir.path().join(format!("done{i}"))).await, "{i}");
        }
    }

    #[tokio::test]
    async fn a_missing_program_is_logged_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let touched = dir.path().join("after");
        let launcher = ProcessLauncher::default();
        launcher.launch(vec!["/nonexistent/cloister-test-program".into()], None);
        launcher.launch(vec!["touch".into(), touched.display().to_string()], None);
        assert!(appears(&touched).await);
    }
}
