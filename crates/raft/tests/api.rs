//! The public API driven by hand-made inputs: paths that normal message flow rarely or never
//! reaches (crafted, malformed or stale messages), local errors, joining from a snapshot, and
//! the bounds on what the node queues.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::BTreeSet;

use cloister_raft::{
    AppendEntries, AppendEntriesResponse, Entry, EntryKind, Input, JoinPoint, Message, Output,
    QUEUED_SENDS_MAX, Raft, RaftConfig, RaftError, RequestVote, VoteResponse,
};
use cloister_types::{NodeId, SeqNo, TxId, View};

fn node(n: u8) -> NodeId {
    NodeId::from_digest(&[n; 32])
}

fn nodes(ns: &[u8]) -> BTreeSet<NodeId> {
    ns.iter().map(|n| node(*n)).collect()
}

fn entry(view: u64, seqno: u64, kind: EntryKind) -> Entry {
    Entry::new(
        View(view),
        SeqNo(seqno),
        kind,
        format!("{view}.{seqno}").into_bytes(),
    )
}

fn drain(raft: &mut Raft) -> Vec<Output> {
    std::iter::from_fn(|| raft.poll_output()).collect()
}

fn sends(outputs: &[Output]) -> Vec<(&NodeId, &Message)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { to, message } => Some((to, message)),
            _ => None,
        })
        .collect()
}

fn ae(term: u64, prev: (u64, u64), commit: u64, entries: Vec<Entry>) -> Message {
    let (prev_term, prev_idx) = prev;
    let term_of_idx = entries.last().map_or(prev_term, |e| e.view().0);
    Message::AppendEntries(AppendEntries {
        term: View(term),
        prev_idx: SeqNo(prev_idx),
        prev_term: View(prev_term),
        leader_commit_idx: SeqNo(commit),
        term_of_idx: View(term_of_idx),
        idx: SeqNo(prev_idx + entries.len() as u64),
        entries,
    })
}

/// Delivers a message and reports persistence of whatever the node asked to persist.
fn deliver(raft: &mut Raft, from: u8, message: Message) -> Vec<Output> {
    raft.handle(Input::Message {
        from: node(from),
        message,
    })
    .unwrap();
    let mut outputs = drain(raft);
    let last_persisted = outputs.iter().rev().find_map(|o| match o {
        Output::Persist { entries } => entries.last().map(|e| e.txid),
        _ => None,
    });
    if let Some(up_to) = last_persisted {
        raft.handle(Input::Persisted { up_to }).unwrap();
        outputs.extend(drain(raft));
    }
    outputs
}

/// A backup (node 1) of {0,1,2} holding `views` as entries 1.. (signatures where `sig`).
fn backup_with(log: &[(u64, bool)]) -> Raft {
    let mut raft = Raft::new(node(1), RaftConfig::default(), 1);
    let mut entries = vec![entry(2, 1, EntryKind::Reconfiguration(nodes(&[0, 1, 2])))];
    for (i, (view, sig)) in log.iter().enumerate() {
        let kind = if *sig {
            EntryKind::Signature
        } else {
            EntryKind::Normal
        };
        entries.push(entry(*view, i as u64 + 2, kind));
    }
    // Feed view by view, as a primary would (one view per AppendEntries).
    let mut prev = (0u64, 0u64);
    let mut batch: Vec<Entry> = Vec::new();
    for e in entries {
        if batch.last().is_some_and(|b| b.view() != e.view()) {
            let last = batch.last().unwrap().txid;
            deliver(
                &mut raft,
                0,
                ae(last.view.0, prev, 0, std::mem::take(&mut batch)),
            );
            prev = (last.view.0, last.seqno.0);
        }
        batch.push(e);
    }
    let last = batch.last().unwrap().txid;
    deliver(&mut raft, 0, ae(last.view.0, prev, 0, batch));
    raft
}

fn primary_of(members: &[u8]) -> Raft {
    let mut raft = Raft::new(node(0), RaftConfig::default(), 0);
    raft.bootstrap_primary(nodes(members)).unwrap();
    raft.handle(Input::Replicate {
        entries: vec![
            entry(2, 1, EntryKind::Reconfiguration(nodes(members))),
            entry(2, 2, EntryKind::Signature),
        ],
    })
    .unwrap();
    raft.handle(Input::Persisted {
        up_to: TxId::new(2, 2),
    })
    .unwrap();
    drain(&mut raft);
    raft
}

