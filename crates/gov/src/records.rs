//! The governance records: how proposals and acks are stored (snake_case, spec/ccf-api.md §5,
//! checked against the eol_service ledger of testdata/ccf6) and how proposals are shown by the
//! 2024-07-01 API (camelCase, spec §1.2 "Response shapes").
//!
//! Fields are declared in alphabetical order: CCF's JSON objects are sorted by key, so serde_json
//! then writes the bytes CCF writes, e.g.
//! `{"ballots":{…},"final_votes":{…},"proposer_id":"…","state":"Accepted","vote_failures":{}}`.

use std::collections::BTreeMap;
use std::fmt;

use cloister_types::MemberId;
use serde::{Deserialize, Serialize};

use crate::engine::JsFailure;
use crate::ids::ProposalId;

/// Where a proposal stands (`ccf::ProposalState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposalState {
    /// Collecting ballots.
    Open,
    /// resolve() accepted it, and apply() ran.
    Accepted,
    /// Withdrawn by its proposer while Open.
    Withdrawn,
    /// resolve() rejected it.
    Rejected,
    /// resolve() or apply() threw, or resolve() returned something else.
    Failed,
    /// Invalidated by the constitution (`invalidateOtherOpenProposals`).
    Dropped,
}

impl fmt::Display for ProposalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ProposalState::Open => "Open",
            ProposalState::Accepted => "Accepted",
            ProposalState::Withdrawn => "Withdrawn",
            ProposalState::Rejected => "Rejected",
            ProposalState::Failed => "Failed",
            ProposalState::Dropped => "Dropped",
        };
        f.write_str(name)
    }
}

/// A JavaScript failure as stored and shown: `{reason, trace?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

impl Failure {
    /// CCF's text for a failure in a 500 body: `"<reason>\nTrace: <trace or N/A>"`.
    pub fn to_message(&self) -> String {
        format!(
            "{}\nTrace: {}",
            self.reason,
            self.trace.as_deref().unwrap_or("N/A")
        )
    }
}

impl From<JsFailure> for Failure {
    fn from(failure: JsFailure) -> Failure {
        Failure {
            reason: failure.reason,
            trace: failure.trace,
        }
    }
}

/// `public:ccf.gov.proposals_info[proposal_id]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalInfo {
    /// member → ballot JavaScript source.
    #[serde(default)]
    pub ballots: BTreeMap<MemberId, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The votes counted when the proposal left Open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_votes: Option<BTreeMap<MemberId, bool>>,
    pub proposer_id: MemberId,
    pub state: ProposalState,
    /// Ballots that threw when the proposal left Open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_failures: Option<BTreeMap<MemberId, Failure>>,
}

impl ProposalInfo {
    /// A proposal just created by `proposer`: Open, no ballots.
    pub fn open(proposer: MemberId) -> ProposalInfo {
        ProposalInfo {
            ballots: BTreeMap::new(),
            failure: None,
            final_votes: None,
            proposer_id: proposer,
            state: ProposalState::Open,
            vote_failures: None,
        }
    }

    /// The proposal as the API shows it.
    pub fn view(&self, proposal_id: &ProposalId) -> ProposalView {
        ProposalView {
            ballot_count: self.ballots.len(),
            failure: self.failure.clone(),
            final_votes: self.final_votes.clone(),
            proposal_id: proposal_id.as_str().to_owned(),
            proposal_state: self.state,
            proposer_id: self.proposer_id.clone(),
            vote_failures: self.vote_failures.clone(),
        }
    }
}

/// A proposal in the 2024-07-01 API: `{ballotCount, failure?, finalVotes?, proposalId,
/// proposalState, proposerId, voteFailures?}` (CCF's `convert_proposal_to_api_format`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalView {
    pub ballot_count: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_votes: Option<BTreeMap<MemberId, bool>>,
    pub proposal_id: String,
    pub proposal_state: ProposalState,
    pub proposer_id: MemberId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_failures: Option<BTreeMap<MemberId, Failure>>,
}

impl ProposalView {
    /// The JSON response body.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, integers and string-keyed maps always serialise.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// `public:ccf.gov.members.acks[member_id]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAck {
    /// Base64 of the COSE_Sign1 of the member's last ack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cose_sign1_req: Option<String>,
    /// The legacy (HTTP signature) ack, kept as found; cleared by a new ack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_req: Option<serde_json::Value>,
    /// Hex Merkle root the member is to ack ("" before the first signature).
    #[serde(default)]
    pub state_digest: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const M1: &str = "b9180f92adaf4add7ccdf09843c7c95f56e541cec32f555049d55bb11c85f93d";
    const M2: &str = "e13f0ff7c90f52bb3a3ecef48dba9bfbe56c841ad3aa3e0ac11b5bc6fa767e70";

