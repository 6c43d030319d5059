//! Historical queries of entries consensus no longer holds in memory, sans-IO, through CCF's
//! logging sample: the node (a small `raft_log_retained_entries`, frequent snapshots) answers
//! 202 with `Retry-After: 3`, asks its host once per range (`Output::ReadLedger`), takes the
//! entries back (`Input::LedgerEntries`), then serves the old value and a receipt that verifies;
//! an entry tampered with on disk is refused, a host that cannot read answers 500, and
//! `getStateRange` ranges fetch the same way.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::collections::BTreeMap;

use cloister_crypto::{Certificate, SeededEntropy};
use cloister_merkle::Receipt;
use cloister_node::core::{Frontends, Input, Output};
use cloister_node::rpc::{Request, Response};
use cloister_types::SeqNo;
use serde_json::{Value, json};
use support::{Harness, Identities, NOW, identity, json_body, random_ledger_secret};

const TX_ID: &str = "x-ms-ccf-transaction-id";

macro_rules! sample {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/ccf-js-logging/",
            $file
        ))
    };
}

/// A one-node service with CCF's logging sample, driven here so that every ledger entry written
/// after setup is kept (what the host's ledger files would hold).
struct Service {
    h: Harness,
    user: Certificate,
    service_pem: String,
    ledger: BTreeMap<u64, Vec<u8>>,
    reads: Vec<(SeqNo, SeqNo)>,
}

fn open_service() -> Service {
    let mut entropy = SeededEntropy::from_seed(47);
    let identities = Identities::generate(&mut entropy, vec![]);
    let member = identity(&mut entropy, "member0");
    let (_, user) = identity(&mut entropy, "user0");
    let ledger_secret = random_ledger_secret(&mut entropy);
    let service_pem = identities.service.cert_pem();
    let mut h = Harness::start_genesis_with(
        identities,
        &member.1,
        cloister_js::DEFAULT_CONSTITUTION.into(),
        ledger_secret,
        Box::new(cloister_js::QuickJsConstitution::new()),
        Frontends::with_builtins(&[]),
        |settings| {
            settings.snapshot_tx_interval = 4;
            settings.raft_log_retained_entries = 0;
        },
    );
    h.activate_member(&member);
    let metadata: Value = serde_json::from_str(sample!("app.json")).unwrap();
    let bundle = json!({ "metadata": metadata,
        "modules": [{ "name": "logging.js", "module": sample!("src/logging.js") }] });
    h.pass(
        &member,
        &json!({ "actions": [
            { "name": "set_js_app", "args": { "bundle": bundle } },
            { "name": "set_user", "args": { "cert": user.to_pem() } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": service_pem } },
        ]}),
    );
    Service {
        h,
        user,
        service_pem,
        ledger: BTreeMap::new(),
        reads: Vec::new(),
    }
}

fn request(method: &str, path: &str, txid: Option<&str>, body: Option<Value>) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    if let Some(txid) = txid {
        headers.push((TX_ID.to_owned(), txid.to_owned()));
    }
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers,
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        ..Request::default()
    }
}

