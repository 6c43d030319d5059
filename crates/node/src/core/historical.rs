//! Historical queries of JavaScript endpoints (spec/ccf-js.md §3.7, §4.4; spec/ccf-api.md §1.0
//! "Historical-query semantics"): CCF's `read_write_adapter_v4` for `mode: "historical"`
//! endpoints, and the node's side of `ccf.historical.getStateRange`.
//!
//! A historical state is built from the entry at the seqno, its write set decrypted with the
//! ledger secrets (`cloister_kv::read_write_set`: only what that transaction wrote, as CCF's
//! historical store), and its receipt (`ReceiptIndex`) in CCF's JavaScript shape. The entry comes
//! from consensus's in-memory log while Raft holds it; once Raft has compacted it away, the node
//! asks its host to read it back from the ledger files ([`Output::ReadLedger`]) and answers 202
//! meanwhile, as CCF does. An entry read back is used only if its SHA-256 is the write-set digest
//! of that seqno's Merkle leaf, which the node keeps for the last
//! [`RECEIPT_INDEX_TRANSACTIONS_MAX`] transactions; older ones get a 501 naming the reason. A read
//! the host fails (or never answers) turns into a 500 for the query that needed it.

use cloister_crypto::sha256;
use cloister_js::{EndpointMode, HistoricalState};
use cloister_kv::read_write_set;
use cloister_merkle::{Receipt, ReceiptContents};
use cloister_types::{ApiError, SeqNo, TxId, TxStatus};
use serde_json::{Value, json};

use super::historical_fetch::Lookup;
use crate::core::execute::TRANSACTION_ID_HEADER;
use crate::core::{NodeCore, Output};
use crate::endpoints::common::status_name;
use crate::error::NodeError;
use crate::receipt_index::RECEIPT_INDEX_TRANSACTIONS_MAX;
use crate::rpc::Response;

/// Why a committed transaction's state cannot be built now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// No signature covers it yet: CCF's "fetching" answer (202) fits.
    NotYetSigned,
    /// Its entry is being read back from the ledger files: 202.
    Fetching,
    /// Its entry or receipt material is no longer held in memory.
    NotHeld(String),
    /// Anything else (a damaged entry, a missing ledger secret).
    Failed(String),
}

impl NodeCore {
    /// Before every JavaScript request: builds the ranges earlier requests asked for, forgets
    /// expired ones, and, for a `mode: "historical"` endpoint, finds its target transaction
    /// from the `x-ms-ccf-transaction-id` header. `Err` is the answer CCF's adapter gives
    /// instead of running the handler.
    pub(crate) fn prepare_historical(
        &mut self,
        request: &crate::rpc::Request,
        mode: EndpointMode,
    ) -> Result<(), Response> {
        self.historical.set_target(None);
        self.historical.expire(self.now_ms);
        self.historical.fetches.expire(self.now_ms);
        self.fetch_historical_ranges();
        if mode != EndpointMode::Historical {
            return Ok(());
        }
        let txid = target_tx_id(request).map_err(|error| Response::error(&error))?;
        match self.statuses.status(txid) {
            TxStatus::Committed => {}
            TxStatus::Invalid => {
                return Err(Response::error(&ApiError::new(
                    404,
                    "TransactionInvalid",
                    not_committed(txid, TxStatus::Invalid),
                )));
            }
            status => {
                let mut response = Response::error(&ApiError::new(
                    404,
                    "TransactionPendingOrUnknown",
                    not_committed(txid, status),
                ));
                response
                    .headers
                    .push(("cache-control".to_owned(), "no-cache".to_owned()));
                return Err(response);
            }
        }
        let state = self
            .ensure_entries(txid.seqno, txid.seqno)
            .and_then(|()| self.historical_state(txid.seqno));
        match state {
            Ok(state) => {
                self.historical.set_target(Some(state));
                Ok(())
            }
            Err(Unavailable::NotYetSigned | Unavailable::Fetching) => Err(fetching(txid)),
            Err(Unavailable::NotHeld(reason)) => Err(Response::error(&ApiError::new(
                501,
                "NotImplemented",
                format!("Historical transaction {txid} cannot be served: {reason}"),
            ))),
            Err(Unavailable::Failed(reason)) => Err(Response::error(&ApiError::new(
                500,
                "TransactionPendingOrUnknown",
                format!("Historical transaction {txid} failed with error: {reason}"),
            ))),
        }
    }

