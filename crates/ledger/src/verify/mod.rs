//! The offline ledger verifier (spec/ccf-internals.md §3.8): replays a ledger's entries in seqno
//! order, rebuilding the Merkle tree, and at every signature transaction checks that
//!
//! 1. the signing node is known and not Pending, and its certificate is the endorsed one;
//! 2. the node's ECDSA signature over the signed root verifies with that certificate;
//! 3. the signed root equals the root of the rebuilt tree;
//! 4. the service's COSE_Sign1 over the same root verifies with the service certificate in force;
//!
//! and that service-status transitions are ones CCF allows. These are the checks of CCF's
//! `ccf.ledger.LedgerValidator`. Cloister adds checks that make tampering visible sooner and
//! more precisely: seqnos are contiguous and agree between the IV and the public header, a
//! signature names its own transaction id, and the serialised tree it carries has the signed root.
//!
//! Hashing every entry dominates the cost, so the caller passes each entry's SHA-256 in: a
//! driver can compute digests on other cores while this (sans-IO) state machine checks in order.

mod deferred;
mod failure;

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_crypto::cose::Sign1;
use cloister_crypto::{Certificate, EcPublicKey, Sha256Hash};
use cloister_merkle::MerkleTree;
use cloister_types::TxId;
use serde::Deserialize;

pub use deferred::SignatureCheck;
pub use failure::VerifyFailure;

use crate::chunk::DecodedEntry;
use crate::public_domain::MapChanges;

const NODES_INFO: &str = "public:ccf.gov.nodes.info";
const ENDORSED_CERTIFICATES: &str = "public:ccf.gov.nodes.endorsed_certificates";
const SIGNATURES: &str = "public:ccf.internal.signatures";
const COSE_SIGNATURES: &str = "public:ccf.internal.cose_signatures";
const TREE: &str = "public:ccf.internal.tree";
const SERVICE_INFO: &str = "public:ccf.gov.service.info";

/// What the verifier learnt from one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySummary {
    pub txid: TxId,
    /// The entry was a signature transaction and every check on it passed.
    pub signature: bool,
}

/// Replays entries and checks signatures; see the module documentation.
#[derive(Debug)]
pub struct LedgerVerifier {
    tree: MerkleTree,
    next_seqno: Option<u64>,
    nodes: BTreeMap<String, NodeRecord>,
    service_status: Option<String>,
    service_key: Option<EcPublicKey>,
    signatures: u64,
    verified_until: Option<TxId>,
    /// `Some` when public-key checks are left to the caller (see [`LedgerVerifier::deferring`]).
    deferred: Option<Vec<SignatureCheck>>,
}

#[derive(Debug, Default)]
struct NodeRecord {
    status: Option<String>,
    cert: Option<Certificate>,
}

#[derive(Deserialize)]
struct SignatureJson {
    sig: String,
    node: String,
    root: String,
    seqno: u64,
    view: u64,
    cert: Option<String>,
}

#[derive(Deserialize)]
struct NodeInfoJson {
    status: String,
    /// 1.x ledgers kept the self-signed node certificate here.
    cert: Option<String>,
}

#[derive(Deserialize)]
struct ServiceInfoJson {
    cert: String,
    status: String,
}

impl Default for LedgerVerifier {
    fn default() -> LedgerVerifier {
        LedgerVerifier::new()
    }
}

impl LedgerVerifier {
    /// A verifier expecting the ledger from its first transaction (seqno 1).
    pub fn new() -> LedgerVerifier {
        let mut tree = MerkleTree::new();
        // CCF's history starts with 32 zero bytes as leaf 0 (§3.3).
        tree.append(Sha256Hash([0; 32]));
        LedgerVerifier {
            tree,
            next_seqno: Some(1),
            nodes: BTreeMap::new(),
            service_status: None,
            service_key: None,
            signatures: 0,
            verified_until: None,
            deferred: None,
        }
    }

    /// A verifier that leaves the public-key half of each signature check to the caller:
    /// `signatures()` and `verified_until()` then count a signature as verified once its
    /// sequential checks pass, and hold only once every check from [`take_deferred`] has passed.
    ///
    /// [`take_deferred`]: LedgerVerifier::take_deferred
    pub fn deferring() -> LedgerVerifier {
        LedgerVerifier {
            deferred: Some(Vec::new()),
            ..LedgerVerifier::new()
        }
    }

