//! The genesis transaction of a new service (spec/ccf-api.md §6 "Genesis"): the founding members,
//! the first node (Trusted) with its endorsed certificate, the service identity in status
//! `Opening`, the service configuration and the constitution. An offline verifier needs the node
//! certificate and the service certificate from here to check every later signature.

use cloister_crypto::{Certificate, sha256};
use cloister_kv::Tx;
use cloister_types::{MemberId, TxId};
use serde_json::{Value, json};

use crate::ccf_json::to_ccf_json;
use crate::error::NodeError;
use crate::identity::{NodeIdentity, ServiceIdentity};
use crate::tables::{
    CONSTITUTION, MEMBERS_ACKS, MEMBERS_CERTS, MEMBERS_ENCRYPTION_PUBLIC_KEYS, MEMBERS_INFO,
    NODES_ENDORSED_CERTIFICATES, NODES_INFO, SERVICE_CONFIG, SERVICE_INFO, SINGLETON_KEY,
};

/// A founding member, as the node configuration's `command.start.members` gives it.
#[derive(Debug, Clone)]
pub struct GenesisMember {
    /// PEM of the member's certificate.
    pub cert_pem: String,
    /// PEM of the member's RSA encryption public key, for recovery members.
    pub encryption_public_key_pem: Option<String>,
    /// Free-form member data.
    pub member_data: Option<Value>,
}

/// What the genesis transaction records besides the identities.
#[derive(Debug, Clone)]
pub struct GenesisConfig {
    pub members: Vec<GenesisMember>,
    /// The constitution's JavaScript source.
    pub constitution: String,
    pub recovery_threshold: u64,
    /// `host:port` clients reach the node at.
    pub rpc_address: String,
    /// `host:port` other nodes reach the node at.
    pub node_to_node_address: String,
    /// PEM of the node's RSA encryption public key, if it has one.
    pub node_encryption_public_key_pem: Option<String>,
}

/// Writes the genesis records into `tx`, the transaction at `txid` (the service's first).
pub fn write_genesis(
    tx: &mut Tx,
    txid: TxId,
    node: &NodeIdentity,
    service: &ServiceIdentity,
    config: &GenesisConfig,
) -> Result<(), NodeError> {
    for member in &config.members {
        write_member(tx, member)?;
    }
    let node_key = node.id.as_str().as_bytes();
    tx.put(NODES_INFO, node_key, to_ccf_json(&node_info(node, config))?);
    tx.put(NODES_ENDORSED_CERTIFICATES, node_key, node.cert_pem());
    let service_info = json!({
        "cert": service.cert_pem(),
        "current_service_create_txid": txid.to_string(),
        "recovery_count": 0,
        "status": "Opening",
    });
    tx.put(SERVICE_INFO, SINGLETON_KEY, to_ccf_json(&service_info)?);
    let service_config = json!({
        "maximum_node_certificate_validity_days": 365,
        "maximum_service_certificate_validity_days": 365,
        "recovery_threshold": config.recovery_threshold,
    });
    tx.put(SERVICE_CONFIG, SINGLETON_KEY, to_ccf_json(&service_config)?);
    tx.put(
        CONSTITUTION,
        SINGLETON_KEY,
        to_ccf_json(&config.constitution)?,
    );
    Ok(())
}

fn write_member(tx: &mut Tx, member: &GenesisMember) -> Result<(), NodeError> {
    let cert = Certificate::from_pem(&member.cert_pem)?;
    let id = MemberId::from_digest(&sha256(cert.der()).0);
    let key = id.as_str().as_bytes();
    tx.put(MEMBERS_CERTS, key, member.cert_pem.clone());
    if let Some(pem) = &member.encryption_public_key_pem {
        tx.put(MEMBERS_ENCRYPTION_PUBLIC_KEYS, key, pem.clone());
    }
    let mut info = json!({ "status": "Accepted" });
    if let Some(data) = &member.member_data {
        info["member_data"] = data.clone();
    }
    tx.put(MEMBERS_INFO, key, to_ccf_json(&info)?);
    // A member acknowledges the state digest to become Active; none has been acked yet.
    tx.put(
        MEMBERS_ACKS,
        key,
        to_ccf_json(&json!({ "state_digest": "" }))?,
    );
    Ok(())
}

/// CCF's NodeInfo for a virtual-platform node (spec/ccf-api.md §5), with the legacy flattened
/// host/port fields CCF 6 still writes.
fn node_info(node: &NodeIdentity, config: &GenesisConfig) -> Value {
    let (rpc_host, rpc_port) = split_address(&config.rpc_address);
    let (n2n_host, n2n_port) = split_address(&config.node_to_node_address);
    let mut info = json!({
        "node_to_node_interface": {
            "bind_address": config.node_to_node_address,
            "published_address": config.node_to_node_address,
        },
        "rpc_interfaces": {
            "primary_rpc_interface": {
                "bind_address": config.rpc_address,
                "published_address": config.rpc_address,
                "protocol": "tcp",
                "app_protocol": "HTTP1",
            }
        },
        "quote_info": { "format": "Insecure_Virtual", "quote": "", "endorsements": "" },
        "public_key": node.key.public_key().to_pem(),
        "status": "Trusted",
        "nodehost": n2n_host, "nodeport": n2n_port,
        "rpchost": rpc_host, "rpcport": rpc_port,
        "pubhost": rpc_host, "pubport": rpc_port,
    });
    if let Some(pem) = &config.node_encryption_public_key_pem {
        info["encryption_pub_key"] = Value::String(pem.clone());
    }
    info
}

fn split_address(address: &str) -> (&str, &str) {
    address.rsplit_once(':').unwrap_or((address, ""))
}
