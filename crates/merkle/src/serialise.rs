//! merklecpp's tree serialisation, as stored in `public:ccf.internal.tree` by every signature
//! transaction (spec/ccf-internals.md §3.4):
//!
//! ```text
//! u64 BE  num_leaves = to − from + 1
//! u64 BE  from       (first included leaf = min_index of the rebuilt tree)
//! num_leaves × [32]  leaf hashes from..=to
//! k × [32]           left-edge hashes, lowest level first: for each set bit ℓ of `from`, the
//!                    perfect subtree of height ℓ just left of `from`'s ancestor at level ℓ
//! ```
//!
//! The left-edge hashes are what merklecpp collects walking from the root to leaf `from` and
//! keeping the left child at each right turn; in CCF's tree shape those are exactly the
//! perfect subtrees of the binary decomposition of `from`, whatever the tree size.

use cloister_crypto::Sha256Hash;

use crate::error::MerkleError;
use crate::tree::{LEAVES_MAX, MerkleTree};

const HEADER_BYTES: usize = 16;
const HASH_BYTES: usize = 32;

impl MerkleTree {
    /// merklecpp `serialise(from, to)`: leaves `from..=to` and the left edge of `from`.
    /// Both must be held leaves (`min_index <= from <= to <= max_index`).
    pub fn serialise(&self, from: u64, to: u64) -> Result<Vec<u8>, MerkleError> {
        if from > to {
            return Err(MerkleError::InvalidRange { from, to });
        }
        self.check_held(from)?;
        self.check_held(to)?;
        let extras = self.left_edge(from);
        let count = to - from + 1;
        let hashes = usize::try_from(count)
            .unwrap_or(usize::MAX)
            .saturating_add(extras.len());
        let mut out =
            Vec::with_capacity(HEADER_BYTES.saturating_add(hashes.saturating_mul(HASH_BYTES)));
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&from.to_be_bytes());
        for index in from..=to {
            out.extend_from_slice(&self.node(0, index).0);
        }
        for extra in extras {
            out.extend_from_slice(&extra.0);
        }
        Ok(out)
    }

    /// Rebuilds a tree from merklecpp bytes: `min_index` = the stored `from`, leaves
    /// `from..=to`, and the root over `0..=to` of the tree that was serialised. Any malformed
    /// input (short, long, inconsistent counts) is an error, never a panic.
    pub fn deserialise(bytes: &[u8]) -> Result<MerkleTree, MerkleError> {
        let Some((header, body)) = bytes.split_first_chunk::<HEADER_BYTES>() else {
            return Err(MerkleError::MalformedTree(
                "shorter than the 16-byte header",
            ));
        };
        let (count, from) = split_header(header);
        if count == 0 {
            // merklecpp writes an empty tree as a bare header; nothing else is consistent.
            return if from == 0 && body.is_empty() {
                Ok(MerkleTree::new())
            } else {
                Err(MerkleError::MalformedTree("no leaves but a non-empty tree"))
            };
        }
        if from.checked_add(count).is_none_or(|end| end > LEAVES_MAX) {
            return Err(MerkleError::MalformedTree("leaf count too large"));
        }
        let hashes = read_hashes(body, count + u64::from(from.count_ones()))?;
        let (leaves, extras) = hashes.split_at(
            usize::try_from(count)
                .unwrap_or(usize::MAX)
                .min(hashes.len()),
        );
        let mut tree = MerkleTree::with_left_edge(from, extras);
        for leaf in leaves {
            tree.append(*leaf);
        }
        Ok(tree)
    }
}

fn split_header(header: &[u8; HEADER_BYTES]) -> (u64, u64) {
    let mut count = [0u8; 8];
    let mut from = [0u8; 8];
    count.copy_from_slice(&header[..8]);
    from.copy_from_slice(&header[8..]);
    (u64::from_be_bytes(count), u64::from_be_bytes(from))
}

