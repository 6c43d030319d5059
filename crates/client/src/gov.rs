//! Typed calls of the governance API, api-version 2024-07-01 (spec/ccf-api.md §1.2, §3): every
//! write is a COSE_Sign1 signed by the member, sent as `application/cose`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use cloister_types::{MemberId, TxId};

use crate::connection::{Client, Response};
use crate::cose_sign::{GovMessage, GovMsgType, MemberSigner};
use crate::error::ClientError;

/// The governance API version these helpers speak.
pub const GOV_API_VERSION: &str = "2024-07-01";
/// A ballot that accepts whatever it is asked about (§3 "Formats").
pub const BALLOT_ACCEPT: &str = "export function vote (rawProposal, proposerId) { return true; }";
/// A ballot that refuses whatever it is asked about.
pub const BALLOT_REJECT: &str = "export function vote (rawProposal, proposerId) { return false; }";

/// `content-type` of a signed governance request; CCF wants exactly this (§3).
const COSE_CONTENT_TYPE: &str = "application/cose";

/// `ProposalState` (§3 "Lifecycle").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProposalState {
    Open,
    Accepted,
    Withdrawn,
    Rejected,
    Failed,
    Dropped,
}

/// A proposal as the 2024-07-01 API returns it (§1.2 "Response shapes").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    pub proposal_id: String,
    pub proposer_id: String,
    pub proposal_state: ProposalState,
    pub ballot_count: u64,
    /// Present once the proposal has left Open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_votes: Option<BTreeMap<String, bool>>,
    /// `{memberId: {reason, trace?}}`, present once the proposal has left Open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_failures: Option<serde_json::Value>,
    /// `{reason, trace?}` when the proposal Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<serde_json::Value>,
}

/// `{memberId, stateDigest}` from `state-digests/{m}:update` (§3 "Ack flow").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateDigest {
    pub member_id: String,
    /// Hex Merkle root of the latest signature.
    pub state_digest: String,
}

/// `GET /gov/service/info` (§1.2); fields the API marks optional are optional here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInfo {
    /// `Opening`, `Open`, `WaitingForRecoveryShares`, `Recovering`.
    pub status: String,
    /// The service certificate PEM.
    pub certificate: String,
    #[serde(default)]
    pub recovery_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_transaction_id: Option<TxId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_service_creation_transaction_id: Option<TxId>,
    #[serde(default)]
    pub service_data: serde_json::Value,
    #[serde(default)]
    pub configuration: serde_json::Value,
}

/// The answer to a write, with the transaction id it was given (to wait for its commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted<T> {
    pub value: T,
    /// From `x-ms-ccf-transaction-id`; CCF sets it on every successful governance write.
    pub tx_id: Option<TxId>,
}

/// A member's view of the governance API: a connection and the member's signing key.
#[derive(Debug)]
pub struct GovClient {
    client: Client,
    signer: MemberSigner,
}

