//! The node process's log (CCF's `logging` section): everything the host and the application
//! report through `tracing` — a JS app's `console.*` lines and metrics lines (target `js`),
//! host processes, sessions — printed to standard output at `logging.host_level` and above, as
//! text or one JSON object per line (`logging.format`).

use cloister_node::config::{LogFormat, LogLevel, Logging};
use tracing::Level;

/// Installs the process-wide subscriber; a second call (tests run several nodes in one process)
/// keeps the first.
pub fn install(logging: &Logging) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(level(logging.host_level))
        .with_writer(std::io::stdout)
        .with_ansi(false)
        .with_target(true);
    let _ = match logging.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// CCF's levels as tracing's: CCF's "fail" is a warning, "fatal" an error.
fn level(host_level: LogLevel) -> Level {
    match host_level {
        LogLevel::Trace => Level::TRACE,
        LogLevel::Debug => Level::DEBUG,
        LogLevel::Info => Level::INFO,
        LogLevel::Fail => Level::WARN,
        LogLevel::Fatal => Level::ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ccf_levels_map_to_tracing_levels() {
        assert_eq!(level(LogLevel::Info), Level::INFO);
        assert_eq!(level(LogLevel::Fail), Level::WARN);
        assert_eq!(level(LogLevel::Fatal), Level::ERROR);
        assert_eq!(level(LogLevel::Trace), Level::TRACE);
    }
}
