//! Verifying a whole ledger from its files: two threads read the next chunks and hash their
//! entries while this one decodes and checks chunks in order. At CCF's signature cadence hashing
//! every byte is the dominant cost, and this spreads it over both cores.

use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use cloister_crypto::{Sha256Hash, sha256};
use cloister_ledger::verify::{LedgerVerifier, SignatureCheck, VerifyFailure};
use cloister_ledger::{CHUNK_HEADER_BYTES, ChunkEntry, DecodedEntry, LedgerError, parse_chunk};
use cloister_types::TxId;
use serde::Serialize;

use crate::ledger_files::ChunkFile;

/// Where and why a ledger failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocatedError {
    /// The file (chunk) that holds the failing bytes.
    pub file: String,
    /// Byte offset in that file, where known.
    pub offset: Option<u64>,
    /// Seqno of the failing transaction, where known.
    pub seqno: Option<u64>,
    pub message: String,
}

impl LocatedError {
    pub(crate) fn io(path: &Path, error: &std::io::Error) -> LocatedError {
        LocatedError::message(path, &error.to_string())
    }

    pub(crate) fn message(path: &Path, message: &str) -> LocatedError {
        LocatedError {
            file: path.display().to_string(),
            offset: None,
            seqno: None,
            message: message.to_owned(),
        }
    }
}

