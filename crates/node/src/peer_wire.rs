//! The node-to-node message codec: Raft messages and forwarded client requests as the opaque
//! frames nodes exchange. Only Cloister talks to Cloister here, so the format is ours; it is
//! strict (one encoding per message, so decode-then-encode gives the same bytes), bounded (every
//! length is checked against the remaining input before anything is allocated) and never panics
//! on hostile input.
//!
//! Layout: version byte ([`VERSION`]), tag byte, then the fields in declaration order. Integers
//! are u64 little-endian (a status is u16 LE); `bool` and `Option` flags are one byte, 0 or 1;
//! byte strings and strings are a u32 LE length and the bytes (strings must be UTF-8); vectors
//! and sets are a u32 LE count and the items (sets strictly ascending). A [`NodeId`] is its
//! 64-character hex text, validated on decode. Raft messages use CCF's `RaftMsgType` numbers as
//! tags (0, 1, 3–7); forwarding uses 0x10 and 0x11.

use std::collections::BTreeSet;

use cloister_raft::{
    AppendEntries, AppendEntriesResponse, Entry, EntryKind, Message, ProposeRequestVote,
    RequestVote, VoteResponse,
};
use cloister_types::{EntityIdError, NodeId, SeqNo, TxId, View};

use crate::rpc::{Request, Response};

/// The only format version this codec reads and writes.
pub const VERSION: u8 = 1;

const TAG_APPEND_ENTRIES: u8 = 0;
const TAG_APPEND_ENTRIES_RESPONSE: u8 = 1;
const TAG_REQUEST_VOTE: u8 = 3;
const TAG_REQUEST_VOTE_RESPONSE: u8 = 4;
const TAG_PROPOSE_REQUEST_VOTE: u8 = 5;
const TAG_REQUEST_PRE_VOTE: u8 = 6;
const TAG_REQUEST_PRE_VOTE_RESPONSE: u8 = 7;
const TAG_FORWARD: u8 = 0x10;
const TAG_FORWARD_RESPONSE: u8 = 0x11;

const KIND_NORMAL: u8 = 0;
const KIND_SIGNATURE: u8 = 1;
const KIND_RECONFIGURATION: u8 = 2;
const KIND_RETIRED_COMMITTED: u8 = 3;

/// Smallest encodings of vector items, so a count can be checked before allocating.
const MIN_ENTRY_LEN: usize = 8 + 8 + 1 + 4; // view, seqno, kind, data length
const MIN_HEADER_LEN: usize = 4 + 4; // name length, value length
const MIN_NODE_ID_LEN: usize = 4; // length (the text itself is checked when read)

/// One message between two Cloister nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerMessage {
    /// A consensus message.
    Raft(Message),
    /// A backup forwards a client request to the primary; `id` pairs it with the answer.
    Forward { id: u64, request: Request },
    /// The primary's answer to the forwarded request `id`.
    ForwardResponse { id: u64, response: Response },
}

