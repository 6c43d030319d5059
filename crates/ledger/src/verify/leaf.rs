//! The Merkle leaf of a ledger entry, for every entry type CCF has written (§3.1).

use cloister_crypto::{Sha256Hash, sha256_concat};

use crate::public_domain::PublicHeader;

/// CCF 6 (type 4): SHA-256(write-set digest ‖ commit-evidence digest ‖ claims digest). Legacy
/// types drop the parts they lack; with neither, the leaf is the write-set digest itself.
pub fn entry_leaf(header: &PublicHeader, write_set_digest: &Sha256Hash) -> Sha256Hash {
    match (&header.commit_evidence_digest, &header.claims_digest) {
        (Some(evidence), Some(claims)) => {
            sha256_concat(&[&write_set_digest.0, &evidence.0, &claims.0])
        }
        (Some(evidence), None) => sha256_concat(&[&write_set_digest.0, &evidence.0]),
        (None, Some(claims)) => sha256_concat(&[&write_set_digest.0, &claims.0]),
        (None, None) => *write_set_digest,
    }
}
