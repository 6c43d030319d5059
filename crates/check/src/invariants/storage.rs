//! Restarts: storage faults must be detected, never served — a node restarted from a disk with
//! a torn last write or a flipped bit keeps only entries before the first damaged one, and what
//! it keeps is exactly what it had written — and what the node made durable comes back: a view
//! at least that of its last vote and last kept entry (so it never votes twice in one view),
//! and a commit at least its durable commit marker allows.

use cloister_types::{SeqNo, TxId, View};

use crate::invariants::model::{LogEntry, Violation};

pub const DAMAGE_DETECTED: &str = "DamageDetected";
pub const RESTART_REMEMBERS: &str = "RestartRemembers";

/// What a node had made durable before it crashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Durable {
    /// The view of its last vote, if it voted.
    pub vote_view: Option<View>,
    /// Its commit marker (`.committed` chunks).
    pub commit: SeqNo,
}

/// `kept`: the entries the restarted node kept; `view` and `commit`: what it restarted with.
pub fn restart_remembers(
    node: &str,
    durable: Durable,
    kept: &[LogEntry],
    view: View,
    commit: SeqNo,
) -> Result<(), Violation> {
    let floor = kept
        .last()
        .map(|e| e.txid.view)
        .into_iter()
        .chain(durable.vote_view)
        .max()
        .unwrap_or_default();
    if view < floor {
        return Err(Violation::new(
            RESTART_REMEMBERS,
            format!("{node} restarted in view {view}, below its durable view {floor}"),
        ));
    }
    let signed = kept
        .iter()
        .rev()
        .find(|e| e.committable && e.txid.seqno <= durable.commit)
        .map_or(SeqNo(0), |e| e.txid.seqno);
    if commit < signed {
        return Err(Violation::new(
            RESTART_REMEMBERS,
            format!("{node} restarted with commit {commit}, below its durable commit {signed}"),
        ));
    }
    Ok(())
}

/// `written`: the entries as the node wrote them (what the disk should hold); `first_damaged`:
/// the first entry the disk returned damaged, if any; `kept`: the last TxId the restarted node
/// accepted from its disk.
pub fn restart_keeps_only_intact(
    node: &str,
    written: &[LogEntry],
    first_damaged: Option<SeqNo>,
    kept: TxId,
) -> Result<(), Violation> {
    if let Some(damaged) = first_damaged
        && kept.seqno >= damaged
    {
        return Err(Violation::new(
            DAMAGE_DETECTED,
            format!(
                "{node} restarted with {kept} although its entry at seqno {damaged} was damaged on disk"
            ),
        ));
    }
    if kept.seqno == SeqNo(0) {
        return Ok(());
    }
    let held = usize::try_from(kept.seqno.0 - 1)
        .ok()
        .and_then(|i| written.get(i))
        .map(|e| e.txid);
    if held != Some(kept) {
        return Err(Violation::new(
            DAMAGE_DETECTED,
            format!("{node} restarted with {kept}, which its disk did not hold"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariants::testkit::log;

    #[test]
    fn a_restart_below_the_durable_vote_entries_or_commit_is_caught() {
        let kept = log(&[(2, false), (2, true), (3, false), (3, true)], 1);
        let durable = Durable {
            vote_view: Some(View(5)),
            commit: SeqNo(3),
        };
        assert!(restart_remembers("n", durable, &kept, View(5), SeqNo(2)).is_ok());
        let err = restart_remembers("n", durable, &kept, View(4), SeqNo(2)).unwrap_err();
        assert_eq!(err.invariant, RESTART_REMEMBERS);
        assert!(restart_remembers("n", durable, &kept, View(5), SeqNo(0)).is_err());
        let no_vote = Durable {
            vote_view: None,
            commit: SeqNo(0),
        };
        assert!(restart_remembers("n", no_vote, &kept, View(3), SeqNo(0)).is_ok());
        assert!(restart_remembers("n", no_vote, &kept, View(2), SeqNo(0)).is_err());
    }

    #[test]
    fn keeping_a_damaged_or_unknown_entry_is_caught() {
        let written = log(&[(2, false), (2, true), (2, false)], 1);
        assert!(restart_keeps_only_intact("n", &written, Some(SeqNo(3)), TxId::new(2, 2)).is_ok());
        assert!(restart_keeps_only_intact("n", &written, None, TxId::new(2, 3)).is_ok());
        assert!(restart_keeps_only_intact("n", &written, None, TxId::new(0, 0)).is_ok());
        let served = restart_keeps_only_intact("n", &written, Some(SeqNo(2)), TxId::new(2, 2));
        assert_eq!(served.unwrap_err().invariant, DAMAGE_DETECTED);
        assert!(restart_keeps_only_intact("n", &written, None, TxId::new(3, 3)).is_err());
        assert!(restart_keeps_only_intact("n", &written, None, TxId::new(2, 4)).is_err());
    }
}
