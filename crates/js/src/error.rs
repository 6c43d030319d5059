//! The one error type of cloister-js.

/// Why a JavaScript call did not produce a value. The constitution engine reports each of these
/// to governance as a `JsFailure { reason, trace }` (spec/ccf-api.md §3 "Lifecycle"); an
/// application call as a 500 (spec/ccf-js.md §2.5, see `AppFailure`).
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

    /// An application module could not be found, compiled or evaluated, or does not export the
    /// endpoint's function: CCF's text for it (spec/ccf-js.md §1.4).
    #[error("{0}")]
    Module(String),

    /// An application handler returned something that is not a response (spec/ccf-js.md §2.4):
    /// CCF's text for it.
    #[error("{0}")]
    InvalidResponse(String),

    /// An endpoint definition in `public:ccf.gov.endpoints` is malformed.
    #[error("invalid JavaScript endpoint {key}: {reason}")]
    Endpoint { key: String, reason: String },
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
            JsError::Engine(_)
            | JsError::Module(_)
            | JsError::InvalidResponse(_)
            | JsError::Endpoint { .. } => None,
        }
    }
}
