//! Reads committed ledger entries back from a node's chunk files, for historical queries older
//! than what consensus holds in memory (the node's `Output::ReadLedger`; CCF's host answers its
//! historical `StateCache` the same way). Runs off the node's thread: [`read_entries`] is
//! blocking, and [`spawn_read`] runs it on tokio's blocking pool and sends the answer back.
//!
//! Only the chunks whose names cover the range are read and parsed (`cloister_ledger`'s
//! `parse_chunk`, as the writer and the verifier do). A chunk may be renamed while it is read (it
//! completes or commits): the listing is then taken again, a bounded number of times.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cloister_ledger::{ChunkName, parse_chunk};
use cloister_types::SeqNo;
use tokio::sync::mpsc;

/// Listings taken before a range whose chunks keep being renamed is given up.
const LISTING_ATTEMPTS_MAX: usize = 3;

/// What the node's task gets back: `(from, to, entries or why not)`.
pub type LedgerRead = (SeqNo, SeqNo, Result<Vec<Vec<u8>>, String>);

/// Every entry from `from` to `to` (inclusive), in seqno order, from the chunk files in `dir`.
pub fn read_entries(dir: &Path, from: u64, to: u64) -> anyhow::Result<Vec<Vec<u8>>> {
    if to < from {
        bail!("seqno {to} is before seqno {from}");
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match read_once(dir, from, to) {
            Err(error) if attempt < LISTING_ATTEMPTS_MAX && renamed(&error) => continue,
            other => return other,
        }
    }
}

/// Whether `error` is a chunk file that went away between the listing and the read.
fn renamed(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == ErrorKind::NotFound)
}

fn read_once(dir: &Path, from: u64, to: u64) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut chunks: Vec<(ChunkName, PathBuf)> = Vec::new();
    let listing =
        fs::read_dir(dir).with_context(|| format!("reading ledger directory {}", dir.display()))?;
    for entry in listing {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().and_then(ChunkName::parse) else {
            continue;
        };
        // An open chunk has no end in its name: it may hold the range's tail.
        let overlaps = name.start <= to && name.end.is_none_or(|end| end >= from);
        if overlaps && !name.ignored && !name.recovery {
            chunks.push((name, entry.path()));
        }
    }
    chunks.sort_by_key(|(name, _)| name.start);
    let count = usize::try_from(to - from + 1)?;
    let mut entries = Vec::with_capacity(count);
    for (name, path) in chunks {
        let next = from + entries.len() as u64;
        if next > to {
            break;
        }
        if name.start > next {
            bail!(
                "no chunk file in {} holds seqno {next} (the next starts at {})",
                dir.display(),
                name.start
            );
        }
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let parse = parse_chunk(&bytes).with_context(|| format!("parsing {}", path.display()))?;
        let skip = usize::try_from(next - name.start)?;
        let want = usize::try_from(to - next + 1)?;
        entries.extend(
            parse
                .entries
                .iter()
                .skip(skip)
                .take(want)
                .map(|entry| entry.bytes.to_vec()),
        );
    }
    if entries.len() != count {
        bail!(
            "no chunk file in {} holds seqno {}",
            dir.display(),
            from + entries.len() as u64
        );
    }
    Ok(entries)
}

/// Reads `from..=to` from `dir` on tokio's blocking pool and sends the answer to `answers`
/// (dropped if the node's task has stopped).
pub fn spawn_read(dir: PathBuf, from: SeqNo, to: SeqNo, answers: mpsc::Sender<LedgerRead>) {
    tokio::task::spawn_blocking(move || {
        let entries = read_entries(&dir, from.0, to.0).map_err(|error| format!("{error:#}"));
        let _ = answers.blocking_send((from, to, entries));
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use cloister_ledger::{EntryFlags, EntryHeader, write_chunk};

    /// An entry as the chunk format sees it: its 8-byte header, then a body of its own.
    fn entry(seqno: u64) -> Vec<u8> {
        let body = vec![seqno as u8; 4 + seqno as usize % 3];
        let header = EntryHeader {
            flags: EntryFlags(0),
            body_size: body.len() as u64,
        };
        let mut bytes = header.to_bytes().to_vec();
        bytes.extend_from_slice(&body);
        bytes
    }

    fn chunk(dir: &Path, name: &str, seqnos: std::ops::RangeInclusive<u64>) {
        let entries: Vec<Vec<u8>> = seqnos.map(entry).collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        fs::write(dir.join(name), write_chunk(&refs).unwrap()).unwrap();
    }

    fn ledger() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        chunk(dir.path(), "ledger_1-4.committed", 1..=4);
        chunk(dir.path(), "ledger_5-7", 5..=7);
        // An open chunk: header 0, entries, no table.
        let mut open = 0u64.to_le_bytes().to_vec();
        for seqno in 8..=9 {
            open.extend_from_slice(&entry(seqno));
        }
        fs::write(dir.path().join("ledger_8"), open).unwrap();
        fs::write(dir.path().join("ledger_1-4.committed.ignored"), b"junk").unwrap();
        dir
    }

    #[test]
    fn a_range_across_committed_complete_and_open_chunks_reads_back_in_order() {
        let dir = ledger();
        let read = read_entries(dir.path(), 3, 9).unwrap();
        assert_eq!(read, (3..=9).map(entry).collect::<Vec<_>>());
        assert_eq!(read_entries(dir.path(), 6, 6).unwrap(), vec![entry(6)]);
    }

    #[test]
    fn seqnos_past_the_ledger_or_a_gap_are_errors() {
        let dir = ledger();
        let past = read_entries(dir.path(), 8, 12).unwrap_err();
        assert!(format!("{past:#}").contains("holds seqno 10"), "{past:#}");
        fs::remove_file(dir.path().join("ledger_5-7")).unwrap();
        let gap = read_entries(dir.path(), 3, 6).unwrap_err();
        assert!(format!("{gap:#}").contains("holds seqno 5"), "{gap:#}");
        let missing = read_entries(&dir.path().join("nowhere"), 1, 1).unwrap_err();
        assert!(format!("{missing:#}").contains("reading ledger directory"));
    }

    #[tokio::test]
    async fn a_spawned_read_answers_on_the_channel() {
        let dir = ledger();
        let (sender, mut answers) = mpsc::channel(1);
        spawn_read(dir.path().to_path_buf(), SeqNo(2), SeqNo(3), sender.clone());
        let (from, to, entries) = answers.recv().await.unwrap();
        assert_eq!((from, to), (SeqNo(2), SeqNo(3)));
        assert_eq!(entries.unwrap(), vec![entry(2), entry(3)]);
        spawn_read(dir.path().to_path_buf(), SeqNo(20), SeqNo(20), sender);
        assert!(answers.recv().await.unwrap().2.is_err());
    }
}
