//! `cloister node start --config <file.json>`: CCF's node configuration in, a running node out
//! (the counterpart of `cchost --config`). Fields Cloister does not support yet are refused,
//! each named; a bad value names its field.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Subcommand;
use cloister_crypto::{Entropy, OsEntropy};
use cloister_host::{
    AppProtocol, NodeDriver, RpcInterfaceConfig, RpcServer, ShutdownSignal, TlsIdentity,
};
use cloister_node::apps::logging::LoggingApp;
use cloister_node::config::{
    CommandKind, NodeConfig, StartCommand, SubjectAltName, check_supported, parse_node_config,
};
use cloister_node::core::{Frontends, NodeCore, NodeSecrets, NodeSettings};
use cloister_node::{
    CoseSignaturesConfig, GenesisConfig, GenesisMember, NodeIdentity, ServiceIdentity,
};

#[derive(Subcommand)]
pub enum NodeCommand {
    /// Start a node from a CCF node configuration file (command.type = "Start").
    Start {
        /// CCF node configuration (cchost JSON).
        #[arg(long, short)]
        config: PathBuf,
    },
}

const DAY_SECONDS: i64 = 24 * 3600;

pub fn run(command: NodeCommand) -> anyhow::Result<ExitCode> {
    match command {
        NodeCommand::Start { config } => start(&config),
    }
}

