//! Several NodeCores replicating through CCF's Raft, sans-IO: a three-node service commits on a

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure
//! quorum, every node holds byte-identical ledgers, a backup forwards writes to the primary,
//! and the service survives losing its primary. (The simulator, cloister-sim, does this under
//! faults; these tests pin the happy paths down one step at a time.)

mod support;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cloister_crypto::{Certificate, EcKeyPair, SeededEntropy};
use cloister_kv::LedgerSecrets;
use cloister_node::apps::logging::LoggingApp;
use cloister_node::core::{
    Frontends, Input, JoinSecrets, NodeCore, NodeEnv, NodeSettings, Output, PersistedState,
};
use cloister_node::rpc::{Request, Response};
use cloister_node::{GenesisConfig, NodeIdentity, ServiceIdentity};
use cloister_raft::Leadership;
use cloister_types::{NodeId, SeqNo, TxId, View};
use serde_json::json;
use support::{AcceptAll, Harness, Identities, NOW, identity, json_body, random_ledger_secret};

const NODES_INFO: &str = "public:ccf.gov.nodes.info";
const TICK_MS: u64 = 10;
/// The genesis node signs unsigned writes after CCF's default `ledger_signatures.delay` (1 s).
const SIGNED_AFTER_MS: u64 = 1_200;
/// Snapshots every few transactions, so that tests see them.
const SNAPSHOT_TX_INTERVAL: u64 = 25;
/// Consensus forgets entries this far below the latest committed snapshot.
const RAFT_LOG_RETAINED_ENTRIES: u64 = 5;

/// Nodes wired to each other by a lossless, in-order network and instant disks.
struct Cluster {
    nodes: Vec<Option<NodeCore>>,
    ids: Vec<NodeId>,
    ledgers: Vec<Vec<Vec<u8>>>,
    network: VecDeque<(usize, usize, Vec<u8>)>,
    responses: BTreeMap<(usize, u64), Response>,
    votes: BTreeMap<usize, (View, NodeId)>,
    snapshot_files: BTreeMap<(usize, String), Vec<u8>>,
    committed_snapshots: BTreeMap<usize, (String, Vec<u8>)>,
    now_ms: u64,
    session: u64,
}

impl Cluster {
    /// Drains every node's outputs and delivers every message, until all is quiet.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut busy = false;
            for index in 0..self.nodes.len() {
                busy |= self.drain(index);
            }
            while let Some((from, to, bytes)) = self.network.pop_front() {
                busy = true;
                let from = self.ids[from].clone();
                if let Some(node) = self.nodes[to].as_mut() {
                    node.handle(Input::Peer { from, bytes });
                }
            }
            if !busy {
                return;
            }
        }
        panic!("the cluster never settled");
    }

    fn drain(&mut self, index: usize) -> bool {
        let mut busy = false;
        loop {
            let Some(node) = self.nodes[index].as_mut() else {
                return busy;
            };
            let mut appended = None;
            while let Some(output) = node.poll_output() {
                busy = true;
                match output {
                    Output::Respond { session, response } => {
                        self.responses.insert((index, session), response);
                    }
                    Output::AppendLedger { seqno, entry, .. } => {
                        assert_eq!(seqno.0 as usize, self.ledgers[index].len() + 1);
                        self.ledgers[index].push(entry);
                        appended = Some(seqno);
                    }
                    Output::TruncateLedger { after } => {
                        self.ledgers[index].truncate(after.0 as usize);
                        appended = appended.filter(|seqno| *seqno <= after);
                    }
                    Output::SendPeer { to, bytes } => {
                        let to = self.ids.iter().position(|id| *id == to).unwrap();
                        self.network.push_back((index, to, bytes));
                    }
                    Output::Voted { view, voted_for } => {
                        self.votes.insert(index, (view, voted_for));
                    }
                    Output::WriteSnapshot { name, bytes } => {
                        self.snapshot_files.insert((index, name), bytes);
                    }
                    Output::CommitSnapshot { name, receipt } => {
                        let mut bytes = self.snapshot_files.remove(&(index, name.clone())).unwrap();
                        bytes.extend_from_slice(&receipt);
                        self.committed_snapshots
                            .insert(index, (format!("{name}.committed"), bytes));
                    }
                    Output::CommitLedger { .. }
                    | Output::Peers { .. }
                    | Output::LaunchProcess { .. }
                    | Output::ReadLedger { .. }
                    | Output::AppLog { .. }
                    | Output::NodeLog { .. }
                    | Output::JsExecuted { .. } => {}
                }
            }
            match appended {
                Some(up_to) => node.handle(Input::Persisted { up_to }),
                None => return busy,
            }
        }
    }

    /// Lets `ms` pass on every live node, in ticks.
    fn run_for(&mut self, ms: u64) {
        for _ in 0..ms / TICK_MS {
            self.now_ms += TICK_MS;
            for node in self.nodes.iter_mut().flatten() {
                node.handle(Input::Tick {
                    now_ms: self.now_ms,
                    now_unix: NOW,
                });
            }
            self.settle();
        }
    }

    /// Sends `request` to node `index` and returns its answer once the cluster settled.
    fn call(&mut self, index: usize, request: Request) -> Response {
        self.session += 1;
        let session = self.session;
        self.nodes[index]
            .as_mut()
            .unwrap()
            .handle(Input::Request { session, request });
        for _ in 0..100 {
            self.settle();
            if let Some(response) = self.responses.remove(&(index, session)) {
                return response;
            }
            self.run_for(TICK_MS);
        }
        panic!("no response from node {index}");
    }

    fn node(&self, index: usize) -> &NodeCore {
        self.nodes[index].as_ref().unwrap()
    }

    fn primary(&self) -> Option<usize> {
        (0..self.nodes.len()).find(|index| {
            self.nodes[*index]
                .as_ref()
                .is_some_and(|node| node.consensus().role == Leadership::Leader)
        })
    }
}

