//! Commit evidence: a per-transaction string derived from the ledger secret, whose digest goes
//! into the public header and whose text is revealed only in receipts of committed transactions
//! (spec/ccf-internals.md §3.1–§3.2).

use cloister_crypto::{Sha256Hash, hmac_sha256, sha256};
use cloister_types::TxId;

use crate::secrets::LedgerSecret;

/// `"ce:{view}.{seqno}:{hex(nonce)}"` with nonce = HMAC(commit secret, "view.seqno") (§3.2).
pub fn commit_evidence(secret: &LedgerSecret, tx_id: TxId) -> String {
    let nonce = hmac_sha256(secret.commit_secret(), tx_id.to_string().as_bytes());
    // The nonce is 32 bytes, so Sha256Hash's lowercase hex is exactly CCF's rendering.
    format!("ce:{tx_id}:{}", Sha256Hash(nonce).to_hex())
}

/// SHA-256 of the commit-evidence string, as stored in the public header (§2.3).
pub fn commit_evidence_digest(secret: &LedgerSecret, tx_id: TxId) -> Sha256Hash {
    sha256(commit_evidence(secret, tx_id).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_evidence_matches_spec_worked_example() {
        let secret = LedgerSecret::new(std::array::from_fn(|i| i as u8));
        assert_eq!(
            commit_evidence(&secret, TxId::new(2, 5)),
            "ce:2.5:187ceea26f3f7d44a5e204750ce5782e98493a457a60d17119486e8bf7f211ea"
        );
        let digest = commit_evidence_digest(&secret, TxId::new(2, 5)).to_hex();
        assert!(
            digest.starts_with("d13711bf") && digest.ends_with("94cee58d"),
            "{digest}"
        );
    }
}