impl std::fmt::Display for LocatedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(offset) = self.offset {
            write!(f, " at byte {offset}")?;
        }
        if let Some(seqno) = self.seqno {
            write!(f, " (seqno {seqno})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The outcome, in the shape `cloister ledger verify --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerReport {
    /// Every entry of every chunk read was checked and nothing failed.
    pub complete: bool,
    /// Signature transactions verified.
    pub signatures: u64,
    /// The last verified signature: every transaction up to it is verified.
    #[serde(serialize_with = "serialize_txid")]
    pub verified_until: Option<TxId>,
    pub error: Option<LocatedError>,
    /// Chunks read and entries seen, for the curious.
    pub chunks: u64,
    pub transactions: u64,
    pub bytes: u64,
}

fn serialize_txid<S: serde::Serializer>(
    txid: &Option<TxId>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    // read_ledger.py prints 0.0 before the first signature.
    serializer.collect_str(&txid.unwrap_or_default())
}

/// What the caller sees while the ledger is read (for `cloister ledger read`).
#[derive(Debug)]
pub enum LedgerEvent<'a> {
    Chunk(&'a ChunkFile),
    Entry {
        entry: &'a DecodedEntry<'a>,
        raw: &'a ChunkEntry<'a>,
        write_set_digest: &'a Sha256Hash,
    },
}

/// Threads reading and hashing chunks ahead of the checking thread (the machine has two cores).
const HASHING_THREADS: usize = 2;

/// A chunk read from disk with the SHA-256 of each of its entries.
struct HashedChunk {
    file: ChunkFile,
    bytes: Result<Vec<u8>, LocatedError>,
    digests: Vec<Sha256Hash>,
}

/// Reads, hashes and (when `verify`) verifies `chunks` in order, calling `on_event` for each chunk
/// and entry. Stops at the first failure.
pub fn verify_ledger(
    chunks: &[ChunkFile],
    verify: bool,
    on_event: &mut dyn FnMut(LedgerEvent<'_>),
) -> LedgerReport {
    let mut state = ReportState::new(verify);
    thread::scope(|scope| {
        // Two readers take alternate chunks, so reading and hashing use both cores while this
        // thread checks in order. One chunk in flight per reader bounds memory to about four
        // chunk files.
        let receivers: Vec<_> = (0..HASHING_THREADS)
            .map(|reader| {
                let (sender, receiver) = mpsc::sync_channel::<HashedChunk>(1);
                scope.spawn(move || {
                    for file in chunks.iter().skip(reader).step_by(HASHING_THREADS) {
                        if sender.send(read_and_hash(file)).is_err() {
                            break;
                        }
                    }
                });
                receiver
            })
            .collect();
        for index in 0..chunks.len() {
            let Ok(chunk) = receivers[index % HASHING_THREADS].recv() else {
                break;
            };
            if let Err(error) = state.check_chunk(&chunk, on_event) {
                state.error = Some(error);
                break;
            }
        }
    });
    state.finish()
}

/// Verifies chunks already in memory, on this thread (for tests, fuzzing and small ledgers).
pub fn verify_chunk_bytes(chunks: &[(ChunkFile, Vec<u8>)], verify: bool) -> LedgerReport {
    let mut state = ReportState::new(verify);
    for (file, bytes) in chunks {
        let chunk = hash_chunk(file, Ok(bytes.clone()));
        if let Err(error) = state.check_chunk(&chunk, &mut |_| {}) {
            state.error = Some(error);
            break;
        }
    }
    state.finish()
}

fn read_and_hash(file: &ChunkFile) -> HashedChunk {
    hash_chunk(
        file,
        fs::read(&file.path).map_err(|e| LocatedError::io(&file.path, &e)),
    )
}

fn hash_chunk(file: &ChunkFile, bytes: Result<Vec<u8>, LocatedError>) -> HashedChunk {
    let digests = match &bytes {
        Ok(bytes) => match parse_chunk(bytes) {
            Ok(parse) => parse
                .entries
                .iter()
                .map(|entry| sha256(entry.bytes))
                .collect(),
            Err(_) => Vec::new(), // reported with its offset by the checking thread
        },
        Err(_) => Vec::new(),
    };
    HashedChunk {
        file: file.clone(),
        bytes,
        digests,
    }
}

struct ReportState {
    verifier: Option<LedgerVerifier>,
    error: Option<LocatedError>,
    chunks: u64,
    transactions: u64,
    bytes: u64,
    /// Counted only once every check of their chunk has passed.
    signatures: u64,
    verified_until: Option<TxId>,
}

/// Where a signature transaction sits, to locate a failure of its deferred checks.
struct SignaturePlace {
    txid: TxId,
    offset: u64,
    /// Its sequential checks passed (it counts once its public-key checks do too).
    sequential_ok: bool,
}

impl ReportState {
    fn new(verify: bool) -> ReportState {
        ReportState {
            // Public-key checks are deferred and run on both cores per chunk.
            verifier: verify.then(LedgerVerifier::deferring),
            error: None,
            chunks: 0,
            transactions: 0,
            bytes: 0,
            signatures: 0,
            verified_until: None,
        }
    }

    /// Checks one chunk: its entries in order, then the public-key checks they queued, in
    /// parallel. The first failure in ledger order is the one reported.
    fn check_chunk(
        &mut self,
        chunk: &HashedChunk,
        on_event: &mut dyn FnMut(LedgerEvent<'_>),
    ) -> Result<(), LocatedError> {
        let mut places = Vec::new();
        let sequential = self.check_entries(chunk, on_event, &mut places);
        let Some(verifier) = &mut self.verifier else {
            return sequential;
        };
        let failed = first_failure(&verifier.take_deferred());
        let sequential_seqno = sequential
            .as_ref()
            .err()
            .and_then(|e| e.seqno)
            .unwrap_or(u64::MAX);
        if let Some((txid, failure)) = failed
            && txid.seqno.0 <= sequential_seqno
        {
            self.count_signatures(&places, Some(txid.seqno.0));
            let offset = places.iter().find(|p| p.txid == txid).map(|p| p.offset);
            let message = format!("{failure}{}", uncovered(self.verified_until, txid.seqno.0));
            return Err(LocatedError {
                file: chunk.file.path.display().to_string(),
                offset,
                seqno: Some(txid.seqno.0),
                message,
            });
        }
        self.count_signatures(&places, None);
        sequential
    }

    /// Adds the chunk's signatures that passed every check (those before `failed_seqno`).
    fn count_signatures(&mut self, places: &[SignaturePlace], failed_seqno: Option<u64>) {
        for place in places {
            if !place.sequential_ok
                || failed_seqno.is_some_and(|failed| place.txid.seqno.0 >= failed)
            {
                break;
            }
            self.signatures += 1;
            self.verified_until = Some(place.txid);
        }
    }

    fn check_entries(
        &mut self,
        chunk: &HashedChunk,
        on_event: &mut dyn FnMut(LedgerEvent<'_>),
        places: &mut Vec<SignaturePlace>,
    ) -> Result<(), LocatedError> {
        let file = &chunk.file;
        let bytes = chunk.bytes.as_ref().map_err(Clone::clone)?;
        let located = |error: &LedgerError, seqno: Option<u64>| LocatedError {
            file: file.path.display().to_string(),
            offset: error.offset(),
            seqno,
            message: error.to_string(),
        };
        on_event(LedgerEvent::Chunk(file));
        let parse = parse_chunk(bytes).map_err(|e| {
            match diagnose_position_table(bytes, file.name.start) {
                Some(damage) => LocatedError {
                    file: file.path.display().to_string(),
                    offset: Some(damage.offset),
                    seqno: Some(damage.seqno),
                    message: format!("{e}: {}", damage.message),
                },
                None => {
                    let seqno = e
                        .offset()
                        .map(|offset| seqno_at_offset(bytes, file.name.start, offset));
                    located(&e, seqno)
                }
            }
        })?;
        if file.name.committed && !parse.complete {
            return Err(LocatedError::message(
                &file.path,
                "committed chunk has no position table (it was never completed)",
            ));
        }
        if let Some(offset) = parse.trailing_partial
            && file.name.committed
        {
            return Err(LocatedError {
                offset: Some(offset as u64),
                ..LocatedError::message(&file.path, "torn entry at the end of a committed chunk")
            });
        }
        file.name
            .check_entry_count(parse.entries.len() as u64)
            .map_err(|e| located(&e, None))?;
        self.chunks += 1;
        self.bytes += bytes.len() as u64;
        for (index, raw) in parse.entries.iter().enumerate() {
            let expected = file.name.start + index as u64;
            // A garbled entry may not yield its own seqno: its position in the chunk does.
            let decoded = raw.decode().map_err(|e| located(&e, Some(expected)))?;
            let seqno = decoded.header.version;
            // The entry's position names it even when its own seqno fields were altered.
            let at = |message: String| LocatedError {
                file: file.path.display().to_string(),
                offset: Some(raw.offset),
                seqno: Some(expected),
                message,
            };
            if seqno != expected {
                return Err(at(format!(
                    "entry {index} of a chunk starting at {} has seqno {seqno}",
                    file.name.start
                )));
            }
            let digest = chunk
                .digests
                .get(index)
                .copied()
                .unwrap_or_else(|| sha256(raw.bytes));
            on_event(LedgerEvent::Entry {
                entry: &decoded,
                raw,
                write_set_digest: &digest,
            });
            if let Some(verifier) = &mut self.verifier {
                let signs = decoded
                    .public_maps
                    .iter()
                    .any(|map| SIGNATURE_TABLES.contains(&map.name.as_str()));
                let txid = TxId::new(u64::from(decoded.parts.gcm.view()), seqno);
                let result = verifier.add_entry(&decoded, &digest);
                if signs {
                    let sequential_ok = result.as_ref().is_ok_and(|summary| summary.signature);
                    places.push(SignaturePlace {
                        txid,
                        offset: raw.offset,
                        sequential_ok,
                    });
                }
                let covered_until = verifier.verified_until();
                result.map_err(|e| {
                    let mut message = e.to_string();
                    if signs && !matches!(e, VerifyFailure::RootMismatch { .. }) {
                        message.push_str(&uncovered(covered_until, seqno));
                    }
                    at(message)
                })?;
            }
            self.transactions += 1;
        }
        Ok(())
    }

    fn finish(self) -> LedgerReport {
        LedgerReport {
            complete: self.error.is_none(),
            signatures: self.signatures,
            verified_until: self.verified_until,
            error: self.error,
            chunks: self.chunks,
            transactions: self.transactions,
            bytes: self.bytes,
        }
    }
}

/// A failed signature check implicates every transaction since the last verified signature
/// (that signature's own leaf included: only a later root covers it), up to the failing one —
/// the signer's certificate, say, may have been altered where it was recorded.
fn uncovered(verified_until: Option<TxId>, failing: u64) -> String {
    let from = verified_until.map_or(1, |txid| txid.seqno.0);
    format!("; no verified signature covers seqnos {from}..={failing} (one of them was altered)")
}

/// Tables whose presence makes an entry a signature transaction (node or COSE signature).
const SIGNATURE_TABLES: &[&str] = &[
    "public:ccf.internal.signatures",
    "public:ccf.internal.cose_signatures",
];

/// Runs `checks` on two threads; the failing check earliest in the ledger, if any.
fn first_failure(checks: &[SignatureCheck]) -> Option<(TxId, VerifyFailure)> {
    let earliest = |part: &[SignatureCheck]| {
        part.iter()
            .find_map(|check| check.run().err().map(|e| (check.txid, e)))
    };
    let (left, right) = checks.split_at(checks.len() / 2);
    let (from_left, from_right) = thread::scope(|scope| {
        let worker = scope.spawn(|| earliest(right));
        let from_left = earliest(left);
        (from_left, worker.join().ok().flatten())
    });
    // The left half precedes the right half in ledger order.
    from_left.or(from_right)
}

/// Where a complete chunk whose entries and position table disagree is damaged.
struct Damage {
    offset: u64,
    seqno: u64,
    message: String,
}

/// Tells a damaged position table from a damaged entry size: if walking the entries by their
/// sizes lands exactly on the table with one entry per slot, the sizes are right and the first
/// slot that disagrees is damaged; otherwise the first entry whose size disagrees with the table
/// is. `None` when the header or table is not even shaped like one.
fn diagnose_position_table(bytes: &[u8], start: u64) -> Option<Damage> {
    let u64_at = |at: u64, len: usize| -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let field = bytes.get(at..at.checked_add(len)?)?;
        Some(
            field
                .iter()
                .rev()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    };
    let table = u64_at(0, CHUNK_HEADER_BYTES)?;
    let len = bytes.len() as u64;
    if table < CHUNK_HEADER_BYTES as u64 || table > len || (len - table) % 4 != 0 {
        return None;
    }
    let slots: Vec<u64> = (0..(len - table) / 4)
        .filter_map(|i| u64_at(table + 4 * i, 4))
        .collect();
    let mut walked = Vec::with_capacity(slots.len());
    let mut cursor = CHUNK_HEADER_BYTES as u64;
    while cursor < table && walked.len() <= slots.len() {
        walked.push(cursor);
        let size = u64_at(cursor + 2, 6)?;
        cursor = cursor.checked_add(8)?.checked_add(size)?;
    }
    if cursor == table && walked.len() == slots.len() {
        let slot = walked.iter().zip(&slots).position(|(w, s)| w != s)?;
        return Some(Damage {
            offset: table + 4 * slot as u64,
            seqno: start + slot as u64,
            message: format!(
                "the entries are intact and position-table slot {slot} is damaged (it says byte {}, the entry is at byte {})",
                slots[slot], walked[slot]
            ),
        });
    }
    for (index, position) in slots.iter().enumerate() {
        let next = slots.get(index + 1).copied().unwrap_or(table);
        let size = u64_at(position + 2, 6)?;
        if position.checked_add(8)?.checked_add(size)? != next {
            return Some(Damage {
                offset: *position,
                seqno: start + index as u64,
                message: format!(
                    "the entry at byte {position} declares a {size}-byte body, but the position table puts the next entry at byte {next}"
                ),
            });
        }
    }
    None
}

/// The seqno of the entry holding byte `offset` of a chunk whose table or header is damaged.
/// Bytes of the header count as the first entry's; bytes of the position table as the entry whose
/// slot they are; otherwise the entries are walked by their 48-bit sizes.
fn seqno_at_offset(bytes: &[u8], start: u64, offset: u64) -> u64 {
    let read_u64 = |at: usize, len: usize| -> Option<u64> {
        let field = bytes.get(at..at + len)?;
        Some(
            field
                .iter()
                .rev()
                .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
        )
    };
    let len = bytes.len() as u64;
    if let Some(table) = read_u64(0, CHUNK_HEADER_BYTES)
        && table >= CHUNK_HEADER_BYTES as u64
        && table <= len
        && offset >= table
    {
        return start + (offset - table) / 4;
    }
    let mut cursor = CHUNK_HEADER_BYTES as u64;
    let mut index = 0;
    while let Some(size) = usize::try_from(cursor)
        .ok()
        .and_then(|at| read_u64(at + 2, 6))
    {
        let next = cursor.saturating_add(8).saturating_add(size);
        if offset < next {
            return start + index;
        }
        cursor = next;
        index += 1;
    }
    start
}
