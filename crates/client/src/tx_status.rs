//! Commit polling (spec/ccf-api.md §2): a write answers at once with its transaction id; the
//! client polls `GET /node/tx` until the id is Committed (success) or Invalid (rolled back by an
//! election: resubmit). `/node` is used because it is open before the service is.

use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use cloister_types::{TxId, TxStatus};

use crate::connection::Client;
use crate::error::ClientError;
use crate::gov::{expect_success, parse_json};

/// Pause between two polls. CCF's own test infrastructure polls every 0.1 s; commits take a
/// signature interval or so.
pub const TX_POLL_INTERVAL_MS: u64 = 50;

#[derive(Deserialize)]
struct TxStatusBody {
    transaction_id: TxId,
    status: TxStatus,
}

impl Client {
    /// `GET /node/tx?transaction_id=…`: this node's view of the transaction's status.
    pub async fn tx_status(&self, tx_id: TxId) -> Result<TxStatus, ClientError> {
        let path = format!("/node/tx?transaction_id={tx_id}");
        let response = expect_success(self.get(&path).await?, "GET", &path)?;
        let body: TxStatusBody = parse_json(&response, &path)?;
        if body.transaction_id != tx_id {
            return Err(ClientError::UnexpectedResponse {
                path,
                why: format!("status is for {}, not {tx_id}", body.transaction_id),
            });
        }
        Ok(body.status)
    }

    /// Polls until `tx_id` is Committed. Invalid gives [`ClientError::TxInvalid`]; still
    /// Unknown or Pending after `timeout` gives [`ClientError::CommitTimeout`].
    pub async fn wait_for_commit(&self, tx_id: TxId, timeout: Duration) -> Result<(), ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.tx_status(tx_id).await? {
                TxStatus::Committed => return Ok(()),
                TxStatus::Invalid => return Err(ClientError::TxInvalid(tx_id)),
                status @ (TxStatus::Unknown | TxStatus::Pending) => {
                    if Instant::now() >= deadline {
                        return Err(ClientError::CommitTimeout {
                            tx_id,
                            last_status: status,
                            after_ms: millis(timeout),
                        });
                    }
                }
            }
            let pause = Duration::from_millis(TX_POLL_INTERVAL_MS);
            tokio::time::sleep_until(deadline.min(Instant::now() + pause)).await;
        }
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
