//! The store: committed state at `current_version()`, transactions over snapshots of it, and
//! commit with optimistic concurrency control (spec/ccf-internals.md §2, ARCHITECTURE.md
//! "The path of one write", step 4).

use std::fmt;

use cloister_crypto::{Sha256Hash, Sha256Hasher};
use cloister_ledger::{EntryFlags, MapChanges};
use cloister_types::{SeqNo, TxId, View};

use crate::error::KvError;
use crate::map::apply_map_changes;
use crate::secrets::LedgerSecrets;
use crate::serialise::{CommittedEntry, map_records, serialise_entry};
use crate::tx::Tx;
use crate::version::{History, State};

/// Default number of recent versions that can be rolled back. CCF only rolls back the
/// unsigned suffix (§5.4), and signatures come every `sig_tx_interval` (default 5000) entries.
pub const HISTORY_LEN_MAX_DEFAULT: usize = 10_000;

/// The transactional key-value store.
pub struct Store {
    pub(crate) state: State,
    pub(crate) history: History,
    /// Bumped at every rollback: transactions begun before one cannot commit.
    generation: u64,
    pub(crate) secrets: LedgerSecrets,
}

impl Store {
    /// An empty store at version 0 that encrypts and decrypts with `secrets`.
    pub fn new(secrets: LedgerSecrets) -> Store {
        Store::at_state(State::default(), secrets)
    }

    /// Keeps undo records for at most `len_max` recent versions (0 disables rollback).
    pub fn with_history_len_max(mut self, len_max: usize) -> Store {
        self.history.set_len_max(len_max);
        self
    }

    /// The version (seqno) of the last committed or applied transaction; 0 when empty.
    pub fn current_version(&self) -> SeqNo {
        self.state.version
    }

    /// A transaction reading the current committed state.
    pub fn begin(&self) -> Tx {
        Tx::new(self.state.clone(), self.generation)
    }

    /// Commits `tx` as seqno `current_version() + 1` in `view` and returns its ledger entry, or
    /// `None` for a read-only transaction (it read one consistent snapshot: nothing to check or
    /// replicate). `claims` is the application's claims digest (zeros if none).
    ///
    /// Fails with `Conflict`, leaving the store unchanged, if a key or range the transaction read
    /// has been written since it began, or if the store rolled back since.
    pub fn commit(
        &mut self,
        tx: Tx,
        view: View,
        claims: Option<Sha256Hash>,
        flags: EntryFlags,
    ) -> Result<Option<CommittedEntry>, KvError> {
        if !tx.has_writes() {
            return Ok(None);
        }
        self.check_conflicts(&tx)?;
        let seqno = self.next_version()?;
        let secret = self
            .secrets
            .secret_for(seqno)
            .ok_or(KvError::NoLedgerSecret { seqno: seqno.0 })?;
        let records = map_records(&tx.writes, &self.state);
        let entry = serialise_entry(secret, TxId { view, seqno }, claims, flags, &records)?;
        // Release the transaction's snapshot first: nodes no other state shares can then be
        // updated in place instead of copied.
        drop(tx);
        self.advance(seqno, records.all());
        Ok(Some(entry))
    }

    /// The committed value of `key` in `map`.
    pub fn get(&self, map: &str, key: &[u8]) -> Option<Vec<u8>> {
        self.state.maps.get(map)?.get(key).map(|v| v.value.to_vec())
    }

    /// The seqno of the last write of `key` in `map`.
    pub fn version_of(&self, map: &str, key: &[u8]) -> Option<SeqNo> {
        self.state.maps.get(map)?.get(key).map(|v| v.version)
    }

    /// Names of the maps that have ever been written, in order.
    pub fn map_names(&self) -> Vec<String> {
        self.state.maps.keys().cloned().collect()
    }

