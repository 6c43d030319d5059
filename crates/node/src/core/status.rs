//! Transaction statuses as CCF evaluates them (spec/ccf-api.md §2): from the view each seqno was
//! written in locally and the committed position.

use cloister_types::{SeqNo, TxId, TxStatus, View};

/// The node's view history and commit position.
#[derive(Debug, Clone)]
pub struct TxStatusIndex {
    /// (view, first seqno written in it), ascending.
    views: Vec<(View, SeqNo)>,
    last: SeqNo,
    committed: TxId,
}

impl TxStatusIndex {
    /// An empty ledger whose first entries will be written in `view`.
    pub fn new(view: View) -> TxStatusIndex {
        TxStatusIndex {
            views: vec![(view, SeqNo(1))],
            last: SeqNo(0),
            committed: TxId::default(),
        }
    }

    /// Records that `seqno` (the next one) was written in `view`.
    pub fn append(&mut self, view: View, seqno: SeqNo) {
        if self
            .views
            .last()
            .is_none_or(|(last_view, _)| *last_view != view)
        {
            self.views.push((view, seqno));
        }
        self.last = seqno;
    }

    /// An index for a node that has no entries yet (a joiner learns views from its primary).
    pub fn empty() -> TxStatusIndex {
        TxStatusIndex {
            views: Vec::new(),
            last: SeqNo(0),
            committed: TxId::default(),
        }
    }

    /// Forgets every seqno after `after` (a rollback; never below the commit position).
    pub fn truncate(&mut self, after: SeqNo) {
        self.views.retain(|(_, first)| *first <= after);
        self.last = self.last.min(after);
    }

    /// Records a new commit position.
    pub fn commit(&mut self, txid: TxId) {
        if txid.seqno > self.committed.seqno {
            self.committed = txid;
        }
    }

    pub fn committed(&self) -> TxId {
        self.committed
    }

    /// The last seqno written locally.
    pub fn last(&self) -> SeqNo {
        self.last
    }

    /// The view `seqno` was written in locally, if it was.
    pub fn view_at(&self, seqno: SeqNo) -> Option<View> {
        if seqno.0 == 0 || seqno > self.last {
            return None;
        }
        self.views
            .iter()
            .rev()
            .find(|(_, first)| *first <= seqno)
            .map(|(view, _)| *view)
    }

    /// CCF's `evaluate_tx_status`.
    pub fn status(&self, txid: TxId) -> TxStatus {
        let local_view = self.view_at(txid.seqno);
        let committed = self.committed.seqno >= txid.seqno;
        match (committed, local_view) {
            (true, Some(view)) if view == txid.view => TxStatus::Committed,
            (true, _) => TxStatus::Invalid,
            (false, Some(view)) if view == txid.view => TxStatus::Pending,
            (false, _) if self.committed.view > txid.view => TxStatus::Invalid,
            _ => TxStatus::Unknown,
        }
    }

    /// `view.seqno` where each view from `since` on starts (`/commit?view_history=true`).
    pub fn view_history(&self, since: View) -> Vec<TxId> {
        self.views
            .iter()
            .filter(|(view, _)| *view >= since)
            .map(|(view, first)| TxId {
                view: *view,
                seqno: *first,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_ccf_rules() {
        let mut index = TxStatusIndex::new(View(2));
        for seqno in 1..=5 {
            index.append(View(2), SeqNo(seqno));
        }
        index.commit(TxId::new(2, 3));
        assert_eq!(index.status(TxId::new(2, 2)), TxStatus::Committed);
        assert_eq!(index.status(TxId::new(1, 2)), TxStatus::Invalid);
        assert_eq!(index.status(TxId::new(2, 5)), TxStatus::Pending);
        assert_eq!(index.status(TxId::new(2, 9)), TxStatus::Unknown);
        assert_eq!(index.status(TxId::new(1, 9)), TxStatus::Invalid);
        assert_eq!(index.status(TxId::new(3, 4)), TxStatus::Unknown);
        assert_eq!(index.view_history(View(1)), vec![TxId::new(2, 1)]);
    }
}