/// A copy of the service identity, as a trusted joiner receives it.
fn copy_service(service: &ServiceIdentity) -> ServiceIdentity {
    ServiceIdentity {
        key: EcKeyPair::from_pem(&service.key.to_pem()).unwrap(),
        cert: Certificate::from_pem(&service.cert_pem()).unwrap(),
    }
}

/// A joiner's environment: its settings, the test constitution engine, the logging app.
fn env(seed: u64, n2n: &str, now_ms: u64) -> NodeEnv {
    NodeEnv {
        settings: settings(seed, n2n),
        engine: Box::new(AcceptAll),
        frontends: Frontends::with_builtins(&[&LoggingApp]),
        now_ms,
        now_unix: NOW,
    }
}

fn settings(seed: u64, n2n: &str) -> NodeSettings {
    let mut settings = NodeSettings::with_genesis(GenesisConfig {
        members: Vec::new(),
        constitution: String::new(),
        recovery_threshold: 1,
        rpc_address: "127.0.0.1:0".into(),
        node_to_node_address: n2n.into(),
        node_encryption_public_key_pem: None,
    });
    settings.consensus.election_timeout_ms = 1_000;
    settings.consensus_seed = seed;
    settings.sig_ms_interval = 50;
    settings.snapshot_tx_interval = SNAPSHOT_TX_INTERVAL;
    settings.raft_log_retained_entries = RAFT_LOG_RETAINED_ENTRIES;
    settings
}

fn post(path: &str, body: serde_json::Value, cert: &Certificate) -> Request {
    Request {
        method: "POST".into(),
        path: path.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
        client_cert_der: Some(cert.der().to_vec()),
        ..Request::default()
    }
}

fn get(path: &str, query: &str, cert: &Certificate) -> Request {
    Request {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        client_cert_der: Some(cert.der().to_vec()),
        ..Request::default()
    }
}

fn txid_of(response: &Response) -> TxId {
    response
        .headers
        .iter()
        .find(|(name, _)| name == "x-ms-ccf-transaction-id")
        .map(|(_, value)| value.parse().unwrap())
        .expect("a transaction id")
}

/// An open one-node service with user0, grown to three nodes by trusting two joiners.
fn three_node_service() -> (Cluster, Certificate) {
    let (cluster, user, _) = three_node_service_with_joiners();
    (cluster, user)
}

/// The joiners' identities (as PEMs) and the ledger secret, for restarting them.
struct Kept {
    joiners: Vec<(String, String)>,
    service: ServiceIdentity,
    ledger_secret: [u8; 32],
}

