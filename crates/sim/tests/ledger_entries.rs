//! The simulator reads what each appended entry is from its bytes: after setup, every node's
//! ledger decodes, each entry names the seqno it sits at, and exactly the signature
//! transactions are signatures (the genesis signature at 2 among them). SignatureFlag compares
//! this with the node's own `committable` flag on every append.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use cloister_sim::entries::describe;
use cloister_sim::{RunConfig, setup};
use cloister_types::SeqNo;

#[test]
fn entries_read_back_with_their_txid_and_signatures_are_recognised() {
    let world = setup::build(RunConfig::new(11, 3)).unwrap();
    let mut checked = 0;
    for node in world.nodes.iter().filter(|n| n.disk.len() >= 2) {
        let mut signatures = 0;
        for (i, log) in node.disk.logs().iter().enumerate() {
            let seqno = SeqNo(i as u64 + 1);
            let described = describe(seqno, node.disk.bytes(seqno).unwrap()).unwrap();
            assert_eq!(described.txid, log.txid);
            assert_eq!(described.is_signature, log.committable);
            signatures += usize::from(described.is_signature);
        }
        assert!(
            signatures >= 2,
            "{} has {signatures} signatures",
            node.name()
        );
        let genesis = describe(SeqNo(1), node.disk.bytes(SeqNo(1)).unwrap()).unwrap();
        let first_signature = describe(SeqNo(2), node.disk.bytes(SeqNo(2)).unwrap()).unwrap();
        assert!(!genesis.is_signature && first_signature.is_signature);
        // An entry read at another seqno than its own is refused.
        checked += 1;
        assert!(describe(SeqNo(3), node.disk.bytes(SeqNo(2)).unwrap()).is_err());
    }
    assert!(checked >= 2, "the primary and a backup at least");
}
