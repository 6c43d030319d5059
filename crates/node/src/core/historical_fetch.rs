//! Ledger entries read back from the host for historical queries older than consensus's
//! in-memory log (CCF's historical `StateCache` asks its host the same way): which ranges are
//! being read ([`Output::ReadLedger`](super::Output) outstanding), the entries read back and
//! verified (kept with a bound and an expiry by node time), and reads that failed (reported to
//! the next query that needs them, then forgotten, so a later query reads again).
//!
//! Pure bookkeeping: the node emits the reads and verifies what comes back
//! (`historical.rs`). No seqno is ever in two outstanding reads, the number of outstanding reads
//! is bounded, and a read the host never answers fails after [`LEDGER_READ_TIMEOUT_MS`], so no
//! query answers 202 for ever.

use std::collections::BTreeMap;

use cloister_types::SeqNo;

/// Most reads outstanding at once.
pub(crate) const LEDGER_READS_OUTSTANDING_MAX: usize = 8;
/// Most seqnos one read asks for.
pub(crate) const LEDGER_READ_SEQNOS_MAX: u64 = 2_000;
/// A read not answered by then has failed.
pub(crate) const LEDGER_READ_TIMEOUT_MS: u64 = 30_000;
/// Most entries kept once read back (a whole `getStateRange` range fits twice).
pub(crate) const FETCHED_ENTRIES_MAX: usize = 20_000;
/// Most bytes of entries kept once read back.
pub(crate) const FETCHED_BYTES_MAX: usize = 256 * 1024 * 1024;
/// An entry read back and unused for this long is dropped; so is a failure nobody asked about.
pub(crate) const FETCHED_EXPIRY_MS: u64 = 5 * 60 * 1000;
/// Most failures remembered.
const FAILURES_MAX: usize = 1_024;

#[derive(Debug)]
struct Fetched {
    entry: Vec<u8>,
    last_used_ms: u64,
}

#[derive(Debug)]
struct Outstanding {
    to: SeqNo,
    asked_ms: u64,
}

#[derive(Debug)]
struct Failure {
    to: SeqNo,
    reason: String,
    at_ms: u64,
}

/// What is known of one seqno's entry.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup<'a> {
    /// Read back and verified.
    Held(&'a [u8]),
    /// A read covering it is outstanding.
    Reading,
    /// The read covering it failed (the failure is forgotten once reported).
    Failed(String),
    /// Not asked for (or forgotten).
    Missing,
}

/// Reads from the ledger files and what they gave.
#[derive(Debug, Default)]
pub(crate) struct LedgerFetches {
    /// Outstanding reads by first seqno; their ranges never overlap.
    outstanding: BTreeMap<SeqNo, Outstanding>,
    entries: BTreeMap<SeqNo, Fetched>,
    entry_bytes: usize,
    /// Failed ranges by first seqno.
    failures: BTreeMap<SeqNo, Failure>,
}

