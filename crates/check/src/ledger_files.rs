//! Finding the chunk files of a ledger, with read_ledger.py's rules (spec/ccf-internals.md §1.2):
//! committed chunks by default, uncommitted and `.recovery` files on request, `.ignored` never;
//! the same file name in two directories counts once; the chunks must form one contiguous range.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use cloister_ledger::{ChunkName, order_chunks};

use crate::ledger_report::LocatedError;

/// Which files to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct LedgerOptions {
    /// Also read chunks that are not committed (`ledger_<n>`, `ledger_<a>-<b>`).
    pub uncommitted: bool,
    /// Also read `.recovery` chunks.
    pub recovery: bool,
}

/// A chunk file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkFile {
    pub path: PathBuf,
    pub name: ChunkName,
}

/// The chunk files under `paths` (directories or single files), in ledger order.
pub fn collect_chunks(
    paths: &[PathBuf],
    options: LedgerOptions,
) -> Result<Vec<ChunkFile>, LocatedError> {
    let mut files = Vec::new();
    let mut seen = BTreeSet::new();
    for path in paths {
        if path.is_dir() {
            let entries = fs::read_dir(path).map_err(|e| LocatedError::io(path, &e))?;
            let mut names: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .collect();
            names.sort();
            for file in names {
                consider(&file, options, &mut seen, &mut files, false)?;
            }
        } else if path.is_file() {
            consider(path, options, &mut seen, &mut files, true)?;
        } else {
            return Err(LocatedError::message(
                path,
                "is not a ledger directory or ledger chunk",
            ));
        }
    }
    let names: Vec<ChunkName> = files.iter().map(|file: &ChunkFile| file.name).collect();
    let ordered = order_chunks(&names).map_err(|e| LocatedError {
        file: paths
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        offset: None,
        seqno: None,
        message: e.to_string(),
    })?;
    let mut result = Vec::with_capacity(files.len());
    for name in ordered {
        if let Some(position) = files.iter().position(|file| file.name == name) {
            result.push(files.swap_remove(position));
        }
    }
    Ok(result)
}

fn consider(
    path: &Path,
    options: LedgerOptions,
    seen: &mut BTreeSet<String>,
    files: &mut Vec<ChunkFile>,
    named_explicitly: bool,
) -> Result<(), LocatedError> {
    let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    let Some(name) = ChunkName::parse(file_name) else {
        if named_explicitly {
            return Err(LocatedError::message(
                path,
                "is not named like a ledger chunk (ledger_<start>[-<end>][.committed])",
            ));
        }
        return Ok(());
    };
    let wanted = !name.ignored
        && (options.recovery || !name.recovery)
        && (options.uncommitted || name.committed);
    if wanted && seen.insert(file_name.to_owned()) {
        files.push(ChunkFile {
            path: path.to_path_buf(),
            name,
        });
    }
    Ok(())
}
