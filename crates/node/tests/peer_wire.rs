//! Tests of the node-to-node codec (`cloister_node::peer_wire`): round trips of every variant,
//! the exact layout, each refusal, proptest round trips, seeded hostile inputs (random bytes and
//! mutations of valid frames) that must never panic, and a quick encode+decode timing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::BTreeSet;

use cloister_node::peer_wire::{PeerMessage, PeerWireError, VERSION, decode, encode};
use cloister_node::rpc::{Request, Response};
use cloister_raft::{
    AppendEntries, AppendEntriesResponse, Entry, EntryKind, Message, ProposeRequestVote,
    RequestVote, VoteResponse,
};
use cloister_types::{NodeId, SeqNo, View};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

fn node(byte: u8) -> NodeId {
    NodeId::from_digest(&[byte; 32])
}

fn entry(seqno: u64, kind: EntryKind, data: &[u8]) -> Entry {
    Entry::new(View(3), SeqNo(seqno), kind, data.to_vec())
}

/// One message of every variant, every entry kind, and both `client_cert_der` cases.
fn one_of_each() -> Vec<PeerMessage> {
    let vote = RequestVote {
        term: View(7),
        last_committable_idx: SeqNo(41),
        term_of_last_committable_idx: View(6),
    };
    let answer = VoteResponse {
        term: View(7),
        vote_granted: true,
    };
    vec![
        PeerMessage::Raft(Message::AppendEntries(AppendEntries {
            term: View(3),
            prev_idx: SeqNo(10),
            prev_term: View(2),
            leader_commit_idx: SeqNo(9),
            term_of_idx: View(3),
            idx: SeqNo(14),
            entries: vec![
                entry(11, EntryKind::Normal, b"tx"),
                entry(12, EntryKind::Signature, b""),
                entry(
                    13,
                    EntryKind::Reconfiguration(BTreeSet::from([node(1), node(2), node(0xfe)])),
                    &[0, 255, 7],
                ),
                entry(14, EntryKind::RetiredCommitted(node(2)), b"retired"),
            ],
        })),
        PeerMessage::Raft(Message::AppendEntries(AppendEntries {
            term: View(3),
            prev_idx: SeqNo(14),
            prev_term: View(3),
            leader_commit_idx: SeqNo(14),
            term_of_idx: View(3),
            idx: SeqNo(14),
            entries: vec![],
        })),
        PeerMessage::Raft(Message::AppendEntriesResponse(AppendEntriesResponse {
            term: View(3),
            last_log_idx: SeqNo(14),
            success: false,
        })),
        PeerMessage::Raft(Message::RequestVote(vote.clone())),
        PeerMessage::Raft(Message::RequestVoteResponse(answer.clone())),
        PeerMessage::Raft(Message::ProposeRequestVote(ProposeRequestVote {
            term: View(u64::MAX),
        })),
        PeerMessage::Raft(Message::RequestPreVote(vote)),
        PeerMessage::Raft(Message::RequestPreVoteResponse(VoteResponse {
            vote_granted: false,
            ..answer
        })),
        PeerMessage::Forward {
            id: 99,
            request: Request {
                method: "POST".into(),
                path: "/app/log/private".into(),
                query: "scope=é".into(),
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("x-a".into(), String::new()),
                ],
                body: br#"{"id":1}"#.to_vec(),
                client_cert_der: Some(vec![0x30, 0x82, 0x01]),
                http2: false,
            },
        },
        PeerMessage::Forward {
            id: 0,
            request: Request::default(),
        },
        PeerMessage::ForwardResponse {
            id: 99,
            response: Response::with_body(201, "text/plain", b"ok".to_vec()),
        },
    ]
}

#[test]
fn every_variant_round_trips() {
    let messages = one_of_each();
    for message in &messages {
        let bytes = encode(message);
        assert_eq!(bytes[0], VERSION);
        assert_eq!(decode(&bytes).as_ref(), Ok(message), "{message:?}");
    }
    // Each variant has its own tag: CCF's RaftMsgType numbers, then 0x10 and 0x11.
    let tags: BTreeSet<u8> = messages.iter().map(|m| encode(m)[1]).collect();
    assert_eq!(tags, BTreeSet::from([0, 1, 3, 4, 5, 6, 7, 0x10, 0x11]));
}

