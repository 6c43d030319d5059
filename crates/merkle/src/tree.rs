//! CCF's Merkle tree over transaction leaves (spec/ccf-internals.md §3.3), with merklecpp's
//! operations: append, root, path, retract (rollback) and flush (bounded memory).
//!
//! # Representation
//!
//! The tree over `n` leaves has the RFC 6962 shape without prefixes: split at the largest power
//! of two below `n`, or equivalently, pair nodes level by level and promote an odd last node.
//! Such a tree is a left-to-right row of *perfect* subtrees ("peaks"), one per set bit of `n`,
//! joined right to left: `root = H(P1, H(P2, … H(Pk-1, Pk)))`. The nodes inside a perfect subtree
//! never change once their last leaf is appended, so they are the only nodes stored:
//! `levels[ℓ]` holds the perfect subtrees of height `ℓ` (node `i` covers leaves
//! `i·2^ℓ .. (i+1)·2^ℓ`), in index order. An append hashes one node per level it completes —
//! one hash amortised. The peaks and their right-to-left folds are computed on demand
//! (at most 63 hashes) and cached until the next append or retract.
//!
//! After `flush_to(m)` (`m` = `min_index`) level `ℓ` keeps the nodes from index
//! `(m >> ℓ) & !1` on: everything a path of a leaf `>= m` can need, including the left sibling
//! of `m`'s ancestor when that ancestor is a right child. Those left siblings are exactly the
//! "extra" hashes of merklecpp's serialisation (§3.4), so a deserialised tree has the same
//! state as a flushed one. Memory is then O(live leaves + log n).

use std::collections::VecDeque;

use cloister_crypto::Sha256Hash;

use crate::error::MerkleError;
use crate::path::{Path, Side, hash_pair};

/// The largest number of leaves a tree may have (2^62). Keeps every index and level count
/// far from u64 overflow, including for trees deserialised from untrusted bytes.
pub(crate) const LEAVES_MAX: u64 = 1 << 62;

/// An append-only Merkle tree with rollback and flushing, CCF/merklecpp compatible.
#[derive(Clone, Default)]
pub struct MerkleTree {
    /// `levels[ℓ]`: perfect subtrees of height `ℓ`, indices `level_start(ℓ)..(num_leaves >> ℓ)`.
    levels: Vec<VecDeque<Sha256Hash>>,
    /// First leaf still held; all leaves below were flushed (merklecpp `num_flushed`).
    min_index: u64,
    /// Number of leaves appended in all, flushed ones included.
    num_leaves: u64,
    /// Root and peak folds of the current leaves; `None` after an append or retract.
    peaks: Option<PeakFolds>,
}

impl MerkleTree {
    /// An empty tree. CCF's history appends leaf 0 (32 zero bytes) itself (§3.3).
    pub fn new() -> MerkleTree {
        MerkleTree::default()
    }

