//! The crate's one error enum (broken stored state, never client mistakes) and the constructors
//! of the CCF error answers governance gives (spec/ccf-api.md §0 "Error body", §1.2).
//!
//! Client mistakes are answered with `cloister_types::ApiError` directly, with CCF's codes and
//! messages. `GovError` covers what a well-behaved service never stores (a proposals_info value
//! that is not JSON, a member certificate that is not a certificate): CCF throws there, and its
//! frontend turns the exception into a 500 `InternalError`, which `From<GovError>` reproduces.

use cloister_types::ApiError;

/// Stored governance state this crate cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GovError {
    /// A governance table holds a value that does not decode as the JSON shape CCF writes.
    #[error("cannot decode {table}[{key}]: {reason}")]
    CorruptValue {
        /// The table read.
        table: &'static str,
        /// The key read (as text, lossily).
        key: String,
        /// What the decoder said.
        reason: String,
    },
    /// A value could not be encoded as JSON (not expected for the shapes written here).
    #[error("cannot encode a value for {table}: {reason}")]
    Encode {
        /// The table written.
        table: &'static str,
        /// What the encoder said.
        reason: String,
    },
    /// `members.certs` holds something that is not a usable certificate for that member.
    #[error("certificate of member {member} is unusable: {reason}")]
    UnusableMemberCertificate {
        /// The member id (the COSE kid).
        member: String,
        /// Why it cannot be used.
        reason: String,
    },
}

impl From<GovError> for ApiError {
    fn from(error: GovError) -> ApiError {
        internal_error(error.to_string())
    }
}

/// CCF error codes used by governance (`include/ccf/odata_error.h`).
pub mod codes {
    pub const AUTHORIZATION_FAILED: &str = "AuthorizationFailed";
    pub const INTERNAL_ERROR: &str = "InternalError";
    pub const INVALID_AUTHENTICATION_INFO: &str = "InvalidAuthenticationInfo";
    pub const INVALID_CREATED_AT: &str = "InvalidCreatedAt";
    pub const INVALID_INPUT: &str = "InvalidInput";
    pub const INVALID_RESOURCE_NAME: &str = "InvalidResourceName";
    pub const PROPOSAL_CREATED_TOO_LONG_AGO: &str = "ProposalCreatedTooLongAgo";
    pub const PROPOSAL_FAILED_TO_VALIDATE: &str = "ProposalFailedToValidate";
    pub const PROPOSAL_NOT_FOUND: &str = "ProposalNotFound";
    pub const PROPOSAL_NOT_OPEN: &str = "ProposalNotOpen";
    pub const PROPOSAL_REPLAY: &str = "ProposalReplay";
    pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFound";
    pub const STATE_DIGEST_MISMATCH: &str = "StateDigestMismatch";
    pub const VOTE_ALREADY_EXISTS: &str = "VoteAlreadyExists";
    pub const VOTE_NOT_FOUND: &str = "VoteNotFound";
}

/// 400 with `code`.
pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(400, code, message)
}

/// 403 `AuthorizationFailed`.
pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(403, codes::AUTHORIZATION_FAILED, message)
}

/// 404 with `code`.
pub(crate) fn not_found(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(404, code, message)
}

/// 500 `InternalError`: what CCF answers for thrown exceptions and broken state.
pub(crate) fn internal_error(message: impl Into<String>) -> ApiError {
    ApiError::new(500, codes::INTERNAL_ERROR, message)
}