    /// The public-key checks queued since the last call, in ledger order.
    pub fn take_deferred(&mut self) -> Vec<SignatureCheck> {
        self.deferred
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Runs `check` now, or queues it when deferring.
    fn check_or_defer(&mut self, check: SignatureCheck) -> Result<(), VerifyFailure> {
        match &mut self.deferred {
            Some(queue) => {
                queue.push(check);
                Ok(())
            }
            None => check.run(),
        }
    }

    /// Signature transactions verified so far.
    pub fn signatures(&self) -> u64 {
        self.signatures
    }

    /// The transaction id of the last verified signature: every entry up to it is verified.
    pub fn verified_until(&self) -> Option<TxId> {
        self.verified_until
    }

    /// Checks the next entry. `write_set_digest` is the SHA-256 of the whole entry (8-byte header
    /// included). After an error the verifier must not be fed further entries.
    pub fn add_entry(
        &mut self,
        entry: &DecodedEntry<'_>,
        write_set_digest: &Sha256Hash,
    ) -> Result<EntrySummary, VerifyFailure> {
        let seqno = entry.header.version;
        let txid = TxId::new(u64::from(entry.parts.gcm.view()), seqno);
        self.check_position(entry)?;
        let tables = &entry.public_maps;
        if let Some(map) = find(tables, NODES_INFO) {
            self.record_node_info(map)?;
        }
        if let Some(map) = find(tables, ENDORSED_CERTIFICATES) {
            self.record_endorsed_certificates(map)?;
        }
        let mut signature = false;
        let mut signed_root = None;
        if let Some(map) = find(tables, SIGNATURES) {
            let root = self.check_node_signature(map, txid)?;
            if let Some(tree) = find(tables, TREE) {
                check_tree(tree, &root)?;
            }
            signed_root = Some(root);
            signature = true;
        }
        if let Some(map) = find(tables, SERVICE_INFO) {
            self.record_service_info(map)?;
        }
        if let Some(map) = find(tables, COSE_SIGNATURES) {
            self.check_cose_signature(map, signed_root, txid)?;
        }
        self.tree.append(entry.header.leaf(write_set_digest));
        self.next_seqno = seqno.checked_add(1);
        Ok(EntrySummary { txid, signature })
    }

    fn check_position(&self, entry: &DecodedEntry<'_>) -> Result<(), VerifyFailure> {
        let seqno = entry.header.version;
        if Some(seqno) != self.next_seqno {
            return Err(VerifyFailure::NotContiguous {
                expected: self.next_seqno,
                found: seqno,
            });
        }
        let iv_seqno = entry.parts.gcm.seqno();
        if iv_seqno != seqno {
            return Err(VerifyFailure::IvSeqnoMismatch {
                iv_seqno,
                header_seqno: seqno,
            });
        }
        if entry.parts.gcm.is_snapshot() {
            return Err(VerifyFailure::SnapshotInLedger);
        }
        Ok(())
    }

    fn record_node_info(&mut self, map: &MapChanges) -> Result<(), VerifyFailure> {
        for (key, value) in &map.writes {
            let id = utf8_key(key, NODES_INFO)?;
            let info: NodeInfoJson = parse_json(value, NODES_INFO)?;
            let record = self.nodes.entry(id).or_default();
            record.status = Some(info.status);
            if let Some(pem) = info.cert {
                record.cert = Some(parse_cert(&pem, NODES_INFO)?);
            }
        }
        for key in &map.removes {
            let id = utf8_key(key, NODES_INFO)?;
            if let Some(record) = self.nodes.get_mut(&id) {
                record.status = None;
            }
        }
        Ok(())
    }

    fn record_endorsed_certificates(&mut self, map: &MapChanges) -> Result<(), VerifyFailure> {
        for (key, value) in &map.writes {
            let id = utf8_key(key, ENDORSED_CERTIFICATES)?;
            let pem = std::str::from_utf8(value).map_err(|_| VerifyFailure::BadValue {
                table: ENDORSED_CERTIFICATES,
                reason: "not UTF-8".into(),
            })?;
            let cert = parse_cert(pem, ENDORSED_CERTIFICATES)?;
            self.nodes.entry(id).or_default().cert = Some(cert);
        }
        for key in &map.removes {
            let id = utf8_key(key, ENDORSED_CERTIFICATES)?;
            if let Some(record) = self.nodes.get_mut(&id) {
                record.cert = None;
            }
        }
        Ok(())
    }

    /// Checks 1–3 of the module documentation; returns the signed root.
    fn check_node_signature(
        &mut self,
        map: &MapChanges,
        txid: TxId,
    ) -> Result<Sha256Hash, VerifyFailure> {
        let value = singleton(map, SIGNATURES)?;
        let signature: SignatureJson = parse_json(value, SIGNATURES)?;
        if signature.seqno != txid.seqno.0 || signature.view != txid.view.0 {
            return Err(VerifyFailure::SignatureTxIdMismatch {
                signed: TxId::new(signature.view, signature.seqno),
                entry: txid,
            });
        }
        let node =
            self.nodes
                .get(&signature.node)
                .ok_or_else(|| VerifyFailure::UnknownSigningNode {
                    node: signature.node.clone(),
                })?;
        match node.status.as_deref() {
            None => {
                return Err(VerifyFailure::UnknownSigningNode {
                    node: signature.node.clone(),
                });
            }
            Some("Pending") => {
                return Err(VerifyFailure::PendingNodeSigned {
                    node: signature.node.clone(),
                });
            }
            Some(_) => {}
        }
        let cert = node
            .cert
            .as_ref()
            .ok_or_else(|| VerifyFailure::NoNodeCertificate {
                node: signature.node.clone(),
            })?;
        let key = cert.public_key().map_err(|e| VerifyFailure::BadValue {
            table: SIGNATURES,
            reason: e.to_string(),
        })?;
        if let Some(pem) = &signature.cert {
            let claimed = parse_cert(pem, SIGNATURES)?;
            let claimed_key = claimed.public_key().map_err(|e| VerifyFailure::BadValue {
                table: SIGNATURES,
                reason: e.to_string(),
            })?;
            if claimed_key.spki_der() != key.spki_der() {
                return Err(VerifyFailure::NodeCertificateMismatch {
                    node: signature.node.clone(),
                });
            }
        }
        let root =
            Sha256Hash::from_hex(&signature.root).ok_or_else(|| VerifyFailure::BadValue {
                table: SIGNATURES,
                reason: "root is not 64 hex characters".into(),
            })?;
        let sig = BASE64
            .decode(&signature.sig)
            .map_err(|_| VerifyFailure::BadValue {
                table: SIGNATURES,
                reason: "sig is not base64".into(),
            })?;
        self.check_or_defer(SignatureCheck::node(
            txid,
            signature.node.clone(),
            key,
            root,
            sig,
        ))?;
        let computed = self
            .tree
            .root()
            .map_err(|e| VerifyFailure::Internal(e.to_string()))?;
        if computed != root {
            // The previous verified signature's own leaf was first covered by this root.
            let altered_from = self.verified_until.map_or(1, |txid| txid.seqno.0);
            let altered_to = txid.seqno.0.saturating_sub(1);
            return Err(VerifyFailure::RootMismatch {
                computed,
                signed: root,
                altered_from,
                altered_to,
            });
        }
        self.signatures += 1;
        self.verified_until = Some(txid);
        // Leaves before the last one are never needed again: only roots are (bounded memory).
        let last_leaf = txid.seqno.0.saturating_sub(1);
        if last_leaf > self.tree.min_index() {
            self.tree
                .flush_to(last_leaf)
                .map_err(|e| VerifyFailure::Internal(e.to_string()))?;
        }
        Ok(root)
    }

    fn record_service_info(&mut self, map: &MapChanges) -> Result<(), VerifyFailure> {
        let value = singleton(map, SERVICE_INFO)?;
        let info: ServiceInfoJson = parse_json(value, SERVICE_INFO)?;
        check_service_transition(self.service_status.as_deref(), &info.status)?;
        let cert = parse_cert(&info.cert, SERVICE_INFO)?;
        let key = cert.public_key().map_err(|e| VerifyFailure::BadValue {
            table: SERVICE_INFO,
            reason: e.to_string(),
        })?;
        self.service_status = Some(info.status);
        self.service_key = Some(key);
        Ok(())
    }

    /// Check 4: the COSE signature is over the current root. When the same transaction carries a
    /// node signature, that root was just checked against the tree; otherwise the tree's root is
    /// what CCF signed.
    fn check_cose_signature(
        &mut self,
        map: &MapChanges,
        signed_root: Option<Sha256Hash>,
        txid: TxId,
    ) -> Result<(), VerifyFailure> {
        let value = singleton(map, COSE_SIGNATURES)?;
        let text: String = parse_json(value, COSE_SIGNATURES)?;
        let bytes = BASE64.decode(text).map_err(|_| VerifyFailure::BadValue {
            table: COSE_SIGNATURES,
            reason: "not base64".into(),
        })?;
        let root = match signed_root {
            Some(root) => root,
            None => self
                .tree
                .root()
                .map_err(|e| VerifyFailure::Internal(e.to_string()))?,
        };
        let key = self
            .service_key
            .clone()
            .ok_or(VerifyFailure::NoServiceCertificate)?;
        let sign1 = Sign1::parse(&bytes).map_err(|_| VerifyFailure::BadCoseSignature)?;
        self.check_or_defer(SignatureCheck::cose(txid, key, root, sign1))
    }
}

/// CCF's allowed service-status transitions (§3.8).
fn check_service_transition(from: Option<&str>, to: &str) -> Result<(), VerifyFailure> {
    let allowed = match (from, to) {
        (_, "Opening") => true,
        (Some(a), b) if a == b => true,
        (Some("Opening"), "Open" | "WaitingForRecoveryShares") => true,
        (Some("Recovering"), "WaitingForRecoveryShares") => true,
        (Some("WaitingForRecoveryShares"), "Open") => true,
        (Some("Open"), "Recovering") => true,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(VerifyFailure::BadServiceTransition {
            from: from.map(str::to_owned),
            to: to.to_owned(),
        })
    }
}

/// The tree a signature carries must have the root it signs (a Cloister check; CCF's Python
/// verifier does not read the tree).
fn check_tree(map: &MapChanges, root: &Sha256Hash) -> Result<(), VerifyFailure> {
    let bytes = singleton(map, TREE)?;
    let mut tree = MerkleTree::deserialise(bytes).map_err(|e| VerifyFailure::BadValue {
        table: TREE,
        reason: e.to_string(),
    })?;
    let tree_root = tree.root().map_err(|e| VerifyFailure::BadValue {
        table: TREE,
        reason: e.to_string(),
    })?;
    if &tree_root != root {
        return Err(VerifyFailure::TreeMismatch {
            tree: tree_root,
            signed: *root,
        });
    }
    Ok(())
}

fn find<'m>(tables: &'m [MapChanges], name: &str) -> Option<&'m MapChanges> {
    tables.iter().find(|map| map.name == name)
}

/// The value of a single-value table: exactly one write.
fn singleton<'m>(map: &'m MapChanges, table: &'static str) -> Result<&'m [u8], VerifyFailure> {
    match map.writes.as_slice() {
        [(_, value)] if map.removes.is_empty() => Ok(value),
        _ => Err(VerifyFailure::BadValue {
            table,
            reason: "expected exactly one write".into(),
        }),
    }
}

fn utf8_key(key: &[u8], table: &'static str) -> Result<String, VerifyFailure> {
    String::from_utf8(key.to_vec()).map_err(|_| VerifyFailure::BadValue {
        table,
        reason: "key is not UTF-8".into(),
    })
}

fn parse_json<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    table: &'static str,
) -> Result<T, VerifyFailure> {
    serde_json::from_slice(bytes).map_err(|e| VerifyFailure::BadValue {
        table,
        reason: e.to_string(),
    })
}

fn parse_cert(pem: &str, table: &'static str) -> Result<Certificate, VerifyFailure> {
    Certificate::from_pem(pem).map_err(|e| VerifyFailure::BadValue {
        table,
        reason: e.to_string(),
    })
}