#[test]
fn a_backup_commits_no_further_than_the_entries_it_was_shown() {
    // Log: 2.1r 2.2s 2.3 2.4s then a stale suffix 3.5 3.6s from a primary of view 3 that failed.
    let mut raft = backup_with(&[(2, true), (2, false), (2, true), (3, false), (3, true)]);
    assert_eq!(raft.last_seqno(), SeqNo(6));
    // The primary of view 4 (whose 6 is not our 3.6) re-sends (2.2, 2.4] with commit 6.
    let batch = vec![
        entry(2, 3, EntryKind::Normal),
        entry(2, 4, EntryKind::Signature),
    ];
    deliver(&mut raft, 2, ae(4, (2, 2), 6, batch));
    assert_eq!(raft.commit_seqno(), SeqNo(4), "3.6 must not be committed");
}

#[test]
fn a_conflicting_suffix_is_rolled_back_only_once_per_view() {
    let mut raft = backup_with(&[(2, true), (2, false), (2, true)]);
    // A primary of view 4 replaces 2.3 onwards (first conflict since learning view 4: allowed).
    let out = deliver(
        &mut raft,
        2,
        ae(4, (2, 2), 0, vec![entry(4, 3, EntryKind::Normal)]),
    );
    assert!(out.contains(&Output::Truncate { after: SeqNo(2) }));
    assert_eq!(raft.view_at(SeqNo(3)), Some(View(4)));
    // A second conflicting AppendEntries in the same view is ignored and unanswered.
    let out = deliver(
        &mut raft,
        2,
        ae(4, (2, 2), 0, vec![entry(3, 3, EntryKind::Normal)]),
    );
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(raft.view_at(SeqNo(3)), Some(View(4)));
}

#[test]
fn malformed_append_entries_are_dropped_without_effect() {
    let mut raft = backup_with(&[(2, true)]);
    let good = vec![entry(2, 3, EntryKind::Normal)];
    let mut wrong_count = ae(2, (2, 2), 0, good.clone());
    if let Message::AppendEntries(m) = &mut wrong_count {
        m.idx = SeqNo(9);
    }
    let gap = ae(2, (2, 2), 0, vec![entry(2, 4, EntryKind::Normal)]);
    let future_view = ae(2, (2, 2), 0, vec![entry(7, 3, EntryKind::Normal)]);
    let empty_config = ae(
        2,
        (2, 2),
        0,
        vec![entry(2, 3, EntryKind::Reconfiguration(nodes(&[])))],
    );
    let mut overflow = ae(2, (2, 2), 0, good);
    if let Message::AppendEntries(m) = &mut overflow {
        m.prev_idx = SeqNo(u64::MAX);
        m.idx = SeqNo(u64::MAX);
        m.entries.clear();
    }
    for message in [wrong_count, gap, future_view, empty_config] {
        let out = deliver(&mut raft, 0, message);
        assert!(out.is_empty(), "{out:?}");
    }
    // Past the end of the log: answered with a NACK, nothing else.
    let out = deliver(&mut raft, 0, overflow);
    assert!(matches!(
        sends(&out)[..],
        [(
            _,
            Message::AppendEntriesResponse(AppendEntriesResponse { success: false, .. })
        )]
    ));
    assert_eq!(raft.last_seqno(), SeqNo(2));
}

#[test]
fn responses_from_unknown_nodes_are_ignored() {
    let mut raft = primary_of(&[0, 1, 2]);
    let ack = Message::AppendEntriesResponse(AppendEntriesResponse {
        term: View(2),
        last_log_idx: SeqNo(2),
        success: true,
    });
    let out = deliver(&mut raft, 9, ack);
    assert!(out.is_empty());
    assert_eq!(raft.commit_seqno(), SeqNo(0));
    let vote = Message::RequestVoteResponse(VoteResponse {
        term: View(7),
        vote_granted: true,
    });
    deliver(&mut raft, 9, vote);
    assert_eq!(raft.view(), View(2), "an unknown node cannot move our view");
    assert!(raft.is_primary());
}

