//! The seam between the governance protocol (this crate) and whatever runs the constitution
//! (cloister-js runs it in QuickJS; tests use small Rust engines). The names and shapes are fixed
//! by the contract between cloister-gov and cloister-js (spec/ccf-api.md §4).

use cloister_kv::Tx;

/// What the constitution asked the node to do, collected during `apply` (GOV_RW). The node acts
/// on them after the transaction commits (spec/ccf-api.md §4 "Execution contexts").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeAction {
    /// `ccf.node.transitionServiceToOpen(prev, next)`.
    TransitionServiceToOpen {
        previous_identity_pem: Option<String>,
        next_identity_pem: String,
    },
    /// `ccf.node.triggerLedgerRekey()`.
    TriggerLedgerRekey,
    /// `ccf.node.triggerRecoverySharesRefresh()`.
    TriggerRecoverySharesRefresh,
    /// `ccf.node.triggerLedgerChunk()`.
    TriggerLedgerChunk,
    /// `ccf.node.triggerSnapshot()`.
    TriggerSnapshot,
    /// `ccf.node.triggerACMERefresh(interfaces?)`.
    TriggerAcmeRefresh { interfaces: Option<Vec<String>> },
    /// `ccf.refreshAppBytecodeCache()`.
    RefreshAppBytecodeCache,
}

/// Services the node provides to the constitution (GOV_RW `ccf.network.*`).
pub trait GovHost {
    /// PEM of a node certificate endorsed by the service key, from a CSR (PEM), valid from
    /// `valid_from` (ASN.1 time string, e.g. "20240101000000Z" or "240101000000Z") for `days`.
    fn generate_endorsed_certificate(
        &mut self,
        csr_pem: &str,
        valid_from: &str,
        validity_days: u64,
    ) -> Result<String, String>;
    /// A renewed service certificate (same key) PEM.
    fn generate_network_certificate(
        &mut self,
        valid_from: &str,
        validity_days: u64,
    ) -> Result<String, String>;
    fn latest_ledger_secret_seqno(&self) -> u64;
}

/// A JavaScript failure, as CCF reports it: `{reason, trace?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsFailure {
    pub reason: String,
    pub trace: Option<String>,
}

/// validate()'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub valid: bool,
    pub description: String,
}

/// Runs the constitution (and ballots). Every call gets the transaction to read (and, for
/// `apply`, write) `ccf.kv` through, with CCF's permissions: GOV_RO for validate/vote/resolve,
/// GOV_RW for apply (spec/ccf-api.md §4 "Permissions").
pub trait ConstitutionEngine {
    fn validate(
        &mut self,
        tx: &mut Tx,
        constitution: &str,
        proposal: &str,
    ) -> Result<Validation, JsFailure>;
    /// Runs the ballot module's exported `vote(rawProposal, proposerId)`; only a JS `true` is yes.
    fn vote(
        &mut self,
        tx: &mut Tx,
        ballot: &str,
        proposal: &str,
        proposer_id: &str,
    ) -> Result<bool, JsFailure>;
    /// `resolve(proposal, proposerId, votes, proposalId)` where votes = [{member_id, vote}].
    /// Returns the string it returned (the caller checks it is Open/Accepted/Rejected).
    fn resolve(
        &mut self,
        tx: &mut Tx,
        constitution: &str,
        proposal: &str,
        proposer_id: &str,
        votes: &[(String, bool)],
        proposal_id: &str,
    ) -> Result<String, JsFailure>;
    /// `apply(proposal, proposalId)`, GOV_RW.
    fn apply(
        &mut self,
        tx: &mut Tx,
        constitution: &str,
        proposal: &str,
        proposal_id: &str,
        host: &mut dyn GovHost,
        actions: &mut Vec<NodeAction>,
    ) -> Result<(), JsFailure>;
    /// `ccf.gov.validateConstitution`: parameter counts of validate (1), resolve (3 or 4), apply (2).
    fn validate_constitution(&mut self, constitution: &str) -> Result<(), JsFailure>;
}
