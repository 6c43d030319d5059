//! The consensus log: entries held in memory after a base (a snapshot or compaction point) and
//! the view history (spec §5.1: `views[v−1]` = first seqno of view v), which survives
//! compaction and answers `view_at` for any seqno up to the last.

use std::collections::VecDeque;

use cloister_types::{SeqNo, View};

use crate::Entry;

/// Entries `base + 1 ..= last` plus the view history of `1 ..= last`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Log {
    /// The last seqno not held in memory (0, a snapshot seqno or a compaction point).
    base: SeqNo,
    entries: VecDeque<Entry>,
    /// `(view, first seqno)` for every view that has entries; ascending in both.
    views: Vec<(View, SeqNo)>,
}

impl Log {
    /// A log that starts after `base`, whose views are given by `views` (checked by caller).
    pub(crate) fn starting_after(base: SeqNo, views: Vec<(View, SeqNo)>) -> Log {
        Log {
            base,
            entries: VecDeque::new(),
            views,
        }
    }

    pub(crate) fn last_idx(&self) -> SeqNo {
        SeqNo(self.base.0 + self.entries.len() as u64)
    }

    /// The first seqno still held in memory.
    pub(crate) fn first_held(&self) -> SeqNo {
        self.base.next()
    }

    /// The view of `seqno`: `View(0)` for seqno 0, `None` past the end of the log.
    pub(crate) fn view_at(&self, seqno: SeqNo) -> Option<View> {
        if seqno > self.last_idx() {
            return None;
        }
        let view = self
            .views
            .iter()
            .rev()
            .find(|(_, start)| *start <= seqno)
            .map_or(View(0), |(view, _)| *view);
        Some(view)
    }

    /// The view of the last entry (`View(0)` for an empty log).
    pub(crate) fn last_view(&self) -> View {
        self.views.last().map_or(View(0), |(view, _)| *view)
    }

    /// The last seqno of the view that `seqno` belongs to.
    pub(crate) fn end_of_view_at(&self, seqno: SeqNo) -> SeqNo {
        let next_start = self
            .views
            .iter()
            .find(|(_, start)| *start > seqno)
            .map(|(_, start)| SeqNo(start.0 - 1));
        next_start.unwrap_or(self.last_idx())
    }

    pub(crate) fn entry(&self, seqno: SeqNo) -> Option<&Entry> {
        let offset = seqno.0.checked_sub(self.first_held().0)?;
        self.entries.get(usize::try_from(offset).ok()?)
    }

    /// Entries `from ..= to` that are held in memory.
    pub(crate) fn range(&self, from: SeqNo, to: SeqNo) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |entry| entry.seqno() >= from && entry.seqno() <= to)
    }

    /// Appends the next entry. The caller checked seqno and view order.
    pub(crate) fn append(&mut self, entry: Entry) {
        assert_eq!(
            entry.seqno(),
            self.last_idx().next(),
            "log append out of order"
        );
        assert!(
            entry.view() >= self.last_view(),
            "log append goes back in view"
        );
        if entry.view() > self.last_view() {
            self.views.push((entry.view(), entry.seqno()));
        }
        self.entries.push_back(entry);
    }

    /// Drops every entry after `after` (which must not be below the base).
    pub(crate) fn truncate(&mut self, after: SeqNo) {
        let keep = after.0.saturating_sub(self.base.0);
        self.entries
            .truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        self.views.retain(|(_, start)| *start <= after);
    }

    /// Forgets entries up to `up_to` (keeping the view history).
    pub(crate) fn compact(&mut self, up_to: SeqNo) {
        while self.base < up_to && self.entries.pop_front().is_some() {
            self.base = self.base.next();
        }
    }

    /// CCF's `find_highest_possible_match`: the highest seqno n' ≤ `seqno` whose view is
    /// ≤ `view`. Everything after the last entry of a view newer than `view` cannot match.
    pub(crate) fn find_highest_possible_match(&self, view: View, seqno: SeqNo) -> SeqNo {
        let mut probe = seqno.min(self.last_idx());
        loop {
            let probe_view = self.view_at(probe).unwrap_or(View(0));
            if probe_view <= view {
                return probe;
            }
            let start = self.start_of_view(probe_view).unwrap_or(SeqNo(0));
            // start ≤ probe, so this strictly decreases and reaches seqno 0 (view 0) at worst.
            probe = SeqNo(start.0.saturating_sub(1));
        }
    }

    /// The view history, as `(view, first seqno)` pairs.
    pub(crate) fn views(&self) -> &[(View, SeqNo)] {
        &self.views
    }

    fn start_of_view(&self, view: View) -> Option<SeqNo> {
        self.views
            .iter()
            .find(|(v, _)| *v == view)
            .map(|(_, start)| *start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntryKind;

    fn log_of(views: &[u64]) -> Log {
        let mut log = Log::default();
        for (i, view) in views.iter().enumerate() {
            log.append(Entry::new(
                View(*view),
                SeqNo(i as u64 + 1),
                EntryKind::Normal,
                vec![],
            ));
        }
        log
    }

    #[test]
    fn view_at_follows_the_view_history() {
        let log = log_of(&[2, 2, 3, 3, 5]);
        assert_eq!(log.view_at(SeqNo(0)), Some(View(0)));
        assert_eq!(log.view_at(SeqNo(2)), Some(View(2)));
        assert_eq!(log.view_at(SeqNo(3)), Some(View(3)));
        assert_eq!(log.view_at(SeqNo(5)), Some(View(5)));
        assert_eq!(log.view_at(SeqNo(6)), None);
        assert_eq!(log.end_of_view_at(SeqNo(1)), SeqNo(2));
        assert_eq!(log.end_of_view_at(SeqNo(3)), SeqNo(4));
        assert_eq!(log.end_of_view_at(SeqNo(5)), SeqNo(5));
    }

    #[test]
    fn find_highest_possible_match_skips_views_newer_than_asked() {
        let log = log_of(&[2, 2, 3, 3, 5, 5]);
        assert_eq!(log.find_highest_possible_match(View(5), SeqNo(9)), SeqNo(6));
        assert_eq!(log.find_highest_possible_match(View(4), SeqNo(6)), SeqNo(4));
        assert_eq!(log.find_highest_possible_match(View(3), SeqNo(3)), SeqNo(3));
        assert_eq!(log.find_highest_possible_match(View(2), SeqNo(6)), SeqNo(2));
        assert_eq!(log.find_highest_possible_match(View(1), SeqNo(6)), SeqNo(0));
    }

    #[test]
    fn truncate_drops_entries_and_their_views() {
        let mut log = log_of(&[2, 2, 3, 3]);
        log.truncate(SeqNo(2));
        assert_eq!(log.last_idx(), SeqNo(2));
        assert_eq!(log.last_view(), View(2));
        assert_eq!(log.views(), &[(View(2), SeqNo(1))]);
    }

    #[test]
    fn compaction_keeps_views_and_later_entries() {
        let mut log = log_of(&[2, 2, 3, 3]);
        log.compact(SeqNo(3));
        assert_eq!(log.last_idx(), SeqNo(4));
        assert!(log.entry(SeqNo(3)).is_none());
        assert_eq!(log.entry(SeqNo(4)).map(Entry::view), Some(View(3)));
        assert_eq!(log.view_at(SeqNo(1)), Some(View(2)));
    }
}
