//! The Merkle tree, its serialisation and receipts against a real CCF 6 service
//! (testdata/ccf6/eol_service).
//!
//! `data/eol_service_merkle.txt` was extracted once from that ledger with the ccf 6.0.28 Python
//! package: every transaction's leaf, and for each of the 85 signature transactions the signed
//! root and the `public:ccf.internal.tree` value it stores. The service certificate and the
//! snapshot (whose evidence receipt ends the file) are read from testdata itself.

// Helpers outside #[test] functions unwrap too: a malformed vector file is a broken test.
#![allow(clippy::unwrap_used)]

use cloister_crypto::{Certificate, Sha256Hash};
use cloister_merkle::{MerkleTree, Receipt, ReceiptContents, Side};

const VECTORS: &str = include_str!("data/eol_service_merkle.txt");
const SERVICE_CERT: &str =
    include_str!("../../../testdata/ccf6/eol_service/common/service_cert.pem");
const SNAPSHOT: &[u8] =
    include_bytes!("../../../testdata/ccf6/eol_service/snapshots/snapshot_493_494.committed");

struct Signature {
    seqno: u64,
    root: Sha256Hash,
    tree: Vec<u8>,
}

struct Ledger {
    leaves: Vec<Sha256Hash>,
    signatures: Vec<Signature>,
}

fn ledger() -> Ledger {
    let mut leaves = Vec::new();
    let mut signatures = Vec::new();
    for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(' ').collect();
        let seqno: u64 = fields[1].parse().unwrap();
        match fields[0] {
            "leaf" => {
                assert_eq!(
                    seqno,
                    leaves.len() as u64,
                    "leaves are listed in seqno order"
                );
                leaves.push(Sha256Hash::from_hex(fields[2]).unwrap());
            }
            "sig" => signatures.push(Signature {
                seqno,
                root: Sha256Hash::from_hex(fields[2]).unwrap(),
                tree: hex::decode(fields[3]).unwrap(),
            }),
            other => panic!("unknown line kind {other}"),
        }
    }
    Ledger { leaves, signatures }
}

fn stored_from(tree: &[u8]) -> u64 {
    u64::from_be_bytes(tree[8..16].try_into().unwrap())
}

#[test]
fn the_root_over_0_to_s_minus_1_is_the_root_signed_at_s() {
    let ledger = ledger();
    assert_eq!(ledger.signatures.len(), 85);
    let mut tree = MerkleTree::new();
    for sig in &ledger.signatures {
        while tree.num_leaves() < sig.seqno {
            tree.append(ledger.leaves[tree.num_leaves() as usize]);
        }
        assert_eq!(tree.root().unwrap(), sig.root, "signature at {}", sig.seqno);
    }
}

#[test]
fn stored_trees_deserialise_to_the_signed_root() {
    for sig in &ledger().signatures {
        let mut tree = MerkleTree::deserialise(&sig.tree).unwrap();
        assert_eq!(tree.min_index(), stored_from(&sig.tree));
        assert_eq!(tree.max_index(), Some(sig.seqno - 1));
        assert_eq!(tree.root().unwrap(), sig.root, "signature at {}", sig.seqno);
    }
}

#[test]
fn flushing_like_ccf_serialises_byte_for_byte_what_ccf_stored() {
    // CCF 6 flushes its history to the commit point and stores serialise(min_index, S-1);
    // in this ledger min_index is always the previous signature (§3.4).
    let ledger = ledger();
    let mut tree = MerkleTree::new();
    for sig in &ledger.signatures {
        while tree.num_leaves() < sig.seqno {
            tree.append(ledger.leaves[tree.num_leaves() as usize]);
        }
        tree.flush_to(stored_from(&sig.tree)).unwrap();
        assert_eq!(
            tree.serialise(tree.min_index(), sig.seqno - 1).unwrap(),
            sig.tree,
            "signature at {}",
            sig.seqno
        );
    }
}

#[test]
fn a_tree_restored_from_one_signature_reaches_the_next_signed_roots() {
    // What a node does when it starts from a stored tree: append the following leaves.
    let ledger = ledger();
    for (at, sig) in ledger.signatures.iter().enumerate().step_by(7) {
        let mut tree = MerkleTree::deserialise(&sig.tree).unwrap();
        for next in &ledger.signatures[at + 1..] {
            while tree.num_leaves() < next.seqno {
                tree.append(ledger.leaves[tree.num_leaves() as usize]);
            }
            assert_eq!(
                tree.root().unwrap(),
                next.root,
                "from {} to {}",
                sig.seqno,
                next.seqno
            );
        }
    }
}

/// The snapshot's evidence receipt: the JSON after the snapshot entry (8-byte header whose
/// bytes 2..8 are the body size, spec §2.1 and §8.2).
fn snapshot_receipt() -> &'static str {
    let mut size = [0u8; 8];
    size[..6].copy_from_slice(&SNAPSHOT[2..8]);
    let receipt_at = 8 + u64::from_le_bytes(size) as usize;
    std::str::from_utf8(&SNAPSHOT[receipt_at..]).unwrap()
}

#[test]
fn the_real_snapshot_receipt_verifies_against_the_service_certificate() {
    let text = snapshot_receipt();
    let receipt = Receipt::from_json(text).unwrap();
    let service = Certificate::from_pem(SERVICE_CERT).unwrap();
    let root = receipt.verify(&service).unwrap();
    // The receipt is for the snapshot evidence at 494, signed at 497.
    let ledger = ledger();
    let sig = ledger.signatures.iter().find(|s| s.seqno == 497).unwrap();
    assert_eq!(root, sig.root);
    let ReceiptContents::Components(components) = &receipt.contents else {
        panic!("expected leaf components")
    };
    assert!(components.commit_evidence.starts_with("ce:10.494:"));
    assert_eq!(components.leaf(), ledger.leaves[494]);
}

#[test]
fn our_path_for_the_receipted_leaf_is_the_proof_ccf_wrote() {
    let receipt = Receipt::from_json(snapshot_receipt()).unwrap();
    let ledger = ledger();
    let mut tree = MerkleTree::new();
    ledger.leaves[..497]
        .iter()
        .for_each(|leaf| tree.append(*leaf));
    let path = tree.path(494).unwrap();
    let ours: Vec<(Side, Sha256Hash)> = path.elements;
    let theirs: Vec<(Side, Sha256Hash)> =
        receipt.proof.iter().map(|e| (e.side(), e.hash())).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn the_real_receipt_round_trips_byte_for_byte() {
    let text = snapshot_receipt();
    assert_eq!(Receipt::from_json(text).unwrap().to_json(), text);
}

#[test]
fn the_real_receipt_fails_against_another_root_or_service() {
    let service = Certificate::from_pem(SERVICE_CERT).unwrap();
    let mut receipt = Receipt::from_json(snapshot_receipt()).unwrap();
    // The node certificate is not a service certificate.
    let node = Certificate::from_pem(&receipt.cert).unwrap();
    assert!(receipt.verify(&node).is_err());
    receipt.proof.pop();
    assert!(receipt.verify(&service).is_err());
}
