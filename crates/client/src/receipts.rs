//! Receipts (spec/ccf-api.md §8): fetch `GET /{app,gov,node}/receipt?transaction_id=v.s` and
//! verify it offline against the service certificate.
//!
//! Receipts are historical queries (§1.0): a node that has not yet loaded the transaction
//! answers 202 with `retry-after`, and one that has not yet seen it committed answers 404
//! `TransactionPendingOrUnknown`. Both are transient, so both are retried until the deadline.

use std::time::Duration;

use tokio::time::Instant;

use cloister_crypto::{Certificate, Sha256Hash};
use cloister_merkle::Receipt;
use cloister_types::TxId;

use crate::connection::{Client, Response};
use crate::error::ClientError;
use crate::gov::expect_success;
use crate::tx_status::{TX_POLL_INTERVAL_MS, millis};

/// Longest `retry-after` honoured; CCF sends 3 s (§0 headers). A larger value is capped so a
/// misbehaving server cannot stall the client past its own deadline logic.
const RETRY_AFTER_MAX_MS: u64 = 10_000;
/// Pause after `retry-after: 0`, so a server that always says "now" is not hammered.
const RETRY_AFTER_MIN_MS: u64 = 20;

/// Which frontend to ask: each serves `/receipt` for every transaction (§1.0). `/app` opens
/// only once the service is Open; `/node` and `/gov` earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Frontend {
    #[default]
    App,
    Gov,
    Node,
}

impl Frontend {
    pub fn prefix(self) -> &'static str {
        match self {
            Frontend::App => "/app",
            Frontend::Gov => "/gov",
            Frontend::Node => "/node",
        }
    }
}

/// A receipt that verified, and the Merkle root its node signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub receipt: Receipt,
    pub root: Sha256Hash,
}

impl Client {
    /// Fetches the receipt of `tx_id`, retrying 202 (after `retry-after`) and 404
    /// `TransactionPendingOrUnknown` until `timeout`. The receipt is parsed, not verified.
    pub async fn receipt(
        &self,
        frontend: Frontend,
        tx_id: TxId,
        timeout: Duration,
    ) -> Result<Receipt, ClientError> {
        let path = format!("{}/receipt?transaction_id={tx_id}", frontend.prefix());
        let deadline = Instant::now() + timeout;
        loop {
            let response = self.get(&path).await?;
            let pause_ms = match retry_pause_ms(&response) {
                None => break fetched_receipt(response, &path),
                Some(pause_ms) => pause_ms,
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(gave_up(response, &path, timeout));
            }
            tokio::time::sleep_until(deadline.min(now + Duration::from_millis(pause_ms))).await;
        }
    }

    /// Fetches the receipt of `tx_id` and verifies it against `service_cert`.
    pub async fn verified_receipt(
        &self,
        frontend: Frontend,
        tx_id: TxId,
        service_cert: &Certificate,
        timeout: Duration,
    ) -> Result<VerifiedReceipt, ClientError> {
        let receipt = self.receipt(frontend, tx_id, timeout).await?;
        let root = receipt.verify(service_cert)?;
        Ok(VerifiedReceipt { receipt, root })
    }
}

/// Verifies receipt JSON (v1 or v2) against a service certificate PEM (§8 "Verification"):
/// recomputes the root from the leaf and proof, checks the node's signature over it, and checks
/// that the node certificate is endorsed by the service (through `service_endorsements`).
pub fn verify_receipt_json(
    receipt_json: &str,
    service_cert_pem: &str,
) -> Result<VerifiedReceipt, ClientError> {
    let service_cert =
        Certificate::from_pem(service_cert_pem).map_err(|e| ClientError::Credentials {
            what: "service certificate",
            why: e.to_string(),
        })?;
    let receipt = Receipt::from_json(receipt_json)?;
    let root = receipt.verify(&service_cert)?;
    Ok(VerifiedReceipt { receipt, root })
}

/// How long to wait before asking again, or `None` when the answer is final.
fn retry_pause_ms(response: &Response) -> Option<u64> {
    match response.status {
        202 => {
            let seconds = response
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(1);
            Some(
                seconds
                    .saturating_mul(1000)
                    .clamp(RETRY_AFTER_MIN_MS, RETRY_AFTER_MAX_MS),
            )
        }
        404 if response.api_error().code == "TransactionPendingOrUnknown" => {
            Some(TX_POLL_INTERVAL_MS)
        }
        _ => None,
    }
}

/// Still not available at the deadline: a 202 becomes a timeout, a 404 the node's own error
/// (it says why: pending, or unknown).
fn gave_up(response: Response, path: &str, timeout: Duration) -> ClientError {
    if response.status == 202 {
        return ClientError::Timeout {
            what: "receipt",
            after_ms: millis(timeout),
        };
    }
    ClientError::Service {
        method: "GET".into(),
        path: path.to_owned(),
        error: Box::new(response.api_error()),
    }
}

fn fetched_receipt(response: Response, path: &str) -> Result<Receipt, ClientError> {
    let response = expect_success(response, "GET", path)?;
    let text =
        std::str::from_utf8(&response.body).map_err(|e| ClientError::UnexpectedResponse {
            path: path.to_owned(),
            why: format!("receipt is not UTF-8: {e}"),
        })?;
    Ok(Receipt::from_json(text)?)
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;

    fn response(status: u16, headers: &[(&'static str, &'static str)], body: &[u8]) -> Response {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        Response {
            status,
            headers: map,
            body: body.to_vec(),
        }
    }

    #[test]
    fn accepted_is_retried_after_retry_after_seconds_within_bounds() {
        assert_eq!(
            retry_pause_ms(&response(202, &[("retry-after", "3")], b"")),
            Some(3000)
        );
        assert_eq!(
            retry_pause_ms(&response(202, &[("retry-after", "0")], b"")),
            Some(RETRY_AFTER_MIN_MS)
        );
        assert_eq!(
            retry_pause_ms(&response(202, &[("retry-after", "99999999999999999")], b"")),
            Some(RETRY_AFTER_MAX_MS)
        );
        assert_eq!(retry_pause_ms(&response(202, &[], b"")), Some(1000));
    }

    #[test]
    fn pending_is_retried_but_invalid_and_success_are_final() {
        let pending = br#"{"error":{"code":"TransactionPendingOrUnknown","message":"Pending"}}"#;
        assert_eq!(
            retry_pause_ms(&response(404, &[], pending)),
            Some(TX_POLL_INTERVAL_MS)
        );
        let invalid = br#"{"error":{"code":"TransactionInvalid","message":"Invalid"}}"#;
        assert_eq!(retry_pause_ms(&response(404, &[], invalid)), None);
        assert_eq!(retry_pause_ms(&response(200, &[], b"{}")), None);
    }
}
