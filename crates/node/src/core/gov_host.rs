//! What the constitution may ask of the node while `apply` runs (`ccf.network.*`), and the node
//! actions it requests (`ccf.node.*`), applied in the same transaction where CCF does so.

use cloister_gov::{GovHost, NodeAction};
use cloister_kv::Tx;
use cloister_types::ApiError;
use serde_json::Value;

use crate::identity::ServiceIdentity;
use crate::tables::{SERVICE_INFO, SINGLETON_KEY};

/// The node's side of `ccf.network.*`.
#[derive(Debug)]
pub struct NodeGovHost<'a> {
    pub latest_ledger_secret_seqno: u64,
    /// Endorses joining nodes' certificates.
    pub service: &'a ServiceIdentity,
    /// Wall-clock seconds (certificate validity starts here when `valid_from` is not given).
    pub now_unix: i64,
}

impl GovHost for NodeGovHost<'_> {
    fn generate_endorsed_certificate(
        &mut self,
        _csr_pem: &str,
        _valid_from: &str,
        _validity_days: u64,
    ) -> Result<String, String> {
        // Only joining nodes send CSRs; joining arrives with replication (issue 4).
        Err(
            "ccf.network.generateEndorsedCertificate: no node can join this Cloister service yet"
                .to_owned(),
        )
    }

    fn generate_network_certificate(
        &mut self,
        _valid_from: &str,
        _validity_days: u64,
    ) -> Result<String, String> {
        Err("ccf.network.generateNetworkCertificate: service certificate renewal is not supported yet".to_owned())
    }

    fn latest_ledger_secret_seqno(&self) -> u64 {
        self.latest_ledger_secret_seqno
    }
}

/// Applies, inside the proposal's transaction, the actions CCF applies there; the others are
/// returned for the node to carry out after commit.
pub fn apply_in_transaction(
    tx: &mut Tx,
    actions: Vec<NodeAction>,
    service_cert_pem: &str,
) -> Result<Vec<NodeAction>, ApiError> {
    let mut later = Vec::new();
    for action in actions {
        match action {
            NodeAction::TransitionServiceToOpen {
                previous_identity_pem,
                next_identity_pem,
            } => {
                open_service(
                    tx,
                    previous_identity_pem.as_deref(),
                    &next_identity_pem,
                    service_cert_pem,
                )?;
            }
            other => later.push(other),
        }
    }
    Ok(later)
}

/// `transition_service_to_open` on a fresh service: the next identity must be this service's
/// certificate; the status becomes Open (spec/ccf-api.md §6).
fn open_service(
    tx: &mut Tx,
    previous: Option<&str>,
    next: &str,
    service_cert_pem: &str,
) -> Result<(), ApiError> {
    let failure = |message: &str| {
        ApiError::new(
            500,
            "InternalError",
            format!("Failed to apply(): {message}"),
        )
    };
    let raw = tx
        .get(SERVICE_INFO, &SINGLETON_KEY)
        .ok_or_else(|| failure("service information could not be found"))?;
    let mut info: Value = serde_json::from_slice(&raw).map_err(|e| failure(&e.to_string()))?;
    if info["status"] == "Recovering" || previous.is_some() {
        return Err(failure("service recovery is not supported yet"));
    }
    if next.trim() != service_cert_pem.trim() {
        return Err(failure(
            "next service identity does not match the current service certificate",
        ));
    }
    if info["status"] == "Open" {
        return Ok(());
    }
    info["status"] = Value::String("Open".to_owned());
    let bytes = crate::to_ccf_json(&info).map_err(|e| failure(&e.to_string()))?;
    tx.put(SERVICE_INFO, SINGLETON_KEY.to_vec(), bytes);
    Ok(())
}