fn start(path: &PathBuf) -> anyhow::Result<ExitCode> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config =
        parse_node_config(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Err(unsupported) = check_supported(&config) {
        let list: Vec<String> = unsupported.iter().map(|u| format!("  {u}")).collect();
        bail!(
            "{} asks for what Cloister does not support yet:\n{}",
            path.display(),
            list.join("\n")
        );
    }
    let CommandKind::Start(start) = &config.command.kind else {
        bail!(
            "{}: command.type must be \"Start\" for `cloister node start`",
            path.display()
        );
    };
    // The node runs the constitution in QuickJS, which may use up to `max_stack_bytes` (1 MiB by
    // default) of the calling thread's stack: give worker threads ample room.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(8 << 20)
        .enable_all()
        .build()?;
    runtime.block_on(serve(&config, start))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: &NodeConfig, start: &StartCommand) -> anyhow::Result<()> {
    let ledger_dir = PathBuf::from(&config.ledger.directory);
    if ledger_dir.exists() && fs::read_dir(&ledger_dir)?.next().is_some() {
        bail!(
            "ledger.directory {} is not empty: a Start node creates a new ledger",
            ledger_dir.display()
        );
    }
    let now = unix_now();
    let mut entropy = OsEntropy;
    let service_days = i64::try_from(start.initial_service_certificate_validity_days).unwrap_or(1);
    let service =
        ServiceIdentity::generate(&mut entropy, now - 60, now + service_days * DAY_SECONDS)?;
    let node_days = i64::try_from(config.node_certificate.initial_validity_days).unwrap_or(1);
    let node = NodeIdentity::generate(
        &mut entropy,
        &service,
        subject_alt_names(config),
        now - 60,
        now + node_days * DAY_SECONDS,
    )?;
    let mut ledger_secret = [0u8; 32];
    entropy.fill_bytes(&mut ledger_secret);

    write_file(
        &config.command.service_certificate_file,
        &service.cert_pem(),
    )?;
    write_file(&config.output_files.node_certificate_file, &node.cert_pem())?;
    write_file(
        &config.output_files.pid_file,
        &std::process::id().to_string(),
    )?;
    let tls = TlsIdentity::from_pem(&node.cert_pem(), &node.key.to_pem())?;

    let settings = node_settings(config, start)?;
    let frontends = Frontends::with_builtins(&[&LoggingApp]);
    let engine = Box::new(cloister_js::QuickJsConstitution::new());
    let secrets = NodeSecrets {
        node,
        service,
        ledger_secret,
    };
    let core = NodeCore::start(settings, secrets, engine, frontends, 0, now)?;
    let (driver, handle) = NodeDriver::new(core, &ledger_dir)?;
    let handler: Arc<dyn cloister_host::RequestHandler> = Arc::new(handle);

    let mut servers = Vec::new();
    let mut addresses = serde_json::Map::new();
    for (name, interface) in &config.network.rpc_interfaces {
        let mut rpc = RpcInterfaceConfig::new(name.clone(), interface.bind_address.clone());
        rpc.app_protocol = AppProtocol::from_ccf_name(interface.app_protocol.as_str())?;
        rpc.max_open_sessions_soft =
            usize::try_from(interface.max_open_sessions_soft).unwrap_or(usize::MAX);
        rpc.max_open_sessions_hard =
            usize::try_from(interface.max_open_sessions_hard).unwrap_or(usize::MAX);
        let http = &interface.http_configuration;
        rpc.max_body_size_bytes = usize::try_from(http.max_body_size_bytes).unwrap_or(usize::MAX);
        rpc.max_header_size_bytes =
            usize::try_from(http.max_header_size_bytes).unwrap_or(usize::MAX);
        rpc.max_headers_count = usize::try_from(http.max_headers_count).unwrap_or(usize::MAX);
        let (address, server) = RpcServer::bind(rpc, &tls, handler.clone())
            .await
            .with_context(|| {
                format!(
                    "binding network.rpc_interfaces.{name} to {}",
                    interface.bind_address
                )
            })?;
        addresses.insert(name.clone(), serde_json::Value::String(address.to_string()));
        eprintln!("cloister: {name} listening on https://{address}");
        servers.push(server);
    }
    if let Some(file) = &config.output_files.rpc_addresses_file {
        write_file(file, &serde_json::Value::Object(addresses).to_string())?;
    }

    let mut signal = ShutdownSignal::install()?;
    let (stop_sender, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut tasks = Vec::new();
    for server in servers {
        let mut stop = stop_sender.subscribe();
        tasks.push(tokio::spawn(server.run(async move {
            let _ = stop.recv().await;
        })));
    }
    let mut stop = stop_sender.subscribe();
    let node_task = tokio::spawn(driver.run(async move {
        let _ = stop.recv().await;
    }));
    let received = signal.recv().await;
    eprintln!("cloister: {received:?}: stopping");
    let _ = stop_sender.send(());
    for task in tasks {
        task.await?;
    }
    node_task.await??;
    Ok(())
}

/// The node's settings from CCF's configuration and the genesis files it names.
fn node_settings(config: &NodeConfig, start: &StartCommand) -> anyhow::Result<NodeSettings> {
    let mut constitution = String::new();
    for file in &start.constitution_files {
        constitution.push_str(
            &fs::read_to_string(file)
                .with_context(|| format!("reading constitution file {file}"))?,
        );
        constitution.push('\n');
    }
    let mut members = Vec::new();
    for (index, member) in start.members.iter().enumerate() {
        let field = format!("command.start.members[{index}]");
        let cert_pem = fs::read_to_string(&member.certificate_file).with_context(|| {
            format!(
                "{field}.certificate_file: reading {}",
                member.certificate_file
            )
        })?;
        let encryption_public_key_pem =
            match &member.encryption_public_key_file {
                Some(file) => Some(fs::read_to_string(file).with_context(|| {
                    format!("{field}.encryption_public_key_file: reading {file}")
                })?),
                None => None,
            };
        let member_data = match &member.data_json_file {
            Some(file) => {
                let text = fs::read_to_string(file)
                    .with_context(|| format!("{field}.data_json_file: reading {file}"))?;
                Some(
                    serde_json::from_str(&text)
                        .with_context(|| format!("{field}.data_json_file: {file} is not JSON"))?,
                )
            }
            None => None,
        };
        members.push(GenesisMember {
            cert_pem,
            encryption_public_key_pem,
            member_data,
        });
    }
    let (name, main) = config
        .main_rpc_interface()
        .context("network.rpc_interfaces must name at least one interface")?;
    let genesis = GenesisConfig {
        members,
        constitution,
        recovery_threshold: start.service_configuration.recovery_threshold,
        rpc_address: main.published_address.clone(),
        node_to_node_address: config
            .network
            .node_to_node_interface
            .published_address
            .clone(),
        node_encryption_public_key_pem: None,
    };
    let mut settings = NodeSettings::with_genesis(genesis);
    settings.sig_tx_interval = config.ledger_signatures.tx_count;
    settings.sig_ms_interval = config.ledger_signatures.delay_ms;
    settings.chunk_threshold_bytes = config.ledger.chunk_size_bytes;
    if let Some(cose) = &start.cose_signatures {
        let defaults = CoseSignaturesConfig::default();
        settings.cose = CoseSignaturesConfig {
            issuer: cose.issuer.clone().unwrap_or(defaults.issuer),
            subject: cose.subject.clone().unwrap_or(defaults.subject),
        };
    }
    settings.rpc_interfaces = config
        .network
        .rpc_interfaces
        .iter()
        .map(|(n, i)| {
            (
                n.clone(),
                i.published_address.clone(),
                i.app_protocol.as_str().to_owned(),
            )
        })
        .collect();
    let _ = name;
    Ok(settings)
}

/// `node_certificate.subject_alt_names`, or the main RPC interface's published host (CCF's default).
fn subject_alt_names(config: &NodeConfig) -> Vec<String> {
    if !config.node_certificate.subject_alt_names.is_empty() {
        return config
            .node_certificate
            .subject_alt_names
            .iter()
            .map(|san| match san {
                SubjectAltName::IpAddress(ip) => ip.to_string(),
                SubjectAltName::DnsName(name) => name.clone(),
            })
            .collect();
    }
    config
        .main_rpc_interface()
        .map(|(_, interface)| {
            interface
                .published_address
                .rsplit_once(':')
                .map_or(interface.published_address.clone(), |(host, _)| {
                    host.to_owned()
                })
        })
        .into_iter()
        .collect()
}

fn write_file(path: &str, contents: &str) -> anyhow::Result<()> {
    fs::write(path, contents).with_context(|| format!("writing {path}"))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