    /// Appends one leaf hash (not re-hashed). Amortised one SHA-256 per call.
    pub fn append(&mut self, leaf: Sha256Hash) {
        assert!(
            self.num_leaves < LEAVES_MAX,
            "Merkle tree is full ({LEAVES_MAX} leaves)"
        );
        self.peaks = None;
        let mut hash = leaf;
        let mut index = self.num_leaves;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(VecDeque::new());
            }
            let Some(nodes) = self.levels.get_mut(level) else {
                unreachable!("level {level} was just created")
            };
            nodes.push_back(hash);
            if index & 1 == 0 {
                break;
            }
            // The new node is a right child: its left sibling is the node stored just before it,
            // because every level starts at an even index (see the module comment).
            let Some(left) = nodes.len().checked_sub(2).and_then(|at| nodes.get(at)) else {
                panic!("Merkle invariant broken: no left sibling at level {level}, index {index}")
            };
            hash = hash_pair(left, &hash);
            index >>= 1;
            level += 1;
        }
        self.num_leaves += 1;
    }

    /// First leaf index still held: paths and leaves can be asked for from here on.
    pub fn min_index(&self) -> u64 {
        self.min_index
    }

    /// Last leaf index, `None` for an empty tree.
    pub fn max_index(&self) -> Option<u64> {
        self.num_leaves.checked_sub(1)
    }

    /// Number of leaves, flushed ones included (`max_index + 1`).
    pub fn num_leaves(&self) -> u64 {
        self.num_leaves
    }

    /// The root over leaves `0..=max_index`: inner node = SHA256(left ‖ right), odd node promoted.
    pub fn root(&mut self) -> Result<Sha256Hash, MerkleError> {
        Ok(self.peak_folds()?.root)
    }

    /// The path from leaf `index` (in `min_index..=max_index`) to the current root.
    pub fn path(&mut self, index: u64) -> Result<Path, MerkleError> {
        self.check_held(index)?;
        let n = self.num_leaves;
        // The leaf lies in the peak at the highest bit where `index` and `n` differ.
        let peak_level = 63 - (index ^ n).leading_zeros() as usize;
        let mut elements = Vec::with_capacity(self.levels.len());
        for level in 0..peak_level {
            let node = index >> level;
            let side = if node & 1 == 1 {
                Side::Left
            } else {
                Side::Right
            };
            elements.push((side, self.node(level, node ^ 1)));
        }
        let right_of_peak = self.peak_folds()?.below.get(peak_level).copied().flatten();
        if let Some(right) = right_of_peak {
            elements.push((Side::Right, right));
        }
        for level in peak_level + 1..self.levels.len() {
            if (n >> level) & 1 == 1 {
                elements.push((Side::Left, self.node(level, (n >> level) - 1)));
            }
        }
        Ok(Path {
            leaf_index: index,
            max_index: n - 1,
            leaf: self.node(0, index),
            elements,
        })
    }

    /// The leaf hash at `index` (in `min_index..=max_index`).
    pub fn leaf(&self, index: u64) -> Result<Sha256Hash, MerkleError> {
        self.check_held(index)?;
        Ok(self.node(0, index))
    }

    /// Rollback: keeps leaves `0..=index` and drops later ones (no-op if `index >= max_index`).
    /// Errors if `index < min_index`: flushed leaves cannot be rebuilt.
    pub fn retract_to(&mut self, index: u64) -> Result<(), MerkleError> {
        if index < self.min_index {
            return Err(self.out_of_range(index));
        }
        if index.saturating_add(1) >= self.num_leaves {
            return Ok(());
        }
        let kept_leaves = index + 1;
        for (level, nodes) in self.levels.iter_mut().enumerate() {
            let keep = (kept_leaves >> level).saturating_sub(level_start(self.min_index, level));
            nodes.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        }
        self.levels.truncate(bit_length(kept_leaves));
        self.num_leaves = kept_leaves;
        self.peaks = None;
        Ok(())
    }

    /// Forgets leaves below `index` (no-op if `index <= min_index`); the root, and the leaves and
    /// paths of leaves `>= index`, stay available. Like merklecpp, `index` must be a leaf of the
    /// tree (`<= max_index`).
    pub fn flush_to(&mut self, index: u64) -> Result<(), MerkleError> {
        if index <= self.min_index {
            return Ok(());
        }
        if index >= self.num_leaves {
            return Err(self.out_of_range(index));
        }
        for (level, nodes) in self.levels.iter_mut().enumerate() {
            let dropped = level_start(index, level) - level_start(self.min_index, level);
            let dropped = usize::try_from(dropped)
                .unwrap_or(usize::MAX)
                .min(nodes.len());
            nodes.drain(..dropped);
            // Give memory back when most of the buffer is unused, so that a long-lived tree
            // stays O(live leaves); the slack keeps this amortised O(1) per append.
            if nodes.capacity() > 2 * nodes.len() + 64 {
                nodes.shrink_to_fit();
            }
        }
        self.min_index = index;
        Ok(())
    }

    /// Number of hashes held in memory: about twice the live leaves, plus O(log n).
    pub fn held_hashes(&self) -> usize {
        self.levels.iter().map(VecDeque::len).sum()
    }
}

