//! What an appended ledger entry is, read from its bytes rather than taken from the node: its
//! TxId (GCM header IV and public header version must both name the seqno it was written at)
//! and whether it is a signature transaction (it writes `public:ccf.internal.signatures`). The
//! invariants use this, so a node that flags the wrong entry as committable is caught.

use cloister_ledger::{parse_entry, parse_public_domain};
use cloister_types::{SeqNo, TxId, View};

/// The map a signature transaction writes (spec §3.5).
pub const SIGNATURES_MAP: &str = "public:ccf.internal.signatures";

/// An entry as read from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Described {
    pub txid: TxId,
    pub is_signature: bool,
}

/// Reads the entry written at `seqno`.
pub fn describe(seqno: SeqNo, bytes: &[u8]) -> Result<Described, String> {
    let parts = parse_entry(bytes).map_err(|e| e.to_string())?;
    if parts.gcm.seqno() != seqno.0 {
        return Err(format!("its IV names seqno {}", parts.gcm.seqno()));
    }
    let (header, maps) = parse_public_domain(parts.public_domain).map_err(|e| e.to_string())?;
    if header.version != seqno.0 {
        return Err(format!(
            "its public header names version {}",
            header.version
        ));
    }
    Ok(Described {
        txid: TxId {
            view: View(u64::from(parts.gcm.view())),
            seqno,
        },
        is_signature: maps.iter().any(|map| map.name == SIGNATURES_MAP),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_misplaced_entries_are_refused() {
        assert!(describe(SeqNo(1), b"not an entry").is_err());
        assert!(describe(SeqNo(1), &[]).is_err());
    }
}
