//! Why a node configuration file was refused. Every variant names the JSON path of the offending
//! value (`network.rpc_interfaces.primary_rpc_interface.bind_address`, `command.start.members[0]`),
//! so an operator can find it in the file; the path of the whole document is `configuration`.

/// A node configuration that does not follow CCF's schema (spec/schemas/cchost_config.json).
///
/// Kept apart from `NodeError`: it is the one error the CLI shows an operator before any node
/// exists, and every variant carries a path, which `NodeError` has no use for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not JSON at all.
    #[error("the configuration is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// A field the schema requires is absent.
    #[error("{path} is required")]
    Missing { path: String },
    /// A field holds a JSON value of the wrong type.
    #[error("{path}: expected {expected}, found {found}")]
    WrongType {
        path: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A string field holds a value outside its enumeration.
    #[error("{path}: \"{value}\" is not one of {allowed}")]
    BadChoice {
        path: String,
        value: String,
        /// The accepted values, quoted and comma-separated.
        allowed: String,
    },
    /// A field CCF's schema does not define.
    #[error("{path} is not a CCF configuration field")]
    UnknownField { path: String },
    /// A size string (`"5MB"`) that does not parse.
    #[error("{path}: \"{value}\" is not a size")]
    BadSize { path: String, value: String },
    /// A time string (`"100ms"`) that does not parse.
    #[error("{path}: \"{value}\" is not a duration")]
    BadDuration { path: String, value: String },
    /// An integer outside the range the schema allows.
    #[error("{path}: {value} is below the minimum {minimum}")]
    BelowMinimum {
        path: String,
        /// The JSON number as written.
        value: String,
        minimum: u64,
    },
    /// A value of the right type that CCF would still refuse (say, a malformed subject
    /// alternative name).
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

impl ConfigError {
    /// The JSON path the error is about; `None` when the text is not JSON.
    pub fn path(&self) -> Option<&str> {
        match self {
            ConfigError::Json { .. } => None,
            ConfigError::Missing { path }
            | ConfigError::WrongType { path, .. }
            | ConfigError::BadChoice { path, .. }
            | ConfigError::UnknownField { path }
            | ConfigError::BadSize { path, .. }
            | ConfigError::BadDuration { path, .. }
            | ConfigError::BelowMinimum { path, .. }
            | ConfigError::Invalid { path, .. } => Some(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lead_with_the_path() {
        let error = ConfigError::BadSize {
            path: "ledger.chunk_size".to_owned(),
            value: "5XB".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "ledger.chunk_size: \"5XB\" is not a size"
        );
        assert_eq!(error.path(), Some("ledger.chunk_size"));
        let error = ConfigError::UnknownField {
            path: "network.foo".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "network.foo is not a CCF configuration field"
        );
    }

    #[test]
    fn a_syntax_error_has_no_path() {
        let error = ConfigError::Json {
            line: 1,
            column: 2,
            message: "EOF".to_owned(),
        };
        assert_eq!(error.path(), None);
    }
}
