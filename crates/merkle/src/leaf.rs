//! The Merkle leaf of a transaction (spec/ccf-internals.md §3.1), the one place it is computed:
//! receipts, the ledger verifier and the store all call this.

use cloister_crypto::{Sha256Hash, sha256_concat};

/// CCF 6 (entry type 4): SHA-256(write-set digest ‖ commit-evidence digest ‖ claims digest).
/// Older entry types drop the parts they lack; with neither, the leaf is the write-set digest
/// itself (not re-hashed).
pub fn leaf_from_digests(
    write_set_digest: &Sha256Hash,
    commit_evidence_digest: Option<&Sha256Hash>,
    claims_digest: Option<&Sha256Hash>,
) -> Sha256Hash {
    let wsd = &write_set_digest.0;
    match (commit_evidence_digest, claims_digest) {
        (Some(evidence), Some(claims)) => sha256_concat(&[wsd, &evidence.0, &claims.0]),
        (Some(evidence), None) => sha256_concat(&[wsd, &evidence.0]),
        (None, Some(claims)) => sha256_concat(&[wsd, &claims.0]),
        (None, None) => *write_set_digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_matches_the_worked_example_of_the_spec() {
        // spec/ccf-internals.md §2.5.
        let wsd = Sha256Hash::from_hex(
            "6087f6b5e134a05b5d035076a95b16b39a5f56ba3386beaf1b53cc8cc125e682",
        )
        .unwrap();
        let evidence = cloister_crypto::sha256(
            b"ce:2.5:187ceea26f3f7d44a5e204750ce5782e98493a457a60d17119486e8bf7f211ea",
        );
        let leaf = leaf_from_digests(&wsd, Some(&evidence), Some(&Sha256Hash([0; 32])));
        assert_eq!(
            leaf.to_hex(),
            "18915044fea7914d49452795482f4c312f49a6ba487a47706ad5a11cfbf7c7fe"
        );
        assert_eq!(leaf_from_digests(&wsd, None, None), wsd);
    }
}