/// Crate-internal access used by the merklecpp (de)serialiser.
impl MerkleTree {
    /// A tree whose leaves below `min_index` are flushed, seeded with the left-edge hashes
    /// merklecpp serialises: `extras[k]` is the perfect subtree at the level of the `k`-th set
    /// bit of `min_index`, lowest first. Leaves from `min_index` on are then appended.
    pub(crate) fn with_left_edge(min_index: u64, extras: &[Sha256Hash]) -> MerkleTree {
        let mut levels = vec![VecDeque::new(); bit_length(min_index)];
        let set_bits = levels
            .iter_mut()
            .enumerate()
            .filter(|(level, _)| (min_index >> level) & 1 == 1);
        for ((_, nodes), extra) in set_bits.zip(extras) {
            nodes.push_back(*extra);
        }
        MerkleTree {
            levels,
            min_index,
            num_leaves: min_index,
            peaks: None,
        }
    }

    /// The left-edge hashes of leaf `from` (see `with_left_edge`), lowest level first.
    /// Requires `from` in `min_index..num_leaves`.
    pub(crate) fn left_edge(&self, from: u64) -> Vec<Sha256Hash> {
        (0..bit_length(from))
            .filter(|level| (from >> level) & 1 == 1)
            .map(|level| self.node(level, (from >> level) - 1))
            .collect()
    }

    /// `Ok` if leaf `index` is held.
    pub(crate) fn check_held(&self, index: u64) -> Result<(), MerkleError> {
        if (self.min_index..self.num_leaves).contains(&index) {
            Ok(())
        } else {
            Err(self.out_of_range(index))
        }
    }

    /// The node of height `level` and index `index`; the caller guarantees it is held.
    pub(crate) fn node(&self, level: usize, index: u64) -> Sha256Hash {
        let held = index
            .checked_sub(level_start(self.min_index, level))
            .and_then(|offset| usize::try_from(offset).ok())
            .and_then(|offset| self.levels.get(level)?.get(offset));
        match held {
            Some(hash) => *hash,
            None => panic!("Merkle invariant broken: node {index} at level {level} is not held"),
        }
    }
}

/// Root and peak folds of one tree state.
#[derive(Clone, Debug)]
struct PeakFolds {
    root: Sha256Hash,
    /// `below[ℓ]`: the fold of the peaks lower than level `ℓ` (the right sibling of the peak at
    /// level `ℓ`), `None` if there are none.
    below: Vec<Option<Sha256Hash>>,
}

impl MerkleTree {
    fn peak_folds(&mut self) -> Result<&PeakFolds, MerkleError> {
        if self.num_leaves == 0 {
            return Err(MerkleError::EmptyTree);
        }
        let folds = match self.peaks.take() {
            Some(folds) => folds,
            None => self.compute_peak_folds(),
        };
        Ok(self.peaks.insert(folds))
    }

    fn compute_peak_folds(&self) -> PeakFolds {
        let n = self.num_leaves;
        let mut below = Vec::with_capacity(self.levels.len());
        let mut acc: Option<Sha256Hash> = None;
        for level in 0..self.levels.len() {
            below.push(acc);
            if (n >> level) & 1 == 1 {
                let peak = self.node(level, (n >> level) - 1);
                acc = Some(match acc {
                    None => peak,
                    Some(right) => hash_pair(&peak, &right),
                });
            }
        }
        let Some(root) = acc else {
            unreachable!("a non-empty tree has a peak")
        };
        PeakFolds { root, below }
    }

    fn out_of_range(&self, index: u64) -> MerkleError {
        MerkleError::IndexOutOfRange {
            index,
            min_index: self.min_index,
            num_leaves: self.num_leaves,
        }
    }
}

impl std::fmt::Debug for MerkleTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerkleTree")
            .field("min_index", &self.min_index)
            .field("num_leaves", &self.num_leaves)
            .field("held_hashes", &self.held_hashes())
            .finish()
    }
}

/// First index held at `level` once leaves below `min_index` are flushed: the ancestor of
/// `min_index`, or its left sibling when the ancestor is a right child.
fn level_start(min_index: u64, level: usize) -> u64 {
    min_index.checked_shr(level as u32).unwrap_or(0) & !1
}

