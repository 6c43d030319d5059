//! The Merkle history of a service: one leaf per transaction, leaf index == seqno, leaf 0 = 32
//! zero bytes (spec/ccf-internals.md §3.1, §3.3). A signature at seqno S signs the root over
//! leaves 0..S−1; its own leaf is appended after it executes.

use cloister_crypto::Sha256Hash;
use cloister_merkle::MerkleTree;
use cloister_types::SeqNo;

use crate::error::NodeError;

/// The service's Merkle history.
#[derive(Debug)]
pub struct MerkleHistory {
    tree: MerkleTree,
}

impl Default for MerkleHistory {
    fn default() -> MerkleHistory {
        MerkleHistory::new()
    }
}

impl MerkleHistory {
    /// A history holding only leaf 0 (32 zero bytes, inserted unhashed as CCF does).
    pub fn new() -> MerkleHistory {
        let mut tree = MerkleTree::new();
        tree.append(Sha256Hash([0; 32]));
        MerkleHistory { tree }
    }

    /// Rebuilds a history from a serialised `public:ccf.internal.tree` value (for example the
    /// one in a snapshot), to which the caller then appends the leaves that follow.
    pub fn from_serialised_tree(bytes: &[u8]) -> Result<MerkleHistory, NodeError> {
        Ok(MerkleHistory {
            tree: MerkleTree::deserialise(bytes)?,
        })
    }

    /// The seqno the next appended leaf stands for.
    pub fn next_seqno(&self) -> SeqNo {
        SeqNo(self.tree.num_leaves())
    }

    /// Appends the leaf of the transaction at `next_seqno()`.
    pub fn append(&mut self, leaf: Sha256Hash) {
        self.tree.append(leaf);
    }

    /// The root over every leaf appended so far: what a signature at `next_seqno()` signs.
    pub fn root(&mut self) -> Result<Sha256Hash, NodeError> {
        Ok(self.tree.root()?)
    }

    /// merklecpp's serialisation of the leaves still held up to the last one, as a signature
    /// writes it into `public:ccf.internal.tree` (§3.4).
    pub fn serialise(&mut self) -> Result<Vec<u8>, NodeError> {
        let last = self.next_seqno().0 - 1;
        let from = self.tree.min_index();
        Ok(self.tree.serialise(from, last)?)
    }

    /// Forgets leaves below `seqno` (CCF compacts the history at each commit), keeping memory
    /// bounded by the uncommitted suffix.
    pub fn compact(&mut self, seqno: SeqNo) -> Result<(), NodeError> {
        if seqno.0 > self.tree.min_index() && seqno.0 < self.tree.num_leaves() {
            self.tree.flush_to(seqno.0)?;
        }
        Ok(())
    }

    /// Drops the leaves after `seqno` (rollback of an unsigned suffix).
    pub fn rollback(&mut self, seqno: SeqNo) -> Result<(), NodeError> {
        Ok(self.tree.retract_to(seqno.0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_history_holds_the_zero_leaf_and_expects_seqno_1() {
        let mut history = MerkleHistory::new();
        assert_eq!(history.next_seqno(), SeqNo(1));
        assert_eq!(history.root().unwrap(), Sha256Hash([0; 32]));
    }
}
