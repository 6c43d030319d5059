//! Snapshot files as CCF's host keeps them (spec/ccf-internals.md §8.1): `snapshot_<s>_<E>` is
//! written when the evidence transaction E exists, and once a signature after E commits the
//! evidence's receipt is appended and the file renamed `snapshot_<s>_<E>.committed`.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Writes a new (uncommitted) snapshot file, synced.
pub fn write_snapshot(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = snapshot_path(dir, name)?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_data()?;
    Ok(())
}

/// Appends the evidence receipt and renames the file `<name>.committed`.
pub fn commit_snapshot(dir: &Path, name: &str, receipt: &[u8]) -> anyhow::Result<()> {
    let path = snapshot_path(dir, name)?;
    let mut file = OpenOptions::new()
        .append(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    file.write_all(receipt)?;
    file.sync_data()?;
    let committed = dir.join(format!("{name}.committed"));
    fs::rename(&path, &committed).with_context(|| format!("renaming {}", path.display()))?;
    Ok(())
}

/// Keeps a committed snapshot fetched from another node under its own name.
pub fn store_committed_snapshot(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    if committed_snapshot_seqno(name).is_none() {
        bail!("not a committed snapshot file name: {name:?}");
    }
    write_snapshot(dir, name, bytes)
}

/// The latest committed snapshot in `dir`: its file name and bytes.
pub fn latest_committed_snapshot(dir: &Path) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let mut best: Option<(u64, String)> = None;
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(seqno) = committed_snapshot_seqno(&name) else {
            continue;
        };
        if best.as_ref().is_none_or(|(known, _)| seqno > *known) {
            best = Some((seqno, name));
        }
    }
    let Some((_, name)) = best else {
        return Ok(None);
    };
    let bytes = fs::read(dir.join(&name))?;
    Ok(Some((name, bytes)))
}

/// The committed snapshot at exactly `seqno` in `dir`, if there is one.
pub fn committed_snapshot_at(dir: &Path, seqno: u64) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if committed_snapshot_seqno(&name) == Some(seqno) {
            let bytes = fs::read(dir.join(&name))?;
            return Ok(Some((name, bytes)));
        }
    }
    Ok(None)
}

/// `s` of `snapshot_<s>_<E>.committed`.
pub fn committed_snapshot_seqno(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("snapshot_")?.strip_suffix(".committed")?;
    let (seqno, evidence) = rest.split_once('_')?;
    evidence.parse::<u64>().ok()?;
    seqno.parse().ok()
}

fn snapshot_path(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let plain = name.starts_with("snapshot_")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if !plain {
        bail!("not a snapshot file name: {name:?}");
    }
    Ok(dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_written_then_committed_with_their_receipt_and_the_latest_is_found() {
        let dir = tempfile::tempdir().unwrap();
        write_snapshot(dir.path(), "snapshot_10_12", b"entry").unwrap();
        commit_snapshot(dir.path(), "snapshot_10_12", b"{receipt}").unwrap();
        write_snapshot(dir.path(), "snapshot_30_31", b"newer, uncommitted").unwrap();
        let (name, bytes) = latest_committed_snapshot(dir.path()).unwrap().unwrap();
        assert_eq!(name, "snapshot_10_12.committed");
        assert_eq!(bytes, b"entry{receipt}");
        assert_eq!(committed_snapshot_seqno("snapshot_7_9.committed"), Some(7));
        assert_eq!(committed_snapshot_seqno("snapshot_7_9"), None);
        assert!(write_snapshot(dir.path(), "../escape", b"").is_err());
    }
}