/// A started single-node service with member0 active, user0 added and the service open
/// (AcceptAll accepts every proposal when it is created), and what the tests need of it.
struct OpenService {
    h: Harness,
    entropy: SeededEntropy,
    user: Certificate,
    service: ServiceIdentity,
    ledger_secret: [u8; 32],
}

fn open_service(seed: u64, adjust: impl FnOnce(&mut NodeSettings)) -> OpenService {
    let mut entropy = SeededEntropy::from_seed(seed);
    let identities = Identities::generate(&mut entropy, vec!["127.0.0.1".into()]);
    let service = copy_service(&identities.service);
    let member = identity(&mut entropy, "member0");
    let (_, user) = identity(&mut entropy, "user0");
    let ledger_secret = random_ledger_secret(&mut entropy);
    let mut h = Harness::start_genesis_with(
        identities,
        &member.1,
        String::new(),
        ledger_secret,
        Box::new(AcceptAll),
        Frontends::with_builtins(&[&LoggingApp]),
        adjust,
    );
    h.activate_member(&member);
    let proposal = json!({ "actions": [
        { "name": "set_user", "args": { "cert": user.to_pem() } },
        { "name": "transition_service_to_open",
          "args": { "next_service_identity": service.cert_pem() } },
    ]});
    let created = h.gov(
        &member,
        "/gov/members/proposals:create",
        "proposal",
        None,
        proposal.to_string().as_bytes(),
    );
    assert_eq!(json_body(&created)["proposalState"], "Accepted");
    h.sign_and_persist();
    OpenService {
        h,
        entropy,
        user,
        service,
        ledger_secret,
    }
}

fn three_node_service_with_joiners() -> (Cluster, Certificate, Kept) {
    let OpenService {
        h,
        mut entropy,
        user: user_cert,
        service,
        ledger_secret,
    } = open_service(42, |settings| {
        settings.snapshot_tx_interval = SNAPSHOT_TX_INTERVAL;
        settings.raft_log_retained_entries = RAFT_LOG_RETAINED_ENTRIES;
    });

    let mut ids = vec![h.core.node_id().clone()];
    let mut nodes = vec![Some(h.core)];
    let mut joiners = Vec::new();
    let mut kept_joiners = Vec::new();
    for index in 1..3u64 {
        let node = NodeIdentity::generate(
            &mut entropy,
            &service,
            vec!["127.0.0.1".into()],
            NOW - 10,
            NOW + 1_000_000,
        )
        .unwrap();
        joiners.push((
            node.id.clone(),
            node.cert_pem(),
            format!("127.0.0.1:{}", 9000 + index),
        ));
        kept_joiners.push((node.key.to_pem(), node.cert_pem()));
        ids.push(node.id.clone());
        let core = NodeCore::join(
            env(index, &format!("127.0.0.1:{}", 9000 + index), 0),
            JoinSecrets {
                node,
                service: copy_service(&service),
                ledger_secrets: LedgerSecrets::with_first(ledger_secret),
            },
        )
        .unwrap();
        nodes.push(Some(core));
    }
    let mut cluster = Cluster {
        ledgers: vec![Vec::new(); nodes.len()],
        nodes,
        ids,
        network: VecDeque::new(),
        responses: BTreeMap::new(),
        votes: BTreeMap::new(),
        snapshot_files: BTreeMap::new(),
        committed_snapshots: BTreeMap::new(),
        now_ms: h.now_ms,
        session: 1_000,
    };
    // The genesis node's ledger so far (the harness persisted it without keeping the bytes).
    cluster.ledgers[0] = vec![Vec::new(); h.persisted as usize];
    // What CCF's /node/join does while Opening, and transition_node_to_trusted after: the
    // joiners become Trusted, which reconfigures consensus in one transaction.
    let primary = cluster.nodes[0].as_mut().unwrap();
    primary
        .execute_internal(|tx| {
            for (id, cert, address) in &joiners {
                let info = json!({
                    "status": "Trusted",
                    "cert": cert,
                    "node_to_node_interface": { "published_address": address },
                });
                tx.put(
                    NODES_INFO,
                    id.as_str().as_bytes().to_vec(),
                    info.to_string(),
                );
            }
        })
        .unwrap();
    cluster.run_for(500);
    let kept = Kept {
        joiners: kept_joiners,
        service: copy_service(&service),
        ledger_secret,
    };
    (cluster, user_cert, kept)
}

