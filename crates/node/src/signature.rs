//! Signature transactions exactly as CCF 6 writes them (spec/ccf-internals.md §3.5, §3.6): one
//! transaction writing the node's ECDSA signature over the Merkle root, the service's COSE_Sign1
//! over the same root, and the serialised tree.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_crypto::cose::{Label, Value};
use cloister_crypto::{cose, sha256};
use cloister_kv::Tx;
use cloister_types::TxId;
use serde::{Deserialize, Serialize};

use crate::ccf_json::to_ccf_json;
use crate::error::NodeError;
use crate::history::MerkleHistory;
use crate::identity::{NodeIdentity, ServiceIdentity};
use crate::tables::{COSE_SIGNATURES, SIGNATURES, SINGLETON_KEY, TREE};

/// COSE protected-header label of the verifiable data structure (draft-ietf-cose-merkle-tree-proofs).
pub const COSE_VDS_LABEL: i64 = 395;
/// Its value for CCF's ledger: CCF_LEDGER_SHA256.
pub const COSE_VDS_CCF_LEDGER_SHA256: i64 = 2;
/// CWT claims header label (RFC 9597).
pub const COSE_CWT_LABEL: i64 = 15;

/// The JSON value of `public:ccf.internal.signatures` (CCF 6 `PrimarySignature`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimarySignature {
    /// PEM of the signing node's endorsed certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// Deprecated, always 0.
    pub commit_seqno: u64,
    /// Deprecated, always 0.
    pub commit_view: u64,
    /// Hex of 32 zero bytes (a BFT leftover).
    pub hashed_nonce: String,
    /// The signing node's id.
    pub node: String,
    /// Hex of the Merkle root over leaves 0..seqno−1.
    pub root: String,
    /// This signature transaction's seqno.
    pub seqno: u64,
    /// Base64 of the DER ECDSA signature by the node key over the root, used as the digest.
    pub sig: String,
    /// This signature transaction's view.
    pub view: u64,
}

/// `cose_signatures` issuer and subject, from the node configuration (CCF's
/// `COSESignaturesConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSignaturesConfig {
    pub issuer: String,
    pub subject: String,
}

impl Default for CoseSignaturesConfig {
    fn default() -> CoseSignaturesConfig {
        CoseSignaturesConfig {
            issuer: "service.example.com".to_owned(),
            subject: "ledger.signature".to_owned(),
        }
    }
}

/// Writes the signature transaction at `txid` into `tx`: `history` must hold leaves 0..seqno−1.
/// `iat_unix` is the CWT issued-at time (an input: no clock here).
pub fn write_signature(
    tx: &mut Tx,
    history: &mut MerkleHistory,
    txid: TxId,
    node: &NodeIdentity,
    service: &ServiceIdentity,
    cose_config: &CoseSignaturesConfig,
    iat_unix: i64,
) -> Result<PrimarySignature, NodeError> {
    if history.next_seqno() != txid.seqno {
        return Err(NodeError::Invalid(format!(
            "signature at {txid} but the history expects seqno {}",
            history.next_seqno()
        )));
    }
    let root = history.root()?;
    let signature = PrimarySignature {
        cert: Some(node.cert_pem()),
        commit_seqno: 0,
        commit_view: 0,
        hashed_nonce: "0".repeat(64),
        node: node.id.to_string(),
        root: root.to_hex(),
        seqno: txid.seqno.0,
        sig: BASE64.encode(node.key.sign_prehashed_der(&root.0)?),
        view: txid.view.0,
    };
    let cose_sign1 = cose_root_signature(service, &root.0, txid, cose_config, iat_unix)?;
    tx.put(SIGNATURES, SINGLETON_KEY, to_ccf_json(&signature)?);
    tx.put(
        COSE_SIGNATURES,
        SINGLETON_KEY,
        to_ccf_json(&BASE64.encode(cose_sign1))?,
    );
    tx.put(TREE, SINGLETON_KEY, history.serialise()?);
    Ok(signature)
}

/// The service's COSE_Sign1 over `root`: detached payload, protected header in CCF's order
/// (alg, kid, vds, CWT claims, ccf.v1), empty unprotected header (§3.6).
pub fn cose_root_signature(
    service: &ServiceIdentity,
    root: &[u8; 32],
    txid: TxId,
    config: &CoseSignaturesConfig,
    iat_unix: i64,
) -> Result<Vec<u8>, NodeError> {
    let kid = sha256(service.key.public_key().spki_der())
        .to_hex()
        .into_bytes();
    let cwt = Value::Map(vec![
        (Value::Integer(6.into()), Value::Integer(iat_unix.into())),
        (Value::Integer(1.into()), Value::Text(config.issuer.clone())),
        (
            Value::Integer(2.into()),
            Value::Text(config.subject.clone()),
        ),
    ]);
    let ccf_v1 = Value::Map(vec![(
        Value::Text("txid".to_owned()),
        Value::Text(txid.to_string()),
    )]);
    let protected = [
        (Label::Int(4), Value::Bytes(kid)),
        (
            Label::Int(COSE_VDS_LABEL),
            Value::Integer(COSE_VDS_CCF_LEDGER_SHA256.into()),
        ),
        (Label::Int(COSE_CWT_LABEL), cwt),
        (Label::Text("ccf.v1".to_owned()), ccf_v1),
    ];
    Ok(cose::sign1(&service.key, &protected, root, true)?)
}
