//! CCF-compatible Merkle tree (spec/ccf-internals.md §3.3), merklecpp's tree serialisation as
//! stored in `public:ccf.internal.tree` (§3.4), and JSON receipts (§4.1–4.3).
//!
//! Sans-IO: values in, values out.
#![forbid(unsafe_code)]

mod error;
mod leaf;
mod path;
mod receipt;
mod serialise;
mod tree;

pub use error::MerkleError;
pub use leaf::leaf_from_digests;
pub use path::{Path, Side};
pub use receipt::{LeafComponents, NodeSignature, ProofElement, Receipt, ReceiptContents};
pub use tree::MerkleTree;