#[test]
fn three_nodes_commit_on_a_quorum_with_identical_ledgers() {
    let (mut cluster, user) = three_node_service();
    assert_eq!(cluster.primary(), Some(0));
    let configuration = cluster.node(0).consensus().configurations;
    assert_eq!(
        configuration.last().unwrap(),
        &cluster.ids.iter().cloned().collect::<BTreeSet<_>>()
    );

    let written = cluster.call(
        0,
        post("/app/log/private", json!({"id": 1, "msg": "hello"}), &user),
    );
    assert_eq!(
        written.status,
        200,
        "{}",
        String::from_utf8_lossy(&written.body)
    );
    let txid = txid_of(&written);
    cluster.run_for(SIGNED_AFTER_MS);

    for index in 0..3 {
        let node = cluster.node(index);
        assert!(
            node.commit().seqno >= txid.seqno,
            "node {index} did not commit {txid}"
        );
        assert_eq!(node.consensus().primary.as_ref(), Some(&cluster.ids[0]));
    }
    // Backups hold the same entries as the primary, byte for byte (the genesis node's first
    // entries were persisted before this test kept bytes, so compare what both have).
    let last = cluster.ledgers[1].len();
    assert!(last as u64 >= txid.seqno.0);
    assert!(
        cluster.ledgers[1] == cluster.ledgers[2],
        "backups' ledgers differ"
    );
    let kept_from = cluster.ledgers[0]
        .iter()
        .position(|entry| !entry.is_empty())
        .unwrap();
    assert!(
        cluster.ledgers[0][kept_from..last] == cluster.ledgers[1][kept_from..last],
        "the primary's and a backup's ledgers differ"
    );
    // Every node names the same primary; a backup sends /node/primary and joiners there.
    for index in 0..3 {
        let nodes = cluster.call(index, get("/node/network/nodes", "", &user));
        let nodes = json_body(&nodes);
        let primaries: Vec<&str> = nodes["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|node| node["primary"] == true)
            .map(|node| node["node_id"].as_str().unwrap())
            .collect();
        assert_eq!(primaries, vec![cluster.ids[0].as_str()], "node {index}");
    }
    let primary = cluster.call(1, get("/node/primary", "", &user));
    assert_eq!(primary.status, 308);
    assert_eq!(cluster.call(0, get("/node/primary", "", &user)).status, 200);
    let join = cluster.call(2, post("/node/join", json!({}), &user));
    assert_eq!(join.status, 308);
    assert!(
        join.headers
            .iter()
            .any(|(name, value)| name == "location" && value.ends_with("/node/join"))
    );
    // A backup reads the message locally.
    let read = cluster.call(1, get("/app/log/private", "id=1", &user));
    assert_eq!(read.status, 200, "{}", String::from_utf8_lossy(&read.body));
    assert_eq!(json_body(&read)["msg"], "hello");
}

#[test]
fn a_write_sent_to_a_backup_is_forwarded_committed_and_visible_everywhere() {
    let (mut cluster, user) = three_node_service();
    let written = cluster.call(
        2,
        post(
            "/app/log/private",
            json!({"id": 7, "msg": "via backup"}),
            &user,
        ),
    );
    assert_eq!(
        written.status,
        200,
        "{}",
        String::from_utf8_lossy(&written.body)
    );
    let txid = txid_of(&written);
    cluster.run_for(SIGNED_AFTER_MS);
    for index in 0..3 {
        assert!(cluster.node(index).commit().seqno >= txid.seqno);
        let read = cluster.call(index, get("/app/log/private", "id=7", &user));
        assert_eq!(json_body(&read)["msg"], "via backup", "node {index}");
    }
    let status = cluster.call(1, get("/app/tx", &format!("transaction_id={txid}"), &user));
    assert_eq!(json_body(&status)["status"], "Committed");
}

#[test]
fn losing_the_primary_elects_another_that_keeps_committing() {
    let (mut cluster, user) = three_node_service();
    let before = cluster.call(
        0,
        post("/app/log/private", json!({"id": 1, "msg": "before"}), &user),
    );
    let before = txid_of(&before);
    cluster.run_for(SIGNED_AFTER_MS);
    assert!(cluster.node(1).commit().seqno >= before.seqno);

    cluster.nodes[0] = None; // crashed
    cluster
        .network
        .retain(|(from, to, _)| *from != 0 && *to != 0);
    cluster.run_for(3_000); // election timeout 1 s, randomised in [0.5, 1] s
    let primary = cluster.primary().expect("a new primary");
    assert_ne!(primary, 0);
    let view = cluster.node(primary).consensus().view;
    assert!(view > before.view);

    let after = cluster.call(
        primary,
        post("/app/log/private", json!({"id": 2, "msg": "after"}), &user),
    );
    assert_eq!(
        after.status,
        200,
        "{}",
        String::from_utf8_lossy(&after.body)
    );
    let after = txid_of(&after);
    assert_eq!(after.view, view);
    cluster.run_for(SIGNED_AFTER_MS);
    for index in [1, 2] {
        let node = cluster.node(index);
        assert!(node.commit().seqno >= after.seqno, "node {index}");
        let read = cluster.call(index, get("/app/log/private", "id=1", &user));
        assert_eq!(
            json_body(&read)["msg"],
            "before",
            "a committed write survived"
        );
    }
    assert!(cluster.ledgers[1] == cluster.ledgers[2], "ledgers differ");
}

#[test]
fn a_crashed_backup_restarts_from_its_ledger_and_catches_up() {
    let (mut cluster, user, kept) = three_node_service_with_joiners();
    let first = cluster.call(
        0,
        post("/app/log/private", json!({"id": 1, "msg": "one"}), &user),
    );
    let first = txid_of(&first);
    cluster.run_for(SIGNED_AFTER_MS);

    // Node 2 crashes; writes go on without it.
    cluster.nodes[2] = None;
    let second = cluster.call(
        0,
        post("/app/log/private", json!({"id": 2, "msg": "two"}), &user),
    );
    let second = txid_of(&second);
    cluster.run_for(SIGNED_AFTER_MS);
    assert!(cluster.node(1).commit().seqno >= second.seqno);

    // It restarts with its identity, its ledger (a torn tail included) and its last vote.
    let mut entries = cluster.ledgers[2].clone();
    assert!(entries.len() as u64 >= first.seqno.0);
    entries.push(vec![1, 0, 200, 0]); // a torn write: not an entry
    let restart = |entries: Vec<Vec<u8>>| {
        let (key_pem, cert_pem) = &kept.joiners[1];
        let cert = Certificate::from_pem(cert_pem).unwrap();
        let node = NodeIdentity {
            id: cluster.ids[2].clone(),
            self_signed_cert: cert.clone(),
            endorsed_cert: cert,
            key: EcKeyPair::from_pem(key_pem).unwrap(),
        };
        NodeCore::restart(
            env(2, "127.0.0.1:9002", cluster.now_ms),
            JoinSecrets {
                node,
                service: copy_service(&kept.service),
                ledger_secrets: LedgerSecrets::with_first(kept.ledger_secret),
            },
            PersistedState {
                entries,
                committed: SeqNo(0),
                vote: cluster.votes.get(&2).cloned(),
                snapshot: None,
            },
        )
    };
    // A flipped bit anywhere but a torn last write: the node refuses to run on that ledger.
    let mut damaged = entries.clone();
    damaged[4][40] ^= 1;
    let refused = restart(damaged).unwrap_err().to_string();
    assert!(refused.contains("seqno 5 is damaged"), "{refused}");
    let restarted = restart(entries).unwrap();
    cluster.nodes[2] = Some(restarted);
    cluster.run_for(SIGNED_AFTER_MS);

    let node = cluster.node(2);
    assert!(
        node.commit().seqno >= second.seqno,
        "the restarted node caught up"
    );
    assert!(
        cluster.ledgers[1] == cluster.ledgers[2],
        "ledgers differ after the restart"
    );
    let read = cluster.call(2, get("/app/log/private", "id=2", &user));
    assert_eq!(json_body(&read)["msg"], "two");
}

#[test]
fn a_backup_does_not_forward_requests_that_arrived_over_http2() {
    let (mut cluster, user) = three_node_service();
    let mut request = post("/app/log/private", json!({"id": 3, "msg": "h2"}), &user);
    request.http2 = true;
    let refused = cluster.call(1, request.clone());
    assert_eq!(
        refused.status,
        501,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
    assert_eq!(
        json_body(&refused)["error"]["message"],
        "Request cannot be forwarded to primary on HTTP/2 interface."
    );
    // The primary runs it: nothing to forward.
    assert_eq!(cluster.call(0, request).status, 200);
}

#[test]
fn every_node_snapshots_and_a_new_node_joins_from_a_backups_snapshot() {
    let (mut cluster, user, kept) = three_node_service_with_joiners();
    for id in 0..40 {
        let written = cluster.call(
            0,
            post(
                "/app/log/private",
                json!({"id": id, "msg": format!("m{id}")}),
                &user,
            ),
        );
        assert_eq!(written.status, 200);
    }
    // A signature makes the snapshot; once it commits the evidence follows, and once a
    // signature after the evidence commits the snapshot is committed.
    cluster.run_for(3 * SIGNED_AFTER_MS);
    // Each node wrote the same committed snapshot, evidence receipt appended.
    let (name, bytes) = cluster
        .committed_snapshots
        .get(&1)
        .cloned()
        .expect("a committed snapshot");
    for index in [0, 2] {
        assert_eq!(
            cluster.committed_snapshots.get(&index),
            Some(&(name.clone(), bytes.clone())),
            "node {index}"
        );
    }
    assert!(
        name.starts_with("snapshot_") && name.ends_with(".committed"),
        "{name}"
    );
    // Consensus forgot the entries well below the snapshot, on every node.
    let snapshot_seqno: u64 = name
        .trim_start_matches("snapshot_")
        .split('_')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    for index in 0..3 {
        let first_held = cluster.node(index).consensus().log_first_held.0;
        assert!(
            first_held > 1 && first_held <= snapshot_seqno,
            "node {index}: {first_held}"
        );
    }
    // A joiner downloads it from any node: /node/snapshot redirects, ranges are served.
    let redirect = cluster.call(1, get("/node/snapshot", "", &user));
    assert_eq!(redirect.status, 308);
    let location = redirect
        .headers
        .iter()
        .find(|(header, _)| header == "location")
        .map(|(_, value)| value.clone())
        .unwrap();
    assert_eq!(location, format!("/node/snapshot/{name}"));
    let mut downloaded = Vec::new();
    while downloaded.len() < bytes.len() {
        let mut request = get(&location, "", &user);
        let start = downloaded.len();
        request
            .headers
            .push(("range".into(), format!("bytes={start}-{}", start + 999)));
        let part = cluster.call(1, request);
        assert_eq!(part.status, 206);
        downloaded.extend_from_slice(&part.body);
    }
    assert!(downloaded == bytes, "the downloaded snapshot differs");
    let since = name
        .trim_start_matches("snapshot_")
        .split('_')
        .next()
        .unwrap();
    assert_eq!(
        cluster
            .call(1, get("/node/snapshot", &format!("since={since}"), &user))
            .status,
        404
    );

    // A fourth node, trusted by the primary, starts from that snapshot and catches up.
    let mut entropy = SeededEntropy::from_seed(99);
    let node = NodeIdentity::generate(
        &mut entropy,
        &kept.service,
        vec!["127.0.0.1".into()],
        NOW - 10,
        NOW + 1_000_000,
    )
    .unwrap();
    let id = node.id.clone();
    let cert = node.cert_pem();
    let key_pem = node.key.to_pem();
    let joiner = NodeCore::join_from_snapshot(
        env(3, "127.0.0.1:9003", cluster.now_ms),
        JoinSecrets {
            node,
            service: copy_service(&kept.service),
            ledger_secrets: LedgerSecrets::with_first(kept.ledger_secret),
        },
        &name,
        &bytes,
    )
    .unwrap();
    let first = joiner.first_ledger_seqno();
    assert!(first.0 > 1);
    cluster.ids.push(id.clone());
    cluster.nodes.push(Some(joiner));
    cluster.ledgers.push(vec![Vec::new(); first.0 as usize - 1]);
    cluster.nodes[0].as_mut().unwrap().execute_internal(|tx| {
        let info = json!({ "status": "Trusted", "cert": cert, "node_to_node_interface": { "published_address": "127.0.0.1:9003" } });
        tx.put(NODES_INFO, id.as_str().as_bytes().to_vec(), info.to_string());
    }).unwrap();
    let after = cluster.call(
        0,
        post(
            "/app/log/private",
            json!({"id": 100, "msg": "after"}),
            &user,
        ),
    );
    let after = txid_of(&after);
    cluster.run_for(SIGNED_AFTER_MS);
    assert!(
        cluster.node(3).commit().seqno >= after.seqno,
        "the snapshot joiner caught up"
    );
    assert_eq!(
        cluster
            .node(0)
            .consensus()
            .configurations
            .last()
            .unwrap()
            .len(),
        4
    );
    for (id, msg) in [(3, "m3"), (100, "after")] {
        let read = cluster.call(3, get("/app/log/private", &format!("id={id}"), &user));
        assert_eq!(
            json_body(&read)["msg"],
            msg,
            "id {id} on the snapshot joiner"
        );
    }
    let from = first.0 as usize - 1;
    let last = cluster.ledgers[3].len();
    assert!(
        cluster.ledgers[3][from..last] == cluster.ledgers[1][from..last],
        "ledgers after the snapshot differ"
    );

    // The snapshot joiner crashes and restarts from its snapshot and its ledger after it.
    cluster.nodes[3] = None;
    let more = cluster.call(
        0,
        post("/app/log/private", json!({"id": 101, "msg": "more"}), &user),
    );
    let more = txid_of(&more);
    cluster.run_for(SIGNED_AFTER_MS);
    let entries = cluster.ledgers[3][from..].to_vec();
    let cert_der = Certificate::from_pem(&cert).unwrap();
    let restarted = NodeCore::restart(
        env(3, "127.0.0.1:9003", cluster.now_ms),
        JoinSecrets {
            node: NodeIdentity {
                id: id.clone(),
                key: EcKeyPair::from_pem(&key_pem).unwrap(),
                endorsed_cert: cert_der.clone(),
                self_signed_cert: cert_der,
            },
            service: copy_service(&kept.service),
            ledger_secrets: LedgerSecrets::with_first(kept.ledger_secret),
        },
        PersistedState {
            entries,
            committed: SeqNo(0),
            vote: cluster.votes.get(&3).cloned(),
            snapshot: Some((name.clone(), bytes.clone())),
        },
    )
    .unwrap();
    cluster.nodes[3] = Some(restarted);
    cluster.run_for(SIGNED_AFTER_MS);
    assert!(
        cluster.node(3).commit().seqno >= more.seqno,
        "the restarted joiner caught up"
    );
    let read = cluster.call(3, get("/app/log/private", "id=101", &user));
    assert_eq!(json_body(&read)["msg"], "more");

    // A snapshot whose receipt does not prove it is refused.
    let mut tampered = bytes.clone();
    tampered[100] ^= 1;
    let mut entropy = SeededEntropy::from_seed(100);
    let node = NodeIdentity::generate(
        &mut entropy,
        &kept.service,
        vec![],
        NOW - 10,
        NOW + 1_000_000,
    )
    .unwrap();
    let refused = NodeCore::join_from_snapshot(
        env(4, "127.0.0.1:9004", cluster.now_ms),
        JoinSecrets {
            node,
            service: copy_service(&kept.service),
            ledger_secrets: LedgerSecrets::with_first(kept.ledger_secret),
        },
        &name,
        &tampered,
    );
    assert!(refused.is_err());
}

#[test]
fn a_primary_holding_too_many_uncommitted_transactions_refuses_writes_until_they_commit() {
    let OpenService { mut h, user, .. } = open_service(7, |settings| {
        settings.consensus.max_uncommitted_tx_count = 4;
    });
    // `call` appends without reporting persistence: nothing commits meanwhile.
    let mut statuses = Vec::new();
    for id in 0..6 {
        let response = h.call(post(
            "/app/log/private",
            json!({"id": id, "msg": "m"}),
            &user,
        ));
        statuses.push(response.status);
        if response.status == 503 {
            assert_eq!(
                json_body(&response)["error"]["code"],
                "TooManyPendingTransactions"
            );
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 503, 503]);
    // Reads still work; once the writes commit, writes are taken again.
    assert_eq!(h.call(get("/app/log/private", "id=0", &user)).status, 200);
    h.sign_and_persist();
    let after = h.call(post(
        "/app/log/private",
        json!({"id": 9, "msg": "m"}),
        &user,
    ));
    assert_eq!(after.status, 200);
}
