//! Why a ledger failed verification.

use cloister_crypto::Sha256Hash;
use cloister_types::TxId;

/// A verification failure at one entry. The driver adds the file, offset and seqno.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyFailure {
    /// Entries are not in consecutive seqno order (a chunk is missing, duplicated or altered).
    #[error("expected seqno {expected:?}, found {found}")]
    NotContiguous { expected: Option<u64>, found: u64 },
    /// The IV's seqno and the public header's version disagree.
    #[error("IV says seqno {iv_seqno} but the public header says {header_seqno}")]
    IvSeqnoMismatch { iv_seqno: u64, header_seqno: u64 },
    /// A snapshot entry appeared inside a ledger chunk.
    #[error("snapshot entry inside a ledger chunk")]
    SnapshotInLedger,
    /// A built-in table holds a value that is not what CCF writes there.
    #[error("bad value in {table}: {reason}")]
    BadValue { table: &'static str, reason: String },
    /// A signature names a transaction id other than its own.
    #[error("signature claims to be {signed} but is at {entry}")]
    SignatureTxIdMismatch { signed: TxId, entry: TxId },
    /// The signing node is not in `public:ccf.gov.nodes.info`.
    #[error("signing node {node} is not part of the network")]
    UnknownSigningNode { node: String },
    /// A Pending node must not sign (CCF `UntrustedNodeException`).
    #[error("signing node {node} is still Pending")]
    PendingNodeSigned { node: String },
    /// No certificate is recorded for the signing node.
    #[error("no certificate recorded for signing node {node}")]
    NoNodeCertificate { node: String },
    /// The certificate in the signature has another key than the node's endorsed certificate.
    #[error("signature certificate of node {node} does not match its endorsed certificate")]
    NodeCertificateMismatch { node: String },
    /// The node's ECDSA signature over the root does not verify (CCF `InvalidRootSignatureException`).
    #[error("node {node}'s signature over the root does not verify")]
    BadNodeSignature { node: String },
    /// The signed root is not the root of the transactions before it (CCF `InvalidRootException`).
    /// Every transaction before `altered_from` was covered by an earlier verified root, so the
    /// altered one is among seqnos `altered_from..=altered_to`.
    #[error(
        "signed root {signed} differs from the root {computed} of the preceding transactions: one of the transactions at seqnos {altered_from}..={altered_to} was altered"
    )]
    RootMismatch {
        computed: Sha256Hash,
        signed: Sha256Hash,
        altered_from: u64,
        altered_to: u64,
    },
    /// The tree stored with a signature does not have the signed root.
    #[error("stored tree has root {tree}, the signature signs {signed}")]
    TreeMismatch {
        tree: Sha256Hash,
        signed: Sha256Hash,
    },
    /// A COSE signature appeared before any service certificate.
    #[error("COSE signature before any service certificate")]
    NoServiceCertificate,
    /// The service's COSE signature over the root does not verify (CCF `InvalidRootCoseSignatureException`).
    #[error("service COSE signature over the root does not verify")]
    BadCoseSignature,
    /// A service-status transition CCF does not allow.
    #[error("service status cannot go from {from:?} to {to}")]
    BadServiceTransition { from: Option<String>, to: String },
    /// The verifier's own tree could not answer (a bug, reported rather than panicking).
    #[error("internal: {0}")]
    Internal(String),
}