#[test]
fn layout_is_version_tag_then_little_endian_fields() {
    let propose = PeerMessage::Raft(Message::ProposeRequestVote(ProposeRequestVote {
        term: View(0x0102_0304_0506_0708),
    }));
    assert_eq!(encode(&propose), [1, 5, 8, 7, 6, 5, 4, 3, 2, 1]);

    let response = PeerMessage::ForwardResponse {
        id: 2,
        response: Response {
            status: 404,
            headers: vec![("a".into(), "bc".into())],
            body: b"x".to_vec(),
        },
    };
    let mut expected = vec![1, 0x11, 2, 0, 0, 0, 0, 0, 0, 0, 0x94, 0x01];
    expected.extend([1, 0, 0, 0, 1, 0, 0, 0, b'a', 2, 0, 0, 0, b'b', b'c']);
    expected.extend([1, 0, 0, 0, b'x']);
    assert_eq!(encode(&response), expected);
}

/// A RetiredCommitted entry whose node id text is `id` (to craft invalid ids).
fn retired_frame(id: &[u8]) -> Vec<u8> {
    let mut frame = vec![1, 0];
    frame.extend([0u8; 48]); // six u64 header fields
    frame.extend(1u32.to_le_bytes()); // one entry
    frame.extend([0u8; 16]); // txid
    frame.push(3); // RetiredCommitted
    frame.extend(u32::try_from(id.len()).unwrap().to_le_bytes());
    frame.extend(id);
    frame.extend(0u32.to_le_bytes()); // empty data
    frame
}

/// A Reconfiguration entry with the given node ids, in the given order.
fn reconfiguration_frame(ids: &[NodeId]) -> Vec<u8> {
    let mut frame = vec![1, 0];
    frame.extend([0u8; 48]);
    frame.extend(1u32.to_le_bytes());
    frame.extend([0u8; 16]);
    frame.push(2);
    frame.extend(u32::try_from(ids.len()).unwrap().to_le_bytes());
    for id in ids {
        frame.extend(64u32.to_le_bytes());
        frame.extend(id.as_str().as_bytes());
    }
    frame.extend(0u32.to_le_bytes());
    frame
}

#[test]
fn crafted_frames_decode_as_the_helpers_intend() {
    // Guards the refusal tests below: the crafted frames are valid when their content is.
    assert!(decode(&retired_frame(node(9).as_str().as_bytes())).is_ok());
    assert!(decode(&reconfiguration_frame(&[node(1), node(2)])).is_ok());
}

#[test]
fn malformed_frames_are_refused_with_the_reason() {
    let valid = encode(&one_of_each()[2]);

    assert!(matches!(
        decode(&[]),
        Err(PeerWireError::Truncated {
            field: "version",
            ..
        })
    ));
    assert_eq!(decode(&[2, 5]), Err(PeerWireError::UnsupportedVersion(2)));
    assert_eq!(decode(&[1, 2]), Err(PeerWireError::UnknownTag(2)));
    assert_eq!(decode(&[1, 0x12]), Err(PeerWireError::UnknownTag(0x12)));

    let mut trailing = valid.clone();
    trailing.push(0);
    assert_eq!(decode(&trailing), Err(PeerWireError::TrailingBytes(1)));

    assert!(matches!(
        decode(&valid[..valid.len() - 1]),
        Err(PeerWireError::Truncated {
            field: "success",
            ..
        })
    ));

    let mut bad_bool = valid.clone();
    *bad_bool.last_mut().unwrap() = 2;
    assert_eq!(
        decode(&bad_bool),
        Err(PeerWireError::InvalidFlag {
            field: "success",
            value: 2
        })
    );

    // A count of 2^32 - 1 entries in a short frame is refused before allocating.
    let mut huge = encode(&one_of_each()[1]);
    let count_at = 2 + 48;
    huge[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        decode(&huge),
        Err(PeerWireError::LengthTooLarge {
            field: "entries",
            declared: u64::from(u32::MAX),
            remaining: 0
        })
    );

    let mut kind = retired_frame(node(9).as_str().as_bytes());
    kind[2 + 48 + 4 + 16] = 4;
    assert_eq!(decode(&kind), Err(PeerWireError::UnknownEntryKind(4)));

    assert!(matches!(
        decode(&retired_frame(
            node(0xab).as_str().to_uppercase().as_bytes()
        )),
        Err(PeerWireError::InvalidNodeId(_))
    ));
    assert!(matches!(
        decode(&retired_frame(&[b'a'; 63])),
        Err(PeerWireError::InvalidNodeId(_))
    ));
    assert_eq!(
        decode(&retired_frame(&[0xff; 64])),
        Err(PeerWireError::InvalidUtf8 { field: "node id" })
    );

    assert_eq!(
        decode(&reconfiguration_frame(&[node(2), node(1)])),
        Err(PeerWireError::UnorderedNodeIds)
    );
    assert_eq!(
        decode(&reconfiguration_frame(&[node(1), node(1)])),
        Err(PeerWireError::UnorderedNodeIds)
    );

    let mut bad_utf8 = encode(&PeerMessage::Forward {
        id: 1,
        request: Request {
            method: "G".into(),
            ..Request::default()
        },
    });
    bad_utf8[2 + 8 + 4] = 0xc3; // a lone UTF-8 lead byte
    assert_eq!(
        decode(&bad_utf8),
        Err(PeerWireError::InvalidUtf8 { field: "method" })
    );
}

