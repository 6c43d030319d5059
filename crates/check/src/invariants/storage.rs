//! Storage faults must be detected, never served: a node restarted from a disk with a torn last
//! write or a flipped bit keeps only entries before the first damaged one, and what it keeps is
//! exactly what it had written.

use cloister_types::{SeqNo, TxId};

use crate::invariants::model::{LogEntry, Violation};

pub const DAMAGE_DETECTED: &str = "DamageDetected";

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
