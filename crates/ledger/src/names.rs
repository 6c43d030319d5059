//! Ledger chunk and snapshot file names (spec §1.2, §8.1), and the order/contiguity checks a
//! reader makes over a directory's chunk names.
//!
//! Parsing is stricter than CCF's `stol`-based reader: digits only, no leading zeros, so that
//! `Display` is the exact inverse of `parse` and an error message names the real file.

use std::fmt;

use crate::error::LedgerError;

/// A parsed `ledger_<start>[-<end>][.committed][.recovery][.ignored]` file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkName {
    /// Seqno of the first entry.
    pub start: u64,
    /// Seqno of the last entry; `None` while the chunk is open (or complete but not renamed).
    pub end: Option<u64>,
    /// `.committed`: every entry is committed; the file is immutable.
    pub committed: bool,
    /// `.recovery`: written during a public recovery, not yet part of the opened service.
    pub recovery: bool,
    /// `.ignored`: the node refuses to use it.
    pub ignored: bool,
}

/// A parsed `snapshot_<seqno>_<evidence_seqno>[.committed]` file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SnapshotName {
    /// Seqno the snapshot was taken at.
    pub seqno: u64,
    /// Seqno of the snapshot-evidence transaction.
    pub evidence_seqno: u64,
    /// Whether the evidence is committed (a receipt is appended to the file).
    pub committed: bool,
}

const COMMITTED: &str = ".committed";
const RECOVERY: &str = ".recovery";
const IGNORED: &str = ".ignored";

impl ChunkName {
    /// Parses a file name (not a path). `None` for anything CCF would not have written: a
    /// `.committed` name without an end, an end before the start, or any other text.
    pub fn parse(file_name: &str) -> Option<ChunkName> {
        let rest = file_name.strip_prefix("ledger_")?;
        let (rest, ignored) = strip_flag(rest, IGNORED);
        let (rest, recovery) = strip_flag(rest, RECOVERY);
        let (range, committed) = strip_flag(rest, COMMITTED);
        let (start, end) = match range.split_once('-') {
            Some((start, end)) => (parse_seqno(start)?, Some(parse_seqno(end)?)),
            None => (parse_seqno(range)?, None),
        };
        if end.is_some_and(|end| end < start) || (committed && end.is_none()) {
            return None;
        }
        Some(ChunkName {
            start,
            end,
            committed,
            recovery,
            ignored,
        })
    }

    /// Number of entries the name promises, if it has an end.
    pub fn entry_count(&self) -> Option<u64> {
        let end = self.end?;
        end.checked_sub(self.start)?.checked_add(1)
    }

    /// Checks that a chunk holds as many entries as its name's range says (spec §1.2).
    pub fn check_entry_count(&self, found: u64) -> Result<(), LedgerError> {
        match (self.end, self.entry_count()) {
            (None, _) => Ok(()),
            (Some(_), Some(expected)) if expected == found => Ok(()),
            (Some(_), expected) => Err(LedgerError::ChunkEntryCount {
                file: self.to_string(),
                expected: expected.unwrap_or(0),
                found,
            }),
        }
    }
}

impl fmt::Display for ChunkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ledger_{}", self.start)?;
        if let Some(end) = self.end {
            write!(f, "-{end}")?;
        }
        for (set, suffix) in [
            (self.committed, COMMITTED),
            (self.recovery, RECOVERY),
            (self.ignored, IGNORED),
        ] {
            if set {
                f.write_str(suffix)?;
            }
        }
        Ok(())
    }
}

impl SnapshotName {
    /// Parses a file name (not a path); `None` for anything else, including 1.x's
    /// `.committed_<n>` names.
    pub fn parse(file_name: &str) -> Option<SnapshotName> {
        let rest = file_name.strip_prefix("snapshot_")?;
        let (rest, committed) = strip_flag(rest, COMMITTED);
        let (seqno, evidence) = rest.split_once('_')?;
        Some(SnapshotName {
            seqno: parse_seqno(seqno)?,
            evidence_seqno: parse_seqno(evidence)?,
            committed,
        })
    }
}

impl fmt::Display for SnapshotName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "snapshot_{}_{}", self.seqno, self.evidence_seqno)?;
        if self.committed {
            f.write_str(COMMITTED)?;
        }
        Ok(())
    }
}

