//! The process-level stop request: SIGTERM (what orchestrators and CCF's test infrastructure
//! send) or Ctrl-C (SIGINT). Install first, so a failure to register shows at start-up rather
//! than as a server that stops at once.

use crate::error::HostError;

/// Which signal asked the node to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM.
    Terminate,
    /// SIGINT (Ctrl-C).
    Interrupt,
}

/// Registered signal handlers; [`ShutdownSignal::recv`] resolves on the first signal.
#[derive(Debug)]
pub struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Registers for SIGTERM and SIGINT. From here on these signals no longer kill the process:
    /// they are delivered to [`ShutdownSignal::recv`]. Needs a tokio runtime.
    pub fn install() -> Result<ShutdownSignal, HostError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let register = |kind: SignalKind, name: &str| {
                signal(kind).map_err(|e| HostError::io(format!("registering for {name}"), e))
            };
            Ok(ShutdownSignal {
                terminate: register(SignalKind::terminate(), "SIGTERM")?,
                interrupt: register(SignalKind::interrupt(), "SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(ShutdownSignal {})
        }
    }

    /// Waits for SIGTERM or SIGINT.
    pub async fn recv(&mut self) -> StopSignal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => StopSignal::Terminate,
                _ = self.interrupt.recv() => StopSignal::Interrupt,
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => StopSignal::Interrupt,
                // Without a working Ctrl-C handler there is nothing to wait for.
                Err(_) => std::future::pending().await,
            }
        }
    }
}
