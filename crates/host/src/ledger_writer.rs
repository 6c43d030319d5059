//! Writes ledger entries into CCF chunk files in a directory (spec/ccf-internals.md §1.3–1.5):
//! `ledger_<start>` while open; on completion the position table goes at the end and its offset
//! at byte 0; a completed chunk whose last entry is committed is renamed
//! `ledger_<start>-<end>.committed`.
//!
//! This is the host side of the write path. The node decides where chunks end (it sets
//! FORCE_LEDGER_CHUNK_AFTER on a signature), so every node's files come out the same.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cloister_ledger::{ChunkBuilder, ChunkName, EntryFlags, order_chunks, parse_chunk};

/// The open chunk.
#[derive(Debug)]
struct OpenChunk {
    start: u64,
    file: BufWriter<File>,
    path: PathBuf,
    builder: ChunkBuilder,
}

/// A complete chunk waiting for its last entry to be committed.
#[derive(Debug)]
struct CompleteChunk {
    start: u64,
    end: u64,
    path: PathBuf,
}

/// What a ledger directory held when [`LedgerDirWriter::resume`] read it back.
#[derive(Debug, Default)]
pub struct LedgerOnDisk {
    /// The seqno of the first entry: 1, or one after the snapshot the node started from.
    pub first: u64,
    /// Every whole entry from `first`, in order (a torn tail of the open chunk is dropped).
    pub entries: Vec<Vec<u8>>,
    /// End of the highest `.committed` chunk, or 0.
    pub committed: u64,
}

/// Appends entries to chunk files under one directory.
#[derive(Debug)]
pub struct LedgerDirWriter {
    dir: PathBuf,
    open: Option<OpenChunk>,
    complete: Vec<CompleteChunk>,
    next_seqno: u64,
}

impl LedgerDirWriter {
    /// A writer for a new ledger in `dir` (created if missing), whose first entry is `first_seqno`.
    pub fn create(dir: &Path, first_seqno: u64) -> anyhow::Result<LedgerDirWriter> {
        fs::create_dir_all(dir)
            .with_context(|| format!("creating ledger directory {}", dir.display()))?;
        Ok(LedgerDirWriter {
            dir: dir.to_path_buf(),
            open: None,
            complete: Vec::new(),
            next_seqno: first_seqno,
        })
    }

    /// Continues the ledger already in `dir` after a crash or a stop: complete chunks are kept
    /// (a completed chunk the crash left unrenamed gets its `ledger_<s>-<e>` name), the open
    /// chunk is cut to its whole entries and appended to, and an open chunk with no whole entry
    /// is removed. Returns the writer and what the files hold. `.ignored` and `.recovery` files
    /// are left alone; anything else that does not form one contiguous ledger is an error. The
    /// ledger starts at seqno 1, or after a snapshot (a node that joined from one).
    pub fn resume(dir: &Path) -> anyhow::Result<(LedgerDirWriter, LedgerOnDisk)> {
        let mut names = Vec::new();
        let listing = fs::read_dir(dir)
            .with_context(|| format!("reading ledger directory {}", dir.display()))?;
        for entry in listing {
            let file_name = entry?.file_name();
            let Some(name) = file_name.to_str().and_then(ChunkName::parse) else {
                continue;
            };
            if !name.ignored && !name.recovery {
                names.push(name);
            }
        }
        let names = order_chunks(&names).with_context(|| format!("ledger {}", dir.display()))?;
        let first = names.first().map_or(1, |name| name.start);
        let mut writer = LedgerDirWriter::create(dir, first)?;
        let mut disk = LedgerOnDisk {
            first,
            ..LedgerOnDisk::default()
        };
        let last = names.len().saturating_sub(1);
        for (index, name) in names.into_iter().enumerate() {
            let path = dir.join(name.to_string());
            if name.start != writer.next_seqno {
                bail!(
                    "{}: starts at seqno {}, but the ledger so far ends at {}",
                    path.display(),
                    name.start,
                    writer.next_seqno - 1
                );
            }
            let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let parse =
                parse_chunk(&bytes).with_context(|| format!("parsing {}", path.display()))?;
            let count = parse.entries.len() as u64;
            disk.entries
                .extend(parse.entries.iter().map(|entry| entry.bytes.to_vec()));
            if parse.complete {
                name.check_entry_count(count)
                    .with_context(|| format!("{}", path.display()))?;
                let end = name.start + count - 1;
                writer.next_seqno = end + 1;
                if name.committed {
                    disk.committed = end;
                    continue;
                }
                let complete = ChunkName {
                    end: Some(end),
                    ..name
                };
                let target = dir.join(complete.to_string());
                if target != path {
                    fs::rename(&path, &target)
                        .with_context(|| format!("renaming {}", path.display()))?;
                }
                writer.complete.push(CompleteChunk {
                    start: name.start,
                    end,
                    path: target,
                });
                continue;
            }
            // Only the last chunk can be open, and an open chunk's name has no end.
            if index != last || name.end.is_some() {
                bail!("{}: an open chunk that is not the last one", path.display());
            }
            if count == 0 {
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
                continue;
            }
            let builder = ChunkBuilder::resume(&parse)?;
            let mut file = OpenOptions::new()
                .write(true)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            // Drops a torn last entry: the file ends with the last whole one.
            file.set_len(builder.len_bytes())?;
            file.seek(SeekFrom::Start(builder.len_bytes()))?;
            writer.next_seqno = name.start + count;
            writer.open = Some(OpenChunk {
                start: name.start,
                file: BufWriter::with_capacity(1 << 20, file),
                path,
                builder,
            });
        }
        Ok((writer, disk))
    }

