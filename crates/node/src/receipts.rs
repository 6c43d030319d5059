//! JSON receipts (v1, spec/ccf-internals.md §4.1) built the way CCF builds historical ones: from
//! the target transaction's entry, its commit evidence, and the first signature transaction after
//! it, whose stored tree gives the Merkle path (§3.4).

use cloister_crypto::{Sha256Hash, sha256};
use cloister_ledger::{MapChanges, parse_entry, parse_public_domain};
use cloister_merkle::{LeafComponents, MerkleTree, NodeSignature, Receipt, ReceiptContents};

use crate::error::NodeError;
use crate::signature::PrimarySignature;
use crate::tables::{SIGNATURES, TREE};

/// The receipt of the transaction in `target_entry`, whose commit evidence string is
/// `commit_evidence`, proven by the signature transaction in `signature_entry`.
pub fn build_receipt(
    target_entry: &[u8],
    commit_evidence: &str,
    signature_entry: &[u8],
) -> Result<Receipt, NodeError> {
    let target = parse_entry(target_entry)?;
    let (header, _) = parse_public_domain(target.public_domain)?;
    let seqno = header.version;
    if header.commit_evidence_digest != Some(sha256(commit_evidence.as_bytes())) {
        return Err(NodeError::Invalid(format!(
            "commit evidence does not match the entry at seqno {seqno}"
        )));
    }
    let components = LeafComponents {
        claims_digest: Some(header.claims_digest.unwrap_or(Sha256Hash([0; 32]))),
        commit_evidence: commit_evidence.to_owned(),
        write_set_digest: sha256(target_entry),
    };
    build_receipt_from_parts(seqno, components, signature_entry)
}

/// The receipt of the transaction at `seqno` whose leaf is made of `components`, proven by the
/// signature transaction in `signature_entry` (whose stored tree holds `seqno`).
pub fn build_receipt_from_parts(
    seqno: u64,
    components: LeafComponents,
    signature_entry: &[u8],
) -> Result<Receipt, NodeError> {
    let (signature_seqno, signature, maps) = parse_signature_entry(signature_entry)?;
    if signature_seqno <= seqno {
        return Err(NodeError::NotYetSigned(seqno));
    }
    let mut tree = MerkleTree::deserialise(singleton(&maps, TREE)?)?;
    let path = tree.path(seqno)?;
    if path.leaf != components.leaf() {
        return Err(NodeError::Invalid(format!(
            "the signature's tree does not hold seqno {seqno}'s leaf"
        )));
    }
    Ok(Receipt::from_path(
        &path,
        ReceiptContents::Components(components),
        node_signature(signature)?,
        Vec::new(),
    ))
}

/// The receipt of a signature transaction: its leaf is the root it signs, its proof empty.
pub fn signature_receipt(signature_entry: &[u8]) -> Result<Receipt, NodeError> {
    let (_, signature, _) = parse_signature_entry(signature_entry)?;
    let root = Sha256Hash::from_hex(&signature.root)
        .ok_or_else(|| NodeError::Invalid("signature root is not hex".to_owned()))?;
    Ok(Receipt::for_signature_transaction(
        root,
        node_signature(signature)?,
        Vec::new(),
    ))
}

fn parse_signature_entry(
    entry: &[u8],
) -> Result<(u64, PrimarySignature, Vec<MapChanges>), NodeError> {
    let parts = parse_entry(entry)?;
    let (header, maps) = parse_public_domain(parts.public_domain)?;
    let signature: PrimarySignature =
        serde_json::from_slice(singleton(&maps, SIGNATURES)?).map_err(NodeError::Json)?;
    Ok((header.version, signature, maps))
}

fn node_signature(signature: PrimarySignature) -> Result<NodeSignature, NodeError> {
    let cert = signature
        .cert
        .ok_or_else(|| NodeError::Invalid("signature without a node certificate".to_owned()))?;
    Ok(NodeSignature {
        node_id: signature.node,
        cert,
        signature: signature.sig,
    })
}

fn singleton<'m>(maps: &'m [MapChanges], table: &str) -> Result<&'m [u8], NodeError> {
    maps.iter()
        .find(|map| map.name == table)
        .and_then(|map| map.writes.first())
        .map(|(_, value)| value.as_slice())
        .ok_or_else(|| NodeError::Invalid(format!("not a signature transaction: no {table}")))
}
