//! The client workload: a user writes records with unique ids through random nodes (backups
//! forward to the primary), polls `/node/tx` for the TxIds it was given, and checks every status
//! against the client-history invariants. At the end, what was committed is read back.

use std::collections::{BTreeMap, BTreeSet};

use cloister_check::invariants::{ClientHistory, Ghost, Violation, check_status};
use cloister_crypto::Certificate;
use cloister_node::core::SessionId;
use cloister_node::rpc::{Request, Response};
use cloister_types::TxId;

use crate::requests;

/// Acknowledged TxIds whose final status is not known yet, at most (older ones are dropped
/// from polling, not from the history).
const UNRESOLVED_MAX: usize = 64;

/// What a session is waiting for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pending {
    Write {
        key: u64,
        value: String,
    },
    Status {
        txid: TxId,
    },
    /// Someone (setup, the liveness phase) waits for this answer itself.
    Reply,
}

/// The user and what it was told.
#[derive(Debug)]
pub struct Client {
    pub history: ClientHistory,
    pub user: Certificate,
    pending: BTreeMap<SessionId, (usize, Pending)>,
    /// Answers to `Pending::Reply` sessions.
    pub replies: BTreeMap<SessionId, Response>,
    unresolved: BTreeSet<TxId>,
    next_key: u64,
    next_session: SessionId,
    pub writes_sent: u64,
    pub writes_acked: u64,
    pub polls: u64,
    /// Committed records read back at the end.
    pub read_back: u64,
}

impl Client {
    pub fn new(user: Certificate) -> Client {
        Client {
            history: ClientHistory::new(),
            user,
            pending: BTreeMap::new(),
            replies: BTreeMap::new(),
            unresolved: BTreeSet::new(),
            next_key: 1,
            next_session: 1,
            writes_sent: 0,
            writes_acked: 0,
            polls: 0,
            read_back: 0,
        }
    }

    /// A new session to `node` waiting for `pending`.
    pub fn open(&mut self, node: usize, pending: Pending) -> SessionId {
        let session = self.next_session;
        self.next_session += 1;
        self.pending.insert(session, (node, pending));
        session
    }

    /// The next write: a fresh record id and its value.
    pub fn next_write(&mut self, node: usize) -> (SessionId, Request) {
        let key = self.next_key;
        self.next_key += 1;
        let value = format!("v{key}");
        let request = requests::write(&self.user, key, &value);
        self.writes_sent += 1;
        (self.open(node, Pending::Write { key, value }), request)
    }

    /// A marker write whose answer the caller waits for itself: (key, value, request).
    pub fn marker(&mut self) -> (u64, String, Request) {
        let key = self.next_key;
        self.next_key += 1;
        let value = format!("marker{key}");
        let request = requests::write(&self.user, key, &value);
        (key, value, request)
    }

    /// A status poll of one unresolved TxId (picked by `pick` among them), if any.
    pub fn next_poll(
        &mut self,
        node: usize,
        pick: impl FnOnce(usize) -> usize,
    ) -> Option<(SessionId, Request)> {
        let index = pick(self.unresolved.len());
        let txid = *self.unresolved.iter().nth(index)?;
        self.polls += 1;
        Some((
            self.open(node, Pending::Status { txid }),
            requests::tx_status(txid),
        ))
    }

    /// Acknowledged writes whose final status is unknown.
    pub fn unresolved(&self) -> Vec<TxId> {
        self.unresolved.iter().copied().collect()
    }

    /// Every acknowledged write, resolved or not.
    pub fn acknowledged(&self) -> Vec<TxId> {
        self.history.writes.keys().copied().collect()
    }

    /// A node went away: its sessions will never be answered.
    pub fn forget_node(&mut self, node: usize) {
        self.pending.retain(|_, (n, _)| *n != node);
    }

    /// An answer on `session`; checks statuses against the history and the ledger.
    pub fn on_response(
        &mut self,
        session: SessionId,
        response: Response,
        ghost: &Ghost,
    ) -> Result<(), Violation> {
        let Some((_, pending)) = self.pending.remove(&session) else {
            return Ok(()); // a session of a process that since restarted
        };
        match pending {
            Pending::Write { key, value } => {
                if response.status == 200
                    && let Some(txid) = requests::txid_of(&response)
                {
                    self.writes_acked += 1;
                    self.history.writes.insert(txid, (key, value));
                    self.unresolved.insert(txid);
                    while self.unresolved.len() > UNRESOLVED_MAX {
                        self.unresolved.pop_first();
                    }
                }
            }
            Pending::Status { txid } => {
                if let Some(status) = requests::status_of(&response) {
                    check_status(&self.history, ghost, txid, status)?;
                    self.history.record_status(txid, status);
                    if self.history.finals.contains_key(&txid) {
                        self.unresolved.remove(&txid);
                    }
                }
            }
            Pending::Reply => {
                self.replies.insert(session, response);
            }
        }
        Ok(())
    }
}