    /// The directory the chunk files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Seqno the next appended entry gets.
    pub fn next_seqno(&self) -> u64 {
        self.next_seqno
    }

    /// Appends the entry at the next seqno. `committable` marks a signature transaction.
    pub fn append(
        &mut self,
        entry: &[u8],
        flags: EntryFlags,
        committable: bool,
    ) -> anyhow::Result<()> {
        if flags.force_chunk_after() && !committable {
            anyhow::bail!(
                "seqno {}: FORCE_LEDGER_CHUNK_AFTER on a non-committable entry",
                self.next_seqno
            );
        }
        if flags.force_chunk_before() && self.open.is_some() {
            self.complete_open_chunk()?;
        }
        let seqno = self.next_seqno;
        let open = match &mut self.open {
            Some(open) => open,
            None => self.open.insert(open_chunk(&self.dir, seqno)?),
        };
        open.builder
            .push(entry)
            .with_context(|| format!("seqno {seqno}"))?;
        open.file
            .write_all(entry)
            .with_context(|| format!("writing {}", open.path.display()))?;
        self.next_seqno += 1;
        if committable && flags.force_chunk_after() {
            self.complete_open_chunk()?;
        }
        Ok(())
    }

    /// Marks everything up to `seqno` committed: complete chunks ending at or before it are
    /// renamed `.committed`.
    pub fn commit(&mut self, seqno: u64) -> anyhow::Result<()> {
        let (done, waiting): (Vec<_>, Vec<_>) = self
            .complete
            .drain(..)
            .partition(|chunk| chunk.end <= seqno);
        self.complete = waiting;
        for chunk in done {
            let name = ChunkName {
                start: chunk.start,
                end: Some(chunk.end),
                committed: true,
                recovery: false,
                ignored: false,
            };
            let target = self.dir.join(name.to_string());
            fs::rename(&chunk.path, &target)
                .with_context(|| format!("renaming {}", chunk.path.display()))?;
        }
        Ok(())
    }

    /// Drops every entry after `after` (consensus rolled back an uncommitted suffix, spec §1.3
    /// `truncate`): later chunks are deleted, and the chunk holding `after` is cut there and
    /// becomes the open chunk again.
    pub fn truncate(&mut self, after: u64) -> anyhow::Result<()> {
        if after + 1 >= self.next_seqno {
            return Ok(());
        }
        if let Some(open) = self.open.take() {
            if open.start > after {
                drop(open.file);
                fs::remove_file(&open.path)
                    .with_context(|| format!("removing {}", open.path.display()))?;
            } else {
                let mut open = open;
                open.file.flush()?;
                let keep = usize::try_from(after + 1 - open.start)?;
                let len = open.builder.truncate(keep);
                let file = open.file.get_mut();
                file.set_len(len)?;
                file.seek(SeekFrom::Start(len))?;
                self.open = Some(open);
            }
        }
        while self.open.is_none() {
            let Some(chunk) = self.complete.pop() else {
                break;
            };
            if chunk.start > after {
                fs::remove_file(&chunk.path)
                    .with_context(|| format!("removing {}", chunk.path.display()))?;
                continue;
            }
            if chunk.end <= after {
                // Kept whole: it stays complete, and the next entry starts a new chunk, as on
                // every other node.
                self.complete.push(chunk);
                break;
            }
            self.reopen(chunk, after)?;
        }
        self.next_seqno = after + 1;
        Ok(())
    }