impl LedgerFetches {
    /// What is known of `seqno` at node time `now_ms` (a held entry counts as used).
    pub(crate) fn lookup(&mut self, seqno: SeqNo, now_ms: u64) -> Lookup<'_> {
        if let Some(fetched) = self.entries.get_mut(&seqno) {
            fetched.last_used_ms = now_ms;
            return Lookup::Held(&fetched.entry);
        }
        if covering(&self.outstanding, seqno, |read| read.to).is_some() {
            return Lookup::Reading;
        }
        if let Some(from) = covering(&self.failures, seqno, |failure| failure.to)
            && let Some(failure) = self.failures.remove(&from)
        {
            return Lookup::Failed(failure.reason);
        }
        Lookup::Missing
    }

    /// A verified entry read back, if held (no bookkeeping: for building states).
    pub(crate) fn entry(&self, seqno: SeqNo) -> Option<&[u8]> {
        self.entries
            .get(&seqno)
            .map(|fetched| fetched.entry.as_slice())
    }

    /// Starts reads for the seqnos `from..=to` (none of them held, reading or failed), split
    /// into reads of at most [`LEDGER_READ_SEQNOS_MAX`] while fewer than
    /// [`LEDGER_READS_OUTSTANDING_MAX`] are outstanding. Returns the reads to ask the host for;
    /// the seqnos left out are asked for by a later call.
    pub(crate) fn start_reads(
        &mut self,
        from: SeqNo,
        to: SeqNo,
        now_ms: u64,
    ) -> Vec<(SeqNo, SeqNo)> {
        let mut reads = Vec::new();
        let mut next = from.0;
        while next <= to.0 && self.outstanding.len() < LEDGER_READS_OUTSTANDING_MAX {
            let end = to.0.min(next.saturating_add(LEDGER_READ_SEQNOS_MAX - 1));
            self.outstanding.insert(
                SeqNo(next),
                Outstanding {
                    to: SeqNo(end),
                    asked_ms: now_ms,
                },
            );
            reads.push((SeqNo(next), SeqNo(end)));
            next = end.saturating_add(1);
        }
        reads
    }

    /// Ends the outstanding read `from..=to`; `false` if there is none (an answer that came
    /// too late, or that nobody asked for: ignored).
    pub(crate) fn finish_read(&mut self, from: SeqNo, to: SeqNo) -> bool {
        match self.outstanding.get(&from) {
            Some(read) if read.to == to => {
                self.outstanding.remove(&from);
                true
            }
            _ => false,
        }
    }

    /// Keeps a verified entry, dropping the least recently used ones past the bounds.
    pub(crate) fn keep(&mut self, seqno: SeqNo, entry: Vec<u8>, now_ms: u64) {
        self.entry_bytes += entry.len();
        if let Some(old) = self.entries.insert(
            seqno,
            Fetched {
                entry,
                last_used_ms: now_ms,
            },
        ) {
            self.entry_bytes -= old.entry.len();
        }
        while self.entries.len() > FETCHED_ENTRIES_MAX || self.entry_bytes > FETCHED_BYTES_MAX {
            let oldest = self
                .entries
                .iter()
                .filter(|(held, _)| **held != seqno)
                .min_by_key(|(_, fetched)| fetched.last_used_ms)
                .map(|(held, _)| *held);
            let Some(oldest) = oldest else { break };
            if let Some(old) = self.entries.remove(&oldest) {
                self.entry_bytes -= old.entry.len();
            }
        }
    }

    /// Records that `from..=to` could not be read (or verified), for the next query.
    pub(crate) fn fail(&mut self, from: SeqNo, to: SeqNo, reason: String, now_ms: u64) {
        self.failures.insert(
            from,
            Failure {
                to,
                reason,
                at_ms: now_ms,
            },
        );
        while self.failures.len() > FAILURES_MAX {
            let oldest = self
                .failures
                .iter()
                .min_by_key(|(_, failure)| failure.at_ms)
                .map(|(from, _)| *from);
            let Some(oldest) = oldest else { break };
            self.failures.remove(&oldest);
        }
    }

    /// At node time `now_ms`: reads unanswered for [`LEDGER_READ_TIMEOUT_MS`] fail; entries
    /// unused and failures unreported for [`FETCHED_EXPIRY_MS`] are forgotten.
    pub(crate) fn expire(&mut self, now_ms: u64) {
        if self.outstanding.is_empty() && self.entries.is_empty() && self.failures.is_empty() {
            return;
        }
        let late: Vec<(SeqNo, SeqNo)> = self
            .outstanding
            .iter()
            .filter(|(_, read)| read.asked_ms.saturating_add(LEDGER_READ_TIMEOUT_MS) < now_ms)
            .map(|(from, read)| (*from, read.to))
            .collect();
        for (from, to) in late {
            self.outstanding.remove(&from);
            let reason = format!(
                "the host did not read seqnos {from} to {to} back from the ledger files within \
                 {} s",
                LEDGER_READ_TIMEOUT_MS / 1000
            );
            self.fail(from, to, reason, now_ms);
        }
        let live = |at: u64| at.saturating_add(FETCHED_EXPIRY_MS) >= now_ms;
        let mut dropped = 0;
        self.entries.retain(|_, fetched| {
            let keep = live(fetched.last_used_ms);
            if !keep {
                dropped += fetched.entry.len();
            }
            keep
        });
        self.entry_bytes -= dropped;
        self.failures.retain(|_, failure| live(failure.at_ms));
    }

    /// Reads outstanding now.
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.outstanding.len()
    }
}