    /// Builds every range `getStateRange` asked for whose entries are all at hand (asking the
    /// host to read back the ones consensus no longer holds). A range that cannot be built is
    /// stored as a failure, thrown at the next call, rather than left fetching for ever.
    pub(crate) fn fetch_historical_ranges(&mut self) {
        for (handle, start, end) in self.historical.pending() {
            let fetched = match self.historical_range(start, end) {
                Ok(states) => Ok(states),
                Err(Unavailable::Fetching) => continue,
                Err(Unavailable::NotYetSigned) => {
                    Err(format!("seqnos {start} to {end} are not all signed yet"))
                }
                Err(Unavailable::NotHeld(reason) | Unavailable::Failed(reason)) => Err(reason),
            };
            self.historical.fulfil(handle, fetched);
        }
    }

    /// After a request: starts the work for ranges it asked for (a cheap check otherwise).
    pub(crate) fn fetch_new_historical_ranges(&mut self) {
        if self.historical.take_asked() {
            self.fetch_historical_ranges();
        }
    }

    fn historical_range(
        &mut self,
        start: SeqNo,
        end: SeqNo,
    ) -> Result<Vec<HistoricalState>, Unavailable> {
        let committed = self.statuses.committed().seqno;
        if end > committed {
            return Err(Unavailable::Failed(format!(
                "seqno {end} is not committed (the last committed seqno is {committed})"
            )));
        }
        self.ensure_entries(start, end)?;
        (start.0..=end.0)
            .map(|seqno| self.historical_state(SeqNo(seqno)))
            .collect()
    }

    /// Makes sure the committed entries `start..=end` are at hand: held by consensus, or read
    /// back and verified. Asks the host to read the missing ones (`Fetching`); reports a failed
    /// read once (`Failed`); `NotHeld` if an entry could not be verified once read back.
    fn ensure_entries(&mut self, start: SeqNo, end: SeqNo) -> Result<(), Unavailable> {
        let now_ms = self.now_ms;
        let mut missing: Vec<(SeqNo, SeqNo)> = Vec::new();
        let mut reading = false;
        let mut failed = None;
        for seqno in (start.0..=end.0).map(SeqNo) {
            if self.raft.entry(seqno).is_some() {
                continue;
            }
            match self.historical.fetches.lookup(seqno, now_ms) {
                Lookup::Held(_) => {}
                Lookup::Reading => reading = true,
                Lookup::Failed(reason) => {
                    failed.get_or_insert(reason);
                }
                Lookup::Missing => {
                    if self.receipts.write_set_digest(seqno).is_none() {
                        return Err(Unavailable::NotHeld(format!(
                            "the entry at seqno {seqno} is no longer held in memory (consensus \
                             compacted its log below seqno {}) and is older than the last \
                             {RECEIPT_INDEX_TRANSACTIONS_MAX} transactions whose digests the \
                             node keeps to check entries read back from the ledger files",
                            self.raft.first_held_seqno()
                        )));
                    }
                    match missing.last_mut() {
                        Some((_, to)) if to.next() == seqno => *to = seqno,
                        _ => missing.push((seqno, seqno)),
                    }
                }
            }
        }
        if let Some(reason) = failed {
            return Err(Unavailable::Failed(reason));
        }
        for (from, to) in &missing {
            for (from, to) in self.historical.fetches.start_reads(*from, *to, now_ms) {
                self.outputs.push_back(Output::ReadLedger { from, to });
            }
        }
        if reading || !missing.is_empty() {
            return Err(Unavailable::Fetching);
        }
        Ok(())
    }