#[test]
fn an_acknowledgement_beyond_the_primarys_log_is_ignored() {
    let mut raft = primary_of(&[0, 1, 2]);
    let ack = Message::AppendEntriesResponse(AppendEntriesResponse {
        term: View(2),
        last_log_idx: SeqNo(1000),
        success: true,
    });
    deliver(&mut raft, 1, ack);
    assert_eq!(raft.peer_matches()[&node(1)], SeqNo(0));
    assert_eq!(raft.commit_seqno(), SeqNo(0));
}

#[test]
fn a_stale_persistence_report_is_ignored() {
    let mut raft = backup_with(&[(2, true)]);
    assert_eq!(raft.persisted_seqno(), SeqNo(2));
    raft.handle(Input::Persisted {
        up_to: TxId::new(3, 2),
    })
    .unwrap();
    raft.handle(Input::Persisted {
        up_to: TxId::new(2, 9),
    })
    .unwrap();
    assert_eq!(raft.persisted_seqno(), SeqNo(2));
}

#[test]
fn local_appends_are_checked_before_anything_changes() {
    let mut backup = Raft::new(node(1), RaftConfig::default(), 0);
    let one = vec![entry(2, 1, EntryKind::Normal)];
    assert_eq!(
        backup.handle(Input::Replicate { entries: one }),
        Err(RaftError::NotPrimary)
    );
    let mut raft = primary_of(&[0]);
    let gap = vec![
        entry(2, 3, EntryKind::Normal),
        entry(2, 5, EntryKind::Normal),
    ];
    assert_eq!(
        raft.handle(Input::Replicate { entries: gap }),
        Err(RaftError::UnexpectedSeqNo {
            expected: SeqNo(4),
            got: SeqNo(5)
        })
    );
    let old_view = vec![entry(1, 3, EntryKind::Normal)];
    assert_eq!(
        raft.handle(Input::Replicate { entries: old_view }),
        Err(RaftError::WrongView {
            expected: View(2),
            got: View(1)
        })
    );
    let empty = vec![entry(2, 3, EntryKind::Reconfiguration(nodes(&[])))];
    assert_eq!(
        raft.handle(Input::Replicate { entries: empty }),
        Err(RaftError::InvalidConfiguration)
    );
    assert_eq!(raft.last_seqno(), SeqNo(2));
    assert!(drain(&mut raft).is_empty());
}

#[test]
fn bootstrap_and_join_refuse_a_started_node_or_a_bad_configuration() {
    let mut raft = Raft::new(node(0), RaftConfig::default(), 0);
    assert_eq!(
        raft.bootstrap_primary(nodes(&[1, 2])),
        Err(RaftError::InvalidConfiguration)
    );
    raft.bootstrap_primary(nodes(&[0])).unwrap();
    assert_eq!(
        raft.bootstrap_primary(nodes(&[0])),
        Err(RaftError::AlreadyStarted)
    );
    assert_eq!(raft.join_as_backup(None), Err(RaftError::AlreadyStarted));
    assert_eq!(raft.view(), View(2));
    assert!(raft.is_primary());
}

#[test]
fn compaction_stops_at_the_commit_seqno() {
    let mut raft = primary_of(&[0]);
    assert_eq!(raft.commit_seqno(), SeqNo(2));
    assert_eq!(
        raft.compact_log(SeqNo(3)),
        Err(RaftError::CompactPastCommit { commit: SeqNo(2) })
    );
    raft.compact_log(SeqNo(2)).unwrap();
    assert!(raft.entry(SeqNo(2)).is_none());
    assert_eq!(raft.view_at(SeqNo(2)), Some(View(2)));
}

#[test]
fn a_backup_joining_from_a_snapshot_starts_after_it() {
    let mut raft = Raft::new(node(3), RaftConfig::default(), 0);
    let point = JoinPoint {
        txid: TxId::new(3, 10),
        view_history: vec![(View(2), SeqNo(1)), (View(3), SeqNo(7))],
        configuration: nodes(&[0, 1, 3]),
    };
    raft.join_as_backup(Some(point)).unwrap();
    assert_eq!(raft.commit_seqno(), SeqNo(10));
    assert_eq!(raft.last_seqno(), SeqNo(10));
    assert_eq!(raft.view(), View(3));
    assert_eq!(raft.view_at(SeqNo(6)), Some(View(2)));
    assert!(raft.is_ticking());
    // The primary's next entries attach after the snapshot.
    let next = vec![
        entry(3, 11, EntryKind::Normal),
        entry(3, 12, EntryKind::Signature),
    ];
    let out = deliver(&mut raft, 0, ae(3, (3, 10), 12, next));
    assert_eq!(raft.commit_seqno(), SeqNo(12));
    assert!(sends(&out).iter().any(|(to, m)| **to == node(0)
        && matches!(m, Message::AppendEntriesResponse(r) if r.success && r.last_log_idx == SeqNo(12))));
}

