//! Which acknowledged Cloister writes committed, and when that was seen.
//!
//! A Cloister (CCF) write is answered before it commits, with its transaction id `view.seqno`.
//! CCF's rule: once `v.s` is Committed, every transaction of view `v` with a lower seqno is
//! committed too; a transaction that turns Invalid was rolled back (an election), and so were
//! the later ones of its view. So per view only the highest acknowledged id is polled; if it
//! turns Invalid, a binary search over that view's ids finds the last committed one.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use cloister_types::{SeqNo, TxId, TxStatus, View};

/// How to poll one transaction's status.
#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    /// Pause between two polls of a status that is not final yet.
    pub interval: Duration,
    /// Budget for the whole tally; an id still Pending or Unknown after it counts as not
    /// committed.
    pub timeout: Duration,
}

/// The outcome of a tally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitTally {
    /// Acknowledged writes known committed.
    pub committed: u64,
    /// Acknowledged writes not known committed (rolled back, or not final within the timeout).
    pub not_committed: u64,
    /// The highest id seen Committed.
    pub last_committed: Option<TxId>,
    /// When the last Committed answer the count rests on arrived.
    pub observed_at: Option<Instant>,
    /// Status requests made.
    pub polls: u64,
}

/// The final word on one id.
enum Final {
    Committed(Instant),
    NotCommitted,
}

/// Tallies `acked` (any order) by asking `status` about chosen ids. `status` answers None when
/// it could not ask (a transport error): that is polled again, like Pending.
pub async fn tally_commits<F, Fut>(acked: &[TxId], mut status: F, policy: PollPolicy) -> CommitTally
where
    F: FnMut(TxId) -> Fut,
    Fut: Future<Output = Option<TxStatus>>,
{
    let deadline = Instant::now() + policy.timeout;
    let mut by_view: BTreeMap<View, Vec<SeqNo>> = BTreeMap::new();
    for tx in acked {
        by_view.entry(tx.view).or_default().push(tx.seqno);
    }
    let mut tally = CommitTally::default();
    for (view, mut seqnos) in by_view.into_iter().rev() {
        seqnos.sort_unstable();
        let id = |index: usize| TxId {
            view,
            seqno: seqnos[index],
        };
        let total = seqnos.len();
        // Indexes below `low` are committed; `high` and above are not.
        let (mut low, mut high) = (0, total);
        let mut last: Option<(TxId, Instant)> = None;
        // The common case first: the highest id committed, so the whole view did.
        let mut probe = total - 1;
        while low < high {
            let tx = id(probe);
            match await_final(tx, &mut status, policy.interval, deadline, &mut tally.polls).await {
                Final::Committed(at) => {
                    low = probe + 1;
                    last = Some((tx, at));
                }
                Final::NotCommitted => high = probe,
            }
            probe = low + (high - low) / 2;
        }
        tally.committed += low as u64;
        tally.not_committed += (total - low) as u64;
        if let Some((tx, at)) = last {
            tally.last_committed = tally.last_committed.max(Some(tx));
            tally.observed_at = tally.observed_at.max(Some(at));
        }
    }
    tally
}