    /// Turns a complete chunk back into the open chunk, keeping entries up to `after`.
    fn reopen(&mut self, chunk: CompleteChunk, after: u64) -> anyhow::Result<()> {
        let bytes =
            fs::read(&chunk.path).with_context(|| format!("reading {}", chunk.path.display()))?;
        let parse =
            parse_chunk(&bytes).with_context(|| format!("parsing {}", chunk.path.display()))?;
        let keep = usize::try_from(after + 1 - chunk.start)?;
        let mut open = open_chunk(&self.dir, chunk.start)?;
        for entry in parse.entries.iter().take(keep) {
            open.builder.push(entry.bytes)?;
            open.file.write_all(entry.bytes)?;
        }
        open.file.flush()?;
        fs::remove_file(&chunk.path)
            .with_context(|| format!("removing {}", chunk.path.display()))?;
        self.open = Some(open);
        Ok(())
    }

    /// Makes every entry appended so far durable (written and synced to disk) before the node
    /// is told it is persisted: a backup acknowledges, and a primary counts itself, only what
    /// survives a crash (ARCHITECTURE.md step 7; CCF 6 itself only flushes). Chunks completed
    /// since the last call are synced when they complete.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        if let Some(open) = &mut self.open {
            open.file.flush()?;
            open.file.get_ref().sync_data()?;
        }
        Ok(())
    }

    fn complete_open_chunk(&mut self) -> anyhow::Result<()> {
        let Some(mut open) = self.open.take() else {
            return Ok(());
        };
        let tail = open.builder.finish();
        let end = open.start + open.builder.entry_count() as u64 - 1;
        open.file.write_all(&tail.table)?;
        open.file.flush()?;
        let file = open.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&tail.header)?;
        file.sync_data()?;
        // CCF does not rename on completion, only on commit; `ledger_<s>-<e>` is the name readers
        // accept for a complete, uncommitted chunk.
        let name = ChunkName {
            start: open.start,
            end: Some(end),
            committed: false,
            recovery: false,
            ignored: false,
        };
        let path = self.dir.join(name.to_string());
        fs::rename(&open.path, &path)
            .with_context(|| format!("renaming {}", open.path.display()))?;
        self.complete.push(CompleteChunk {
            start: open.start,
            end,
            path,
        });
        Ok(())
    }
}

