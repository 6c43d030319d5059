//! The one error type of cloister-js.

/// Why a JavaScript call did not produce a value. The constitution engine reports each of these
/// to governance as a `JsFailure { reason, trace }` (spec/ccf-api.md §3 "Lifecycle").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsError {
    /// The script threw (or a native function threw on its behalf): `reason` is the thrown value
    /// as a string (`"Error: message"`), `trace` its stack when it has one.
    #[error("{reason}")]
    Exception {
        reason: String,
        trace: Option<String>,
    },

    /// The deterministic execution budget ran out (spec/ccf-js.md §4.6): CCF's text for it.
    #[error("Operation took too long to complete.")]
    Timeout { trace: Option<String> },

    /// QuickJS could not create a runtime or context, or an engine invariant broke.
    #[error("JavaScript engine failure: {0}")]
    Engine(String),
}

impl JsError {
    /// The reason CCF shows for this failure.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// The JavaScript stack, when there is one.
    pub fn trace(&self) -> Option<&str> {
        match self {
            JsError::Exception { trace, .. } | JsError::Timeout { trace } => trace.as_deref(),
            JsError::Engine(_) => None,
        }
    }
}