/// Polls `tx` until Committed or Invalid, or until `deadline` (then not committed).
async fn await_final<F, Fut>(
    tx: TxId,
    status: &mut F,
    interval: Duration,
    deadline: Instant,
    polls: &mut u64,
) -> Final
where
    F: FnMut(TxId) -> Fut,
    Fut: Future<Output = Option<TxStatus>>,
{
    loop {
        *polls += 1;
        match status(tx).await {
            Some(TxStatus::Committed) => return Final::Committed(Instant::now()),
            Some(TxStatus::Invalid) => return Final::NotCommitted,
            Some(TxStatus::Pending | TxStatus::Unknown) | None => {}
        }
        if Instant::now() >= deadline {
            return Final::NotCommitted;
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use TxStatus::{Committed, Invalid, Pending, Unknown};

    fn tx(view: u64, seqno: u64) -> TxId {
        TxId::new(view, seqno)
    }

    fn quick() -> PollPolicy {
        PollPolicy {
            interval: Duration::ZERO,
            timeout: Duration::from_secs(5),
        }
    }

    /// A fake node: each id answers its scripted statuses in order, then repeats the last one;
    /// an id without a script answers None (a transport error). Records which ids were asked.
    struct FakeNode {
        scripts: BTreeMap<TxId, VecDeque<TxStatus>>,
        asked: Vec<TxId>,
    }

    impl FakeNode {
        fn new(scripts: &[(TxId, &[TxStatus])]) -> FakeNode {
            FakeNode {
                scripts: scripts
                    .iter()
                    .map(|(tx, statuses)| (*tx, statuses.iter().copied().collect()))
                    .collect(),
                asked: Vec::new(),
            }
        }

        fn status(&mut self, tx: TxId) -> std::future::Ready<Option<TxStatus>> {
            self.asked.push(tx);
            let answer = self.scripts.get_mut(&tx).and_then(|script| {
                if script.len() > 1 {
                    script.pop_front()
                } else {
                    script.front().copied()
                }
            });
            std::future::ready(answer)
        }
    }

    #[tokio::test]
    async fn a_committed_highest_id_commits_its_whole_view_and_pending_is_waited_out() {
        let acked = [tx(2, 12), tx(2, 10), tx(2, 11), tx(2, 14)];
        let mut node = FakeNode::new(&[(tx(2, 14), &[Unknown, Pending, Pending, Committed])]);
        let tally = tally_commits(&acked, |t| node.status(t), quick()).await;
        assert_eq!(tally.committed, 4);
        assert_eq!(tally.not_committed, 0);
        assert_eq!(tally.last_committed, Some(tx(2, 14)));
        assert!(tally.observed_at.is_some());
        assert_eq!(tally.polls, 4);
        // Only the highest id was asked about.
        assert!(node.asked.iter().all(|t| *t == tx(2, 14)));
    }

    #[tokio::test]
    async fn an_invalid_highest_id_counts_only_up_to_a_committed_one() {
        // Seqnos 10..=17 acked in view 3; an election kept 10..=13 and dropped 14..=17.
        let acked: Vec<TxId> = (10..=17).map(|s| tx(3, s)).collect();
        let scripts: Vec<(TxId, &[TxStatus])> = (10..=17)
            .map(|s| {
                let statuses: &[TxStatus] = if s <= 13 {
                    &[Pending, Committed]
                } else {
                    &[Pending, Invalid]
                };
                (tx(3, s), statuses)
            })
            .collect();
        let mut node = FakeNode::new(&scripts);
        let tally = tally_commits(&acked, |t| node.status(t), quick()).await;
        assert_eq!(tally.committed, 4);
        assert_eq!(tally.not_committed, 4);
        assert_eq!(tally.last_committed, Some(tx(3, 13)));
        // A binary search, not a walk over every id.
        let distinct: std::collections::BTreeSet<TxId> = node.asked.iter().copied().collect();
        assert!(distinct.len() <= 4, "asked about {distinct:?}");
    }

    #[tokio::test]
    async fn views_are_tallied_separately() {
        // View 2's tail was rolled back entirely; view 4 committed.
        let acked = [tx(2, 5), tx(2, 6), tx(4, 7), tx(4, 8)];
        let mut node = FakeNode::new(&[
            (tx(2, 5), &[Invalid]),
            (tx(2, 6), &[Invalid]),
            (tx(4, 8), &[Committed]),
        ]);
        let tally = tally_commits(&acked, |t| node.status(t), quick()).await;
        assert_eq!((tally.committed, tally.not_committed), (2, 2));
        assert_eq!(tally.last_committed, Some(tx(4, 8)));
    }

    #[tokio::test]
    async fn ids_never_final_within_the_timeout_are_not_counted() {
        let acked = [tx(2, 3), tx(2, 4)];
        // tx 2.4 stays Pending; 2.3 the node cannot be asked about (None) then commits.
        let mut node = FakeNode::new(&[(tx(2, 4), &[Pending])]);
        let policy = PollPolicy {
            interval: Duration::from_millis(1),
            timeout: Duration::from_millis(30),
        };
        let tally = tally_commits(&acked, |t| node.status(t), policy).await;
        assert_eq!((tally.committed, tally.not_committed), (0, 2));
        assert_eq!(tally.observed_at, None);
        assert_eq!(tally.last_committed, None);
    }

    #[tokio::test]
    async fn nothing_acked_is_nothing_committed() {
        let mut node = FakeNode::new(&[]);
        let tally = tally_commits(&[], |t| node.status(t), quick()).await;
        assert_eq!(tally, CommitTally::default());
        assert!(node.asked.is_empty());
    }
}
