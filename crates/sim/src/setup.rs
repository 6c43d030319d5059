//! Building a run's world from its seed: every key from one seeded entropy (signatures are
//! RFC 6979, so bytes replay), the genesis node, joiners admitted by a real `POST /node/join`
//! while the service is Opening, then the member opening the service by governance with the
//! real QuickJS constitution and adding the user.

use cloister_crypto::{
    Certificate, CertificateSpec, Curve, EcKeyPair, Entropy, SeededEntropy, issue_endorsed,
    issue_self_signed,
};
use cloister_js::{DEFAULT_CONSTITUTION, QuickJsConstitution};
use cloister_kv::LedgerSecrets;
use cloister_node::apps::logging::LoggingApp;
use cloister_node::core::{Frontends, NodeCore, NodeEnv, NodeSecrets, NodeSettings};
use cloister_node::{GenesisConfig, GenesisMember, NodeIdentity, ServiceIdentity};
use cloister_raft::RaftConfig;
use cloister_types::SeqNo;
use serde_json::{Value, json};

use crate::client::Client;
use crate::config::{
    ELECTION_TIMEOUT_MS, MESSAGE_TIMEOUT_MS, NOW_UNIX, RunConfig, SIG_MS_INTERVAL, SIG_TX_INTERVAL,
    TICK_MS,
};
use crate::faults::FaultPlan;
use crate::node::{Life, NodeDirectory, SimNode};
use crate::random::SimRng;
use crate::requests::{self, json_body};
use crate::world::World;
use crate::{SimError, setup_error};

/// Spare nodes beyond the initial ones, for joins during the run.
pub const SPARE_NODES: usize = 3;
/// Certificates are valid this long around `NOW_UNIX`.
const VALIDITY_S: i64 = 10_000_000;
/// How long setup may take, simulated.
const SETUP_MS_MAX: u64 = 30_000;

/// What node `index` is built with now: its settings, the real QuickJS constitution engine,
/// the built-ins and the logging app.
pub fn env(world: &mut World, index: usize) -> NodeEnv {
    NodeEnv {
        settings: settings(world, index),
        engine: Box::new(QuickJsConstitution::new()),
        frontends: Frontends::with_builtins(&[&LoggingApp]),
        now_ms: world.now_ms,
        now_unix: world.now_unix(),
    }
}

/// Node `index`'s settings (a fresh consensus seed each time it starts).
pub fn settings(world: &mut World, index: usize) -> NodeSettings {
    let member_pem = world
        .member
        .as_ref()
        .map(|(_, cert)| cert.to_pem())
        .unwrap_or_default();
    let address = world.nodes[index].address.clone();
    let mut settings = NodeSettings::with_genesis(GenesisConfig {
        members: vec![GenesisMember {
            cert_pem: member_pem,
            encryption_public_key_pem: None,
            member_data: None,
        }],
        constitution: DEFAULT_CONSTITUTION.to_owned(),
        recovery_threshold: 1,
        rpc_address: format!("10.0.0.{}:443", index + 1),
        node_to_node_address: address.clone(),
        node_encryption_public_key_pem: None,
    });
    settings.consensus = RaftConfig {
        election_timeout_ms: ELECTION_TIMEOUT_MS,
        message_timeout_ms: MESSAGE_TIMEOUT_MS,
        injected_bug: crate::bug::injected(world.bug),
        ..RaftConfig::default()
    };
    settings.consensus_seed = world.rng.next_u64();
    // Derived, not drawn from the world's generator: drawing more would shift every later
    // fault of every seed, and the regression seeds name schedules.
    settings.entropy_seed = cloister_crypto::sha256_concat(&[
        b"sim entropy_seed",
        &settings.consensus_seed.to_le_bytes(),
    ])
    .0;
    settings.node_to_node_address = address;
    settings.sig_ms_interval = SIG_MS_INTERVAL;
    settings.sig_tx_interval = SIG_TX_INTERVAL;
    settings
}

fn spec(cn: &str, is_ca: bool) -> CertificateSpec {
    CertificateSpec {
        subject_cn: cn.into(),
        sans: Vec::new(),
        not_before_unix: NOW_UNIX - 60,
        not_after_unix: NOW_UNIX + VALIDITY_S,
        is_ca,
    }
}

fn self_signed(
    entropy: &mut SeededEntropy,
    cn: &str,
) -> Result<(EcKeyPair, Certificate), SimError> {
    let key = EcKeyPair::generate(Curve::P384, entropy)?;
    let cert = issue_self_signed(&key, &spec(cn, false))?;
    Ok((key, cert))
}