/// Exactly `expected` 32-byte hashes; anything shorter or longer is malformed.
fn read_hashes(body: &[u8], expected: u64) -> Result<Vec<Sha256Hash>, MerkleError> {
    let present = (body.len() / HASH_BYTES) as u64;
    if present < expected || (present == expected && body.len() % HASH_BYTES != 0) {
        return Err(MerkleError::MalformedTree("truncated hashes"));
    }
    if present > expected {
        return Err(MerkleError::MalformedTree(
            "trailing bytes after the last hash",
        ));
    }
    Ok(body
        .chunks_exact(HASH_BYTES)
        .map(|chunk| {
            let mut hash = [0u8; HASH_BYTES];
            hash.copy_from_slice(chunk);
            Sha256Hash(hash)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloister_crypto::sha256;
    use proptest::prelude::*;

    fn tree_of(n: u64) -> MerkleTree {
        let mut tree = MerkleTree::new();
        (0..n).for_each(|i| tree.append(sha256(&i.to_le_bytes())));
        tree
    }

    fn root_of_prefix(n: u64) -> Sha256Hash {
        tree_of(n).root().unwrap()
    }

    #[test]
    fn layout_is_big_endian_header_leaves_then_left_edge_bottom_up() {
        // from = 6 = 0b110: left edge = node 2 of level 1 (leaves 4,5), node 0 of level 2 (0..3).
        let tree = tree_of(9);
        let bytes = tree.serialise(6, 7).unwrap();
        assert_eq!(bytes.len(), 16 + 4 * 32);
        assert_eq!(
            &bytes[..16],
            &[0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 6]
        );
        assert_eq!(&bytes[16..48], &sha256(&6u64.to_le_bytes()).0);
        let leaf = |i: u64| sha256(&i.to_le_bytes());
        assert_eq!(
            &bytes[80..112],
            &crate::path::hash_pair(&leaf(4), &leaf(5)).0
        );
        let left4 = tree_of(4).root().unwrap();
        assert_eq!(&bytes[112..144], &left4.0);
    }

    #[test]
    fn deserialised_tree_starts_at_from_and_has_the_root_over_0_to_to() {
        let tree = tree_of(50);
        let mut back = MerkleTree::deserialise(&tree.serialise(13, 29).unwrap()).unwrap();
        assert_eq!((back.min_index(), back.max_index()), (13, Some(29)));
        assert_eq!(back.root().unwrap(), root_of_prefix(30));
        assert_eq!(back.leaf(13).unwrap(), sha256(&13u64.to_le_bytes()));
        assert!(back.leaf(12).is_err());
    }

    #[test]
    fn a_bare_header_is_the_empty_tree() {
        let tree = MerkleTree::deserialise(&[0; 16]).unwrap();
        assert_eq!((tree.num_leaves(), tree.min_index()), (0, 0));
        assert!(MerkleTree::new().serialise(0, 0).is_err());
    }

    #[test]
    fn inconsistent_headers_are_errors() {
        let mut bytes = vec![0u8; 16];
        bytes[15] = 1; // no leaves but from = 1
        assert!(matches!(
            MerkleTree::deserialise(&bytes),
            Err(MerkleError::MalformedTree(_))
        ));
        let mut huge = vec![0xff; 16];
        huge.extend_from_slice(&[0; 64]);
        assert!(matches!(
            MerkleTree::deserialise(&huge),
            Err(MerkleError::MalformedTree(_))
        ));
        assert!(MerkleTree::deserialise(&[0; 15]).is_err());
    }

    #[test]
    fn serialise_refuses_reversed_and_flushed_ranges() {
        let mut tree = tree_of(10);
        assert_eq!(
            tree.serialise(5, 4),
            Err(MerkleError::InvalidRange { from: 5, to: 4 })
        );
        assert!(tree.serialise(3, 10).is_err());
        tree.flush_to(4).unwrap();
        assert!(tree.serialise(3, 9).is_err());
        assert!(tree.serialise(4, 9).is_ok());
    }

    #[test]
    fn every_truncation_and_extension_of_a_real_size_tree_is_an_error() {
        let bytes = tree_of(300).serialise(255, 299).unwrap();
        for len in 0..bytes.len() {
            assert!(MerkleTree::deserialise(&bytes[..len]).is_err(), "len {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(MerkleTree::deserialise(&longer).is_err());
    }

    #[test]
    fn seeded_mutations_never_panic_and_never_pass_with_a_wrong_shape() {
        // 6,000 inputs derived from real serialisations by flips, cuts, splices and header edits.
        let originals: Vec<Vec<u8>> =
            [(40, 0, 39), (300, 255, 299), (97, 64, 64), (1000, 513, 700)]
                .iter()
                .map(|&(n, from, to)| tree_of(n).serialise(from, to).unwrap())
                .collect();
        let mut rng = SplitMix(0x5eed_f00d_u64);
        for case in 0..6_000 {
            let mut bytes = originals[case % originals.len()].clone();
            mutate(&mut bytes, &mut rng);
            if let Ok(mut tree) = MerkleTree::deserialise(&bytes) {
                // Whatever parses must be a consistent tree: the right length for its header.
                let count = tree.num_leaves() - tree.min_index();
                let expected = 16 + 32 * (count + u64::from(tree.min_index().count_ones()));
                assert_eq!(bytes.len() as u64, expected);
                if count > 0 {
                    let last = tree.max_index().unwrap();
                    assert_eq!(
                        tree.path(last).unwrap().compute_root(),
                        tree.root().unwrap()
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn round_trip_keeps_root_leaves_and_paths(n in 1u64..600, a in any::<u64>(), b in any::<u64>(), flush in any::<u64>()) {
            let mut tree = tree_of(n);
            let min = flush % n;
            tree.flush_to(min).unwrap();
            let from = min + a % (n - min);
            let to = from + b % (n - from);
            let bytes = tree.serialise(from, to).unwrap();
            let mut back = MerkleTree::deserialise(&bytes).unwrap();
            prop_assert_eq!(back.min_index(), from);
            prop_assert_eq!(back.num_leaves(), to + 1);
            let root = root_of_prefix(to + 1);
            prop_assert_eq!(back.root().unwrap(), root);
            for i in from..=to {
                prop_assert_eq!(back.path(i).unwrap().compute_root(), root);
            }
            // Serialising the rebuilt tree over the same range gives the same bytes back.
            prop_assert_eq!(back.serialise(from, to).unwrap(), bytes);
            // And it keeps growing like the original.
            back.append(sha256(b"next"));
            let mut grown = tree_of(to + 1);
            grown.append(sha256(b"next"));
            prop_assert_eq!(back.root().unwrap(), grown.root().unwrap());
        }
    }

    /// Small deterministic generator (SplitMix64) so the mutation corpus replays exactly.
    struct SplitMix(u64);

    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn mutate(bytes: &mut Vec<u8>, rng: &mut SplitMix) {
        match rng.below(6) {
            0 => {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            1 => bytes.truncate(rng.below(bytes.len())),
            2 => {
                let extra = rng.below(80);
                bytes.extend((0..extra).map(|_| rng.next() as u8));
            }
            3 => {
                // Rewrite a header field with a nearby or extreme value.
                let field = 8 * rng.below(2);
                let value = match rng.below(3) {
                    0 => rng.next(),
                    1 => rng.next() % 2_000,
                    _ => u64::MAX - rng.next() % 4,
                };
                bytes[field..field + 8].copy_from_slice(&value.to_be_bytes());
            }
            4 => {
                let at = rng.below(bytes.len());
                let len = rng.below(bytes.len() - at);
                bytes.drain(at..at + len);
            }
            _ => {
                for _ in 0..1 + rng.below(8) {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
            }
        }
    }
}
