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

use anyhow::Context;
use cloister_ledger::{ChunkBuilder, ChunkName, EntryFlags, parse_chunk};

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

    /// Flushes the open chunk's bytes so readers see every entry appended so far.
    pub fn flush(&mut self) -> anyhow::Result<()> {
        if let Some(open) = &mut self.open {
            open.file.flush()?;
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