/// The key of the range in `ranges` (keyed by first seqno, `end` giving the last) holding
/// `seqno`.
fn covering<T>(
    ranges: &BTreeMap<SeqNo, T>,
    seqno: SeqNo,
    end: impl Fn(&T) -> SeqNo,
) -> Option<SeqNo> {
    let (from, value) = ranges.range(..=seqno).next_back()?;
    (end(value) >= seqno).then_some(*from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_split_bounded_and_never_overlap() {
        let mut fetches = LedgerFetches::default();
        let reads = fetches.start_reads(SeqNo(1), SeqNo(3 * LEDGER_READ_SEQNOS_MAX), 0);
        assert_eq!(reads.len(), 3);
        assert_eq!(
            reads[1],
            (
                SeqNo(LEDGER_READ_SEQNOS_MAX + 1),
                SeqNo(2 * LEDGER_READ_SEQNOS_MAX)
            )
        );
        assert_eq!(
            fetches.lookup(SeqNo(LEDGER_READ_SEQNOS_MAX), 0),
            Lookup::Reading
        );
        assert_eq!(
            fetches.lookup(SeqNo(3 * LEDGER_READ_SEQNOS_MAX + 1), 0),
            Lookup::Missing
        );
        // Past the bound, nothing more is asked for until a read ends.
        let far = SeqNo(1_000_000);
        let more = fetches.start_reads(far, SeqNo(far.0 + 10 * LEDGER_READ_SEQNOS_MAX), 0);
        assert_eq!(fetches.outstanding(), LEDGER_READS_OUTSTANDING_MAX);
        assert_eq!(more.len(), LEDGER_READS_OUTSTANDING_MAX - 3);
        assert!(
            fetches
                .start_reads(SeqNo(5_000_000), SeqNo(5_000_000), 0)
                .is_empty()
        );
        assert!(fetches.finish_read(reads[0].0, reads[0].1));
        assert!(
            !fetches.finish_read(reads[0].0, reads[0].1),
            "answered once"
        );
        assert_eq!(
            fetches
                .start_reads(SeqNo(5_000_000), SeqNo(5_000_000), 0)
                .len(),
            1
        );
    }

    #[test]
    fn kept_entries_are_served_until_unused_for_too_long() {
        let mut fetches = LedgerFetches::default();
        fetches.start_reads(SeqNo(5), SeqNo(6), 0);
        assert!(fetches.finish_read(SeqNo(5), SeqNo(6)));
        fetches.keep(SeqNo(5), vec![5; 10], 0);
        assert_eq!(fetches.lookup(SeqNo(5), 1_000), Lookup::Held(&[5; 10]));
        assert_eq!(fetches.lookup(SeqNo(6), 1_000), Lookup::Missing);
        fetches.expire(1_000 + FETCHED_EXPIRY_MS);
        assert_eq!(fetches.entry(SeqNo(5)), Some(&[5u8; 10][..]));
        fetches.expire(1_001 + FETCHED_EXPIRY_MS);
        assert_eq!(fetches.entry(SeqNo(5)), None);
        assert_eq!(fetches.entry_bytes, 0);
    }

    #[test]
    fn the_least_recently_used_entries_go_past_the_bound() {
        let mut fetches = LedgerFetches::default();
        for seqno in 1..=FETCHED_ENTRIES_MAX as u64 + 1 {
            fetches.keep(SeqNo(seqno), vec![0; 1], seqno);
        }
        assert_eq!(fetches.entries.len(), FETCHED_ENTRIES_MAX);
        assert_eq!(fetches.entry(SeqNo(1)), None);
        assert!(fetches.entry(SeqNo(2)).is_some());
        let big = vec![0; FETCHED_BYTES_MAX];
        fetches.keep(SeqNo(0), big, 0);
        assert_eq!(fetches.entries.len(), 1, "only the newest fits by bytes");
        assert_eq!(fetches.entry_bytes, FETCHED_BYTES_MAX);
    }

    #[test]
    fn a_failure_is_reported_once_and_an_unanswered_read_fails() {
        let mut fetches = LedgerFetches::default();
        fetches.fail(SeqNo(10), SeqNo(20), "disk on fire".to_owned(), 0);
        assert_eq!(
            fetches.lookup(SeqNo(15), 0),
            Lookup::Failed("disk on fire".to_owned())
        );
        assert_eq!(fetches.lookup(SeqNo(15), 0), Lookup::Missing);

        fetches.start_reads(SeqNo(30), SeqNo(31), 0);
        fetches.expire(LEDGER_READ_TIMEOUT_MS);
        assert_eq!(fetches.lookup(SeqNo(31), 0), Lookup::Reading);
        fetches.expire(LEDGER_READ_TIMEOUT_MS + 1);
        match fetches.lookup(SeqNo(31), 0) {
            Lookup::Failed(reason) => assert!(reason.contains("did not read"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // The late answer is ignored.
        assert!(!fetches.finish_read(SeqNo(30), SeqNo(31)));
    }
}