fn open_chunk(dir: &Path, start: u64) -> anyhow::Result<OpenChunk> {
    let name = ChunkName {
        start,
        end: None,
        committed: false,
        recovery: false,
        ignored: false,
    };
    let path = dir.join(name.to_string());
    let file = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    let mut file = BufWriter::with_capacity(1 << 20, file);
    file.write_all(&ChunkBuilder::OPEN_HEADER)?;
    Ok(OpenChunk {
        start,
        file,
        path,
        builder: ChunkBuilder::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-formed entry header (format 1, no flags) and `len` body bytes of `fill`: enough
    /// for the chunk layout, which never reads entry bodies.
    fn entry(fill: u8, len: usize) -> Vec<u8> {
        let mut bytes = vec![1, 0];
        bytes.extend_from_slice(&(len as u64).to_le_bytes()[..6]);
        bytes.extend(std::iter::repeat_n(fill, len));
        bytes
    }

    fn chunk_after() -> EntryFlags {
        EntryFlags(EntryFlags::FORCE_LEDGER_CHUNK_AFTER)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    /// Entries 1–3 (committed chunk), 4–5 (complete chunk), 6–7 open.
    fn three_chunks(dir: &Path) {
        let mut writer = LedgerDirWriter::create(dir, 1).unwrap();
        for seqno in 1..=7u8 {
            let ends_chunk = seqno == 3 || seqno == 5;
            let flags = if ends_chunk {
                chunk_after()
            } else {
                EntryFlags(0)
            };
            writer
                .append(&entry(seqno, 10 + usize::from(seqno)), flags, ends_chunk)
                .unwrap();
        }
        writer.commit(3).unwrap();
        writer.flush().unwrap();
    }

    #[test]
    fn truncating_at_a_chunk_end_keeps_that_chunk_complete_and_inside_one_reopens_it() {
        let dir = tempfile::tempdir().unwrap();
        three_chunks(dir.path());
        let (mut writer, _) = LedgerDirWriter::resume(dir.path()).unwrap();
        writer.truncate(5).unwrap();
        writer.append(&entry(6, 30), EntryFlags(0), false).unwrap();
        writer.flush().unwrap();
        assert_eq!(
            names(dir.path()),
            ["ledger_1-3.committed", "ledger_4-5", "ledger_6"]
        );
        writer.truncate(4).unwrap();
        writer.flush().unwrap();
        assert_eq!(names(dir.path()), ["ledger_1-3.committed", "ledger_4"]);
        let (writer, disk) = LedgerDirWriter::resume(dir.path()).unwrap();
        assert_eq!((disk.entries.len(), writer.next_seqno()), (4, 5));
    }

    #[test]
    fn resume_reads_every_chunk_back_and_continues_the_open_one() {
        let dir = tempfile::tempdir().unwrap();
        three_chunks(dir.path());
        assert_eq!(
            names(dir.path()),
            ["ledger_1-3.committed", "ledger_4-5", "ledger_6"]
        );
        let (mut writer, disk) = LedgerDirWriter::resume(dir.path()).unwrap();
        assert_eq!(disk.committed, 3);
        let expected: Vec<Vec<u8>> = (1..=7u8).map(|s| entry(s, 10 + usize::from(s))).collect();
        assert_eq!(disk.entries, expected);
        assert_eq!(writer.next_seqno(), 8);

        // Appending continues ledger_6; completing and committing renames as before.
        writer.append(&entry(8, 3), chunk_after(), true).unwrap();
        writer.commit(8).unwrap();
        assert_eq!(
            names(dir.path()),
            [
                "ledger_1-3.committed",
                "ledger_4-5.committed",
                "ledger_6-8.committed"
            ]
        );
        let bytes = fs::read(dir.path().join("ledger_6-8.committed")).unwrap();
        let parse = parse_chunk(&bytes).unwrap();
        assert!(parse.complete);
        assert_eq!(parse.entries.len(), 3);
        assert_eq!(parse.entries[2].bytes, entry(8, 3).as_slice());
    }

    #[test]
    fn resume_drops_a_torn_tail_and_removes_an_empty_open_chunk() {
        let dir = tempfile::tempdir().unwrap();
        three_chunks(dir.path());
        let open = dir.path().join("ledger_6");
        let whole = fs::read(&open).unwrap();
        let mut torn = whole.clone();
        torn.extend_from_slice(&entry(9, 40)[..20]);
        fs::write(&open, &torn).unwrap();

        let (mut writer, disk) = LedgerDirWriter::resume(dir.path()).unwrap();
        assert_eq!(disk.entries.len(), 7);
        assert_eq!(
            fs::read(&open).unwrap(),
            whole,
            "the torn bytes are cut off"
        );
        writer.append(&entry(8, 5), EntryFlags(0), false).unwrap();
        writer.flush().unwrap();
        let bytes = fs::read(&open).unwrap();
        let parse = parse_chunk(&bytes).unwrap();
        assert_eq!(parse.entries.len(), 3);
        assert_eq!(parse.trailing_partial, None);
        drop(writer);

        // An open chunk holding only its header (the crash came before its first entry).
        fs::write(&open, ChunkBuilder::OPEN_HEADER).unwrap();
        let (mut writer, disk) = LedgerDirWriter::resume(dir.path()).unwrap();
        assert_eq!(disk.entries.len(), 5);
        assert!(!open.exists());
        writer.append(&entry(6, 1), EntryFlags(0), false).unwrap();
        writer.flush().unwrap();
        assert_eq!(
            parse_chunk(&fs::read(&open).unwrap())
                .unwrap()
                .entries
                .len(),
            1
        );
    }

    #[test]
    fn resume_names_a_completed_chunk_the_crash_left_unrenamed_and_refuses_gaps() {
        let dir = tempfile::tempdir().unwrap();
        three_chunks(dir.path());
        // Completed (table written) but still under its open name.
        fs::rename(dir.path().join("ledger_4-5"), dir.path().join("ledger_4")).unwrap();
        fs::remove_file(dir.path().join("ledger_6")).unwrap();
        let (writer, disk) = LedgerDirWriter::resume(dir.path()).unwrap();
        assert_eq!(disk.entries.len(), 5);
        assert_eq!(writer.next_seqno(), 6);
        assert_eq!(names(dir.path()), ["ledger_1-3.committed", "ledger_4-5"]);

        // A ledger may start after a snapshot (a node that joined from one)…
        fs::rename(
            dir.path().join("ledger_1-3.committed"),
            dir.path().join("elsewhere"),
        )
        .unwrap();
        let (writer, disk) = LedgerDirWriter::resume(dir.path()).unwrap();
        assert_eq!((disk.first, disk.entries.len()), (4, 2));
        assert_eq!(writer.next_seqno(), 6);
        // …but never has a hole.
        fs::rename(
            dir.path().join("elsewhere"),
            dir.path().join("ledger_1-3.committed"),
        )
        .unwrap();
        fs::rename(dir.path().join("ledger_4-5"), dir.path().join("ledger_5-5")).unwrap();
        let error = LedgerDirWriter::resume(dir.path()).unwrap_err();
        assert!(format!("{error:#}").contains("ledger_5-5"), "{error:#}");
    }

    #[test]
    fn resume_of_an_empty_directory_is_a_new_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, disk) = LedgerDirWriter::resume(dir.path()).unwrap();
        assert!(disk.entries.is_empty());
        assert_eq!(disk.committed, 0);
        assert_eq!(writer.next_seqno(), 1);
    }
}
