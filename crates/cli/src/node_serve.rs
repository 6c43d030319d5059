//! Runs a node once it has its identity, whichever way it got it (start, join, restart): the
//! node-to-node channels on `network.node_to_node_interface`, the RPC interfaces with the
//! node's endorsed certificate, and the driver owning the `NodeCore`, until SIGTERM or Ctrl-C.

use std::fs;
use std::sync::Arc;

use anyhow::Context;
use cloister_host::peer::{PeerConfig, PeerNetwork};
use cloister_host::{
    AppProtocol, LedgerDirWriter, NodeDriver, RpcInterfaceConfig, RpcServer, ShutdownSignal,
    TlsIdentity,
};
use cloister_node::config::NodeConfig;
use cloister_node::core::NodeCore;
use cloister_types::NodeId;
use tokio::sync::mpsc;

use crate::node_addresses::socket_address;
use crate::node_state_dir::VOTE_FILE;

/// The node's channels, started before the node so that its first outputs find them.
pub struct Channels {
    pub network: PeerNetwork,
    pub incoming: mpsc::Receiver<(NodeId, Vec<u8>)>,
}

/// Binds `network.node_to_node_interface.bind_address` with the node's endorsed certificate;
/// peers must present certificates endorsed by the same service.
pub async fn start_channels(
    config: &NodeConfig,
    endorsed_cert_pem: &str,
    node_key_pem: &str,
    service_cert_pem: &str,
) -> anyhow::Result<Channels> {
    let interface = &config.network.node_to_node_interface;
    let bind = socket_address("network.node_to_node_interface", &interface.bind_address)?;
    let peer_config = PeerConfig::new(
        bind,
        endorsed_cert_pem.to_owned(),
        node_key_pem.to_owned(),
        service_cert_pem.to_owned(),
    );
    let (network, incoming) = PeerNetwork::start(peer_config)
        .await
        .with_context(|| format!("binding network.node_to_node_interface to {bind}"))?;
    eprintln!(
        "cloister: node-to-node interface listening on {} (node {})",
        network.local_addr(),
        network.node_id()
    );
    if let Some(file) = &config.output_files.node_to_node_address_file {
        write_file(file, &network.local_addr().to_string())?;
    }
    Ok(Channels { network, incoming })
}

/// Serves `core` until a stop signal: RPC interfaces with `tls`, ledger into `ledger`, votes into
/// the node directory's vote file, peers through `channels`.
pub async fn serve(
    config: &NodeConfig,
    core: NodeCore,
    ledger: LedgerDirWriter,
    tls: &TlsIdentity,
    channels: Channels,
) -> anyhow::Result<()> {
    let mut signal = ShutdownSignal::install()?;
    let Channels { network, incoming } = channels;
    let (driver, handle) = NodeDriver::with_ledger(core, ledger);
    let driver = driver
        .with_vote_file(std::path::Path::new(VOTE_FILE))
        .with_snapshot_dir(std::path::Path::new(&config.snapshots.directory))
        .with_peers(network.link(incoming));
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
        let (address, server) = RpcServer::bind(rpc, tls, handler.clone())
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

    let (stop_sender, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut tasks = Vec::new();
    for server in servers {
        let mut stop = stop_sender.subscribe();
        tasks.push(tokio::spawn(server.run(async move {
            let _ = stop.recv().await;
        })));
    }
    let mut stop = stop_sender.subscribe();
    // The node's core holds QuickJS interpreters, which stay on one thread: it runs as a local
    // task of the LocalSet that `cloister node` drives on its main thread.
    let mut node_task = tokio::task::spawn_local(driver.run(async move {
        let _ = stop.recv().await;
    }));
    // The node's task ends early only on a ledger or vote write failure: stop serving then too.
    let early = tokio::select! {
        received = signal.recv() => {
            eprintln!("cloister: {received:?}: stopping");
            None
        }
        ended = &mut node_task => Some(ended),
    };
    let _ = stop_sender.send(());
    network.shutdown();
    for task in tasks {
        task.await?;
    }
    match early {
        Some(ended) => {
            ended??;
            anyhow::bail!("the node stopped on its own")
        }
        None => node_task.await?,
    }
}

pub fn write_file(path: &str, contents: &str) -> anyhow::Result<()> {
    fs::write(path, contents).with_context(|| format!("writing {path}"))
}