fn arb_node() -> impl Strategy<Value = NodeId> {
    any::<[u8; 32]>().prop_map(|digest| NodeId::from_digest(&digest))
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..48)
}

fn arb_text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn arb_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((arb_text(), arb_text()), 0..4)
}

fn arb_kind() -> impl Strategy<Value = EntryKind> {
    prop_oneof![
        Just(EntryKind::Normal),
        Just(EntryKind::Signature),
        prop::collection::btree_set(arb_node(), 0..4).prop_map(EntryKind::Reconfiguration),
        arb_node().prop_map(EntryKind::RetiredCommitted),
    ]
}

fn arb_entry() -> impl Strategy<Value = Entry> {
    (any::<u64>(), any::<u64>(), arb_kind(), arb_bytes())
        .prop_map(|(view, seqno, kind, data)| Entry::new(View(view), SeqNo(seqno), kind, data))
}

fn arb_vote() -> impl Strategy<Value = RequestVote> {
    (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(term, idx, view)| RequestVote {
        term: View(term),
        last_committable_idx: SeqNo(idx),
        term_of_last_committable_idx: View(view),
    })
}

fn arb_vote_response() -> impl Strategy<Value = VoteResponse> {
    (any::<u64>(), any::<bool>()).prop_map(|(term, granted)| VoteResponse {
        term: View(term),
        vote_granted: granted,
    })
}

fn arb_raft() -> impl Strategy<Value = Message> {
    let append =
        (any::<[u64; 6]>(), prop::collection::vec(arb_entry(), 0..5)).prop_map(|(f, entries)| {
            Message::AppendEntries(AppendEntries {
                term: View(f[0]),
                prev_idx: SeqNo(f[1]),
                prev_term: View(f[2]),
                leader_commit_idx: SeqNo(f[3]),
                term_of_idx: View(f[4]),
                idx: SeqNo(f[5]),
                entries,
            })
        });
    prop_oneof![
        append,
        (any::<u64>(), any::<u64>(), any::<bool>()).prop_map(|(term, idx, success)| {
            Message::AppendEntriesResponse(AppendEntriesResponse {
                term: View(term),
                last_log_idx: SeqNo(idx),
                success,
            })
        }),
        arb_vote().prop_map(Message::RequestVote),
        arb_vote_response().prop_map(Message::RequestVoteResponse),
        any::<u64>()
            .prop_map(|term| Message::ProposeRequestVote(ProposeRequestVote { term: View(term) })),
        arb_vote().prop_map(Message::RequestPreVote),
        arb_vote_response().prop_map(Message::RequestPreVoteResponse),
    ]
}

