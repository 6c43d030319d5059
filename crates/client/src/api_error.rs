//! Reading CCF's error body (spec/ccf-api.md §0 "Error body") back into an [`ApiError`].

use serde::Deserialize;

use cloister_types::{ApiError, ErrorDetail};

/// Longest body kept as the message of a response that is not CCF-shaped.
const RAW_MESSAGE_BYTES_MAX: usize = 4096;

#[derive(Deserialize)]
struct Body {
    error: Inner,
}

#[derive(Deserialize)]
struct Inner {
    code: String,
    message: String,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

/// `{"error": {"code", "message", "details"?}}` as an [`ApiError`]; anything else becomes an
/// error with an empty code and the (truncated, lossy UTF-8) body as its message, so a proxy's
/// HTML page or a 202's text still reaches the user.
pub(crate) fn parse(status: u16, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<Body>(body) {
        Ok(Body { error }) => {
            ApiError::new(status, error.code, error.message).with_details(error.details)
        }
        Err(_) => {
            let shown = &body[..body.len().min(RAW_MESSAGE_BYTES_MAX)];
            ApiError::new(status, "", String::from_utf8_lossy(shown).trim().to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ccf_error_bodies_round_trip() {
        let error = ApiError::new(401, "InvalidAuthenticationInfo", "Invalid credentials.")
            .with_details(vec![ErrorDetail {
                auth_policy: Some("member_cose_sign1".into()),
                code: "InvalidAuthenticationInfo".into(),
                message: "Signer is not a known member".into(),
            }]);
        assert_eq!(parse(401, &error.body()), error);
    }

    #[test]
    fn other_bodies_keep_their_text() {
        let error = parse(
            202,
            b"Historical transaction 2.9 is not currently available.\n",
        );
        assert_eq!(error.code, "");
        assert_eq!(
            error.message,
            "Historical transaction 2.9 is not currently available."
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn any_body_parses_without_panicking(status: u16, body in prop::collection::vec(any::<u8>(), 0..8192)) {
            let error = parse(status, &body);
            prop_assert_eq!(error.status, status);
            prop_assert!(error.message.len() <= 3 * RAW_MESSAGE_BYTES_MAX || !error.code.is_empty());
        }
    }
}