/// Number of bits needed to write `n` (0 for 0): the number of levels of a tree of `n` leaves.
fn bit_length(n: u64) -> usize {
    (64 - n.leading_zeros()) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_crypto::sha256;
    use proptest::prelude::*;

    /// Leaf `i` of the test trees, as in the Python vectors: SHA256(u64 LE i).
    pub(crate) fn test_leaf(i: u64) -> Sha256Hash {
        sha256(&i.to_le_bytes())
    }

    fn tree_of(n: u64) -> MerkleTree {
        let mut tree = MerkleTree::new();
        (0..n).for_each(|i| tree.append(test_leaf(i)));
        tree
    }

    /// The definition: split at the largest power of two below the leaf count.
    fn reference_root(leaves: &[Sha256Hash]) -> Sha256Hash {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let split = 1usize << (usize::BITS - 1 - (leaves.len() - 1).leading_zeros());
        let (left, right) = leaves.split_at(split);
        hash_pair(&reference_root(left), &reference_root(right))
    }

    fn leaves(n: u64) -> Vec<Sha256Hash> {
        (0..n).map(test_leaf).collect()
    }

    /// Roots printed by `ccf.merkletree.MerkleTree` (ccf 6.0.28) for leaves SHA256(u64 LE i).
    const PYTHON_ROOTS: &[(u64, &str)] = &[
        (
            1,
            "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc",
        ),
        (
            2,
            "c82191a310bcd974e428362f9ca9efddd2155f2ca4cc7451c366585c690209ef",
        ),
        (
            3,
            "b9c164c66779afc6bfe0a1fd45878454749c55cec8eb962bc4763e242a8320ce",
        ),
        (
            4,
            "da82b2152f6b1ca855d1920d2e2786e08dd7b95ac04de92d7da3d852485bc636",
        ),
        (
            5,
            "4ced65db966a6ae884b8faae140861d7a0ea72897864e14c128454c347a5a5bb",
        ),
        (
            7,
            "cfb692c6daf9c52bb2cd097c357319305f6527efbc1c5e680fb7860fa407186c",
        ),
        (
            8,
            "8a3a459c81b2669fc46d9b412aca1cfeff8fa4292909fbbe922fecf95b0036fc",
        ),
        (
            9,
            "a3c75a0313ebd1b9730c0ad882c6c7cafcc8a557716d64ad888838714b2a9e1e",
        ),
        (
            31,
            "5349e4706cc8fcd2dc54979de124cc26b2a5bf21c846eee8bf9419341a43c6ff",
        ),
        (
            32,
            "f1d1c016959fd487951669280485cf8cc631b27c952b4f046e2f231566675263",
        ),
        (
            33,
            "1b72fb58cd8d6d58cea1f286f17ac5e2f93ef5d348ec133920c8432339f9bd02",
        ),
        (
            100,
            "90566fe730ea741cb4d3070eb3a3c3e79f65c34a2b2352b540394002dec9e36b",
        ),
        (
            255,
            "53e938939575ee9c0bf6602f3e76773573412a6009b37beba1e377d6b71e3315",
        ),
        (
            256,
            "6e5c3a0093b8f879b9d42eb64c4351f722bda130a46b1384c066544344acdfeb",
        ),
        (
            257,
            "32bc58aeb2f77432f632b042e5fa9f496abd722093b790c029d277b1b5d9b724",
        ),
        (
            1000,
            "01a97a85bcc8617308babc271f5c95101ebbc78ff8c18e8488fb6223afac1124",
        ),
        (
            1025,
            "94fc650ba86942f41754b55a69ccb9923b1af3483cb2e1588f8f8ae4724044d0",
        ),
    ];

    #[test]
    fn roots_match_the_recursive_split_for_every_size_up_to_300() {
        let mut tree = MerkleTree::new();
        let all = leaves(300);
        for n in 1..=300usize {
            tree.append(all[n - 1]);
            assert_eq!(tree.root().unwrap(), reference_root(&all[..n]), "n = {n}");
        }
    }

    #[test]
    fn roots_match_the_ccf_python_package() {
        let mut tree = MerkleTree::new();
        for &(n, root) in PYTHON_ROOTS {
            while tree.num_leaves() < n {
                tree.append(test_leaf(tree.num_leaves()));
            }
            assert_eq!(tree.root().unwrap().to_hex(), root, "n = {n}");
        }
    }

    #[test]
    fn an_empty_tree_has_no_root_and_no_paths() {
        let mut tree = MerkleTree::new();
        assert_eq!(tree.root(), Err(MerkleError::EmptyTree));
        assert_eq!(tree.max_index(), None);
        assert!(matches!(
            tree.path(0),
            Err(MerkleError::IndexOutOfRange { index: 0, .. })
        ));
        assert!(tree.leaf(0).is_err());
    }

    #[test]
    fn a_single_leaf_is_its_own_root() {
        let mut tree = tree_of(1);
        assert_eq!(tree.root().unwrap(), test_leaf(0));
        let path = tree.path(0).unwrap();
        assert!(path.elements.is_empty());
        assert_eq!(path.compute_root(), test_leaf(0));
    }

    #[test]
    fn path_of_every_leaf_folds_to_the_root_for_sizes_up_to_130() {
        for n in 1..=130 {
            let mut tree = tree_of(n);
            let root = tree.root().unwrap();
            for i in 0..n {
                let path = tree.path(i).unwrap();
                assert_eq!(
                    (path.leaf_index, path.max_index, path.leaf),
                    (i, n - 1, test_leaf(i))
                );
                assert_eq!(path.compute_root(), root, "n = {n}, leaf {i}");
            }
        }
    }

    #[test]
    fn path_has_merklecpp_shape_for_five_leaves() {
        // root = H(H(H(l0,l1),H(l2,l3)), l4): leaf 4 is promoted twice, leaf 2's path is R, L, R.
        let mut tree = tree_of(5);
        let h = |a: &Sha256Hash, b: &Sha256Hash| hash_pair(a, b);
        let l: Vec<_> = leaves(5);
        let n01 = h(&l[0], &l[1]);
        let n23 = h(&l[2], &l[3]);
        let n0123 = h(&n01, &n23);
        assert_eq!(tree.path(4).unwrap().elements, vec![(Side::Left, n0123)]);
        assert_eq!(
            tree.path(2).unwrap().elements,
            vec![(Side::Right, l[3]), (Side::Left, n01), (Side::Right, l[4])]
        );
    }

    #[test]
    fn leaf_returns_what_was_appended_and_refuses_flushed_and_future_indices() {
        let mut tree = tree_of(10);
        assert_eq!(tree.leaf(7).unwrap(), test_leaf(7));
        tree.flush_to(5).unwrap();
        assert_eq!(tree.leaf(5).unwrap(), test_leaf(5));
        assert_eq!(
            tree.leaf(4),
            Err(MerkleError::IndexOutOfRange {
                index: 4,
                min_index: 5,
                num_leaves: 10
            })
        );
        assert!(tree.leaf(10).is_err());
    }

    #[test]
    fn retract_then_reappend_gives_the_roots_of_a_fresh_tree() {
        let mut tree = tree_of(100);
        tree.retract_to(40).unwrap();
        assert_eq!(tree.num_leaves(), 41);
        assert_eq!(tree.root().unwrap(), reference_root(&leaves(41)));
        let other = |i: u64| sha256(&(i + 1_000_000).to_le_bytes());
        for i in 41..77 {
            tree.append(other(i));
        }
        let mut expected: Vec<_> = leaves(41);
        expected.extend((41..77).map(other));
        assert_eq!(tree.root().unwrap(), reference_root(&expected));
    }

    #[test]
    fn retract_below_min_index_is_refused_and_beyond_max_is_a_no_op() {
        let mut tree = tree_of(20);
        tree.flush_to(8).unwrap();
        assert_eq!(
            tree.retract_to(7),
            Err(MerkleError::IndexOutOfRange {
                index: 7,
                min_index: 8,
                num_leaves: 20
            })
        );
        let root = tree.root().unwrap();
        tree.retract_to(19).unwrap();
        tree.retract_to(1_000).unwrap();
        assert_eq!((tree.num_leaves(), tree.root().unwrap()), (20, root));
        tree.retract_to(8).unwrap();
        assert_eq!(tree.root().unwrap(), reference_root(&leaves(9)));
    }

    #[test]
    fn flush_beyond_the_last_leaf_is_refused() {
        let mut tree = tree_of(4);
        assert!(tree.flush_to(4).is_err());
        tree.flush_to(3).unwrap();
        assert_eq!(tree.min_index(), 3);
        tree.flush_to(2).unwrap();
        assert_eq!(tree.min_index(), 3, "flushing backwards is a no-op");
    }

    #[test]
    fn flush_frees_memory_down_to_live_leaves_plus_log_n() {
        let mut tree = tree_of(100_000);
        assert!(tree.held_hashes() >= 199_000);
        let root = tree.root().unwrap();
        tree.flush_to(99_990).unwrap();
        assert!(
            tree.held_hashes() <= 2 * 10 + 2 * 17,
            "held {}",
            tree.held_hashes()
        );
        assert_eq!(tree.root().unwrap(), root);
        // Keep appending and flushing: memory stays bounded while roots stay right.
        let mut reference = MerkleTree::new();
        (0..100_000).for_each(|i| reference.append(test_leaf(i)));
        for i in 100_000..120_000 {
            tree.append(test_leaf(i));
            reference.append(test_leaf(i));
            if i % 100 == 0 {
                tree.flush_to(i - 5).unwrap();
                assert!(tree.held_hashes() <= 2 * 105 + 2 * 17);
                assert_eq!(tree.root().unwrap(), reference.root().unwrap());
            }
        }
        let capacity: usize = tree.levels.iter().map(VecDeque::capacity).sum();
        assert!(
            capacity < 4_000,
            "buffers were given back, capacity {capacity}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn roots_match_the_reference_for_any_size(n in 1u64..2_000) {
            prop_assert_eq!(tree_of(n).root().unwrap(), reference_root(&leaves(n)));
        }

        #[test]
        fn paths_fold_to_the_root_after_any_flush(n in 1u64..400, flush in 0u64..400, probe in any::<u64>()) {
            let flush = flush % n;
            let mut tree = tree_of(n);
            let root = tree.root().unwrap();
            tree.flush_to(flush).unwrap();
            prop_assert_eq!(tree.root().unwrap(), root);
            for i in flush..n {
                let path = tree.path(i).unwrap();
                prop_assert_eq!(path.leaf, test_leaf(i));
                prop_assert_eq!(path.compute_root(), root);
            }
            let below = probe % (flush + 1);
            prop_assert_eq!(tree.path(below).is_err(), below < flush);
        }

        #[test]
        fn any_mix_of_appends_flushes_and_retracts_matches_a_fresh_tree(
            ops in proptest::collection::vec((0u8..3, 0u64..64), 1..60)
        ) {
            let mut tree = MerkleTree::new();
            let mut live: Vec<Sha256Hash> = Vec::new();
            let mut salt = 0u64;
            for (op, arg) in ops {
                match op {
                    0 => for _ in 0..=arg {
                        salt += 1;
                        let leaf = sha256(&salt.to_le_bytes());
                        tree.append(leaf);
                        live.push(leaf);
                    },
                    1 if !live.is_empty() => {
                        let to = tree.min_index() + arg % (live.len() as u64 - tree.min_index()).max(1);
                        tree.flush_to(to).unwrap();
                    }
                    _ if !live.is_empty() => {
                        let to = tree.min_index() + arg % (live.len() as u64 - tree.min_index()).max(1);
                        tree.retract_to(to).unwrap();
                        live.truncate(to as usize + 1);
                    }
                    _ => {}
                }
                prop_assert_eq!(tree.num_leaves(), live.len() as u64);
                if !live.is_empty() {
                    let root = reference_root(&live);
                    prop_assert_eq!(tree.root().unwrap(), root);
                    let last = live.len() as u64 - 1;
                    for i in [tree.min_index(), (tree.min_index() + last) / 2, last] {
                        prop_assert_eq!(tree.path(i).unwrap().compute_root(), root);
                    }
                }
            }
        }
    }
}
