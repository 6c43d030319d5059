//! ElectionSafety: at most one primary per view, at one instant (TLA+ `MoreThanOneLeaderInv`)
//! and over the whole run (the Raft paper's Election Safety).

use std::collections::BTreeMap;

use cloister_types::{NodeId, View};

use crate::invariants::ghost::Ghost;
use crate::invariants::model::{NodeState, Role, Violation};

pub const ELECTION_SAFETY: &str = "ElectionSafety";

pub fn election_safety(ghost: &Ghost, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
    let mut now: BTreeMap<View, &NodeId> = BTreeMap::new();
    for node in nodes.iter().filter(|n| n.role == Role::Primary) {
        if let Some(other) = now.insert(node.view, node.id) {
            return Err(Violation::new(
                ELECTION_SAFETY,
                format!(
                    "{other} and {} are both primary in view {}",
                    node.id, node.view
                ),
            ));
        }
        if let Some(earlier) = ghost.primaries.get(&node.view)
            && earlier != node.id
        {
            return Err(Violation::new(
                ELECTION_SAFETY,
                format!(
                    "{} is primary in view {}, which {earlier} led before",
                    node.id, node.view
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariants::testkit::{Node, states};

    #[test]
    fn two_primaries_of_one_view_are_caught_at_once_and_over_time() {
        let a = Node::new(0, 3, vec![]).primary();
        let b = Node::new(1, 3, vec![]).primary();
        let c = Node::new(2, 4, vec![]).primary();
        let ghost = Ghost::new();
        assert!(election_safety(&ghost, &states(&[a, c])).is_ok());
        let a = Node::new(0, 3, vec![]).primary();
        let err = election_safety(&ghost, &states(&[a, b])).unwrap_err();
        assert_eq!(err.invariant, ELECTION_SAFETY);

        // Over time: node 0 led view 3; later node 1 claims view 3.
        let mut ghost = Ghost::new();
        ghost.observe(&states(&[Node::new(0, 3, vec![]).primary()]));
        let later = [Node::new(0, 3, vec![]), Node::new(1, 3, vec![]).primary()];
        assert!(election_safety(&ghost, &states(&later)).is_err());
        let same = [Node::new(0, 3, vec![]).primary()];
        assert!(election_safety(&ghost, &states(&same)).is_ok());
    }
}
