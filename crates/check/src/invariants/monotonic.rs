//! Monotonicity (TLA+ `MonotonicTermProp`, `MonotonicCommitIndexProp`): a node's view and commit
//! never decrease while it runs. Across a restart only what the node made durable must come
//! back (its last vote, its entries, its commit marker): `storage::restart_remembers` checks
//! that. A view learned but neither voted in nor written is not durable — safety needs only
//! votes (a node must never vote twice in one view), not every view heard of.

use crate::invariants::ghost::Ghost;
use crate::invariants::model::{NodeState, Violation};

pub const MONOTONIC_VIEW: &str = "MonotonicView";
pub const MONOTONIC_COMMIT: &str = "MonotonicCommit";

pub fn monotonic(ghost: &Ghost, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
    for node in nodes.iter().filter(|n| n.is_up()) {
        let Some(before) = ghost.nodes.get(node.id) else {
            continue;
        };
        if before.incarnation != node.incarnation {
            continue;
        }
        if node.view < before.view {
            return Err(Violation::new(
                MONOTONIC_VIEW,
                format!(
                    "{} is in view {} after view {}",
                    node.id, node.view, before.view
                ),
            ));
        }
        if node.commit < before.commit {
            return Err(Violation::new(
                MONOTONIC_COMMIT,
                format!(
                    "{} commit went back from {} to {}",
                    node.id, before.commit, node.commit
                ),
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
    fn view_and_commit_going_back_are_caught() {
        let mut ghost = Ghost::new();
        let signed = log(&[(3, true), (3, true)], 1);
        ghost.observe(&states(&[Node::new(0, 3, signed.clone()).commit(2)]));
        assert!(
            monotonic(
                &ghost,
                &states(&[Node::new(0, 4, signed.clone()).commit(2)])
            )
            .is_ok()
        );
        let view_back = Node::new(0, 2, signed.clone()).commit(2);
        assert_eq!(
            monotonic(&ghost, &states(&[view_back]))
                .unwrap_err()
                .invariant,
            MONOTONIC_VIEW
        );
        let commit_back = Node::new(0, 3, signed.clone()).commit(1);
        assert_eq!(
            monotonic(&ghost, &states(&[commit_back]))
                .unwrap_err()
                .invariant,
            MONOTONIC_COMMIT
        );
        // After a restart both start again from what was durable (checked at the restart).
        let mut restarted = Node::new(0, 2, signed).commit(0);
        restarted.incarnation = 1;
        assert!(monotonic(&ghost, &states(&[restarted])).is_ok());
    }
}