    /// proposals_info of 79ad79…8a01 at seqno 350 of testdata/ccf6/eol_service (read with
    /// CCF's ccf.ledger), byte for byte.
    const EOL_ACCEPTED: &str = concat!(
        r#"{"ballots":{"b9180f92adaf4add7ccdf09843c7c95f56e541cec32f555049d55bb11c85f93d":"#,
        r#""export function vote (rawProposal, proposerId) { return true }","#,
        r#""e13f0ff7c90f52bb3a3ecef48dba9bfbe56c841ad3aa3e0ac11b5bc6fa767e70":"#,
        r#""export function vote (rawProposal, proposerId) { return true }"},"#,
        r#""final_votes":{"b9180f92adaf4add7ccdf09843c7c95f56e541cec32f555049d55bb11c85f93d":true,"#,
        r#""e13f0ff7c90f52bb3a3ecef48dba9bfbe56c841ad3aa3e0ac11b5bc6fa767e70":true},"#,
        r#""proposer_id":"aca4ad6e2086e0fd9cba1d8a4c3fe932941aee60df7896f0a209471d909899f0","#,
        r#""state":"Accepted","vote_failures":{}}"#
    );

    #[test]
    fn proposal_info_round_trips_a_real_ccf_record_byte_for_byte() {
        let info: ProposalInfo = serde_json::from_str(EOL_ACCEPTED).unwrap();
        assert_eq!(info.state, ProposalState::Accepted);
        assert_eq!(info.ballots.len(), 2);
        assert_eq!(info.vote_failures, Some(BTreeMap::new()));
        assert_eq!(serde_json::to_string(&info).unwrap(), EOL_ACCEPTED);
    }

    #[test]
    fn open_proposal_info_matches_ccfs_bytes() {
        // proposals_info written at creation (seqno 95 of eol_service).
        let stored = r#"{"ballots":{},"proposer_id":"b9180f92adaf4add7ccdf09843c7c95f56e541cec32f555049d55bb11c85f93d","state":"Open"}"#;
        let info = ProposalInfo::open(M1.parse().unwrap());
        assert_eq!(serde_json::to_string(&info).unwrap(), stored);
    }

    #[test]
    fn api_view_is_camel_case_with_optional_fields_omitted() {
        let mut info = ProposalInfo::open(M1.parse().unwrap());
        info.ballots.insert(M2.parse().unwrap(), "b".into());
        let id = ProposalId::from_path(&"ab".repeat(32)).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&info.view(&id).to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "ballotCount": 1, "proposalId": "ab".repeat(32),
                "proposalState": "Open", "proposerId": M1,
            })
        );
        info.state = ProposalState::Failed;
        info.final_votes = Some(BTreeMap::new());
        info.vote_failures = Some(BTreeMap::new());
        info.failure = Some(Failure {
            reason: "r".into(),
            trace: None,
        });
        let json: serde_json::Value = serde_json::from_slice(&info.view(&id).to_json()).unwrap();
        assert_eq!(json["finalVotes"], serde_json::json!({}));
        assert_eq!(json["voteFailures"], serde_json::json!({}));
        assert_eq!(json["failure"], serde_json::json!({"reason": "r"}));
    }

    #[test]
    fn member_ack_keeps_ccfs_field_names() {
        let stored = r#"{"cose_sign1_req":"0oRY","state_digest":"61e7"}"#;
        let ack: MemberAck = serde_json::from_str(stored).unwrap();
        assert_eq!(ack.cose_sign1_req.as_deref(), Some("0oRY"));
        assert_eq!(serde_json::to_string(&ack).unwrap(), stored);
        let fresh: MemberAck = serde_json::from_str(r#"{"state_digest":""}"#).unwrap();
        assert_eq!(fresh, MemberAck::default());
    }

    #[test]
    fn failure_message_is_reason_then_trace() {
        let failure = Failure {
            reason: "Failed to apply(): boom".into(),
            trace: Some("at apply".into()),
        };
        assert_eq!(
            failure.to_message(),
            "Failed to apply(): boom\nTrace: at apply"
        );
        let bare = Failure {
            reason: "x".into(),
            trace: None,
        };
        assert_eq!(bare.to_message(), "x\nTrace: N/A");
    }
}