/// A world for `config`, set up: genesis, joins, member active, user added, service open.
pub fn build(config: RunConfig) -> Result<World, SimError> {
    let mut rng = SimRng::new(config.seed);
    let drawn = FaultPlan::draw(&mut rng);
    let plan = config.faults.clone().unwrap_or(drawn);
    let mut entropy = SeededEntropy::from_seed(config.seed);
    let service = ServiceIdentity::generate(&mut entropy, NOW_UNIX - 60, NOW_UNIX + VALIDITY_S)?;
    let member = self_signed(&mut entropy, "member0")?;
    let user = self_signed(&mut entropy, "user0")?;
    let mut ledger_secret = [0u8; 32];
    entropy.fill_bytes(&mut ledger_secret);

    let mut world = World::new(config.clone(), rng, plan, Client::new(user.1));
    world.member = Some(member);
    let description = world.plan.describe();
    world.line(format!(
        "seed {} nodes {} {description}",
        config.seed, config.nodes
    ));
    for index in 0..config.nodes + SPARE_NODES {
        let (key, cert) = self_signed(&mut entropy, "CCF Node")?;
        let phase = world.rng.range(0, TICK_MS - 1);
        world.nodes.push(SimNode::new(index, &key, cert, phase));
    }

    start_genesis(&mut world, &service, ledger_secret)?;
    for index in 1..config.nodes {
        join(&mut world, index, 0)?;
    }
    let everyone = config.nodes;
    let configured = world.run_until(SETUP_MS_MAX, |w| {
        w.nodes[0]
            .summary
            .as_ref()
            .and_then(|s| s.configurations.last())
            .is_some_and(|c| c.len() == everyone)
    });
    if !configured {
        return Err(setup_error("the joiners never entered the configuration"));
    }
    open_service(&mut world, &service)?;
    world.line("service open");
    Ok(world)
}

fn start_genesis(
    world: &mut World,
    service: &ServiceIdentity,
    ledger_secret: [u8; 32],
) -> Result<(), SimError> {
    let key = world.nodes[0].key()?;
    let self_signed_cert = world.nodes[0].self_signed.clone();
    let endorsed_cert = issue_endorsed(
        &key.public_key(),
        &spec("CCF Node", false),
        &service.key,
        &service.cert,
    )?;
    world.nodes[0].directory = Some(NodeDirectory {
        node_key_pem: key.to_pem(),
        endorsed_cert_pem: endorsed_cert.to_pem(),
        self_signed_cert_pem: self_signed_cert.to_pem(),
        service_key_pem: service.key.to_pem(),
        service_cert_pem: service.cert_pem(),
        ledger_secrets: LedgerSecrets::with_first(ledger_secret),
    });
    let node = NodeIdentity {
        id: key.public_key().node_id(),
        key,
        endorsed_cert,
        self_signed_cert,
    };
    let service_copy = ServiceIdentity {
        key: EcKeyPair::from_pem(&service.key.to_pem())?.with_deterministic_signatures()?,
        cert: service.cert.clone(),
    };
    let env = env(world, 0);
    let core = NodeCore::start(
        env,
        NodeSecrets {
            node,
            service: service_copy,
            ledger_secret,
        },
    )?;
    world.nodes[0].core = Some(core);
    world.nodes[0].life = Life::Up;
    world.schedule_ticks(0);
    world.drain(0);
    world.line("n0 genesis");
    let signed = world.run_until(SETUP_MS_MAX, |w| {
        w.nodes[0]
            .summary
            .as_ref()
            .is_some_and(|s| s.commit.seqno >= SeqNo(2))
    });
    if signed {
        Ok(())
    } else {
        Err(setup_error("the genesis transaction never committed"))
    }
}

/// Node `index` asks node `via` to join; once Trusted it starts as an empty backup.
/// `Ok(false)` while it is still Pending (an Open service waits for members to trust it).
pub fn join(world: &mut World, index: usize, via: usize) -> Result<bool, SimError> {
    let key = world.nodes[index].key()?;
    let cert = world.nodes[index].self_signed.clone();
    let address = world.nodes[index].address.clone();
    let request = requests::join(&key, &cert, &address)?;
    let response = world
        .call(via, request, 2_000)
        .ok_or_else(|| setup_error(format!("n{index}: no answer to POST /node/join")))?;
    let body = json_body(&response);
    if response.status != 200 {
        return Err(setup_error(format!(
            "n{index}: POST /node/join answered {}: {body}",
            response.status
        )));
    }
    if body["node_status"] != "Trusted" {
        return Ok(false);
    }
    start_joiner(world, index, &body)?;
    let text = format!("n{index} joined via n{via}");
    world.line(text);
    Ok(true)
}

/// Starts node `index` from a Trusted JoinOut (`body`): an empty backup catching up by Raft.
pub fn start_joiner(world: &mut World, index: usize, body: &Value) -> Result<(), SimError> {
    let directory = directory_from(&body["network_info"], &world.nodes[index])?;
    let secrets = directory.join_secrets()?;
    world.nodes[index].directory = Some(directory);
    let env = env(world, index);
    let core = NodeCore::join(env, secrets)?;
    let node = &mut world.nodes[index];
    node.core = Some(core);
    node.life = Life::Up;
    world.schedule_ticks(index);
    world.drain(index);
    Ok(())
}

