//! CCF's error body: `{"error": {"code", "message", "details"?}}` with an HTTP status
//! (spec/ccf-api.md §0 "Error body"). Every frontend, the dispatcher and the host answer errors
//! in this shape.

use serde::{Deserialize, Serialize};

/// One entry of `details` (for 401s: one per authentication policy tried).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub auth_policy: Option<String>,
    pub code: String,
    pub message: String,
}

/// An error answer: status, CCF error code (`InvalidAuthenticationInfo`, …) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    details: &'a [ErrorDetail],
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: Vec<ErrorDetail>) -> ApiError {
        self.details = details;
        self
    }

    /// The JSON body CCF sends (`content-type: application/json`); `details` omitted when empty.
    pub fn body(&self) -> Vec<u8> {
        let body = Body {
            error: Inner {
                code: &self.code,
                message: &self.message,
                details: &self.details,
            },
        };
        // Serialising string fields into a Vec cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_ccf_shaped_and_omits_empty_details() {
        let error = ApiError::new(404, "ResourceNotFound", "Unknown path: /x.");
        assert_eq!(
            error.body(),
            br#"{"error":{"code":"ResourceNotFound","message":"Unknown path: /x."}}"#
        );
        let detailed = ApiError::new(
            401,
            "InvalidAuthenticationInfo",
            "Invalid authentication credentials.",
        )
        .with_details(vec![ErrorDetail {
            auth_policy: Some("user_cert".into()),
            code: "InvalidAuthenticationInfo".into(),
            message: "No caller user certificate".into(),
        }]);
        let json: serde_json::Value = serde_json::from_slice(&detailed.body()).unwrap();
        assert_eq!(json["error"]["details"][0]["auth_policy"], "user_cert");
    }
}
