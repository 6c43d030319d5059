//! A request that produced no response: CCF answers 500 `InternalError` (spec/ccf-js.md §2.5).

use serde_json::json;

use super::JsResponse;
use crate::error::JsError;
use crate::limits::JsRuntimeOptions;

/// What quickjs-ng throws when a script exceeds `max_stack_bytes`.
const QUICKJS_NG_STACK_OVERFLOW: &str = "RangeError: Maximum call stack size exceeded";

/// Why an application call failed, with the runtime options that say how to report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFailure {
    pub error: JsError,
    /// `return_exception_details`: the 500 carries the exception's text and stack.
    pub return_exception_details: bool,
    /// `log_exception_details`: the node logs them.
    pub log_exception_details: bool,
}

impl AppFailure {
    pub(super) fn new(error: JsError, options: &JsRuntimeOptions) -> AppFailure {
        AppFailure {
            error,
            return_exception_details: options.return_exception_details,
            log_exception_details: options.log_exception_details,
        }
    }

    /// CCF's `error.message`: a fixed text for exceptions and timeouts (the exception itself
    /// goes to `details` only when asked for), the failure's own text otherwise.
    pub fn message(&self) -> String {
        match &self.error {
            JsError::Exception { .. } => "Exception thrown while executing.".to_owned(),
            other => other.to_string(),
        }
    }

    /// `{code: "JSException", message, trace}` for an exception or a timeout.
    pub fn exception_details(&self) -> Option<serde_json::Value> {
        let message = match &self.error {
            // quickjs-ng words a stack overflow as a RangeError; CCF's QuickJS (and the tests
            // of CCF users) say "InternalError: stack overflow" (spec/ccf-js.md §4.6).
            JsError::Exception { reason, .. } if reason == QUICKJS_NG_STACK_OVERFLOW => {
                "InternalError: stack overflow".to_owned()
            }
            JsError::Exception { reason, .. } => reason.clone(),
            // QuickJS's text for an interrupted script (spec/ccf-js.md §4.6).
            JsError::Timeout { .. } => "InternalError: interrupted".to_owned(),
            _ => return None,
        };
        let mut details = json!({"code": "JSException", "message": message});
        if let Some(trace) = self.error.trace() {
            details["trace"] = json!(trace);
        }
        Some(details)
    }

    /// The 500 answer: `{"error": {"code": "InternalError", "message", "details"?}}`.
    pub fn response(&self) -> JsResponse {
        let mut error = json!({"code": "InternalError", "message": self.message()});
        if self.return_exception_details {
            if let Some(details) = self.exception_details() {
                error["details"] = json!([details]);
            }
        }
        JsResponse {
            status: 500,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: json!({ "error": error }).to_string().into_bytes(),
            apply_writes: false,
            claims_digest: None,
            launches: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(reason: &str) -> serde_json::Value {
        let failure = AppFailure {
            error: JsError::Exception {
                reason: reason.to_owned(),
                trace: None,
            },
            return_exception_details: true,
            log_exception_details: false,
        };
        failure.exception_details().unwrap()["message"].clone()
    }

    #[test]
    fn a_stack_overflow_is_reported_in_ccf_words() {
        assert_eq!(
            details("RangeError: Maximum call stack size exceeded"),
            "InternalError: stack overflow"
        );
        assert_eq!(details("Error: mine"), "Error: mine");
    }
}
