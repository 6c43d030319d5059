//! `cloister sandbox`: a working local network in one command, as CCF's sandbox.sh gives one —
//! member0 and user0 identities in `<workspace>/sandbox_common/`, node 0 started from a CCF
//! node configuration, nodes 1…N−1 joining it while the service is still Opening (so they are
//! trusted at once, as in CCF's own test setup), member0 activated, user0 added and the service
//! opened by proposal, then the commands a newcomer needs. It runs until Ctrl-C or SIGTERM,
//! which it passes on to every node.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use cloister_client::{Client, GovClient, MemberSigner};
use cloister_host::ShutdownSignal;
use serde_json::json;

use crate::keygen_cmd;

#[derive(Args)]
pub struct SandboxArgs {
    /// Folder for the network's files (identities, node directories, ledgers).
    #[arg(long, default_value = "workspace")]
    workspace: PathBuf,
    /// First RPC port: node i serves RPC on port + i and node-to-node traffic on
    /// port + nodes + i (CCF's sandbox uses 8000 up).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Number of nodes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=64))]
    nodes: u16,
}

/// One node of the sandbox: its directory, addresses and process.
struct SandboxNode {
    dir: PathBuf,
    rpc_address: String,
    child: Child,
}

const NODE_START_TIMEOUT: Duration = Duration::from_secs(30);
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Joining nodes must catch up from the primary before they list everyone as Trusted.
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Raft timers for a local network: a crashed primary is replaced within about a second.
const ELECTION_TIMEOUT: &str = "1000ms";

pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let common = args.workspace.join("sandbox_common");
    if args.workspace.join("sandbox_0").join("ledger").exists() {
        bail!(
            "{} already holds a network: remove the workspace or pick another --workspace",
            args.workspace.display()
        );
    }
    let ports = |i: u16| -> anyhow::Result<(u16, u16)> {
        let rpc = args.port.checked_add(i);
        let n2n = args
            .port
            .checked_add(args.nodes)
            .and_then(|p| p.checked_add(i));
        rpc.zip(n2n)
            .context("--port is too high for that many nodes (ports run past 65535)")
    };
    fs::create_dir_all(&common)?;
    keygen_cmd::generate(&common, "member0", true)?;
    keygen_cmd::generate(&common, "user0", false)?;
    let constitution = common.join("constitution.js");
    fs::write(&constitution, cloister_js::DEFAULT_CONSTITUTION)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Installed first: from here on SIGTERM and Ctrl-C reach the sandbox, which stops the nodes.
    let mut signal = runtime.block_on(async { ShutdownSignal::install() })?;
    let mut nodes: Vec<SandboxNode> = Vec::new();
    let outcome = (|| {
        let (rpc_port, n2n_port) = ports(0)?;
        let first = launch(
            &args.workspace,
            0,
            &node_config(&common, rpc_port, n2n_port)?,
            "start",
        )?;
        nodes.push(first);
        let node0 = &mut nodes[0];
        wait_for_file(&node0.dir.join("service_cert.pem"), &mut node0.child)?;
        fs::copy(
            node0.dir.join("service_cert.pem"),
            common.join("service_cert.pem"),
        )?;
        let node0_rpc = node0.rpc_address.clone();
        runtime.block_on(wait_until_ready(&common, &node0_rpc))?;
        for i in 1..args.nodes {
            let (rpc_port, n2n_port) = ports(i)?;
            let config = join_config(&common, &node0_rpc, rpc_port, n2n_port)?;
            nodes.push(launch(&args.workspace, i, &config, "join")?);
        }
        let addresses: Vec<String> = nodes.iter().map(|n| n.rpc_address.clone()).collect();
        runtime.block_on(wait_for_trusted(&common, &addresses, &mut nodes))?;
        runtime.block_on(open_network(&common, &node0_rpc))?;
        write_network_json(&args.workspace, &nodes)?;
        print_help(&common, &nodes);
        anyhow::Ok(())
    })();
    if let Err(error) = outcome {
        for node in &mut nodes {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
        let logs: Vec<String> = nodes
            .iter()
            .map(|node| node.dir.join("node.log").display().to_string())
            .collect();
        return Err(error.context(format!("node logs: {}", logs.join(", "))));
    }
    runtime.block_on(supervise(&mut signal, &mut nodes))?;
    Ok(ExitCode::SUCCESS)
}

