//! Transaction ids: `view.seqno`, as CCF prints and parses them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Raft term. CCF calls it the view; a fresh service starts in view 2.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct View(pub u64);

/// A position in the ledger. Seqno 0 is the empty prefix; the first transaction is seqno 1.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SeqNo(pub u64);

impl SeqNo {
    /// The next position in the ledger.
    pub fn next(self) -> SeqNo {
        SeqNo(self.0 + 1)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SeqNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A transaction id, written `view.seqno` (for example `2.15`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxId {
    pub view: View,
    pub seqno: SeqNo,
}

impl TxId {
    pub fn new(view: u64, seqno: u64) -> TxId {
        TxId {
            view: View(view),
            seqno: SeqNo(seqno),
        }
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.view.0, self.seqno.0)
    }
}

/// Why a string is not a `view.seqno` transaction id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxIdParseError {
    /// The string has no `.` between view and seqno.
    #[error("transaction id {0:?} is not of the form <view>.<seqno>")]
    MissingDot(String),
    /// The view or the seqno is not a decimal u64.
    #[error("transaction id {0:?} has a view or seqno that is not a non-negative integer")]
    NotANumber(String),
}

impl FromStr for TxId {
    type Err = TxIdParseError;

    fn from_str(s: &str) -> Result<TxId, TxIdParseError> {
        let (view, seqno) = s
            .split_once('.')
            .ok_or_else(|| TxIdParseError::MissingDot(s.to_owned()))?;
        let number = |part: &str| {
            // u64::from_str accepts a leading '+'; CCF's parser does not.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TxIdParseError::NotANumber(s.to_owned()));
            }
            part.parse::<u64>()
                .map_err(|_| TxIdParseError::NotANumber(s.to_owned()))
        };
        Ok(TxId {
            view: View(number(view)?),
            seqno: SeqNo(number(seqno)?),
        })
    }
}

impl Serialize for TxId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TxId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TxId, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The status of a transaction id, as `GET /node/tx` reports it (spec/ccf-api.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TxStatus {
    Unknown,
    Pending,
    Committed,
    Invalid,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn tx_id_prints_as_view_dot_seqno() {
        assert_eq!(TxId::new(2, 15).to_string(), "2.15");
    }

    #[test]
    fn tx_id_parse_rejects_malformed_ids() {
        assert!(matches!(
            "215".parse::<TxId>(),
            Err(TxIdParseError::MissingDot(_))
        ));
        assert!(matches!(
            "2.".parse::<TxId>(),
            Err(TxIdParseError::NotANumber(_))
        ));
        assert!(matches!(
            "+2.1".parse::<TxId>(),
            Err(TxIdParseError::NotANumber(_))
        ));
        assert!(matches!(
            "2.1.3".parse::<TxId>(),
            Err(TxIdParseError::NotANumber(_))
        ));
        assert!(matches!(
            "2.99999999999999999999".parse::<TxId>(),
            Err(TxIdParseError::NotANumber(_))
        ));
    }

    proptest! {
        #[test]
        fn tx_id_round_trips_through_text(view: u64, seqno: u64) {
            let id = TxId::new(view, seqno);
            prop_assert_eq!(id.to_string().parse::<TxId>(), Ok(id));
        }
    }
}
