//! One node's simulated ledger disk: entries are written at once but durable only when an fsync
//! completes (a delay later). A crash loses what was not synced, possibly leaving the first
//! unsynced entry torn (a prefix of its bytes); a read at restart may return a flipped bit.

use cloister_check::invariants::LogEntry;
use cloister_types::{NodeId, SeqNo, View};

use crate::random::SimRng;

/// The ledger of one node.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    /// The entries' bytes, seqno `i + 1` at index `i`.
    bytes: Vec<Vec<u8>>,
    /// The invariants' summary of each entry written (parallel to `bytes`).
    logs: Vec<LogEntry>,
    /// `bytes[..synced]` survive a crash.
    synced: usize,
    /// The fsync in progress: completes at `.0`, covering the first `.1` entries.
    fsync: Option<(u64, usize)>,
    /// A torn copy of the first unsynced entry, left by the last crash.
    torn: Option<Vec<u8>>,
    /// The last vote, written synchronously (the host fsyncs it before going on).
    vote: Option<(View, NodeId)>,
    /// The highest commit reported (`.committed` chunks); only what is synced counts.
    commit_marker: SeqNo,
}

/// What a restarting node finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// Durable entries, then the torn one if any (damaged entries included as read).
    pub entries: Vec<Vec<u8>>,
    /// The commit marker, within what is durable.
    pub committed: SeqNo,
    pub vote: Option<(View, NodeId)>,
    /// The first seqno that reads back damaged (torn or flipped).
    pub damaged: Option<SeqNo>,
}

impl Disk {
    pub fn new() -> Disk {
        Disk::default()
    }

    /// Entries written (durable or not).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// What was written, as the invariants see it.
    pub fn logs(&self) -> &[LogEntry] {
        &self.logs
    }

    /// The bytes of the entry at `seqno`.
    pub fn bytes(&self, seqno: SeqNo) -> Option<&[u8]> {
        let index = usize::try_from(seqno.0).ok()?.checked_sub(1)?;
        self.bytes.get(index).map(Vec::as_slice)
    }

    /// The durable prefix, as a seqno.
    pub fn synced(&self) -> SeqNo {
        SeqNo(self.synced as u64)
    }

    /// Writes the entry for seqno `len + 1`; starts an fsync finishing at `now + delay` unless
    /// one is running. Returns when an fsync completes, if one was started.
    pub fn append(
        &mut self,
        bytes: Vec<u8>,
        log: LogEntry,
        now_ms: u64,
        fsync_delay_ms: u64,
    ) -> Option<u64> {
        self.bytes.push(bytes);
        self.logs.push(log);
        self.torn = None;
        self.start_fsync(now_ms, fsync_delay_ms)
    }

    fn start_fsync(&mut self, now_ms: u64, delay_ms: u64) -> Option<u64> {
        if self.fsync.is_some() || self.synced >= self.bytes.len() {
            return None;
        }
        let done = now_ms + delay_ms;
        self.fsync = Some((done, self.bytes.len()));
        Some(done)
    }

    /// Records a vote (durable at once).
    pub fn vote(&mut self, view: View, voted_for: NodeId) {
        self.vote = Some((view, voted_for));
    }

    /// The last vote recorded.
    pub fn last_vote(&self) -> Option<&(View, NodeId)> {
        self.vote.as_ref()
    }

    /// Records that everything up to `up_to` is committed.
    pub fn commit(&mut self, up_to: SeqNo) {
        self.commit_marker = self.commit_marker.max(up_to);
    }

    /// The commit marker within what is durable.
    pub fn durable_commit(&self) -> SeqNo {
        self.commit_marker.min(self.synced())
    }

    /// Drops every entry after `after`.
    pub fn truncate(&mut self, after: SeqNo) {
        let keep = usize::try_from(after.0).unwrap_or(usize::MAX);
        self.bytes.truncate(keep);
        self.logs.truncate(keep);
        self.synced = self.synced.min(self.bytes.len());
        if let Some((_, covers)) = &mut self.fsync {
            *covers = (*covers).min(keep);
        }
        self.torn = None;
    }

    /// Completes the fsync due by `now_ms`: returns the new durable seqno, and when the next
    /// fsync (for writes since) completes, if one starts.
    pub fn complete_fsync(
        &mut self,
        now_ms: u64,
        next_delay_ms: u64,
    ) -> Option<(SeqNo, Option<u64>)> {
        let (done, covers) = self.fsync?;
        if done > now_ms {
            return None;
        }
        self.fsync = None;
        self.synced = self.synced.max(covers.min(self.bytes.len()));
        let next = self.start_fsync(now_ms, next_delay_ms);
        Some((self.synced(), next))
    }

