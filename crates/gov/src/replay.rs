//! The replay window of proposal submissions over `public:ccf.gov.cose_recent_proposals`
//! (spec/ccf-api.md §3 "Proposal IDs and replay protection"; CCF's
//! `validate_proposal_submission_time`).
//!
//! Keys are `"<created_at, 10 digits>:<hex SHA-256 of the signature>"`, so that sorting them as
//! text sorts them by signing time. A submission is refused when its key is already present
//! (a replay), or when its `created_at` sorts below the median key's (too old: this bounds how
//! far back a captured request can be replayed once its key has been evicted). No clock is
//! involved: the window moves with the members' own signing times.

use cloister_crypto::Sha256Hash;
use cloister_kv::Tx;
use cloister_types::ApiError;
use serde::Deserialize;

use crate::error::{GovError, bad_request, codes};
use crate::ids::ProposalId;
use crate::kv_json::{get_json, put_json};
use crate::tables;

/// Keys kept when `service.config` does not say (`recent_cose_proposals_window_size`).
pub const RECENT_COSE_PROPOSALS_WINDOW_SIZE_DEFAULT: usize = 100;

/// The replay-window key of a submission.
pub fn replay_key(created_at_text: &str, signature_digest: &Sha256Hash) -> String {
    format!("{created_at_text}:{}", signature_digest.to_hex())
}

/// Admits the submission with `key` (see [`replay_key`]) for `proposal_id`, or refuses it with
/// 400 `ProposalReplay` / `ProposalCreatedTooLongAgo`. On success the key is recorded and the
/// oldest keys are evicted so that at most the window size remain; on refusal nothing is
/// written.
pub fn admit_submission(tx: &mut Tx, key: &str, proposal_id: &ProposalId) -> Result<(), ApiError> {
    if let Some(colliding) = get_json::<String>(tx, tables::COSE_RECENT_PROPOSALS, key.as_bytes())?
    {
        return Err(bad_request(
            codes::PROPOSAL_REPLAY,
            format!("Proposal submission replay, already exists as proposal {colliding}"),
        ));
    }
    // The table iterates in key order, which is the lexical order CCF sorts into.
    let keys: Vec<Vec<u8>> = tx
        .iter(tables::COSE_RECENT_PROPOSALS)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    if let Some(median) = keys.get(keys.len() / 2) {
        let min_created_at = timestamp_part(median);
        if timestamp_part(key.as_bytes()) < min_created_at {
            return Err(bad_request(
                codes::PROPOSAL_CREATED_TOO_LONG_AGO,
                format!(
                    "Proposal created too long ago, created_at must be greater than {}",
                    String::from_utf8_lossy(min_created_at)
                ),
            ));
        }
    }
    let window_size = window_size(tx)?;
    put_json(
        tx,
        tables::COSE_RECENT_PROPOSALS,
        key.as_bytes(),
        &proposal_id.as_str(),
    )?;
    for old in keys_to_evict(&keys, window_size) {
        tx.remove(tables::COSE_RECENT_PROPOSALS, old.clone());
    }
    Ok(())
}

/// `service.config.recent_cose_proposals_window_size`, or the default.
pub fn window_size(tx: &mut Tx) -> Result<usize, GovError> {
    #[derive(Deserialize)]
    struct Config {
        recent_cose_proposals_window_size: Option<usize>,
    }
    let config: Option<Config> = get_json(tx, tables::SERVICE_CONFIG, &tables::SINGLETON_KEY)?;
    Ok(config
        .and_then(|c| c.recent_cose_proposals_window_size)
        .unwrap_or(RECENT_COSE_PROPOSALS_WINDOW_SIZE_DEFAULT))
}

/// The oldest of the keys present before the new one was added, so that `window_size` remain
/// with it. (A window of 0, which the constitution refuses to set, evicts nothing, as in CCF.)
fn keys_to_evict(sorted_old_keys: &[Vec<u8>], window_size: usize) -> &[Vec<u8>] {
    let Some(keep_old) = window_size.checked_sub(1) else {
        return &[];
    };
    let evict = sorted_old_keys.len().saturating_sub(keep_old);
    &sorted_old_keys[..evict]
}

/// The text before the first ':' (all of it if there is none), as CCF's `split_1`.
fn timestamp_part(key: &[u8]) -> &[u8] {
    key.split(|b| *b == b':').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("{i:010}:x").into_bytes()).collect()
    }

    #[test]
    fn eviction_keeps_window_size_keys_including_the_new_one() {
        assert_eq!(keys_to_evict(&keys(3), 4).len(), 0);
        assert_eq!(keys_to_evict(&keys(3), 3).len(), 1);
        assert_eq!(keys_to_evict(&keys(5), 3), &keys(5)[..3]);
        assert_eq!(keys_to_evict(&keys(5), 1).len(), 5);
        assert_eq!(keys_to_evict(&keys(5), 0).len(), 0);
    }

    #[test]
    fn timestamp_part_is_before_the_colon() {
        assert_eq!(timestamp_part(b"0000000001:ab"), b"0000000001");
        assert_eq!(timestamp_part(b"nocolon"), b"nocolon");
    }
}