    /// The host's answer to `ReadLedger { from, to }`: entries that match the node's Merkle
    /// history are kept for historical queries; anything else is recorded as a failure for the
    /// query that needs it. Ranges waiting for these entries are then built.
    pub(crate) fn on_ledger_entries(
        &mut self,
        from: SeqNo,
        to: SeqNo,
        entries: Result<Vec<Vec<u8>>, String>,
    ) {
        let now_ms = self.now_ms;
        if !self.historical.fetches.finish_read(from, to) {
            return;
        }
        let fetches = &mut self.historical.fetches;
        match entries {
            Err(reason) => fetches.fail(
                from,
                to,
                format!(
                    "the host could not read seqnos {from} to {to} back from the ledger files: \
                     {reason}"
                ),
                now_ms,
            ),
            Ok(entries) if entries.len() as u64 != to.0 - from.0 + 1 => fetches.fail(
                from,
                to,
                format!(
                    "the host read {} entries back from the ledger files for seqnos {from} to \
                     {to}",
                    entries.len()
                ),
                now_ms,
            ),
            Ok(entries) => {
                for (seqno, entry) in (from.0..=to.0).map(SeqNo).zip(entries) {
                    match self.receipts.write_set_digest(seqno) {
                        Some(expected) if sha256(&entry) == expected => {
                            self.historical.fetches.keep(seqno, entry, now_ms);
                        }
                        expected => {
                            let reason = match expected {
                                Some(expected) => format!(
                                    "the entry read back from the ledger files at seqno \
                                     {seqno} does not match the node's Merkle history (SHA-256 \
                                     {}, where its leaf says {}): refused",
                                    sha256(&entry).to_hex(),
                                    expected.to_hex()
                                ),
                                None => format!(
                                    "seqno {seqno} is no longer held for checking entries read \
                                     back from the ledger files"
                                ),
                            };
                            self.historical.fetches.fail(seqno, seqno, reason, now_ms);
                        }
                    }
                }
            }
        }
        self.fetch_historical_ranges();
    }

    /// The state of the committed transaction at `seqno`, whose entry is at hand
    /// ([`NodeCore::ensure_entries`]).
    pub(crate) fn historical_state(&self, seqno: SeqNo) -> Result<HistoricalState, Unavailable> {
        let entry = self
            .raft
            .entry(seqno)
            .map(|entry| entry.data.as_slice())
            .or_else(|| self.historical.fetches.entry(seqno))
            .ok_or_else(|| {
                Unavailable::NotHeld(format!(
                    "the entry at seqno {seqno} is neither held in memory nor read back"
                ))
            })?;
        let write_set = read_write_set(self.store.secrets(), entry)
            .map_err(|error| Unavailable::Failed(error.to_string()))?;
        let receipt = self
            .receipts
            .receipt(seqno, self.statuses.committed().seqno)
            .map_err(|error| match error {
                NodeError::NotYetSigned(_) => Unavailable::NotYetSigned,
                NodeError::Invalid(reason) if reason.contains("held") => {
                    Unavailable::NotHeld(reason)
                }
                other => Unavailable::Failed(other.to_string()),
            })?;
        Ok(HistoricalState {
            tx_id: write_set.tx_id,
            receipt_json: js_receipt(&receipt).to_string(),
            tables: write_set.tables,
        })
    }
}

/// The target from the header, with CCF's errors (`txid_from_header`).
fn target_tx_id(request: &crate::rpc::Request) -> Result<TxId, ApiError> {
    let Some(value) = request.header(TRANSACTION_ID_HEADER) else {
        return Err(ApiError::new(
            400,
            "MissingRequiredHeader",
            format!("Historical query is missing '{TRANSACTION_ID_HEADER}' header."),
        ));
    };
    value.parse::<TxId>().map_err(|_| {
        ApiError::new(
            400,
            "InvalidHeaderValue",
            format!(
                "The value '{value}' in header '{TRANSACTION_ID_HEADER}' could not be converted \
                 to a valid Tx ID."
            ),
        )
    })
}

fn not_committed(txid: TxId, status: TxStatus) -> String {
    format!(
        "Only committed transactions can be queried. Transaction {txid} is {}",
        status_name(status)
    )
}

