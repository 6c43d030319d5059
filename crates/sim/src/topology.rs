//! Topology changes during the safety phase, by governance through the primary: a spare node
//! joins (`POST /node/join` leaves it Pending in an Open service; the member passes
//! `transition_node_to_trusted`; polling `/node/join` again returns `network_info` and the node
//! starts), or a node is retired (`remove_node`). Each step is a request whose answer arrives
//! later; a failed step (no primary, a lost answer, a refused proposal) is retried after a second
//! so that the signed request's `created_at` differs.

use serde_json::{Value, json};

use crate::client::Pending;
use crate::config::{NOW_UNIX, TICK_MS};
use cloister_check::invariants::quorum;

use crate::node::Life;
use crate::requests::{self, json_body};
use crate::world::{Event, World, short};

/// Retries wait this long (governance requests carry whole seconds).
const RETRY_MS: u64 = 1_000;
/// A joiner polls `/node/join` this often.
const JOIN_POLL_MS: u64 = 100;
/// Answers not back by then are given up on.
const ANSWER_MS: u64 = 2_000;

/// One topology change in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Join { node: usize, step: JoinStep },
    Retire { node: usize, step: RetireStep },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinStep {
    /// Ask to join (again: a Trusted node's answer carries network_info).
    Ask,
    Propose,
    Vote {
        proposal: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetireStep {
    Propose,
    Vote { proposal: String },
}

/// Pending topology work.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopologyState {
    /// When each planned change starts, ascending.
    pub planned_ms: Vec<u64>,
    pub current: Option<Change>,
    /// The session awaiting an answer, the time it was sent and the node asked.
    pub waiting: Option<(u64, u64, usize)>,
    /// The node that gave the last answer.
    pub answered_by: usize,
    /// No step before this time.
    pub not_before_ms: u64,
    pub joins: u64,
    pub retirements: u64,
}

/// Plans `count` changes at random times in `[from_ms, to_ms)`.
pub fn plan(world: &mut World, count: u32, from_ms: u64, to_ms: u64) {
    let mut times: Vec<u64> = (0..count)
        .map(|_| {
            world
                .rng
                .range(from_ms, to_ms.saturating_sub(1).max(from_ms))
        })
        .collect();
    times.sort_unstable();
    world.topology.planned_ms = times;
}

/// Every tick while a change is planned or in progress: starts a planned change (during the
/// safety phase), or advances the current one (also while the liveness phase heals: a node
/// trusted meanwhile must still start).
pub fn topology_tick(world: &mut World) {
    let planned = !world.topology.planned_ms.is_empty() && world.now_ms < world.chaos.until_ms;
    if !planned && world.topology.current.is_none() {
        return;
    }
    let next = world.now_ms + TICK_MS;
    world.schedule(next, Event::Topology);
    if world.topology.current.is_none() {
        let due = world
            .topology
            .planned_ms
            .first()
            .is_some_and(|at| *at <= world.now_ms);
        if due {
            world.topology.planned_ms.remove(0);
            world.topology.current = choose(world);
            if let Some(change) = &world.topology.current {
                let text = format!("topology start {change:?}");
                world.line(text);
            }
        }
        return;
    }
    if let Some((session, sent_ms, target)) = world.topology.waiting {
        if let Some(response) = world.client.replies.remove(&session) {
            world.topology.waiting = None;
            world.topology.answered_by = target;
            on_answer(world, response.status, json_body(&response));
        } else if world.now_ms >= sent_ms + ANSWER_MS {
            world.topology.waiting = None;
            world.topology.not_before_ms = world.now_ms + RETRY_MS;
        }
        return;
    }
    if world.now_ms >= world.topology.not_before_ms {
        send_step(world);
    }
}

/// A join if a spare node is left (or by a coin), else a retirement if the primary's
/// configuration has more than three nodes; `None` if neither can happen. As an operator would,
/// it retires a node that stopped for good first, and never a live node whose going would leave
/// the configuration without a live quorum.
fn choose(world: &mut World) -> Option<Change> {
    let spare = world
        .nodes
        .iter()
        .find(|n| n.life == Life::Outside)
        .map(|n| n.index);
    let configuration: Vec<usize> = world
        .primary()
        .and_then(|p| world.nodes[p].summary.as_ref())
        .and_then(|s| s.configurations.last())
        .map(|nodes| {
            world
                .nodes
                .iter()
                .filter(|n| nodes.contains(&n.id))
                .map(|n| n.index)
                .collect()
        })
        .unwrap_or_default();
    let live = |world: &World, index: usize| {
        matches!(world.nodes[index].life, Life::Up | Life::Paused { .. })
    };
    let dead: Vec<usize> = configuration
        .iter()
        .copied()
        .filter(|i| world.nodes[*i].life == Life::Stopped)
        .collect();
    let live_count = configuration.iter().filter(|i| live(world, **i)).count();
    let size = configuration.len();
    let retirable: Vec<usize> = if !dead.is_empty() {
        dead
    } else if size > 3 {
        configuration
            .iter()
            .copied()
            .filter(|i| {
                let left = live_count - usize::from(live(world, *i));
                left >= quorum(size - 1)
            })
            .collect()
    } else {
        Vec::new()
    };
    let join = spare.is_some() && (retirable.is_empty() || world.rng.coin());
    if join {
        spare.map(|node| Change::Join {
            node,
            step: JoinStep::Ask,
        })
    } else if !retirable.is_empty() {
        let node = retirable[world.rng.index(retirable.len())];
        Some(Change::Retire {
            node,
            step: RetireStep::Propose,
        })
    } else {
        None
    }
}

/// Sends a governance step to the primary.
fn send(world: &mut World, request: cloister_node::rpc::Request) {
    let target = world.primary();
    send_to(world, target, request);
}

/// Sends `request` to node `target`, or retries later if there is none.
fn send_to(world: &mut World, target: Option<usize>, request: cloister_node::rpc::Request) {
    let Some(target) = target else {
        world.topology.not_before_ms = world.now_ms + RETRY_MS;
        return;
    };
    let session = world.client.open(target, Pending::Reply);
    world.topology.waiting = Some((session, world.now_ms, target));
    world.request(target, session, request);
}

/// Where a joiner asks: the primary, else any running node (`/node/join` is never forwarded,
/// and any node that holds the trust answers with `network_info`: a joiner the new
/// configuration needs must be able to start while there is no primary).
fn join_target(world: &mut World) -> Option<usize> {
    if let Some(primary) = world.primary() {
        return Some(primary);
    }
    let running: Vec<usize> = world
        .nodes
        .iter()
        .filter(|n| n.is_running())
        .map(|n| n.index)
        .collect();
    running.get(world.rng.index(running.len())).copied()
}

fn gov(world: &mut World, path: &str, msg_type: &str, proposal: Option<&str>, payload: &Value) {
    let now_unix = NOW_UNIX + (world.now_ms / 1_000) as i64;
    let Some(member) = world.member.as_ref() else {
        return;
    };
    match requests::gov(
        member,
        path,
        msg_type,
        proposal,
        payload.to_string().as_bytes(),
        now_unix,
    ) {
        Ok(request) => send(world, request),
        Err(error) => {
            let text = format!("topology: cannot sign {path}: {error}");
            world.line(text);
            world.topology.current = None;
        }
    }
}

fn ballot(world: &mut World, proposal: &str) {
    let Some(member_id) = world.member.as_ref().map(requests::member_id) else {
        return;
    };
    let ballot = json!({ "ballot": "export function vote (proposal, proposerId) { return true }" });
    gov(
        world,
        &format!("/gov/members/proposals/{proposal}/ballots/{member_id}:submit"),
        "ballot",
        Some(proposal),
        &ballot,
    );
}

fn send_step(world: &mut World) {
    let Some(change) = world.topology.current.clone() else {
        return;
    };
    let valid_from = "20270115075900Z"; // NOW_UNIX − 60 s
    match change {
        Change::Join { node, step } => match step {
            JoinStep::Ask => {
                let cert = world.nodes[node].self_signed.clone();
                let address = world.nodes[node].address.clone();
                let request = world.nodes[node]
                    .key()
                    .and_then(|key| requests::join(&key, &cert, &address));
                match request {
                    Ok(request) => {
                        let target = join_target(world);
                        send_to(world, target, request);
                    }
                    Err(error) => {
                        let text = format!("topology: join request: {error}");
                        world.line(text);
                        world.topology.current = None;
                    }
                }
            }
            JoinStep::Propose => {
                let id = world.nodes[node].id.to_string();
                let proposal = json!({ "actions": [{ "name": "transition_node_to_trusted",
                    "args": { "node_id": id, "valid_from": valid_from } }] });
                gov(
                    world,
                    "/gov/members/proposals:create",
                    "proposal",
                    None,
                    &proposal,
                );
            }
            JoinStep::Vote { proposal } => ballot(world, &proposal),
        },
        Change::Retire { node, step } => match step {
            RetireStep::Propose => {
                let id = world.nodes[node].id.to_string();
                let proposal =
                    json!({ "actions": [{ "name": "remove_node", "args": { "node_id": id } }] });
                gov(
                    world,
                    "/gov/members/proposals:create",
                    "proposal",
                    None,
                    &proposal,
                );
            }
            RetireStep::Vote { proposal } => ballot(world, &proposal),
        },
    }
}

fn on_answer(world: &mut World, status: u16, body: Value) {
    let Some(change) = world.topology.current.clone() else {
        return;
    };
    let ok = (200..300).contains(&status);
    let retry = |world: &mut World| world.topology.not_before_ms = world.now_ms + RETRY_MS;
    match change {
        Change::Join { node, step } => match step {
            JoinStep::Ask if ok && body["node_status"] == "Trusted" => {
                let name = short(&world.nodes[node].id).to_owned();
                match crate::setup::start_joiner(world, node, &body) {
                    Ok(()) => {
                        world.topology.joins += 1;
                        let text = format!("topology n{node} ({name}) joined");
                        world.line(text);
                    }
                    Err(error) => {
                        let text = format!("topology n{node} could not start: {error}");
                        world.line(text);
                    }
                }
                world.topology.current = None;
            }
            JoinStep::Ask if ok => {
                world.topology.current = Some(Change::Join {
                    node,
                    step: JoinStep::Propose,
                });
            }
            JoinStep::Propose if ok => {
                let next = match body["proposalId"].as_str() {
                    Some(_) if body["proposalState"] == "Accepted" => JoinStep::Ask,
                    Some(id) => JoinStep::Vote {
                        proposal: id.to_owned(),
                    },
                    None => JoinStep::Propose,
                };
                world.topology.current = Some(Change::Join { node, step: next });
            }
            JoinStep::Vote { .. } if ok && body["proposalState"] == "Accepted" => {
                world.topology.current = Some(Change::Join {
                    node,
                    step: JoinStep::Ask,
                });
                // Ask at once: the new configuration may need this node for its quorum, and the
                // primary steps down (CheckQuorum) if the node does not start within an election
                // timeout.
            }
            _ => {
                let by = world.topology.answered_by;
                let text = format!("topology join n{node} step refused by n{by}: {status} {body}");
                world.line(text);
                // A lost proposal is proposed again; a refused vote too. A joiner polls often.
                let poll = step == JoinStep::Ask;
                let step = match step {
                    JoinStep::Vote { .. } => JoinStep::Propose,
                    other => other,
                };
                world.topology.current = Some(Change::Join { node, step });
                if poll {
                    world.topology.not_before_ms = world.now_ms + JOIN_POLL_MS;
                } else {
                    retry(world);
                }
            }
        },
        Change::Retire { node, step } => match step {
            RetireStep::Propose if ok => match body["proposalId"].as_str() {
                Some(_) if body["proposalState"] == "Accepted" => finish_retire(world, node),
                Some(id) => {
                    world.topology.current = Some(Change::Retire {
                        node,
                        step: RetireStep::Vote {
                            proposal: id.to_owned(),
                        },
                    });
                }
                None => retry(world),
            },
            RetireStep::Vote { .. } if ok && body["proposalState"] == "Accepted" => {
                finish_retire(world, node)
            }
            _ => {
                let by = world.topology.answered_by;
                let text =
                    format!("topology retire n{node} step refused by n{by}: {status} {body}");
                world.line(text);
                world.topology.current = Some(Change::Retire {
                    node,
                    step: RetireStep::Propose,
                });
                retry(world);
            }
        },
    }
}

fn finish_retire(world: &mut World, node: usize) {
    world.topology.retirements += 1;
    world.topology.current = None;
    let text = format!("topology n{node} retirement accepted");
    world.line(text);
}