impl GovClient {
    pub fn new(client: Client, signer: MemberSigner) -> GovClient {
        GovClient { client, signer }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn signer(&self) -> &MemberSigner {
        &self.signer
    }

    pub fn member_id(&self) -> &MemberId {
        self.signer.member_id()
    }

    /// `POST /gov/members/proposals:create` with `proposal_json`
    /// (`{"actions":[{"name", "args"}]}`), signed as a `proposal`.
    pub async fn propose(&self, proposal_json: &[u8]) -> Result<Submitted<Proposal>, ClientError> {
        let response = self
            .signed_post(
                "/gov/members/proposals:create",
                GovMsgType::Proposal,
                None,
                proposal_json,
            )
            .await?;
        submitted_json(&response, "/gov/members/proposals:create")
    }

    /// `POST …/proposals/{id}/ballots/{me}:submit` with `{"ballot": ballot_js}`. The member id
    /// in the path is the signer's: CCF refuses any other (§1.2).
    pub async fn ballot(
        &self,
        proposal_id: &str,
        ballot_js: &str,
    ) -> Result<Submitted<Proposal>, ClientError> {
        check_hex_id(proposal_id, "proposal id")?;
        let path = format!(
            "/gov/members/proposals/{proposal_id}/ballots/{}:submit",
            self.member_id()
        );
        let body = serde_json::to_vec(&serde_json::json!({ "ballot": ballot_js }))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let response = self
            .signed_post(&path, GovMsgType::Ballot, Some(proposal_id), &body)
            .await?;
        submitted_json(&response, &path)
    }

    /// A ballot that votes for the proposal.
    pub async fn vote_accept(&self, proposal_id: &str) -> Result<Submitted<Proposal>, ClientError> {
        self.ballot(proposal_id, BALLOT_ACCEPT).await
    }

    /// A ballot that votes against the proposal.
    pub async fn vote_reject(&self, proposal_id: &str) -> Result<Submitted<Proposal>, ClientError> {
        self.ballot(proposal_id, BALLOT_REJECT).await
    }

    /// `POST …/proposals/{id}:withdraw` (empty payload). `None` when the node answers 204:
    /// it knows no such proposal (withdrawal is idempotent, §1.2).
    pub async fn withdraw(
        &self,
        proposal_id: &str,
    ) -> Result<Submitted<Option<Proposal>>, ClientError> {
        check_hex_id(proposal_id, "proposal id")?;
        let path = format!("/gov/members/proposals/{proposal_id}:withdraw");
        let response = self
            .signed_post(&path, GovMsgType::Withdrawal, Some(proposal_id), b"")
            .await?;
        if response.status == 204 {
            return Ok(Submitted {
                value: None,
                tx_id: response.tx_id(),
            });
        }
        let submitted: Submitted<Proposal> = submitted_json(&response, &path)?;
        Ok(Submitted {
            value: Some(submitted.value),
            tx_id: submitted.tx_id,
        })
    }

    /// `GET /gov/members/proposals/{id}`.
    pub async fn proposal(&self, proposal_id: &str) -> Result<Proposal, ClientError> {
        check_hex_id(proposal_id, "proposal id")?;
        self.get_json(&format!("/gov/members/proposals/{proposal_id}"))
            .await
    }

    /// `POST …/state-digests/{me}:update` (empty payload, type `state_digest`): the digest this
    /// member must ack to become Active.
    pub async fn update_state_digest(&self) -> Result<Submitted<StateDigest>, ClientError> {
        let path = format!("/gov/members/state-digests/{}:update", self.member_id());
        let response = self
            .signed_post(&path, GovMsgType::StateDigest, None, b"")
            .await?;
        submitted_json(&response, &path)
    }

    /// `POST …/state-digests/{me}:ack` with `{"stateDigest": digest}`; 204 on success, and
    /// the member is then Active.
    pub async fn ack(&self, state_digest: &str) -> Result<Submitted<()>, ClientError> {
        let path = format!("/gov/members/state-digests/{}:ack", self.member_id());
        let body = serde_json::to_vec(&serde_json::json!({ "stateDigest": state_digest }))
            .map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        let response = self
            .signed_post(&path, GovMsgType::Ack, None, &body)
            .await?;
        Ok(Submitted {
            value: (),
            tx_id: response.tx_id(),
        })
    }

    /// Update then ack: turns an Accepted member into an Active one (§3 "Ack flow").
    pub async fn activate_member(&self) -> Result<Submitted<StateDigest>, ClientError> {
        let digest = self.update_state_digest().await?.value;
        let acked = self.ack(&digest.state_digest).await?;
        Ok(Submitted {
            value: digest,
            tx_id: acked.tx_id,
        })
    }

    /// `GET /gov/service/info` (unauthenticated).
    pub async fn service_info(&self) -> Result<ServiceInfo, ClientError> {
        self.get_json("/gov/service/info").await
    }

    /// Waits until `tx_id` is Committed (see [`Client::wait_for_commit`]).
    pub async fn wait_for_commit(&self, tx_id: TxId, timeout: Duration) -> Result<(), ClientError> {
        self.client.wait_for_commit(tx_id, timeout).await
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let path = with_api_version(path);
        let response = self.client.get(&path).await?;
        let response = expect_success(response, "GET", &path)?;
        parse_json(&response, &path)
    }

    /// Signs `payload` as `msg_type` now and POSTs it; a non-2xx answer is an error.
    async fn signed_post(
        &self,
        path: &str,
        msg_type: GovMsgType,
        proposal_id: Option<&str>,
        payload: &[u8],
    ) -> Result<Response, ClientError> {
        let message = GovMessage {
            msg_type,
            proposal_id,
            created_at: unix_now(),
        };
        let body = self.signer.sign(&message, payload)?;
        let path = with_api_version(path);
        let response = self.client.post(&path, COSE_CONTENT_TYPE, body).await?;
        expect_success(response, "POST", &path)
    }
}

/// Seconds since the Unix epoch, for `ccf.gov.msg.created_at`. A clock set before 1970 gives 0,
/// which a node's replay window then refuses as too old (§3) rather than this call failing.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A 2xx response, or a [`ClientError::Service`] carrying CCF's error.
pub(crate) fn expect_success(
    response: Response,
    method: &str,
    path: &str,
) -> Result<Response, ClientError> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(ClientError::Service {
            method: method.to_owned(),
            path: path.to_owned(),
            error: Box::new(response.api_error()),
        })
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(
    response: &Response,
    path: &str,
) -> Result<T, ClientError> {
    response
        .json()
        .map_err(|e| ClientError::UnexpectedResponse {
            path: path.to_owned(),
            why: format!("body is not the documented JSON: {e}"),
        })
}

fn submitted_json<T: DeserializeOwned>(
    response: &Response,
    path: &str,
) -> Result<Submitted<T>, ClientError> {
    Ok(Submitted {
        value: parse_json(response, path)?,
        tx_id: response.tx_id(),
    })
}

fn with_api_version(path: &str) -> String {
    format!("{path}?api-version={GOV_API_VERSION}")
}

/// Ids go into URL paths: only hex is let through, so nothing can change the path's shape
/// (CCF's ids are 64 hex characters, §1.2).
fn check_hex_id(id: &str, what: &str) -> Result<(), ClientError> {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(ClientError::InvalidRequest(format!(
            "{what} {id:?} is not 64 hex characters"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_parse_in_both_open_and_closed_shapes() {
        let open: Proposal = serde_json::from_str(
            r#"{"proposalId":"ab","proposerId":"cd","proposalState":"Open","ballotCount":0}"#,
        )
        .unwrap();
        assert_eq!(open.proposal_state, ProposalState::Open);
        assert_eq!(open.final_votes, None);
        let accepted: Proposal = serde_json::from_str(
            r#"{"proposalId":"ab","proposerId":"cd","proposalState":"Accepted","ballotCount":1,
                "finalVotes":{"cd":true},"voteFailures":{}}"#,
        )
        .unwrap();
        assert_eq!(
            accepted.final_votes,
            Some(BTreeMap::from([("cd".to_owned(), true)]))
        );
        let again: Proposal =
            serde_json::from_str(&serde_json::to_string(&accepted).unwrap()).unwrap();
        assert_eq!(again, accepted);
    }

    #[test]
    fn service_info_takes_ccf_field_names() {
        let info: ServiceInfo = serde_json::from_str(
            r#"{"status":"Open","certificate":"PEM","recoveryCount":1,
                "creationTransactionId":"2.1","serviceData":null,
                "configuration":{"recoveryThreshold":1}}"#,
        )
        .unwrap();
        assert_eq!(info.status, "Open");
        assert_eq!(info.creation_transaction_id, Some(TxId::new(2, 1)));
        assert_eq!(info.configuration["recoveryThreshold"], 1);
    }

    #[test]
    fn ids_in_paths_must_be_64_hex_characters() {
        assert!(check_hex_id(&"a".repeat(64), "id").is_ok());
        for bad in ["", "abc", &"g".repeat(64), &format!("{}/x", "a".repeat(62))] {
            assert!(matches!(
                check_hex_id(bad, "id"),
                Err(ClientError::InvalidRequest(_))
            ));
        }
    }

    #[test]
    fn ballots_are_es_modules_exporting_vote() {
        for ballot in [BALLOT_ACCEPT, BALLOT_REJECT] {
            assert!(ballot.starts_with("export function vote (rawProposal, proposerId)"));
        }
    }
}