/// CCF's answer while a historical state is being fetched.
fn fetching(txid: TxId) -> Response {
    let mut response = Response::with_body(
        202,
        "text/plain",
        format!("Historical transaction {txid} is not currently available.").into_bytes(),
    );
    response
        .headers
        .push(("retry-after".to_owned(), "3".to_owned()));
    response
}

/// A receipt in the shape CCF's runtime gives JavaScript (`ccf_receipt_to_js`, from
/// `describe_receipt_v2`): `signature`, `cert`, `node_id`, `is_signature_transaction`, then
/// `leaf_components` and `proof` for a transaction, or `root_hex` for a signature transaction.
pub(crate) fn js_receipt(receipt: &Receipt) -> Value {
    let mut out = json!({
        "signature": receipt.signature,
        "cert": receipt.cert,
        "node_id": receipt.node_id,
    });
    match &receipt.contents {
        ReceiptContents::Components(components) => {
            out["is_signature_transaction"] = json!(false);
            out["leaf_components"] = json!(components);
            out["proof"] = json!(receipt.proof);
        }
        ReceiptContents::Leaf(root) => {
            out["is_signature_transaction"] = json!(true);
            out["root_hex"] = json!(root.to_hex());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::Request;
    use cloister_crypto::Sha256Hash;
    use cloister_merkle::{LeafComponents, ProofElement};

    fn with_header(value: Option<&str>) -> Request {
        Request {
            headers: value
                .map(|v| vec![(TRANSACTION_ID_HEADER.to_owned(), v.to_owned())])
                .unwrap_or_default(),
            ..Request::default()
        }
    }

    #[test]
    fn the_target_comes_from_the_header_with_ccfs_errors() {
        assert_eq!(
            target_tx_id(&with_header(Some("2.15"))).unwrap(),
            TxId::new(2, 15)
        );
        let missing = target_tx_id(&with_header(None)).unwrap_err();
        assert_eq!(
            (
                missing.status,
                missing.code.as_str(),
                missing.message.as_str()
            ),
            (
                400,
                "MissingRequiredHeader",
                "Historical query is missing 'x-ms-ccf-transaction-id' header."
            )
        );
        let bad = target_tx_id(&with_header(Some("2-15"))).unwrap_err();
        assert_eq!((bad.status, bad.code.as_str()), (400, "InvalidHeaderValue"));
        assert_eq!(
            bad.message,
            "The value '2-15' in header 'x-ms-ccf-transaction-id' could not be converted to a \
             valid Tx ID."
        );
    }

    #[test]
    fn receipts_take_the_javascript_shape() {
        let components = LeafComponents {
            claims_digest: Some(Sha256Hash([0; 32])),
            commit_evidence: "ce:2.3:ab".to_owned(),
            write_set_digest: Sha256Hash([1; 32]),
        };
        let receipt = Receipt {
            cert: "PEM".to_owned(),
            is_signature_transaction: None,
            contents: ReceiptContents::Components(components),
            node_id: "n".to_owned(),
            proof: vec![ProofElement::Left(Sha256Hash([2; 32]))],
            service_endorsements: Vec::new(),
            signature: "c2ln".to_owned(),
        };
        assert_eq!(
            js_receipt(&receipt),
            json!({
                "signature": "c2ln", "cert": "PEM", "node_id": "n",
                "is_signature_transaction": false,
                "leaf_components": {
                    "claims_digest": "00".repeat(32),
                    "commit_evidence": "ce:2.3:ab",
                    "write_set_digest": "01".repeat(32),
                },
                "proof": [{"left": "02".repeat(32)}],
            })
        );
        let signature = Receipt {
            contents: ReceiptContents::Leaf(Sha256Hash([3; 32])),
            proof: Vec::new(),
            ..receipt
        };
        assert_eq!(
            js_receipt(&signature),
            json!({
                "signature": "c2ln", "cert": "PEM", "node_id": "n",
                "is_signature_transaction": true,
                "root_hex": "03".repeat(32),
            })
        );
    }
}
