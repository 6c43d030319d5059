//! The decision rules of CCF's Raft as pure functions, so that tests can pin them down apart
//! from the state machine: quorum size, commit agreement, the vote rule.

use std::collections::{BTreeSet, VecDeque};

use cloister_types::{NodeId, SeqNo, View};

/// A configuration: the nodes whose quorum counts from `idx` on (spec §5.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    /// Seqno of the reconfiguration that introduced it (0 for a bootstrap configuration).
    pub idx: SeqNo,
    /// Its nodes.
    pub nodes: BTreeSet<NodeId>,
}

/// Votes or acks needed among `n` nodes: a strict majority.
pub fn quorum(n: usize) -> usize {
    n / 2 + 1
}

/// The highest seqno held by a quorum of **every** active configuration (spec §5.4): per
/// configuration, sort the match indices and take the element at `(n − 1) / 2`; then the
/// minimum over configurations. `None` without configurations.
pub fn agreement_index(
    configurations: &[Configuration],
    match_of: impl Fn(&NodeId) -> SeqNo,
) -> Option<SeqNo> {
    configurations
        .iter()
        .filter(|configuration| !configuration.nodes.is_empty())
        .map(|configuration| {
            let mut matched: Vec<SeqNo> = configuration.nodes.iter().map(&match_of).collect();
            matched.sort();
            matched[(matched.len() - 1) / 2]
        })
        .min()
}

/// The highest committable seqno ≤ `at_most` (CCF `find_highest_possible_committable_index`).
pub fn highest_committable_at_most(committable: &VecDeque<SeqNo>, at_most: SeqNo) -> Option<SeqNo> {
    committable
        .iter()
        .rev()
        .find(|seqno| **seqno <= at_most)
        .copied()
}

/// The seqno the primary may commit, if any: the highest signature covered by the agreement
/// index, and only if it is of the primary's current view — Raft §5.4.2, so a new primary
/// commits nothing until a signature of its own view is replicated (the Figure-8 case).
pub fn leader_commit_target(
    agreement: SeqNo,
    committable: &VecDeque<SeqNo>,
    view_at: impl Fn(SeqNo) -> Option<View>,
    current_view: View,
) -> Option<SeqNo> {
    let candidate = highest_committable_at_most(committable, agreement)?;
    (view_at(candidate) == Some(current_view)).then_some(candidate)
}

/// The vote rule's log check (spec §5.5): the candidate's **last committable** TxID is at least
/// as up to date as the voter's — compared on signatures, not on the last index.
pub fn candidate_log_is_up_to_date(
    candidate_last_committable: (View, SeqNo),
    voter_last_committable: (View, SeqNo),
) -> bool {
    let (candidate_view, candidate_idx) = candidate_last_committable;
    let (voter_view, voter_idx) = voter_last_committable;
    candidate_view > voter_view || (candidate_view == voter_view && candidate_idx >= voter_idx)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn node(n: u8) -> NodeId {
        NodeId::from_digest(&[n; 32])
    }

    fn config(idx: u64, nodes: &[u8]) -> Configuration {
        Configuration {
            idx: SeqNo(idx),
            nodes: nodes.iter().map(|n| node(*n)).collect(),
        }
    }

    fn matches(pairs: &[(u8, u64)]) -> BTreeMap<NodeId, SeqNo> {
        pairs.iter().map(|(n, s)| (node(*n), SeqNo(*s))).collect()
    }

    #[test]
    fn quorum_is_a_strict_majority() {
        assert_eq!(
            (1..=6).map(quorum).collect::<Vec<_>>(),
            vec![1, 2, 2, 3, 3, 4]
        );
    }

    #[test]
    fn agreement_is_the_seqno_a_majority_holds() {
        let held = matches(&[(0, 9), (1, 5), (2, 3)]);
        let agreement = agreement_index(&[config(1, &[0, 1, 2])], |n| held[n]);
        assert_eq!(agreement, Some(SeqNo(5)));
    }

    #[test]
    fn agreement_of_an_even_configuration_needs_more_than_half() {
        let held = matches(&[(0, 9), (1, 7), (2, 3), (3, 1)]);
        let agreement = agreement_index(&[config(1, &[0, 1, 2, 3])], |n| held[n]);
        assert_eq!(agreement, Some(SeqNo(3)));
    }

    #[test]
    fn agreement_needs_a_quorum_in_every_active_configuration() {
        // Old {0,1,2} has 9 on a majority; new {0,3,4} only has 2 on a majority.
        let held = matches(&[(0, 9), (1, 9), (2, 0), (3, 2), (4, 0)]);
        let configurations = [config(1, &[0, 1, 2]), config(5, &[0, 3, 4])];
        assert_eq!(
            agreement_index(&configurations, |n| held[n]),
            Some(SeqNo(2))
        );
    }

    #[test]
    fn no_configuration_means_no_agreement() {
        assert_eq!(agreement_index(&[], |_| SeqNo(7)), None);
    }

    #[test]
    fn commit_lands_on_the_highest_signature_under_the_agreement() {
        let committable: VecDeque<SeqNo> = [SeqNo(4), SeqNo(8), SeqNo(12)].into();
        let target = leader_commit_target(SeqNo(11), &committable, |_| Some(View(3)), View(3));
        assert_eq!(target, Some(SeqNo(8)));
        let none = leader_commit_target(SeqNo(3), &committable, |_| Some(View(3)), View(3));
        assert_eq!(none, None);
    }

    #[test]
    fn a_primary_never_commits_a_signature_of_an_older_view() {
        // Figure 8: a majority holds 2.4, but the primary is in view 3: no commit.
        let committable: VecDeque<SeqNo> = [SeqNo(4)].into();
        let target = leader_commit_target(SeqNo(4), &committable, |_| Some(View(2)), View(3));
        assert_eq!(target, None);
    }

    #[test]
    fn votes_compare_last_committable_view_first() {
        assert!(candidate_log_is_up_to_date(
            (View(3), SeqNo(2)),
            (View(2), SeqNo(10))
        ));
        assert!(!candidate_log_is_up_to_date(
            (View(2), SeqNo(10)),
            (View(3), SeqNo(2))
        ));
    }

    #[test]
    fn votes_compare_last_committable_index_within_a_view() {
        assert!(candidate_log_is_up_to_date(
            (View(2), SeqNo(4)),
            (View(2), SeqNo(4))
        ));
        assert!(!candidate_log_is_up_to_date(
            (View(2), SeqNo(3)),
            (View(2), SeqNo(4))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn agreement_is_held_by_a_quorum_of_each_configuration(
            held in proptest::collection::vec(0u64..20, 5),
            split in 1usize..5,
        ) {
            let held: BTreeMap<NodeId, SeqNo> =
                held.iter().enumerate().map(|(n, s)| (node(n as u8), SeqNo(*s))).collect();
            let all: Vec<u8> = (0..5).collect();
            let configurations = [config(1, &all[..split]), config(2, &all[split - 1..])];
            let agreement = agreement_index(&configurations, |n| held[n]).unwrap();
            for configuration in &configurations {
                let holding = configuration.nodes.iter().filter(|n| held[*n] >= agreement).count();
                prop_assert!(holding >= quorum(configuration.nodes.len()));
            }
        }
    }
}