#[test]
fn a_join_point_needs_a_view_history_that_ends_there() {
    let join = |history: Vec<(View, SeqNo)>| {
        let mut raft = Raft::new(node(3), RaftConfig::default(), 0);
        raft.join_as_backup(Some(JoinPoint {
            txid: TxId::new(3, 10),
            view_history: history,
            configuration: nodes(&[0, 3]),
        }))
    };
    assert_eq!(join(vec![]), Err(RaftError::InvalidViewHistory));
    assert_eq!(
        join(vec![(View(2), SeqNo(1))]),
        Err(RaftError::InvalidViewHistory)
    );
    assert_eq!(
        join(vec![(View(3), SeqNo(1)), (View(2), SeqNo(5))]),
        Err(RaftError::InvalidViewHistory)
    );
    assert_eq!(
        join(vec![(View(3), SeqNo(11))]),
        Err(RaftError::InvalidViewHistory)
    );
    assert_eq!(join(vec![(View(2), SeqNo(1)), (View(3), SeqNo(4))]), Ok(()));
}

#[test]
fn the_output_queue_holds_a_bounded_number_of_sends() {
    let mut raft = backup_with(&[(2, true)]);
    let request = RequestVote {
        term: View(2),
        last_committable_idx: SeqNo(0),
        term_of_last_committable_idx: View(0),
    };
    for _ in 0..QUEUED_SENDS_MAX + 500 {
        raft.handle(Input::Message {
            from: node(2),
            message: Message::RequestPreVote(request.clone()),
        })
        .unwrap();
    }
    assert_eq!(drain(&mut raft).len(), QUEUED_SENDS_MAX);
    // Once drained, it answers again.
    raft.handle(Input::Message {
        from: node(2),
        message: Message::RequestPreVote(request),
    })
    .unwrap();
    assert_eq!(drain(&mut raft).len(), 1);
}

#[test]
fn a_pre_vote_changes_neither_view_nor_vote() {
    let mut raft = backup_with(&[(2, true)]);
    let request = RequestVote {
        term: View(2),
        last_committable_idx: SeqNo(2),
        term_of_last_committable_idx: View(2),
    };
    let out = deliver(&mut raft, 2, Message::RequestPreVote(request));
    assert_eq!(raft.view(), View(2));
    assert_eq!(raft.voted_for(), None);
    assert_eq!(
        raft.leader(),
        Some(&node(0)),
        "a pre-vote does not unseat the primary"
    );
    assert!(matches!(
        sends(&out)[..],
        [(
            _,
            Message::RequestPreVoteResponse(VoteResponse {
                vote_granted: true,
                ..
            })
        )]
    ));
}

#[test]
fn the_same_seed_replays_the_same_elections() {
    // A backup cut off from everyone runs for election again and again; when it does depends
    // only on the seed of its randomised timeouts.
    let run = |seed: u64| {
        let mut raft = backup_with_seed(seed);
        let mut elections = Vec::new();
        for now_ms in (0..60_000).step_by(10) {
            let before = raft.view();
            raft.handle(Input::Tick { now_ms }).unwrap();
            if raft.view() != before {
                elections.push(now_ms);
            }
        }
        elections
    };
    let first = run(42);
    assert!(first.len() >= 10, "{first:?}");
    assert_eq!(first, run(42));
    assert_ne!(first, run(43), "another seed gives other timeouts");
    for pair in first.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (2500..=5010).contains(&gap),
            "timeout {gap} ms outside [0.5, 1] x 5000"
        );
    }
}

fn backup_with_seed(seed: u64) -> Raft {
    let mut raft = Raft::new(node(1), RaftConfig::default(), seed);
    let batch = vec![
        entry(2, 1, EntryKind::Reconfiguration(nodes(&[0, 1, 2]))),
        entry(2, 2, EntryKind::Signature),
    ];
    deliver(&mut raft, 0, ae(2, (0, 0), 2, batch));
    raft
}