/// Waits until every node has exited, passing SIGTERM/Ctrl-C on to each of them. A node that
/// exits on its own is reported and the others keep running (it can be restarted by hand:
/// `cloister node start|join --config config.json` in its directory).
async fn supervise(signal: &mut ShutdownSignal, nodes: &mut [SandboxNode]) -> anyhow::Result<()> {
    let mut running: Vec<bool> = vec![true; nodes.len()];
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    let mut stopping = false;
    while running.iter().any(|r| *r) {
        tokio::select! {
            received = signal.recv(), if !stopping => {
                println!("{received:?}: stopping {} node(s).", running.iter().filter(|r| **r).count());
                stopping = true;
                for (node, _) in nodes.iter().zip(&running).filter(|(_, r)| **r) {
                    terminate(&node.child);
                }
            }
            _ = ticker.tick() => {
                for (i, node) in nodes.iter_mut().enumerate() {
                    if running[i] && let Some(status) = node.child.try_wait()? {
                        running[i] = false;
                        println!("Node {i} stopped ({status}).");
                    }
                }
            }
        }
    }
    Ok(())
}

/// Sends SIGTERM (a node stops gracefully on it); there is no libc here, so through kill(1).
fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Writes node `index`'s configuration into `<workspace>/sandbox_<index>/` and runs
/// `cloister node <command>` there.
fn launch(
    workspace: &Path,
    index: u16,
    config: &serde_json::Value,
    command: &str,
) -> anyhow::Result<SandboxNode> {
    let dir = workspace.join(format!("sandbox_{index}"));
    fs::create_dir_all(&dir)?;
    fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(config)?,
    )?;
    let rpc_address = config["network"]["rpc_interfaces"]["primary_rpc_interface"]["bind_address"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let child = start_node(&dir, command)?;
    Ok(SandboxNode {
        dir,
        rpc_address,
        child,
    })
}