fn arb_message() -> impl Strategy<Value = PeerMessage> {
    let request = (
        (arb_text(), arb_text(), arb_text()),
        arb_headers(),
        arb_bytes(),
        prop::option::of(arb_bytes()),
    )
        .prop_map(
            |((method, path, query), headers, body, client_cert_der)| Request {
                method,
                path,
                query,
                headers,
                body,
                client_cert_der,
                http2: false,
            },
        );
    let response =
        (any::<u16>(), arb_headers(), arb_bytes()).prop_map(|(status, headers, body)| Response {
            status,
            headers,
            body,
        });
    prop_oneof![
        3 => arb_raft().prop_map(PeerMessage::Raft),
        1 => (any::<u64>(), request).prop_map(|(id, request)| PeerMessage::Forward { id, request }),
        1 => (any::<u64>(), response)
            .prop_map(|(id, response)| PeerMessage::ForwardResponse { id, response }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_messages_round_trip(message in arb_message()) {
        let bytes = encode(&message);
        prop_assert_eq!(decode(&bytes), Ok(message));
    }
}

/// splitmix64: a seeded generator for the hostile-input tests (reproducible, no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
}

/// Decoding hostile input must not panic, and whatever it accepts must be the canonical
/// encoding of what it returned. Returns whether the input was accepted.
fn check_hostile(bytes: &[u8]) -> bool {
    match decode(bytes) {
        Ok(message) => {
            assert_eq!(encode(&message), bytes, "accepted a non-canonical frame");
            true
        }
        Err(_) => false,
    }
}

/// Valid frames to mutate: the hand-built ones and seeded proptest messages.
fn corpus() -> Vec<Vec<u8>> {
    let mut runner = TestRunner::deterministic();
    let strategy = arb_message();
    let mut frames: Vec<Vec<u8>> = one_of_each().iter().map(encode).collect();
    for _ in 0..64 {
        let message = strategy.new_tree(&mut runner).unwrap().current();
        frames.push(encode(&message));
    }
    frames
}

#[test]
fn random_byte_strings_never_panic() {
    let mut rng = Rng(0x5eed_0001);
    let mut accepted = 0;
    for case in 0..6_000 {
        let len = rng.below(160);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Most cases get a valid version and tag so the field decoders are exercised too.
        if case % 4 != 0 && bytes.len() >= 2 {
            bytes[0] = VERSION;
            bytes[1] = [0, 1, 3, 4, 5, 6, 7, 0x10, 0x11][rng.below(9)];
        }
        accepted += usize::from(check_hostile(&bytes));
    }
    // Short fixed-size messages (votes, responses) are sometimes hit at random.
    assert!(accepted > 0, "random inputs never reached a valid decode");
}

#[test]
fn mutated_valid_frames_never_panic_and_stay_canonical() {
    let frames = corpus();
    let mut rng = Rng(0x5eed_0002);
    let mut cases = 0usize;
    for frame in &frames {
        // Every truncation: each is a strict prefix, so none may decode.
        for cut in 0..frame.len() {
            assert!(!check_hostile(&frame[..cut]), "a truncated frame decoded");
            cases += 1;
        }
        // A huge u32 at every offset hits every length and count field.
        for at in 0..frame.len().saturating_sub(3) {
            for huge in [u32::MAX, 0x8000_0000, u32::try_from(frame.len()).unwrap()] {
                let mut mutated = frame.clone();
                mutated[at..at + 4].copy_from_slice(&huge.to_le_bytes());
                check_hostile(&mutated);
                cases += 1;
            }
        }
        // Random bit flips, one to four per case.
        for _ in 0..40 {
            let mut mutated = frame.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(mutated.len());
                mutated[at] ^= 1 << rng.below(8);
            }
            check_hostile(&mutated);
            cases += 1;
        }
    }
    assert!(cases >= 5_000, "only {cases} mutation cases");
}

#[test]
#[allow(clippy::disallowed_types, clippy::disallowed_methods)] // a test may read the clock
fn measure_append_entries_of_ten_1_kib_entries() {
    let message = PeerMessage::Raft(Message::AppendEntries(AppendEntries {
        term: View(5),
        prev_idx: SeqNo(100),
        prev_term: View(5),
        leader_commit_idx: SeqNo(95),
        term_of_idx: View(5),
        idx: SeqNo(110),
        entries: (101..=110)
            .map(|seqno| entry(seqno, EntryKind::Normal, &[seqno as u8; 1024]))
            .collect(),
    }));
    let rounds = 2_000u32;
    let started = std::time::Instant::now();
    let mut total = 0;
    for _ in 0..rounds {
        let bytes = encode(&message);
        total += bytes.len();
        assert_eq!(decode(&bytes).as_ref(), Ok(&message));
    }
    let per_round = started.elapsed() / rounds;
    println!(
        "AppendEntries, 10 x 1 KiB entries ({} bytes): encode+decode {per_round:?} per message",
        total / rounds as usize
    );
}
