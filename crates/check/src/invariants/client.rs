//! Client history (CCF's `tla/consistency` ExternalHistory spec), from what clients were told:
//! a status of Committed or Invalid is final; within a view, once a seqno is committed no
//! earlier one is Invalid (and once Invalid no later one commits); a TxId reported Committed is
//! the entry at that seqno of the committed ledger; and at the end every acknowledged committed
//! write reads back. Reads are not linearizable in CCF and are not checked for that.

use std::collections::BTreeMap;

use cloister_types::{TxId, TxStatus};

use crate::invariants::ghost::Ghost;
use crate::invariants::model::Violation;

pub const CLIENT_STATUS: &str = "ClientStatus";
pub const NO_LOST_WRITES: &str = "NoLostWrites";

/// What clients were told so far.
#[derive(Clone, Debug, Default)]
pub struct ClientHistory {
    /// The final status of each TxId once one was reported (Committed or Invalid).
    pub finals: BTreeMap<TxId, TxStatus>,
    /// Writes acknowledged with a TxId: the key and value written.
    pub writes: BTreeMap<TxId, (u64, String)>,
}

impl ClientHistory {
    pub fn new() -> ClientHistory {
        ClientHistory::default()
    }

    /// Records a status after [`check_status`] accepted it.
    pub fn record_status(&mut self, txid: TxId, status: TxStatus) {
        if matches!(status, TxStatus::Committed | TxStatus::Invalid) {
            self.finals.insert(txid, status);
        }
    }

    /// Committed writes, by key, with the value of the latest one (by TxId).
    pub fn committed_values(&self) -> BTreeMap<u64, String> {
        let mut out = BTreeMap::new();
        for (txid, (key, value)) in &self.writes {
            if self.finals.get(txid) == Some(&TxStatus::Committed) {
                out.insert(*key, value.clone());
            }
        }
        out
    }
}

/// Whether a node may report `status` for `txid` now.
pub fn check_status(
    history: &ClientHistory,
    ghost: &Ghost,
    txid: TxId,
    status: TxStatus,
) -> Result<(), Violation> {
    let fail = |detail: String| Err(Violation::new(CLIENT_STATUS, detail));
    if let Some(earlier) = history.finals.get(&txid)
        && *earlier != status
    {
        return fail(format!("{txid} was {earlier:?}, now {status:?}"));
    }
    let in_ledger = ghost.committed_at(txid.seqno).map(|e| e.txid);
    match status {
        TxStatus::Committed => {
            if in_ledger != Some(txid) {
                return fail(format!(
                    "{txid} reported Committed, but the committed ledger holds {} there",
                    in_ledger.map_or("nothing".to_owned(), |t| t.to_string())
                ));
            }
            let earlier_invalid = history.finals.iter().find(|(t, s)| {
                t.view == txid.view && t.seqno < txid.seqno && **s == TxStatus::Invalid
            });
            if let Some((invalid, _)) = earlier_invalid {
                return fail(format!("{txid} Committed after {invalid} was Invalid"));
            }
        }
        TxStatus::Invalid => {
            if in_ledger == Some(txid) {
                return fail(format!("{txid} reported Invalid, but it is committed"));
            }
            let later_committed = history.finals.iter().find(|(t, s)| {
                t.view == txid.view && t.seqno > txid.seqno && **s == TxStatus::Committed
            });
            if let Some((committed, _)) = later_committed {
                return fail(format!("{txid} Invalid although {committed} was Committed"));
            }
        }
        TxStatus::Pending | TxStatus::Unknown => {
            if history.finals.get(&txid) == Some(&TxStatus::Committed) {
                return fail(format!("{txid} was Committed, now {status:?}"));
            }
        }
    }
    Ok(())
}