fn text(response: &Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

fn seqno(txid: &str) -> u64 {
    txid.split_once('.').unwrap().1.parse().unwrap()
}

impl Service {
    /// Carries out the node's outputs: keeps appended entries, notes ledger reads.
    fn drain(&mut self) -> Option<Response> {
        let mut response = None;
        while let Some(output) = self.h.core.poll_output() {
            match output {
                Output::Respond { response: r, .. } => response = Some(r),
                Output::AppendLedger { seqno, entry, .. } => {
                    self.h.persisted = seqno.0;
                    self.ledger.insert(seqno.0, entry);
                }
                Output::ReadLedger { from, to } => self.reads.push((from, to)),
                _ => {}
            }
        }
        response
    }

    fn call(&mut self, mut request: Request) -> Response {
        request.client_cert_der = Some(self.user.der().to_vec());
        self.h.session += 1;
        self.h.core.handle(Input::Request {
            session: self.h.session,
            request,
        });
        self.drain().expect("a response")
    }

    fn sign_and_persist(&mut self) {
        self.h.now_ms += 2_000;
        self.h.core.handle(Input::Tick {
            now_ms: self.h.now_ms,
            now_unix: NOW,
        });
        self.drain();
        self.h.core.handle(Input::Persisted {
            up_to: SeqNo(self.h.persisted),
        });
        self.drain();
    }

    fn write(&mut self, id: u64, msg: &str) -> String {
        let response = self.call(request(
            "POST",
            "/app/log/private",
            None,
            Some(json!({ "id": id, "msg": msg })),
        ));
        assert_eq!(response.status, 200, "{}", text(&response));
        response.header(TX_ID).unwrap().to_owned()
    }

    /// Writes until consensus has forgotten every entry up to `seqno`.
    fn compact_past(&mut self, seqno: u64) {
        for round in 0..50 {
            if self.h.core.consensus().log_first_held.0 > seqno {
                return;
            }
            self.write(1_000 + round, "filler");
            self.sign_and_persist();
        }
        panic!(
            "consensus still holds seqno {seqno}: {:?}",
            self.h.core.consensus()
        );
    }

    /// Answers the reads asked for so far from the kept ledger, each entry passed through `edit`.
    fn answer_reads(&mut self, edit: impl Fn(u64, &mut Vec<u8>)) {
        for (from, to) in std::mem::take(&mut self.reads) {
            let entries = (from.0..=to.0)
                .map(|seqno| {
                    let mut entry = self.ledger[&seqno].clone();
                    edit(seqno, &mut entry);
                    entry
                })
                .collect();
            self.h.core.handle(Input::LedgerEntries {
                from,
                to,
                entries: Ok(entries),
            });
            self.drain();
        }
    }

    fn verify(&self, receipt: &Value) {
        let parsed = Receipt::from_json(&receipt.to_string()).unwrap();
        parsed
            .verify(&Certificate::from_pem(&self.service_pem).unwrap())
            .unwrap();
    }
}

fn assert_fetching(response: &Response, txid: &str) {
    assert_eq!(response.status, 202, "{}", text(response));
    assert_eq!(response.header("retry-after"), Some("3"));
    assert_eq!(
        text(response),
        format!("Historical transaction {txid} is not currently available.")
    );
}

#[test]
fn a_compacted_entry_is_read_back_from_the_ledger_then_served_with_a_verifiable_receipt() {
    let mut s = open_service();
    let first = s.write(1, "one");
    s.write(1, "two");
    s.sign_and_persist();
    s.compact_past(seqno(&first));

    let path = "/app/log/private/historical?id=1";
    let fetching = s.call(request("GET", path, Some(&first), None));
    assert_fetching(&fetching, &first);
    let at = SeqNo(seqno(&first));
    assert_eq!(s.reads, vec![(at, at)]);
    // Asked again before the host answered: still fetching, and no second read.
    assert_fetching(&s.call(request("GET", path, Some(&first), None)), &first);
    assert_eq!(s.reads.len(), 1);

    s.answer_reads(|_, _| {});
    let old = s.call(request("GET", path, Some(&first), None));
    assert_eq!(old.status, 200, "{}", text(&old));
    assert_eq!(json_body(&old), json!({ "msg": "one" }));
    assert!(s.reads.is_empty(), "served from the entries read back");

    let with_receipt = s.call(request(
        "GET",
        "/app/log/private/historical_receipt?id=1",
        Some(&first),
        None,
    ));
    let body = json_body(&with_receipt);
    assert_eq!(body["msg"], "one", "{body}");
    assert!(
        body["receipt"]["leaf_components"]["commit_evidence"]
            .as_str()
            .unwrap()
            .starts_with(&format!("ce:{first}:"))
    );
    s.verify(&body["receipt"]);
}

#[test]
fn a_tampered_entry_is_refused_and_read_again_later() {
    let mut s = open_service();
    let first = s.write(1, "one");
    s.sign_and_persist();
    s.compact_past(seqno(&first));

    let path = "/app/log/private/historical?id=1";
    assert_fetching(&s.call(request("GET", path, Some(&first), None)), &first);
    // The disk gives back the entry with one byte of its ciphertext flipped.
    s.answer_reads(|_, entry| {
        let last = entry.len() - 1;
        entry[last] ^= 1;
    });
    let refused = s.call(request("GET", path, Some(&first), None));
    assert_eq!(refused.status, 500, "{}", text(&refused));
    let message = json_body(&refused)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("does not match the node's Merkle history"),
        "{message}"
    );
    // The failure was reported: the next query reads the entry again, and a good copy serves.
    assert_fetching(&s.call(request("GET", path, Some(&first), None)), &first);
    assert_eq!(s.reads.len(), 1);
    s.answer_reads(|_, _| {});
    let served = s.call(request("GET", path, Some(&first), None));
    assert_eq!(json_body(&served), json!({ "msg": "one" }));
}