/// Why a frame is not a valid [`PeerMessage`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerWireError {
    /// The frame ended while reading `field`.
    #[error("frame truncated reading {field}: needed {needed} bytes, {remaining} left")]
    Truncated {
        field: &'static str,
        needed: usize,
        remaining: usize,
    },
    /// A length or count says more than the rest of the frame can hold.
    #[error("{field} declares {declared} bytes/items, but only {remaining} bytes remain")]
    LengthTooLarge {
        field: &'static str,
        declared: u64,
        remaining: usize,
    },
    /// The version byte is not [`VERSION`].
    #[error("unsupported peer wire version {0}")]
    UnsupportedVersion(u8),
    /// The message tag is not one this version defines.
    #[error("unknown peer message tag {0:#04x}")]
    UnknownTag(u8),
    /// The entry kind byte is not one this version defines.
    #[error("unknown entry kind {0}")]
    UnknownEntryKind(u8),
    /// A bool or option flag byte is neither 0 nor 1.
    #[error("{field}: flag byte {value} is neither 0 nor 1")]
    InvalidFlag { field: &'static str, value: u8 },
    /// A string field is not UTF-8.
    #[error("{field} is not UTF-8")]
    InvalidUtf8 { field: &'static str },
    /// A node id is not 64 lowercase hex characters.
    #[error("invalid node id: {0}")]
    InvalidNodeId(#[from] EntityIdError),
    /// A reconfiguration's node ids are not strictly ascending (unordered or repeated).
    #[error("reconfiguration node ids are not strictly ascending")]
    UnorderedNodeIds,
    /// Bytes follow the end of the message.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
}

/// Encodes a message (infallible: every value has exactly one encoding).
pub fn encode(message: &PeerMessage) -> Vec<u8> {
    let mut out = Writer(Vec::with_capacity(encoded_len_hint(message)));
    out.u8(VERSION);
    match message {
        PeerMessage::Raft(raft) => write_raft(&mut out, raft),
        PeerMessage::Forward { id, request } => {
            out.u8(TAG_FORWARD);
            out.u64(*id);
            write_request(&mut out, request);
        }
        PeerMessage::ForwardResponse { id, response } => {
            out.u8(TAG_FORWARD_RESPONSE);
            out.u64(*id);
            out.u16(response.status);
            out.headers(&response.headers);
            out.bytes(&response.body);
        }
    }
    out.0
}

/// Decodes one frame. Refuses unknown versions and tags, malformed fields and trailing bytes.
pub fn decode(bytes: &[u8]) -> Result<PeerMessage, PeerWireError> {
    let mut input = Reader { rest: bytes };
    let version = input.u8("version")?;
    if version != VERSION {
        return Err(PeerWireError::UnsupportedVersion(version));
    }
    let message = match input.u8("tag")? {
        TAG_APPEND_ENTRIES => PeerMessage::Raft(Message::AppendEntries(AppendEntries {
            term: View(input.u64("term")?),
            prev_idx: SeqNo(input.u64("prev_idx")?),
            prev_term: View(input.u64("prev_term")?),
            leader_commit_idx: SeqNo(input.u64("leader_commit_idx")?),
            term_of_idx: View(input.u64("term_of_idx")?),
            idx: SeqNo(input.u64("idx")?),
            entries: read_entries(&mut input)?,
        })),
        TAG_APPEND_ENTRIES_RESPONSE => {
            PeerMessage::Raft(Message::AppendEntriesResponse(AppendEntriesResponse {
                term: View(input.u64("term")?),
                last_log_idx: SeqNo(input.u64("last_log_idx")?),
                success: input.bool("success")?,
            }))
        }
        TAG_REQUEST_VOTE => PeerMessage::Raft(Message::RequestVote(read_request_vote(&mut input)?)),
        TAG_REQUEST_VOTE_RESPONSE => PeerMessage::Raft(Message::RequestVoteResponse(
            read_vote_response(&mut input)?,
        )),
        TAG_PROPOSE_REQUEST_VOTE => {
            PeerMessage::Raft(Message::ProposeRequestVote(ProposeRequestVote {
                term: View(input.u64("term")?),
            }))
        }
        TAG_REQUEST_PRE_VOTE => {
            PeerMessage::Raft(Message::RequestPreVote(read_request_vote(&mut input)?))
        }
        TAG_REQUEST_PRE_VOTE_RESPONSE => PeerMessage::Raft(Message::RequestPreVoteResponse(
            read_vote_response(&mut input)?,
        )),
        TAG_FORWARD => PeerMessage::Forward {
            id: input.u64("forward id")?,
            request: Request {
                method: input.string("method")?,
                path: input.string("path")?,
                query: input.string("query")?,
                headers: input.headers("request headers")?,
                body: input.bytes("request body")?,
                client_cert_der: if input.bool("client_cert_der present")? {
                    Some(input.bytes("client_cert_der")?)
                } else {
                    None
                },
                http2: input.bool("http2")?,
            },
        },
        TAG_FORWARD_RESPONSE => PeerMessage::ForwardResponse {
            id: input.u64("forward id")?,
            response: Response {
                status: input.u16("status")?,
                headers: input.headers("response headers")?,
                body: input.bytes("response body")?,
            },
        },
        tag => return Err(PeerWireError::UnknownTag(tag)),
    };
    if !input.rest.is_empty() {
        return Err(PeerWireError::TrailingBytes(input.rest.len()));
    }
    Ok(message)
}

fn write_raft(out: &mut Writer, message: &Message) {
    match message {
        Message::AppendEntries(ae) => {
            out.u8(TAG_APPEND_ENTRIES);
            out.u64(ae.term.0);
            out.u64(ae.prev_idx.0);
            out.u64(ae.prev_term.0);
            out.u64(ae.leader_commit_idx.0);
            out.u64(ae.term_of_idx.0);
            out.u64(ae.idx.0);
            out.count(ae.entries.len());
            for entry in &ae.entries {
                write_entry(out, entry);
            }
        }
        Message::AppendEntriesResponse(response) => {
            out.u8(TAG_APPEND_ENTRIES_RESPONSE);
            out.u64(response.term.0);
            out.u64(response.last_log_idx.0);
            out.bool(response.success);
        }
        Message::RequestVote(vote) => {
            out.u8(TAG_REQUEST_VOTE);
            write_request_vote(out, vote);
        }
        Message::RequestVoteResponse(response) => {
            out.u8(TAG_REQUEST_VOTE_RESPONSE);
            write_vote_response(out, response);
        }
        Message::ProposeRequestVote(propose) => {
            out.u8(TAG_PROPOSE_REQUEST_VOTE);
            out.u64(propose.term.0);
        }
        Message::RequestPreVote(vote) => {
            out.u8(TAG_REQUEST_PRE_VOTE);
            write_request_vote(out, vote);
        }
        Message::RequestPreVoteResponse(response) => {
            out.u8(TAG_REQUEST_PRE_VOTE_RESPONSE);
            write_vote_response(out, response);
        }
    }
}

fn write_entry(out: &mut Writer, entry: &Entry) {
    out.u64(entry.txid.view.0);
    out.u64(entry.txid.seqno.0);
    match &entry.kind {
        EntryKind::Normal => out.u8(KIND_NORMAL),
        EntryKind::Signature => out.u8(KIND_SIGNATURE),
        EntryKind::Reconfiguration(nodes) => {
            out.u8(KIND_RECONFIGURATION);
            out.count(nodes.len());
            // BTreeSet iterates in ascending order, which decode insists on.
            for node in nodes {
                out.str(node.as_str());
            }
        }
        EntryKind::RetiredCommitted(node) => {
            out.u8(KIND_RETIRED_COMMITTED);
            out.str(node.as_str());
        }
    }
    out.bytes(&entry.data);
}

fn write_request_vote(out: &mut Writer, vote: &RequestVote) {
    out.u64(vote.term.0);
    out.u64(vote.last_committable_idx.0);
    out.u64(vote.term_of_last_committable_idx.0);
}

fn write_vote_response(out: &mut Writer, response: &VoteResponse) {
    out.u64(response.term.0);
    out.bool(response.vote_granted);
}

fn write_request(out: &mut Writer, request: &Request) {
    out.str(&request.method);
    out.str(&request.path);
    out.str(&request.query);
    out.headers(&request.headers);
    out.bytes(&request.body);
    match &request.client_cert_der {
        Some(der) => {
            out.bool(true);
            out.bytes(der);
        }
        None => out.bool(false),
    }
    out.bool(request.http2);
}

fn read_entries(input: &mut Reader<'_>) -> Result<Vec<Entry>, PeerWireError> {
    let count = input.count("entries", MIN_ENTRY_LEN)?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let txid = TxId {
            view: View(input.u64("entry view")?),
            seqno: SeqNo(input.u64("entry seqno")?),
        };
        let kind = match input.u8("entry kind")? {
            KIND_NORMAL => EntryKind::Normal,
            KIND_SIGNATURE => EntryKind::Signature,
            KIND_RECONFIGURATION => EntryKind::Reconfiguration(read_node_set(input)?),
            KIND_RETIRED_COMMITTED => EntryKind::RetiredCommitted(input.node_id()?),
            kind => return Err(PeerWireError::UnknownEntryKind(kind)),
        };
        let data = input.bytes("entry data")?;
        entries.push(Entry { txid, kind, data });
    }
    Ok(entries)
}

/// Node ids must be strictly ascending, so a set has one encoding and repeats are refused.
fn read_node_set(input: &mut Reader<'_>) -> Result<BTreeSet<NodeId>, PeerWireError> {
    let count = input.count("reconfiguration nodes", MIN_NODE_ID_LEN)?;
    let mut nodes = BTreeSet::new();
    for _ in 0..count {
        let node = input.node_id()?;
        if nodes.last().is_some_and(|last| *last >= node) {
            return Err(PeerWireError::UnorderedNodeIds);
        }
        nodes.insert(node);
    }
    Ok(nodes)
}

fn read_request_vote(input: &mut Reader<'_>) -> Result<RequestVote, PeerWireError> {
    Ok(RequestVote {
        term: View(input.u64("term")?),
        last_committable_idx: SeqNo(input.u64("last_committable_idx")?),
        term_of_last_committable_idx: View(input.u64("term_of_last_committable_idx")?),
    })
}

fn read_vote_response(input: &mut Reader<'_>) -> Result<VoteResponse, PeerWireError> {
    Ok(VoteResponse {
        term: View(input.u64("term")?),
        vote_granted: input.bool("vote_granted")?,
    })
}

/// A rough size for the output buffer, so large AppendEntries are not reallocated repeatedly.
fn encoded_len_hint(message: &PeerMessage) -> usize {
    let payload = match message {
        PeerMessage::Raft(Message::AppendEntries(ae)) => ae
            .entries
            .iter()
            .map(|entry| MIN_ENTRY_LEN + entry.data.len())
            .sum(),
        PeerMessage::Raft(_) => 0,
        PeerMessage::Forward { request, .. } => {
            request.body.len() + request.client_cert_der.as_ref().map_or(0, Vec::len)
        }
        PeerMessage::ForwardResponse { response, .. } => response.body.len(),
    };
    64 + payload
}

/// Appends fields to the output.
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, value: u8) {
        self.0.push(value);
    }

    fn u16(&mut self, value: u16) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    fn bool(&mut self, value: bool) {
        self.0.push(u8::from(value));
    }

    /// A u32 length or count. A field of 4 GiB or more cannot be represented; nothing a node
    /// sends comes near that, and saturating keeps `encode` total (such a frame would not
    /// decode to the original message).
    fn count(&mut self, len: usize) {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_le_bytes());
    }

    fn bytes(&mut self, value: &[u8]) {
        self.count(value.len());
        self.0.extend_from_slice(value);
    }

    fn str(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }

    fn headers(&mut self, headers: &[(String, String)]) {
        self.count(headers.len());
        for (name, value) in headers {
            self.str(name);
            self.str(value);
        }
    }
}

