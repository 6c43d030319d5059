//! The one error type of this crate.

/// Why a Merkle tree, a serialised tree or a receipt operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The tree has no leaves, so it has no root and no paths.
    #[error("the Merkle tree is empty")]
    EmptyTree,
    /// A leaf index outside the leaves the tree still holds (`min_index..num_leaves`).
    #[error("leaf index {index} is outside the held leaves {min_index}..{num_leaves}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The first leaf still held (leaves below were flushed).
        min_index: u64,
        /// One past the last leaf.
        num_leaves: u64,
    },
    /// `serialise(from, to)` was asked for a range with `from > to`.
    #[error("invalid leaf range {from}..={to}")]
    InvalidRange {
        /// First leaf of the range.
        from: u64,
        /// Last leaf of the range.
        to: u64,
    },
    /// Bytes that are not a merklecpp tree serialisation (spec/ccf-internals.md §3.4).
    #[error("malformed serialised Merkle tree: {0}")]
    MalformedTree(&'static str),
    /// Receipt JSON that does not parse, or a receipt field with bad hex, base64 or PEM.
    #[error("malformed receipt: {0}")]
    MalformedReceipt(String),
    /// The node signature in a receipt does not verify over the recomputed root.
    #[error("the receipt signature does not verify over root {0}")]
    BadSignature(String),
    /// The receipt's node certificate does not chain to the trusted service certificate.
    #[error("the receipt's node certificate is not endorsed by the service: {0}")]
    UntrustedCertificate(String),
}
