//! `logging`: the node process's own log (spec/ccf-api.md §7).

use super::error::ConfigError;
use super::reader::{Fields, Section, config_enum};

config_enum! {
    /// `logging.host_level`, most verbose first.
    pub enum LogLevel {
        Trace = "Trace",
        Debug = "Debug",
        Info = "Info",
        Fail = "Fail",
        Fatal = "Fatal",
    }
}

config_enum! {
    /// `logging.format`.
    pub enum LogFormat {
        Text = "Text",
        Json = "Json",
    }
}

/// The `logging` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    pub host_level: LogLevel,
    pub format: LogFormat,
}

impl Default for Logging {
    fn default() -> Logging {
        Logging {
            host_level: LogLevel::Info,
            format: LogFormat::Text,
        }
    }
}

impl Section for Logging {
    const FIELDS: &'static [&'static str] = &["host_level", "format"];

    fn read(fields: &Fields<'_>) -> Result<Logging, ConfigError> {
        let default = Logging::default();
        Ok(Logging {
            host_level: fields
                .choice("host_level", LogLevel::CHOICES)?
                .unwrap_or(default.host_level),
            format: fields
                .choice("format", LogFormat::CHOICES)?
                .unwrap_or(default.format),
        })
    }
}
