//! Commit: what every node committed is one prefix that never changes (TLA+ `LogInv` and
//! `CommittedLogAppendOnlyProp`; byte-identical by running hash), commit lands only on a
//! signature and a primary only advances it to a signature of its own view (`SignatureInv`,
//! Raft §5.4.2), a new commit is durable on a quorum of every active configuration
//! (`ReplicationInv`, on disk rather than in memory), and every primary holds what primaries
//! of earlier views committed (LeaderCompleteness).

use cloister_types::SeqNo;

use crate::invariants::ghost::Ghost;
use crate::invariants::model::{NodeState, Role, Violation, quorum};

pub const COMMITTED_PREFIX: &str = "CommittedPrefix";
pub const SIGNATURE_AT_COMMIT: &str = "SignatureAtCommit";
pub const REPLICATION: &str = "Replication";
pub const LEADER_COMPLETENESS: &str = "LeaderCompleteness";

/// Every node's log agrees with the committed prefix up to its own commit (and, for a node
/// that is down, up to the commit it had): committed entries are identical everywhere and
/// never change.
pub fn committed_prefix(ghost: &Ghost, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
    for node in nodes {
        let commit = if node.is_up() {
            node.commit
        } else {
            ghost
                .nodes
                .get(node.id)
                .map(|g| g.commit)
                .unwrap_or_default()
        };
        if node.is_up() && commit > node.last() {
            return Err(Violation::new(
                COMMITTED_PREFIX,
                format!(
                    "{} committed {commit} but its log ends at {}",
                    node.id,
                    node.last()
                ),
            ));
        }
        // Also what the node committed before in this incarnation: truncating below it is a
        // committed entry changing.
        let before = ghost
            .nodes
            .get(node.id)
            .filter(|g| g.incarnation == node.incarnation)
            .map(|g| g.commit)
            .unwrap_or_default();
        let check = commit.max(before).min(node.last()).min(ghost.commit());
        if check == SeqNo(0) {
            continue;
        }
        let (Some(mine), Some(committed)) = (node.entry(check), ghost.committed_at(check)) else {
            continue;
        };
        if mine.chain != committed.chain {
            return Err(Violation::new(
                COMMITTED_PREFIX,
                format!(
                    "{} holds {} at seqno {check}, but {} was committed there (or earlier entries differ)",
                    node.id, mine.txid, committed.txid
                ),
            ));
        }
        if before > node.last() && node.is_up() {
            return Err(Violation::new(
                COMMITTED_PREFIX,
                format!(
                    "{} truncated its log to {} below its commit {before}",
                    node.id,
                    node.last()
                ),
            ));
        }
    }
    Ok(())
}

/// Commit sits on a signature; a primary advances it only to a signature of its own view.
pub fn signature_at_commit(ghost: &Ghost, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
    for node in nodes.iter().filter(|n| n.is_up() && n.commit > SeqNo(0)) {
        let Some(entry) = node.entry(node.commit) else {
            continue; // committed_prefix reports a commit past the log
        };
        if !entry.committable {
            return Err(Violation::new(
                SIGNATURE_AT_COMMIT,
                format!(
                    "{} committed {}, which is not a signature",
                    node.id, entry.txid
                ),
            ));
        }
        let before = ghost
            .nodes
            .get(node.id)
            .filter(|g| g.incarnation == node.incarnation)
            .map(|g| g.commit)
            .unwrap_or_default();
        if node.role == Role::Primary && node.commit > before && entry.txid.view != node.view {
            return Err(Violation::new(
                SIGNATURE_AT_COMMIT,
                format!(
                    "{}, primary in view {}, advanced commit to {}, a signature of another view",
                    node.id, node.view, entry.txid
                ),
            ));
        }
    }
    Ok(())
}

/// When the committed prefix advances, its new end is durable (fsynced) on a quorum of every
/// configuration the committing node has active.
pub fn replication(ghost: &Ghost, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
    let Some(leading) = nodes
        .iter()
        .filter(|n| n.is_up())
        .max_by_key(|n| (n.commit, n.role == Role::Primary))
    else {
        return Ok(());
    };
    let seqno = leading.commit;
    if seqno <= ghost.commit() {
        return Ok(());
    }
    let Some(target) = leading.entry(seqno) else {
        return Ok(()); // committed_prefix reports a commit past the log
    };
    for configuration in leading.configurations {
        let holders = configuration
            .iter()
            .filter(|id| {
                nodes.iter().any(|n| {
                    n.id == *id
                        && n.durable >= seqno
                        && n.entry(seqno).is_some_and(|e| e.chain == target.chain)
                })
            })
            .count();
        if holders < quorum(configuration.len()) {
            return Err(Violation::new(
                REPLICATION,
                format!(
                    "{} committed {} but only {holders} of {} nodes of a configuration have it on disk",
                    leading.id,
                    target.txid,
                    configuration.len()
                ),
            ));
        }
    }
    Ok(())
}

