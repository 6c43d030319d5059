//! `cloister sandbox`: a working local network in one command, as CCF's sandbox.sh gives one —
//! member0 and user0 identities in `<workspace>/sandbox_common/`, a node started from a CCF
//! node configuration, member0 activated, user0 added and the service opened by proposal, then
//! the commands a newcomer needs. It runs until Ctrl-C.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use cloister_client::{Client, GovClient, MemberSigner};
use serde_json::json;

use crate::keygen_cmd;

#[derive(Args)]
pub struct SandboxArgs {
    /// Folder for the network's files (identities, node directories, ledgers).
    #[arg(long, default_value = "workspace")]
    workspace: PathBuf,
    /// First RPC port; node i listens on port + i (CCF's sandbox uses 8000 up).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Number of nodes. One for now: replication arrives with issue 4.
    #[arg(long, default_value_t = 1)]
    nodes: u16,
}

const NODE_START_TIMEOUT: Duration = Duration::from_secs(30);
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    if args.nodes != 1 {
        bail!(
            "--nodes {}: this Cloister version runs single-node networks (multi-node arrives with replication)",
            args.nodes
        );
    }
    let common = args.workspace.join("sandbox_common");
    let node_dir = args.workspace.join("sandbox_0");
    if node_dir.join("ledger").exists() {
        bail!(
            "{} already holds a network: remove the workspace or pick another --workspace",
            args.workspace.display()
        );
    }
    fs::create_dir_all(&common)?;
    fs::create_dir_all(&node_dir)?;
    keygen_cmd::generate(&common, "member0", true)?;
    keygen_cmd::generate(&common, "user0", false)?;
    let constitution = common.join("constitution.js");
    fs::write(&constitution, cloister_js::DEFAULT_CONSTITUTION)?;

    let rpc_address = format!("127.0.0.1:{}", args.port);
    let config = node_config(&common, &rpc_address)?;
    fs::write(
        node_dir.join("config.json"),
        serde_json::to_string_pretty(&config)?,
    )?;
    let mut node = start_node(&node_dir)?;
    let outcome = (|| {
        wait_for_file(&node_dir.join("service_cert.pem"), &mut node)?;
        fs::copy(
            node_dir.join("service_cert.pem"),
            common.join("service_cert.pem"),
        )?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(open_network(&common, &rpc_address))?;
        write_network_json(&args.workspace, &node_dir, &rpc_address, node.id())?;
        print_help(&common, &rpc_address);
        anyhow::Ok(())
    })();
    if let Err(error) = outcome {
        let _ = node.kill();
        return Err(error.context(format!("node log: {}", node_dir.join("node.log").display())));
    }
    // Stay up until the node exits (Ctrl-C reaches the node too: same process group).
    let status = node.wait()?;
    println!("Node stopped ({status}).");
    Ok(ExitCode::SUCCESS)
}

/// CCF's node configuration for the sandbox node (paths relative to the node's directory).
fn node_config(common: &Path, rpc_address: &str) -> anyhow::Result<serde_json::Value> {
    let common = fs::canonicalize(common)?;
    let path = |name: &str| common.join(name).display().to_string();
    Ok(json!({
        "enclave": { "platform": "Virtual", "type": "Virtual" },
        "network": {
            "node_to_node_interface": { "bind_address": "127.0.0.1:0" },
            "rpc_interfaces": { "primary_rpc_interface": { "bind_address": rpc_address } }
        },
        "command": {
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
        },
        "ledger": { "directory": "ledger" },
        "ledger_signatures": { "tx_count": 100, "delay": "100ms" },
        "output_files": { "rpc_addresses_file": "rpc_addresses.json" }
    }))
}

fn start_node(node_dir: &Path) -> anyhow::Result<Child> {
    let exe = std::env::current_exe()?;
    let log = fs::File::create(node_dir.join("node.log"))?;
    Command::new(exe)
        .args(["node", "start", "--config", "config.json"])
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
    wait_until_ready(&client).await?;
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

async fn wait_until_ready(client: &Client) -> anyhow::Result<()> {
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

fn write_network_json(
    workspace: &Path,
    node_dir: &Path,
    rpc_address: &str,
    pid: u32,
) -> anyhow::Result<()> {
    let node_id = fs::read_to_string(node_dir.join("nodecert.pem"))
        .ok()
        .and_then(|pem| cloister_crypto::Certificate::from_pem(&pem).ok())
        .and_then(|cert| cert.spki_der().ok())
        .map(|spki| cloister_crypto::sha256(&spki).to_hex())
        .unwrap_or_default();
    let network = json!({ "nodes": [{
        "node_id": node_id,
        "pid": pid,
        "rpc_address": rpc_address,
        "ledger_dir": fs::canonicalize(node_dir.join("ledger"))?.display().to_string(),
    }]});
    fs::write(
        workspace.join("sandbox_common/network.json"),
        serde_json::to_string_pretty(&network)?,
    )?;
    Ok(())
}

fn print_help(common: &Path, rpc_address: &str) {
    let c = common.display();
    println!("Cloister sandbox: 1 node on https://{rpc_address}, service open.");
    println!("Identities and the service certificate are in {c}/.");
    println!();
    println!("  # write and read a private message as user0:");
    println!(
        "  curl --cacert {c}/service_cert.pem --cert {c}/user0_cert.pem --key {c}/user0_privk.pem \\"
    );
    println!(
        "       -X POST https://{rpc_address}/app/log/private -H 'content-type: application/json' -d '{{\"id\": 1, \"msg\": \"hello\"}}'"
    );
    println!(
        "  curl --cacert {c}/service_cert.pem --cert {c}/user0_cert.pem --key {c}/user0_privk.pem \\"
    );
    println!("       'https://{rpc_address}/app/log/private?id=1'");
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