/// Orders chunk names by start seqno and checks what names alone can show (spec §1.2): ranges
/// are contiguous (`end_a + 1 == start_b`) and do not overlap, and no committed chunk follows an
/// uncommitted one. After an open chunk (no end) only "starts later" can be checked; the caller
/// checks the rest with entry counts. Filter out `.ignored` (and unwanted `.recovery`) names
/// first: every name given is treated as part of one ledger.
pub fn order_chunks(names: &[ChunkName]) -> Result<Vec<ChunkName>, LedgerError> {
    let mut sorted = names.to_vec();
    sorted.sort_by_key(|name| (name.start, name.end));
    for pair in sorted.windows(2) {
        if let [before, after] = pair {
            check_adjacent(before, after)?;
        }
    }
    Ok(sorted)
}

fn check_adjacent(before: &ChunkName, after: &ChunkName) -> Result<(), LedgerError> {
    let names = || (before.to_string(), after.to_string());
    let overlap = || {
        let (before, after) = names();
        LedgerError::ChunkOverlap { before, after }
    };
    match before.end {
        Some(end) => {
            let next = end.checked_add(1).ok_or_else(overlap)?;
            if after.start < next {
                return Err(overlap());
            }
            if after.start > next {
                let (before, after) = names();
                return Err(LedgerError::ChunkGap { before, after });
            }
        }
        None if after.start <= before.start => return Err(overlap()),
        None => {}
    }
    if after.committed && !before.committed {
        return Err(LedgerError::CommittedAfterUncommitted {
            uncommitted: before.to_string(),
            committed: after.to_string(),
        });
    }
    Ok(())
}