/// What a Trusted joiner keeps from JoinOut's `network_info`.
fn directory_from(info: &Value, node: &SimNode) -> Result<NodeDirectory, SimError> {
    use base64::Engine;
    let text = |value: &Value, what: &str| {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| setup_error(format!("network_info has no {what}")))
    };
    let mut ledger_secrets = LedgerSecrets::new();
    for pair in info["ledger_secrets"].as_array().into_iter().flatten() {
        let start = pair[0]
            .as_u64()
            .ok_or_else(|| setup_error("bad ledger secret"))?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(pair[1]["raw_key"].as_str().unwrap_or_default())
            .map_err(|e| setup_error(format!("ledger secret: {e}")))?;
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| setup_error("a ledger secret is not 32 bytes"))?;
        ledger_secrets
            .add(SeqNo(start), raw)
            .map_err(|e| setup_error(format!("ledger secret: {e}")))?;
    }
    Ok(NodeDirectory {
        node_key_pem: node.key_pem.clone(),
        endorsed_cert_pem: text(&info["endorsed_certificate"], "endorsed_certificate")?,
        self_signed_cert_pem: node.self_signed.to_pem(),
        service_key_pem: text(&info["identity"]["priv_key"], "identity.priv_key")?,
        service_cert_pem: text(&info["identity"]["cert"], "identity.cert")?,
        ledger_secrets,
    })
}

/// Sends a governance request to node `via`; the answer if 2xx.
pub fn gov(
    world: &mut World,
    via: usize,
    path: &str,
    msg_type: &str,
    proposal_id: Option<&str>,
    payload: &[u8],
) -> Result<Value, SimError> {
    let now_unix = world.now_unix();
    let member = world
        .member
        .as_ref()
        .ok_or_else(|| setup_error("no member"))?;
    let request = requests::gov(member, path, msg_type, proposal_id, payload, now_unix)?;
    let response = world
        .call(via, request, 2_000)
        .ok_or_else(|| setup_error(format!("{path}: no answer")))?;
    let body = json_body(&response);
    if (200..300).contains(&response.status) {
        Ok(body)
    } else {
        Err(setup_error(format!("{path}: {} {body}", response.status)))
    }
}

/// Proposes `proposal` and votes for it; the proposal's state after the vote.
pub fn pass(world: &mut World, via: usize, proposal: &Value) -> Result<String, SimError> {
    let created = gov(
        world,
        via,
        "/gov/members/proposals:create",
        "proposal",
        None,
        proposal.to_string().as_bytes(),
    )?;
    let id = created["proposalId"]
        .as_str()
        .ok_or_else(|| setup_error("no proposalId"))?
        .to_owned();
    let member_id = member_id(world)?;
    let ballot = json!({ "ballot": "export function vote (proposal, proposerId) { return true }" });
    let voted = gov(
        world,
        via,
        &format!("/gov/members/proposals/{id}/ballots/{member_id}:submit"),
        "ballot",
        Some(&id),
        ballot.to_string().as_bytes(),
    )?;
    Ok(voted["proposalState"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// The member's id.
fn member_id(world: &World) -> Result<String, SimError> {
    world
        .member
        .as_ref()
        .map(requests::member_id)
        .ok_or_else(|| setup_error("no member"))
}

fn open_service(world: &mut World, service: &ServiceIdentity) -> Result<(), SimError> {
    let member_id = member_id(world)?;
    let update = gov(
        world,
        0,
        &format!("/gov/members/state-digests/{member_id}:update"),
        "state_digest",
        None,
        b"",
    )?;
    let digest = update["stateDigest"].clone();
    gov(
        world,
        0,
        &format!("/gov/members/state-digests/{member_id}:ack"),
        "ack",
        None,
        json!({ "stateDigest": digest }).to_string().as_bytes(),
    )?;
    let user_pem = world.client.user.to_pem();
    let state = pass(
        world,
        0,
        &json!({ "actions": [
            { "name": "set_user", "args": { "cert": user_pem } },
            { "name": "transition_service_to_open",
              "args": { "next_service_identity": service.cert_pem() } },
        ]}),
    )?;
    if state != "Accepted" {
        return Err(setup_error(format!(
            "opening the service: proposal {state}"
        )));
    }
    let user = world.client.user.clone();
    let deadline = world.now_ms + SETUP_MS_MAX;
    while world.now_ms < deadline {
        let probe = world.call(0, requests::read(&user, 0), 1_000);
        if probe.is_some_and(|r| json_body(&r)["error"]["code"] != "FrontendNotOpen") {
            return Ok(());
        }
        let until = world.now_ms + 100;
        world.run_until(until, |_| false);
    }
    Err(setup_error("the service never opened"))
}
