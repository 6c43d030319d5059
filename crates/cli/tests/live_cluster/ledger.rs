//! Reading a node's ledger directory back for comparison across nodes: every entry of every
//! chunk file (committed, complete or open; `.ignored` skipped), by the seqno in its GCM IV.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use cloister_ledger::{ChunkName, parse_chunk};

/// What one ledger directory holds.
#[derive(Debug, Default)]
pub struct LedgerContents {
    /// Entry bytes (header included) by seqno.
    pub entries: BTreeMap<u64, Vec<u8>>,
    /// End of the highest `.committed` chunk, or 0.
    pub committed_chunks_end: u64,
    /// File names, sorted.
    pub files: Vec<String>,
}

/// Reads every chunk file of `dir`. A seqno found twice must hold the same bytes both times;
/// a torn tail of an open chunk is left out (the node drops it too).
pub fn read_ledger(dir: &Path) -> LedgerContents {
    let mut contents = LedgerContents::default();
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in &names {
        let Some(chunk) = ChunkName::parse(name) else {
            continue;
        };
        if chunk.ignored {
            continue;
        }
        let bytes = fs::read(dir.join(name)).unwrap();
        let parsed =
            parse_chunk(&bytes).unwrap_or_else(|e| panic!("{}/{name}: {e}", dir.display()));
        for (index, entry) in parsed.entries.iter().enumerate() {
            let decoded = entry
                .decode()
                .unwrap_or_else(|e| panic!("{}/{name} entry {index}: {e}", dir.display()));
            let seqno = decoded.parts.gcm.seqno();
            assert_eq!(
                seqno,
                chunk.start + index as u64,
                "{}/{name}: entry {index} has seqno {seqno}",
                dir.display()
            );
            if let Some(previous) = contents.entries.insert(seqno, entry.bytes.to_vec()) {
                assert_eq!(
                    previous,
                    entry.bytes,
                    "{}: seqno {seqno} differs between two files",
                    dir.display()
                );
            }
        }
        if chunk.committed {
            let end = chunk.end.unwrap_or(0);
            assert_eq!(
                parsed.entries.len() as u64,
                chunk.entry_count().unwrap_or(0),
                "{}/{name}: entry count",
                dir.display()
            );
            contents.committed_chunks_end = contents.committed_chunks_end.max(end);
        }
    }
    contents.files = names;
    contents
}
