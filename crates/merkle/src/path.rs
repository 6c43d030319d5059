//! Merkle paths (inclusion proofs): the sibling hashes from a leaf up to the root.
//!
//! Same meaning as merklecpp's `PathT` and the `proof` of CCF receipts (spec/ccf-internals.md
//! §3.4, §4.1): elements are ordered leaf → root, and each says on which side its hash joins.

use cloister_crypto::{Sha256Hash, sha256_concat};

/// Where a path element's hash joins the running hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The sibling is on the left: `acc = SHA256(sibling ‖ acc)` (merklecpp `PATH_LEFT`,
    /// receipt `{"left": …}`).
    Left,
    /// The sibling is on the right: `acc = SHA256(acc ‖ sibling)`.
    Right,
}

/// The path from one leaf to the root of the tree as it was when the path was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// Index of the leaf (the seqno, for CCF's history).
    pub leaf_index: u64,
    /// Last leaf index of the tree the path was taken from; the root covers `0..=max_index`.
    pub max_index: u64,
    /// The leaf hash.
    pub leaf: Sha256Hash,
    /// Siblings from the leaf upwards.
    pub elements: Vec<(Side, Sha256Hash)>,
}

impl Path {
    /// Folds the elements over the leaf to get the root they prove inclusion in.
    pub fn compute_root(&self) -> Sha256Hash {
        fold(self.leaf, self.elements.iter().copied())
    }
}

/// Folds `(side, sibling)` steps over `start`; shared with receipts.
pub(crate) fn fold(
    start: Sha256Hash,
    steps: impl IntoIterator<Item = (Side, Sha256Hash)>,
) -> Sha256Hash {
    steps
        .into_iter()
        .fold(start, |acc, (side, sibling)| match side {
            Side::Left => hash_pair(&sibling, &acc),
            Side::Right => hash_pair(&acc, &sibling),
        })
}

/// Inner node hash: `SHA256(left ‖ right)`, 64 bytes in, no RFC 6962 prefixes (§3.3).
pub(crate) fn hash_pair(left: &Sha256Hash, right: &Sha256Hash) -> Sha256Hash {
    sha256_concat(&[&left.0, &right.0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_crypto::sha256;

    #[test]
    fn left_elements_hash_the_sibling_first() {
        let leaf = sha256(b"leaf");
        let sibling = sha256(b"sibling");
        let path = |side| Path {
            leaf_index: 1,
            max_index: 1,
            leaf,
            elements: vec![(side, sibling)],
        };
        assert_eq!(
            path(Side::Left).compute_root(),
            sha256_concat(&[&sibling.0, &leaf.0])
        );
        assert_eq!(
            path(Side::Right).compute_root(),
            sha256_concat(&[&leaf.0, &sibling.0])
        );
    }

    #[test]
    fn a_path_without_elements_proves_the_leaf_itself() {
        let leaf = sha256(b"only");
        let path = Path {
            leaf_index: 0,
            max_index: 0,
            leaf,
            elements: vec![],
        };
        assert_eq!(path.compute_root(), leaf);
    }
}