/// Every committed write reads back with its value (`read` holds what a read of each key
/// returned, `None` for not found).
pub fn no_lost_writes(
    expected: &BTreeMap<u64, String>,
    read: &BTreeMap<u64, Option<String>>,
) -> Result<(), Violation> {
    for (key, value) in expected {
        let got = read.get(key).cloned().flatten();
        if got.as_ref() != Some(value) {
            return Err(Violation::new(
                NO_LOST_WRITES,
                format!("record {key} was committed as {value:?} but reads back as {got:?}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariants::testkit::{Node, log, states};

    fn ghost() -> Ghost {
        let mut ghost = Ghost::new();
        let node = Node::new(
            0,
            2,
            log(&[(2, false), (2, true), (2, false), (2, true)], 1),
        )
        .primary()
        .commit(4);
        ghost.observe(&states(&[node]));
        ghost
    }

    #[test]
    fn statuses_follow_the_committed_ledger_and_never_flip() {
        let ghost = ghost();
        let mut history = ClientHistory::new();
        let t3 = TxId::new(2, 3);
        assert!(check_status(&history, &ghost, t3, TxStatus::Pending).is_ok());
        assert!(check_status(&history, &ghost, t3, TxStatus::Committed).is_ok());
        history.record_status(t3, TxStatus::Committed);
        for later in [TxStatus::Invalid, TxStatus::Pending, TxStatus::Unknown] {
            let err = check_status(&history, &ghost, t3, later).unwrap_err();
            assert_eq!(err.invariant, CLIENT_STATUS);
        }
        // An earlier seqno of the same view cannot be Invalid once a later one committed.
        assert!(check_status(&history, &ghost, TxId::new(2, 1), TxStatus::Invalid).is_err());
        // A TxId the ledger does not hold cannot be Committed; one of another view may be Invalid.
        assert!(check_status(&history, &ghost, TxId::new(3, 3), TxStatus::Committed).is_err());
        assert!(check_status(&history, &ghost, TxId::new(3, 3), TxStatus::Invalid).is_ok());
        assert!(check_status(&history, &ghost, TxId::new(2, 9), TxStatus::Committed).is_err());
    }

    #[test]
    fn invalid_forbids_later_commits_of_its_view() {
        let ghost = Ghost::new();
        let mut history = ClientHistory::new();
        history.record_status(TxId::new(4, 10), TxStatus::Invalid);
        // The ghost has no such commit, so the ledger check fails first; the order check is
        // what matters for 4.12 vs 4.10: tested through a ghost holding 4.12.
        let mut ghost_12 = ghost.clone();
        let mut entries = log(&[(4, true); 12], 1);
        for (i, entry) in entries.iter_mut().enumerate() {
            entry.txid = TxId::new(4, i as u64 + 1);
        }
        ghost_12.committed = entries;
        let err = check_status(&history, &ghost_12, TxId::new(4, 12), TxStatus::Committed);
        assert!(err.unwrap_err().detail.contains("Invalid"));
        assert!(check_status(&history, &ghost_12, TxId::new(4, 10), TxStatus::Invalid).is_err());
    }

    #[test]
    fn a_committed_write_that_does_not_read_back_is_lost() {
        let mut history = ClientHistory::new();
        history.writes.insert(TxId::new(2, 3), (7, "a".into()));
        history.writes.insert(TxId::new(2, 5), (7, "b".into()));
        history.writes.insert(TxId::new(2, 6), (8, "c".into()));
        history.record_status(TxId::new(2, 3), TxStatus::Committed);
        history.record_status(TxId::new(2, 5), TxStatus::Committed);
        let expected = history.committed_values();
        assert_eq!(expected, BTreeMap::from([(7, "b".to_owned())]));
        let good = BTreeMap::from([(7, Some("b".to_owned())), (8, None)]);
        assert!(no_lost_writes(&expected, &good).is_ok());
        let lost = BTreeMap::from([(7, Some("a".to_owned()))]);
        assert_eq!(
            no_lost_writes(&expected, &lost).unwrap_err().invariant,
            NO_LOST_WRITES
        );
    }
}