#[test]
fn a_host_that_cannot_read_the_ledger_gets_a_500_not_202_for_ever() {
    let mut s = open_service();
    let first = s.write(1, "one");
    let second = s.write(2, "two");
    s.sign_and_persist();
    s.compact_past(seqno(&second));

    let path = "/app/log/private/historical?id=1";
    assert_fetching(&s.call(request("GET", path, Some(&first), None)), &first);
    let (from, to) = s.reads.pop().unwrap();
    s.h.core.handle(Input::LedgerEntries {
        from,
        to,
        entries: Err("ledger_1-20.committed: permission denied".to_owned()),
    });
    let failed = s.call(request("GET", path, Some(&first), None));
    assert_eq!(failed.status, 500, "{}", text(&failed));
    let message = json_body(&failed)["error"]["message"].clone();
    assert!(
        message.as_str().unwrap().contains(&format!(
            "the host could not read seqnos {from} to {to} back from the ledger files: \
             ledger_1-20.committed: permission denied"
        )),
        "{message}"
    );

    // A read the host never answers fails after its timeout.
    let path = "/app/log/private/historical?id=2";
    assert_fetching(&s.call(request("GET", path, Some(&second), None)), &second);
    assert_eq!(s.reads.len(), 1);
    s.h.now_ms += 31_000;
    s.h.core.handle(Input::Tick {
        now_ms: s.h.now_ms,
        now_unix: NOW,
    });
    s.drain();
    let late = s.call(request("GET", path, Some(&second), None));
    assert_eq!(late.status, 500, "{}", text(&late));
    assert!(text(&late).contains("did not read"), "{}", text(&late));
}

#[test]
fn get_state_range_reads_compacted_entries_back_then_returns_every_write() {
    let mut s = open_service();
    let writes: Vec<(String, &str)> = ["a", "b", "c"]
        .into_iter()
        .map(|msg| (s.write(7, msg), msg))
        .collect();
    s.sign_and_persist();
    let (from, last) = (seqno(&writes[0].0), seqno(&writes[2].0));
    s.compact_past(last);

    let path = format!("/app/log/private/historical/range?id=7&from_seqno={from}&to_seqno={last}");
    let fetching = s.call(request("GET", &path, None, None));
    assert_eq!(fetching.status, 202, "{}", text(&fetching));
    assert_eq!(s.reads, vec![(SeqNo(from), SeqNo(last))]);
    // Still being read: 202 again, no second read.
    assert_eq!(s.call(request("GET", &path, None, None)).status, 202);
    assert_eq!(s.reads.len(), 1);
    s.answer_reads(|_, _| {});
    let ready = s.call(request("GET", &path, None, None));
    assert_eq!(ready.status, 200, "{}", text(&ready));
    let expected: Vec<Value> = writes
        .iter()
        .map(|(txid, msg)| json!({ "seqno": seqno(txid), "id": 7, "msg": msg }))
        .collect();
    assert_eq!(json_body(&ready), json!({ "entries": expected }));
}
