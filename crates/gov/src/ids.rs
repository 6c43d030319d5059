//! Proposal ids, and the checks CCF applies to ids in `/gov` paths (`src/node/gov/handlers/
//! helpers.h`: 64 hex characters, either case, else 400 `InvalidResourceName`).

use std::fmt;

use cloister_crypto::{Sha256Hash, sha256, sha256_concat};
use cloister_types::ApiError;

use crate::error::{bad_request, codes};

/// A proposal id: 64 hex characters. Ids this service derives are lowercase; ids from paths
/// keep the case they came in (CCF's parser accepts either, and then compares them as text).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProposalId(String);

impl ProposalId {
    /// `hex(SHA-256(root ‖ SHA-256(signature)))`: bound to the state the proposal was created
    /// at and to the exact signature (spec/ccf-api.md §3 "Proposal IDs").
    pub fn derive(root_at_read_version: &Sha256Hash, signature: &[u8]) -> ProposalId {
        let request_digest = sha256(signature);
        ProposalId(
            sha256_concat(&[root_at_read_version.as_bytes(), request_digest.as_bytes()]).to_hex(),
        )
    }

    /// A `{proposalId}` path parameter.
    pub fn from_path(text: &str) -> Result<ProposalId, ApiError> {
        check_hex_id(text, "proposal").map(|()| ProposalId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProposalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `{memberId}` path parameter, checked as CCF checks it (either case; not yet compared with
/// anything).
pub fn member_id_from_path(text: &str) -> Result<&str, ApiError> {
    check_hex_id(text, "member").map(|()| text)
}

/// 400 `InvalidResourceName` "'x' is not a valid hex-encoded <kind> ID" unless `text` is 64
/// hex characters.
fn check_hex_id(text: &str, kind: &str) -> Result<(), ApiError> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(bad_request(
            codes::INVALID_RESOURCE_NAME,
            format!("'{text}' is not a valid hex-encoded {kind} ID"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposal_id_hashes_the_root_then_the_signature_digest() {
        // Computed by hand: python3 -c "import hashlib; r=bytes(range(32)); s=b'sig';
        //   print(hashlib.sha256(r + hashlib.sha256(s).digest()).hexdigest())"
        let root = Sha256Hash(core::array::from_fn(|i| i as u8));
        assert_eq!(
            ProposalId::derive(&root, b"sig").as_str(),
            "4a5699199b9596212e6a04ae7d271ea9f547129a73d5a34b2ab78f918ee7e00a"
        );
    }

    #[test]
    fn path_ids_are_64_hex_characters_of_either_case() {
        assert!(ProposalId::from_path(&"aB".repeat(32)).is_ok());
        assert_eq!(
            member_id_from_path(&"0f".repeat(32)).unwrap(),
            "0f".repeat(32)
        );
        let error = ProposalId::from_path("xyz").unwrap_err();
        assert_eq!(
            (error.status, error.code.as_str(), error.message.as_str()),
            (
                400,
                "InvalidResourceName",
                "'xyz' is not a valid hex-encoded proposal ID"
            )
        );
        let error = member_id_from_path(&"g".repeat(64)).unwrap_err();
        assert!(
            error
                .message
                .ends_with("is not a valid hex-encoded member ID")
        );
    }
}