/// Until every node lists all of them as Trusted in `/node/network/nodes`.
async fn wait_for_trusted(
    common: &Path,
    addresses: &[String],
    nodes: &mut [SandboxNode],
) -> anyhow::Result<()> {
    let service_cert = fs::read_to_string(common.join("service_cert.pem"))?;
    let started = Instant::now();
    for (i, address) in addresses.iter().enumerate() {
        let client = Client::new(&format!("https://{address}"), &service_cert, None)?;
        loop {
            if let Some(status) = nodes[i].child.try_wait()? {
                bail!("node {i} exited ({status}) before the network formed");
            }
            let trusted = match client.get("/node/network/nodes").await {
                Ok(response) if response.status == 200 => {
                    serde_json::from_slice::<serde_json::Value>(&response.body)
                        .ok()
                        .and_then(|body| body["nodes"].as_array().cloned())
                        .map_or(0, |listed| {
                            listed.iter().filter(|n| n["status"] == "Trusted").count()
                        })
                }
                _ => 0,
            };
            if trusted == addresses.len() {
                break;
            }
            if started.elapsed() > JOIN_TIMEOUT {
                bail!(
                    "node {i} ({address}) saw {trusted} of {} nodes Trusted within {JOIN_TIMEOUT:?}",
                    addresses.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// CCF's node configuration for node 0, which starts the service (paths relative to its
/// directory).
fn node_config(common: &Path, rpc_port: u16, n2n_port: u16) -> anyhow::Result<serde_json::Value> {
    let common = fs::canonicalize(common)?;
    let path = |name: &str| common.join(name).display().to_string();
    let mut config = base_config(rpc_port, n2n_port);
    config["command"] = json!({
        "type": "Start",
        "service_certificate_file": "service_cert.pem",
        "start": {
            "constitution_files": [path("constitution.js")],
            "members": [{
                "certificate_file": path("member0_cert.pem"),
                "encryption_public_key_file": path("member0_enc_pubk.pem")
            }],
            "service_configuration": { "recovery_threshold": 1 }
        }
    });
    Ok(config)
}

/// CCF's node configuration for a node joining through node 0.
fn join_config(
    common: &Path,
    target: &str,
    rpc_port: u16,
    n2n_port: u16,
) -> anyhow::Result<serde_json::Value> {
    let common = fs::canonicalize(common)?;
    let mut config = base_config(rpc_port, n2n_port);
    config["command"] = json!({
        "type": "Join",
        "service_certificate_file": common.join("service_cert.pem").display().to_string(),
        "join": {
            "target_rpc_address": target,
            "retry_timeout": "500ms",
            "fetch_recent_snapshot": false
        }
    });
    Ok(config)
}

fn base_config(rpc_port: u16, n2n_port: u16) -> serde_json::Value {
    json!({
        "enclave": { "platform": "Virtual", "type": "Virtual" },
        "network": {
            "node_to_node_interface": { "bind_address": format!("127.0.0.1:{n2n_port}") },
            "rpc_interfaces": {
                "primary_rpc_interface": { "bind_address": format!("127.0.0.1:{rpc_port}") }
            }
        },
        "ledger": { "directory": "ledger" },
        "ledger_signatures": { "tx_count": 100, "delay": "100ms" },
        "consensus": { "election_timeout": ELECTION_TIMEOUT, "message_timeout": "100ms" },
        "output_files": { "rpc_addresses_file": "rpc_addresses.json" }
    })
}

fn start_node(node_dir: &Path, command: &str) -> anyhow::Result<Child> {
    let exe = std::env::current_exe()?;
    let log = fs::File::create(node_dir.join("node.log"))?;
    Command::new(exe)
        .args(["node", command, "--config", "config.json"])
        .current_dir(node_dir)
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .context("starting the node process")
}

fn wait_for_file(path: &Path, node: &mut Child) -> anyhow::Result<()> {
    let started = Instant::now();
    while !path.exists() {
        if let Some(status) = node.try_wait()? {
            bail!(
                "the node exited ({status}) before writing {}",
                path.display()
            );
        }
        if started.elapsed() > NODE_START_TIMEOUT {
            bail!(
                "the node did not write {} within {:?}",
                path.display(),
                NODE_START_TIMEOUT
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Member0 acks, proposes user0 and opening the service, votes, and waits for the app frontend.
async fn open_network(common: &Path, rpc_address: &str) -> anyhow::Result<()> {
    let read = |name: &str| {
        fs::read_to_string(common.join(name)).with_context(|| format!("reading {name}"))
    };
    let service_cert = read("service_cert.pem")?;
    let url = format!("https://{rpc_address}");
    let client = Client::new(&url, &service_cert, None)?;
    let signer = MemberSigner::from_pem(&read("member0_cert.pem")?, &read("member0_privk.pem")?)?;
    let gov = GovClient::new(client, signer);
    let activated = gov.activate_member().await?;
    if let Some(txid) = activated.tx_id {
        gov.wait_for_commit(txid, COMMIT_TIMEOUT).await?;
    }
    let proposal = json!({ "actions": [
        { "name": "set_user", "args": { "cert": read("user0_cert.pem")? } },
        { "name": "transition_service_to_open", "args": { "next_service_identity": service_cert } },
    ]});
    let proposed = gov.propose(proposal.to_string().as_bytes()).await?;
    let voted = gov.vote_accept(&proposed.value.proposal_id).await?;
    if let Some(txid) = voted.tx_id {
        gov.wait_for_commit(txid, COMMIT_TIMEOUT).await?;
    }
    let info = gov.service_info().await?;
    if info.status != "Open" {
        bail!("the service did not open: status {}", info.status);
    }
    let started = Instant::now();
    while gov
        .client()
        .get("/node/ready/app")
        .await
        .map(|r| r.status)
        .ok()
        != Some(204)
    {
        if started.elapsed() > COMMIT_TIMEOUT {
            bail!("the app frontend did not open within {COMMIT_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Until node 0's governance frontend answers.
async fn wait_until_ready(common: &Path, rpc_address: &str) -> anyhow::Result<()> {
    let service_cert = fs::read_to_string(common.join("service_cert.pem"))?;
    let client = Client::new(&format!("https://{rpc_address}"), &service_cert, None)?;
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get("/node/ready/gov").await
            && response.status == 204
        {
            return Ok(());
        }
        if started.elapsed() > NODE_START_TIMEOUT {
            bail!("the node's governance frontend was not ready within {NODE_START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn write_network_json(workspace: &Path, nodes: &[SandboxNode]) -> anyhow::Result<()> {
    let mut listed = Vec::new();
    for node in nodes {
        let node_id = fs::read_to_string(node.dir.join("nodecert.pem"))
            .ok()
            .and_then(|pem| cloister_crypto::Certificate::from_pem(&pem).ok())
            .and_then(|cert| cert.spki_der().ok())
            .map(|spki| cloister_crypto::sha256(&spki).to_hex())
            .unwrap_or_default();
        listed.push(json!({
            "node_id": node_id,
            "pid": node.child.id(),
            "rpc_address": node.rpc_address,
            "dir": fs::canonicalize(&node.dir)?.display().to_string(),
            "ledger_dir": fs::canonicalize(node.dir.join("ledger"))?.display().to_string(),
        }));
    }
    fs::write(
        workspace.join("sandbox_common/network.json"),
        serde_json::to_string_pretty(&json!({ "nodes": listed }))?,
    )?;
    Ok(())
}

fn print_help(common: &Path, nodes: &[SandboxNode]) {
    let c = common.display();
    let rpc_address = nodes.first().map_or("", |node| node.rpc_address.as_str());
    let read_address = nodes.last().map_or("", |node| node.rpc_address.as_str());
    let count = nodes.len();
    let plural = if count == 1 { "" } else { "s" };
    println!("Cloister sandbox: {count} node{plural}, service open.");
    for (i, node) in nodes.iter().enumerate() {
        println!(
            "  node {i}: https://{} (log: {})",
            node.rpc_address,
            node.dir.join("node.log").display()
        );
    }
    println!("Identities and the service certificate are in {c}/.");
    println!();
    println!("  # write and read a private message as user0:");
    println!(
        "  curl --cacert {c}/service_cert.pem --cert {c}/user0_cert.pem --key {c}/user0_privk.pem \\"
    );
    println!(
        "       -X POST https://{rpc_address}/app/log/private -H 'content-type: application/json' -d '{{\"id\": 1, \"msg\": \"hello\"}}'"
    );
    println!("  # (read it back from any node: writes to a backup are forwarded to the primary)");
    println!(
        "  curl --cacert {c}/service_cert.pem --cert {c}/user0_cert.pem --key {c}/user0_privk.pem \\"
    );
    println!("       'https://{read_address}/app/log/private?id=1'");
    println!("  # is a transaction committed? (use the x-ms-ccf-transaction-id of the write)");
    println!(
        "  curl --cacert {c}/service_cert.pem 'https://{rpc_address}/app/tx?transaction_id=2.10'"
    );
    println!("  # governance as member0:");
    println!("  cloister gov propose --url https://{rpc_address} --ca {c}/service_cert.pem \\");
    println!(
        "       --member-cert {c}/member0_cert.pem --member-key {c}/member0_privk.pem proposal.json"
    );
    println!();
    println!("Press Ctrl-C to stop.");
}