/// A primary of view `v` holds the committed prefix up to the last point committed in a view
/// below `v` (an entry committed in a view is in the log of every primary of a later view).
pub fn leader_completeness(ghost: &Ghost, nodes: &[NodeState<'_>]) -> Result<(), Violation> {
    for node in nodes.iter().filter(|n| n.role == Role::Primary) {
        let Some(seqno) = ghost.committed_before_view(node.view) else {
            continue;
        };
        let held = node.entry(seqno).map(|e| e.chain);
        let committed = ghost.committed_at(seqno).map(|e| e.chain);
        if held != committed {
            return Err(Violation::new(
                LEADER_COMPLETENESS,
                format!(
                    "{}, primary in view {}, lacks the entries committed up to seqno {seqno}",
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
    use crate::invariants::testkit::{Node, log, states};

    const SIGNED: &[(u64, bool)] = &[(2, false), (2, true), (2, false), (2, true)];

    fn ghost_committed(to: u64) -> Ghost {
        let mut ghost = Ghost::new();
        let a = Node::new(0, 2, log(SIGNED, 1)).primary().commit(to);
        ghost.observe(&states(&[a]));
        ghost
    }

    #[test]
    fn a_committed_entry_that_differs_or_disappears_is_caught() {
        let ghost = ghost_committed(4);
        let same = Node::new(1, 2, log(SIGNED, 1)).commit(2);
        assert!(committed_prefix(&ghost, &states(&[same])).is_ok());
        let other = Node::new(1, 2, log(SIGNED, 5)).commit(2);
        assert_eq!(
            committed_prefix(&ghost, &states(&[other]))
                .unwrap_err()
                .invariant,
            COMMITTED_PREFIX
        );
        // Node 0 truncating below the commit it had.
        let truncated = Node::new(0, 2, log(&SIGNED[..2], 1)).primary().commit(2);
        assert!(committed_prefix(&ghost, &states(&[truncated])).is_err());
        // A commit beyond the log.
        let beyond = Node::new(1, 2, log(&SIGNED[..1], 1)).commit(2);
        assert!(committed_prefix(&ghost, &states(&[beyond])).is_err());
        // A lagging node with a different uncommitted suffix beyond its commit is fine.
        let lagging = Node::new(2, 2, log(&[(2, false), (2, true), (1, false)], 1)).commit(2);
        assert!(committed_prefix(&ghost, &states(&[lagging])).is_ok());
    }

    #[test]
    fn commit_on_an_unsigned_entry_or_an_older_views_signature_is_caught() {
        let ghost = Ghost::new();
        let unsigned = Node::new(0, 2, log(SIGNED, 1)).primary().commit(3);
        assert_eq!(
            signature_at_commit(&ghost, &states(&[unsigned]))
                .unwrap_err()
                .invariant,
            SIGNATURE_AT_COMMIT
        );
        let old_view = Node::new(0, 3, log(SIGNED, 1)).primary().commit(4);
        assert!(signature_at_commit(&ghost, &states(&[old_view])).is_err());
        // A backup may commit an older view's signature.
        let backup = Node::new(0, 3, log(SIGNED, 1)).commit(4);
        assert!(signature_at_commit(&ghost, &states(&[backup])).is_ok());
        // A primary that already had that commit before its view changed is fine.
        let ghost = ghost_committed(4);
        let kept = Node::new(0, 3, log(SIGNED, 1)).primary().commit(4);
        assert!(signature_at_commit(&ghost, &states(&[kept])).is_ok());
    }

    #[test]
    fn a_commit_not_durable_on_a_quorum_is_caught() {
        let ghost = Ghost::new();
        let primary = || Node::new(0, 2, log(SIGNED, 1)).primary().commit(4);
        let synced = Node::new(1, 2, log(SIGNED, 1));
        let unsynced = Node::new(1, 2, log(SIGNED, 1)).durable(3);
        let empty = Node::new(2, 2, vec![]);
        assert!(
            replication(
                &ghost,
                &states(&[primary(), synced, Node::new(2, 2, vec![])])
            )
            .is_ok()
        );
        let err = replication(&ghost, &states(&[primary(), unsynced, empty])).unwrap_err();
        assert_eq!(err.invariant, REPLICATION);
        // Every active configuration needs its quorum.
        let mut joint = primary();
        joint
            .configurations
            .push([0, 3, 4].map(crate::invariants::testkit::node_id).into());
        let synced = Node::new(1, 2, log(SIGNED, 1));
        assert!(replication(&ghost, &states(&[joint, synced])).is_err());
    }

    #[test]
    fn a_primary_of_a_later_view_without_the_committed_prefix_is_caught() {
        let ghost = ghost_committed(4);
        let complete = Node::new(
            1,
            3,
            log(
                &[(2, false), (2, true), (2, false), (2, true), (3, true)],
                1,
            ),
        )
        .primary();
        assert!(leader_completeness(&ghost, &states(&[complete])).is_ok());
        let short = Node::new(1, 3, log(&SIGNED[..2], 1)).primary();
        assert_eq!(
            leader_completeness(&ghost, &states(&[short]))
                .unwrap_err()
                .invariant,
            LEADER_COMPLETENESS
        );
        // A stale primary of the committing view itself is not held to it.
        let stale = Node::new(1, 2, log(&SIGNED[..2], 1)).primary();
        assert!(leader_completeness(&ghost, &states(&[stale])).is_ok());
    }
}