    /// Rolls the committed state back to `seqno` (CCF rolls back unsigned suffixes, §5.4).
    /// Transactions begun before the rollback will fail to commit. Ledger secrets are not
    /// touched: the caller applies CCF's rule through `secrets_mut().rollback(..)`.
    pub fn rollback_to(&mut self, seqno: SeqNo) -> Result<(), KvError> {
        if seqno == self.state.version {
            return Ok(());
        }
        if !self.history.roll_back(&mut self.state, seqno) {
            return Err(KvError::RollbackOutOfRange {
                seqno: seqno.0,
                oldest: self.history.oldest(&self.state).0,
                current: self.state.version.0,
            });
        }
        self.generation += 1;
        Ok(())
    }

    /// Forgets rollback points older than `seqno` (call it when `seqno` commits: a committed
    /// entry never rolls back).
    pub fn compact(&mut self, seqno: SeqNo) {
        self.history.forget_up_to(seqno);
    }

    pub fn secrets(&self) -> &LedgerSecrets {
        &self.secrets
    }

    /// For rekeys (add a secret from V + 1, §6.2) and CCF's secret rollback rule.
    pub fn secrets_mut(&mut self) -> &mut LedgerSecrets {
        &mut self.secrets
    }

    /// SHA-256 over the whole committed state: the version, then every map in name order with
    /// its version and every key in order with its version and value. Two stores with equal
    /// digests hold the same data at the same versions.
    pub fn state_digest(&self) -> Sha256Hash {
        let mut hasher = Sha256Hasher::new();
        hasher.update(&self.state.version.0.to_le_bytes());
        for (name, map) in &self.state.maps {
            hash_blob(&mut hasher, name.as_bytes());
            hasher.update(&map.version.0.to_le_bytes());
            hasher.update(&(map.entries.len() as u64).to_le_bytes());
            for (key, value) in &map.entries {
                hash_blob(&mut hasher, key);
                hasher.update(&value.version.0.to_le_bytes());
                hash_blob(&mut hasher, &value.value);
            }
        }
        hasher.finish()
    }

    pub(crate) fn at_state(state: State, secrets: LedgerSecrets) -> Store {
        Store {
            state,
            history: History::new(HISTORY_LEN_MAX_DEFAULT),
            generation: 0,
            secrets,
        }
    }

    /// The seqno the next transaction or entry gets.
    pub(crate) fn next_version(&self) -> Result<SeqNo, KvError> {
        let next = self
            .state
            .version
            .0
            .checked_add(1)
            .ok_or(KvError::UnexpectedVersion {
                expected: u64::MAX,
                found: u64::MAX,
            })?;
        Ok(SeqNo(next))
    }

    /// Applies map records as `version` in place, remembering how to undo them. Open
    /// transactions are unaffected: they hold their own snapshot, and the persistent maps copy
    /// the nodes they share instead of changing them.
    pub(crate) fn advance<'a>(
        &mut self,
        version: SeqNo,
        records: impl Iterator<Item = &'a MapChanges>,
    ) {
        let undo = apply_map_changes(&mut self.state, records, version);
        self.history.push(undo);
    }

    fn check_conflicts(&self, tx: &Tx) -> Result<(), KvError> {
        if tx.generation != self.generation {
            let map = tx.written_maps().next().unwrap_or_default().to_owned();
            return Err(KvError::Conflict { map });
        }
        match tx.find_conflict(&self.state) {
            Some(map) => Err(KvError::Conflict {
                map: map.to_owned(),
            }),
            None => Ok(()),
        }
    }
}

impl Default for Store {
    /// An empty store without ledger secrets: enough to apply public domains and to read.
    fn default() -> Store {
        Store::new(LedgerSecrets::new())
    }
}

impl fmt::Debug for Store {
    /// Never prints map contents: private values must not reach logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("version", &self.state.version)
            .field("maps", &self.state.maps.len())
            .field("generation", &self.generation)
            .finish()
    }
}

fn hash_blob(hasher: &mut Sha256Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}