fn strip_flag<'a>(text: &'a str, suffix: &str) -> (&'a str, bool) {
    match text.strip_suffix(suffix) {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// Decimal digits only, no sign, no leading zero (except "0"), within u64.
fn parse_seqno(text: &str) -> Option<u64> {
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = text.len() > 1 && text.starts_with('0');
    if !digits_only || leading_zero {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn name(text: &str) -> ChunkName {
        ChunkName::parse(text).unwrap()
    }

    #[test]
    fn every_chunk_name_form_of_spec_1_2_parses() {
        let cases = [
            ("ledger_506", (506, None, false, false, false)),
            ("ledger_1-14", (1, Some(14), false, false, false)),
            ("ledger_1-14.committed", (1, Some(14), true, false, false)),
            ("ledger_7.recovery", (7, None, false, true, false)),
            (
                "ledger_5-9.committed.recovery",
                (5, Some(9), true, true, false),
            ),
            (
                "ledger_5-9.committed.ignored",
                (5, Some(9), true, false, true),
            ),
            ("ledger_12.ignored", (12, None, false, false, true)),
            (
                "ledger_5-9.committed.recovery.ignored",
                (5, Some(9), true, true, true),
            ),
        ];
        for (text, (start, end, committed, recovery, ignored)) in cases {
            let parsed = name(text);
            assert_eq!(
                parsed,
                ChunkName {
                    start,
                    end,
                    committed,
                    recovery,
                    ignored
                },
                "{text}"
            );
            assert_eq!(parsed.to_string(), text, "Display is the inverse of parse");
        }
    }

    #[test]
    fn garbage_chunk_names_are_none() {
        for text in [
            "",
            "ledger_",
            "ledger",
            "ledger_-5",
            "ledger_a",
            "ledger_1-",
            "ledger_1-2-3",
            "ledger_+1",
            "ledger_01",
            "ledger_1-02",
            "ledger_5-4",
            "ledger_5.committed",
            "ledger_1-2.committed.extra",
            "ledger_1-2.recovery.committed",
            "xledger_1",
            "ledger_1 ",
            "ledger_18446744073709551616",
            "snapshot_1_2",
            "ledger_1-2.ignored.ignored",
        ] {
            assert_eq!(ChunkName::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn snapshot_names_parse_and_format() {
        let s = SnapshotName::parse("snapshot_493_494.committed").unwrap();
        assert_eq!(
            s,
            SnapshotName {
                seqno: 493,
                evidence_seqno: 494,
                committed: true
            }
        );
        assert_eq!(s.to_string(), "snapshot_493_494.committed");
        let open = SnapshotName::parse("snapshot_61_62").unwrap();
        assert!(!open.committed);
        assert_eq!(open.to_string(), "snapshot_61_62");
        for text in [
            "snapshot_1",
            "snapshot_1_2_3",
            "snapshot_1_2.committed_3",
            "ledger_1-2",
            "snapshot__2",
        ] {
            assert_eq!(SnapshotName::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn entry_count_follows_the_range() {
        assert_eq!(name("ledger_15-46.committed").entry_count(), Some(32));
        assert_eq!(name("ledger_506").entry_count(), None);
        assert!(name("ledger_15-46.committed").check_entry_count(32).is_ok());
        assert_eq!(
            name("ledger_15-46.committed")
                .check_entry_count(31)
                .unwrap_err(),
            LedgerError::ChunkEntryCount {
                file: "ledger_15-46.committed".into(),
                expected: 32,
                found: 31
            }
        );
    }

    #[test]
    fn chunks_are_ordered_by_start_seqno() {
        let names = [
            name("ledger_15-46.committed"),
            name("ledger_47"),
            name("ledger_1-14.committed"),
        ];
        let ordered: Vec<String> = order_chunks(&names)
            .unwrap()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            ordered,
            [
                "ledger_1-14.committed",
                "ledger_15-46.committed",
                "ledger_47"
            ]
        );
    }

    #[test]
    fn a_gap_between_chunks_names_both_files() {
        let names = [
            name("ledger_1-14.committed"),
            name("ledger_16-20.committed"),
        ];
        assert_eq!(
            order_chunks(&names).unwrap_err(),
            LedgerError::ChunkGap {
                before: "ledger_1-14.committed".into(),
                after: "ledger_16-20.committed".into()
            }
        );
    }

    #[test]
    fn overlapping_chunks_are_rejected() {
        let names = [
            name("ledger_1-14.committed"),
            name("ledger_14-20.committed"),
        ];
        assert!(matches!(
            order_chunks(&names).unwrap_err(),
            LedgerError::ChunkOverlap { .. }
        ));
        let open_twice = [name("ledger_5"), name("ledger_5-6")];
        assert!(matches!(
            order_chunks(&open_twice).unwrap_err(),
            LedgerError::ChunkOverlap { .. }
        ));
    }

    #[test]
    fn a_committed_chunk_after_an_uncommitted_one_is_rejected() {
        let names = [name("ledger_1-14"), name("ledger_15-20.committed")];
        assert_eq!(
            order_chunks(&names).unwrap_err(),
            LedgerError::CommittedAfterUncommitted {
                uncommitted: "ledger_1-14".into(),
                committed: "ledger_15-20.committed".into()
            }
        );
    }

    #[test]
    fn several_open_chunks_may_follow_each_other() {
        // The host does not rename a completed chunk until it commits (spec §1.2).
        let names = [name("ledger_30"), name("ledger_20")];
        assert_eq!(order_chunks(&names).unwrap()[0].start, 20);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn chunk_names_round_trip_through_display(
            start in any::<u64>(), len in proptest::option::of(any::<u64>()),
            committed in any::<bool>(), recovery in any::<bool>(), ignored in any::<bool>(),
        ) {
            let end = len.map(|l| start.saturating_add(l));
            let committed = committed && end.is_some();
            let n = ChunkName { start, end, committed, recovery, ignored };
            prop_assert_eq!(ChunkName::parse(&n.to_string()), Some(n));
        }

        #[test]
        fn snapshot_names_round_trip_through_display(seqno in any::<u64>(), evidence_seqno in any::<u64>(), committed in any::<bool>()) {
            let n = SnapshotName { seqno, evidence_seqno, committed };
            prop_assert_eq!(SnapshotName::parse(&n.to_string()), Some(n));
        }

        #[test]
        fn name_parsing_never_panics_and_accepts_only_canonical_text(text in "[a-z_.0-9-]{0,30}") {
            if let Some(n) = ChunkName::parse(&text) {
                prop_assert_eq!(n.to_string(), text.clone());
            }
            if let Some(n) = SnapshotName::parse(&text) {
                prop_assert_eq!(n.to_string(), text);
            }
        }
    }
}