    /// A crash: unsynced entries are lost; if `tear` and there were any, the first of them is
    /// left torn. Returns the torn seqno.
    pub fn crash(&mut self, tear: bool, rng: &mut SimRng) -> Option<SeqNo> {
        self.fsync = None;
        let torn = if tear {
            self.bytes.get(self.synced).and_then(|bytes| {
                let len = bytes.len();
                (len > 1).then(|| bytes[..rng.range(1, len as u64 - 1) as usize].to_vec())
            })
        } else {
            None
        };
        self.bytes.truncate(self.synced);
        self.logs.truncate(self.synced);
        let seqno = torn.as_ref().map(|_| SeqNo(self.synced as u64 + 1));
        self.torn = torn;
        seqno
    }

    /// What a restarting node reads: every durable entry, then the torn one if any; with
    /// `flip_at`, one bit of that entry comes back flipped.
    pub fn read(&self, flip_at: Option<SeqNo>, rng: &mut SimRng) -> Recovered {
        let mut out = self.bytes.clone();
        let mut damaged = None;
        if let Some(seqno) = flip_at
            && let Some(bytes) = usize::try_from(seqno.0)
                .ok()
                .and_then(|s| s.checked_sub(1))
                .and_then(|i| out.get_mut(i))
            && !bytes.is_empty()
        {
            let at = rng.index(bytes.len());
            bytes[at] ^= 1 << rng.range(0, 7);
            damaged = Some(seqno);
        }
        if let Some(torn) = &self.torn {
            out.push(torn.clone());
            let torn_seqno = SeqNo(self.bytes.len() as u64 + 1);
            damaged = Some(damaged.map_or(torn_seqno, |d: SeqNo| d.min(torn_seqno)));
        }
        Recovered {
            entries: out,
            committed: self.durable_commit(),
            vote: self.vote.clone(),
            damaged,
        }
    }
}

#[cfg(test)]
mod tests {
    use cloister_types::TxId;

    use super::*;

    fn append(disk: &mut Disk, seqno: u64, now_ms: u64, delay_ms: u64) -> Option<u64> {
        let bytes = vec![seqno as u8; 16];
        let log = LogEntry::next(None, TxId::new(2, seqno), false, &bytes);
        disk.append(bytes, log, now_ms, delay_ms)
    }

    #[test]
    fn only_synced_entries_survive_a_crash_and_a_torn_write_reads_back_damaged() {
        let mut rng = SimRng::new(3);
        let mut disk = Disk::new();
        assert_eq!(append(&mut disk, 1, 0, 5), Some(5));
        assert_eq!(append(&mut disk, 2, 1, 5), None, "one fsync at a time");
        assert_eq!(disk.complete_fsync(4, 5), None);
        // An fsync covers the writes made before it started; the next one covers the rest.
        assert_eq!(disk.complete_fsync(5, 5), Some((SeqNo(1), Some(10))));
        assert_eq!(disk.complete_fsync(10, 5), Some((SeqNo(2), None)));
        append(&mut disk, 3, 11, 5);
        append(&mut disk, 4, 12, 5);
        let torn = disk.crash(true, &mut rng);
        assert_eq!(torn, Some(SeqNo(3)));
        assert_eq!(disk.len(), 2);
        let read = disk.read(None, &mut rng);
        assert_eq!(read.entries.len(), 3);
        assert!(read.entries[2].len() < 16);
        assert_eq!(read.damaged, Some(SeqNo(3)));

        let read = disk.read(Some(SeqNo(1)), &mut rng);
        assert_eq!(read.damaged, Some(SeqNo(1)));
        assert_ne!(
            Some(&read.entries[0][..]),
            disk.bytes(SeqNo(1)),
            "one bit flipped"
        );
        assert_eq!(Some(&read.entries[1][..]), disk.bytes(SeqNo(2)));
    }

    #[test]
    fn votes_are_durable_at_once_and_the_commit_marker_only_within_synced_entries() {
        let mut rng = SimRng::new(5);
        let mut disk = Disk::new();
        append(&mut disk, 1, 0, 5);
        append(&mut disk, 2, 0, 5);
        disk.complete_fsync(5, 5);
        disk.complete_fsync(10, 5);
        append(&mut disk, 3, 11, 5);
        disk.commit(SeqNo(3));
        let voter = NodeId::from_digest(&[1; 32]);
        disk.vote(View(4), voter.clone());
        disk.crash(false, &mut rng);
        let read = disk.read(None, &mut rng);
        assert_eq!(read.committed, SeqNo(2));
        assert_eq!(read.vote, Some((View(4), voter)));
        assert_eq!(read.damaged, None);
    }

    #[test]
    fn truncation_limits_a_running_fsync_to_what_is_left() {
        let mut rng = SimRng::new(4);
        let mut disk = Disk::new();
        append(&mut disk, 1, 0, 10);
        append(&mut disk, 2, 0, 10);
        disk.truncate(SeqNo(1));
        append(&mut disk, 2, 1, 10);
        // The fsync started before the truncation covers seqno 1 only.
        assert_eq!(disk.complete_fsync(10, 10), Some((SeqNo(1), Some(20))));
        assert_eq!(disk.crash(false, &mut rng), None);
        assert_eq!(disk.len(), 1);
    }
}