/// Reads fields from the input, checking every length against what remains.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, field: &'static str, needed: usize) -> Result<&'a [u8], PeerWireError> {
        if needed > self.rest.len() {
            return Err(PeerWireError::Truncated {
                field,
                needed,
                remaining: self.rest.len(),
            });
        }
        let (taken, rest) = self.rest.split_at(needed);
        self.rest = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], PeerWireError> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(field, N)?);
        Ok(array)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, PeerWireError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, PeerWireError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, PeerWireError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, PeerWireError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    fn bool(&mut self, field: &'static str) -> Result<bool, PeerWireError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(PeerWireError::InvalidFlag { field, value }),
        }
    }

    /// A u32 count of items at least `min_item_len` bytes each, refused if the rest of the
    /// input cannot hold that many (so `Vec::with_capacity(count)` is bounded by the input).
    fn count(&mut self, field: &'static str, min_item_len: usize) -> Result<usize, PeerWireError> {
        let declared = self.u32(field)?;
        let count = usize::try_from(declared).unwrap_or(usize::MAX);
        if count.saturating_mul(min_item_len) > self.rest.len() {
            return Err(PeerWireError::LengthTooLarge {
                field,
                declared: u64::from(declared),
                remaining: self.rest.len(),
            });
        }
        Ok(count)
    }

    fn byte_slice(&mut self, field: &'static str) -> Result<&'a [u8], PeerWireError> {
        let len = self.count(field, 1)?;
        self.take(field, len)
    }

    fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>, PeerWireError> {
        Ok(self.byte_slice(field)?.to_vec())
    }

    fn string(&mut self, field: &'static str) -> Result<String, PeerWireError> {
        let slice = self.byte_slice(field)?;
        std::str::from_utf8(slice)
            .map(str::to_owned)
            .map_err(|_| PeerWireError::InvalidUtf8 { field })
    }

    fn node_id(&mut self) -> Result<NodeId, PeerWireError> {
        Ok(self.string("node id")?.parse::<NodeId>()?)
    }

    fn headers(&mut self, field: &'static str) -> Result<Vec<(String, String)>, PeerWireError> {
        let count = self.count(field, MIN_HEADER_LEN)?;
        let mut headers = Vec::with_capacity(count);
        for _ in 0..count {
            let name = self.string("header name")?;
            let value = self.string("header value")?;
            headers.push((name, value));
        }
        Ok(headers)
    }
}
