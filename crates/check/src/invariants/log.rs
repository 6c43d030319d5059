//! The shape of logs: LogMatching (TLA+ `LogMatchingInv`: entries with the same TxId have
//! identical prefixes, on any two nodes and at any two times) and MonoLog (TLA+ `MonoLogInv`:
//! an entry's TxId names its position, views never decrease along a log and only change after a
//! signature, and no entry is from a view later than its node's).

use std::collections::BTreeMap;

use cloister_crypto::Sha256Hash;
use cloister_types::{SeqNo, TxId};

use crate::invariants::ghost::Ghost;
use crate::invariants::model::{NodeState, Violation};

pub const LOG_MATCHING: &str = "LogMatching";
pub const MONO_LOG: &str = "MonoLog";

/// Entries new since the previous step agree, by running hash, with every entry ever seen at
/// the same TxId.
pub fn log_matching(ghost: &Ghost, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
    let mut fresh: BTreeMap<TxId, (Sha256Hash, &cloister_types::NodeId)> = BTreeMap::new();
    for node in nodes {
        for seqno in node.changed_from.0.max(1)..=node.last().0 {
            let Some(entry) = node.entry(SeqNo(seqno)) else {
                continue;
            };
            let known = ghost.chains.get(&entry.txid).copied().or_else(|| {
                fresh
                    .get(&entry.txid)
                    .filter(|(_, by)| *by != node.id)
                    .map(|(chain, _)| *chain)
            });
            if let Some(chain) = known
                && chain != entry.chain
            {
                return Err(Violation::new(
                    LOG_MATCHING,
                    format!(
                        "{} holds {} with a prefix that differs from another log's {}",
                        node.id, entry.txid, entry.txid
                    ),
                ));
            }
            fresh.entry(entry.txid).or_insert((entry.chain, node.id));
        }
    }
    Ok(())
}

pub fn mono_log(_: &Ghost, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
    for node in nodes {
        let first = node.changed_from.0.max(1);
        for seqno in first..=node.last().0 {
            let Some(entry) = node.entry(SeqNo(seqno)) else {
                continue;
            };
            if entry.txid.seqno != SeqNo(seqno) {
                return Err(Violation::new(
                    MONO_LOG,
                    format!("{} holds {} at seqno {seqno}", node.id, entry.txid),
                ));
            }
            if let Some(previous) = node.entry(SeqNo(seqno - 1)) {
                let same = previous.txid.view == entry.txid.view;
                let after_signature = previous.txid.view < entry.txid.view && previous.committable;
                if !same && !after_signature {
                    return Err(Violation::new(
                        MONO_LOG,
                        format!(
                            "{} holds {} after {}{}",
                            node.id,
                            entry.txid,
                            previous.txid,
                            if previous.committable {
                                ""
                            } else {
                                ", which is not a signature"
                            }
                        ),
                    ));
                }
            }
        }
        if node.is_up()
            && let Some(last) = node.log.last()
            && last.txid.view > node.view
        {
            return Err(Violation::new(
                MONO_LOG,
                format!("{} in view {} holds {}", node.id, node.view, last.txid),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariants::testkit::{Node, log, states};

    #[test]
    fn the_same_txid_with_another_prefix_is_caught_across_nodes_and_time() {
        let a = Node::new(0, 2, log(&[(2, false), (2, true)], 1));
        let b = Node::new(1, 2, log(&[(2, false), (2, true)], 1));
        assert!(log_matching(&Ghost::new(), &states(&[a, b])).is_ok());

        let a = Node::new(0, 2, log(&[(2, false), (2, true)], 1));
        let forged = Node::new(1, 2, log(&[(2, false), (2, true)], 9));
        let err = log_matching(&Ghost::new(), &states(&[a, forged])).unwrap_err();
        assert_eq!(err.invariant, LOG_MATCHING);

        // Over time: the ghost remembers 2.2 from an earlier step.
        let mut ghost = Ghost::new();
        ghost.observe(&states(&[Node::new(
            0,
            2,
            log(&[(2, false), (2, true)], 1),
        )]));
        let later = Node::new(2, 2, log(&[(2, false), (2, true)], 7));
        assert!(log_matching(&ghost, &states(&[later])).is_err());
    }

    #[test]
    fn views_change_only_after_a_signature_and_never_pass_the_node() {
        let fine = Node::new(0, 4, log(&[(2, false), (2, true), (4, true)], 1));
        assert!(mono_log(&Ghost::new(), &states(&[fine])).is_ok());
        let unsigned = Node::new(0, 4, log(&[(2, false), (4, true)], 1));
        assert_eq!(
            mono_log(&Ghost::new(), &states(&[unsigned]))
                .unwrap_err()
                .invariant,
            MONO_LOG
        );
        let down = Node::new(0, 4, log(&[(2, true), (3, true), (2, true)], 1));
        assert!(mono_log(&Ghost::new(), &states(&[down])).is_err());
        let ahead = Node::new(0, 2, log(&[(2, true), (3, true)], 1));
        assert!(mono_log(&Ghost::new(), &states(&[ahead])).is_err());
        let mut misplaced = Node::new(0, 2, log(&[(2, true)], 1));
        misplaced.log[0].txid.seqno = SeqNo(5);
        assert!(mono_log(&Ghost::new(), &states(&[misplaced])).is_err());
    }
}
