//! `command.type = "Join"`: joining an existing service through one of its nodes (CCF's join
//! protocol, spec/ccf-api.md §6). The node makes a P-384 key, a self-signed certificate and a
//! CSR, and posts JoinIn to `command.join.target_rpc_address` every `retry_timeout` until the
//! service trusts it; then it takes the endorsed certificate, the service identity and the
//! ledger secrets from `network_info`, keeps them in its state file, and runs as a backup that
//! catches up from the primary.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use cloister_client::{
    Client, ClientError, JoinAddresses, JoinRequest, NetworkInfo, join_in, join_once,
};
use cloister_crypto::{
    Certificate, CertificateSigningRequest, CertificateSpec, Curve, EcKeyPair, OsEntropy,
    RsaKeyPair, issue_self_signed, sha256,
};
use cloister_host::{LedgerDirWriter, TlsIdentity};
use cloister_node::config::{JoinCommand, NodeConfig};
use cloister_node::core::{JoinSecrets, NodeCore};
use cloister_node::{CoseSignaturesConfig, NodeIdentity, ServiceIdentity};
use cloister_types::NodeId;

use crate::node_cmd::{DAY_SECONDS, node_env, unix_now};
use crate::node_serve::{serve, start_channels, write_file};
use crate::node_settings::{no_genesis, node_settings, subject_alt_names};
use crate::node_state_dir::{NodeState, ledger_secrets};

/// CCF's node certificate subject.
const NODE_SUBJECT_CN: &str = "CCF Node";

pub async fn join(config: &NodeConfig, join: &JoinCommand) -> anyhow::Result<()> {
    let ledger_dir = PathBuf::from(&config.ledger.directory);
    if ledger_dir.exists() && fs::read_dir(&ledger_dir)?.next().is_some() {
        bail!(
            "ledger.directory {} is not empty and the node keeps no state here: a joining node starts a new ledger",
            ledger_dir.display()
        );
    }
    let anchor_file = &config.command.service_certificate_file;
    let service_cert_pem = fs::read_to_string(anchor_file)
        .with_context(|| format!("command.service_certificate_file: reading {anchor_file}"))?;
    Certificate::from_pem(&service_cert_pem)
        .with_context(|| format!("command.service_certificate_file {anchor_file}"))?;

    let now = unix_now();
    let key = EcKeyPair::generate(Curve::P384, &mut OsEntropy)?;
    let sans = subject_alt_names(config);
    let node_days = i64::try_from(config.node_certificate.initial_validity_days).unwrap_or(1);
    let spec = CertificateSpec {
        subject_cn: NODE_SUBJECT_CN.to_owned(),
        sans: sans.clone(),
        not_before_unix: now - 60,
        not_after_unix: now + node_days * DAY_SECONDS,
        is_ca: false,
    };
    let self_signed = issue_self_signed(&key, &spec)?;
    let csr = CertificateSigningRequest::create(&key, NODE_SUBJECT_CN, &sans)?;
    let encryption_key = RsaKeyPair::generate_2048()?;
    let node_id = key.public_key().node_id();
    write_file(
        &config.output_files.node_certificate_file,
        &self_signed.to_pem(),
    )?;
    write_file(
        &config.output_files.pid_file,
        &std::process::id().to_string(),
    )?;

    let request = JoinRequest {
        addresses: JoinAddresses {
            node_to_node: config
                .network
                .node_to_node_interface
                .published_address
                .clone(),
            rpc_interfaces: config
                .network
                .rpc_interfaces
                .iter()
                .map(|(name, i)| (name.clone(), i.published_address.clone()))
                .collect(),
        },
        public_encryption_key_pem: encryption_key.public_key().to_pem(),
        csr_pem: csr.to_pem(),
        startup_seqno: 0,
        // The virtual platform's host data: there is no enclave package to measure.
        host_data_hex: sha256(b"").to_hex(),
        node_data: serde_json::Value::Null,
    };
    let body = join_in(&request, &key.public_key());
    let target = format!("https://{}", join.target_rpc_address);
    let key_pem = key.to_pem();
    let retry = Duration::from_millis(join.retry_timeout_ms.max(1));
    eprintln!("cloister: node {node_id} joining the service at {target}");
    let info = loop {
        match join_once(
            &target,
            &service_cert_pem,
            &self_signed.to_pem(),
            &key_pem,
            &body,
        )
        .await
        {
            Ok(out) => match (out.node_status.as_str(), out.network_info) {
                ("Trusted", Some(info)) => break info,
                (status, _) => eprintln!("cloister: node {node_id}: {status}"),
            },
            Err(ClientError::Service { error, .. }) if (400..500).contains(&error.status) => {
                bail!(
                    "{target} refused node {node_id}: {} {}: {}",
                    error.status,
                    error.code,
                    error.message
                );
            }
            Err(error) => eprintln!("cloister: joining {target}: {error}; retrying"),
        }
        tokio::time::sleep(retry).await;
    };
    eprintln!("cloister: node {node_id}: Trusted");

    let secrets = join_secrets(key, self_signed, &service_cert_pem, &info)?;
    let cose = match &info.cose_signatures_config {
        Some((issuer, subject)) => CoseSignaturesConfig {
            issuer: issuer.clone(),
            subject: subject.clone(),
        },
        None => CoseSignaturesConfig::default(),
    };
    NodeState::new(&secrets.node, &secrets.service, &info.ledger_secrets, &cose)
        .save(Path::new("."))?;
    let endorsed_pem = secrets.node.cert_pem();
    let tls = TlsIdentity::from_pem(&endorsed_pem, &key_pem)?;
    let channels = start_channels(config, &endorsed_pem, &key_pem, &service_cert_pem).await?;
    // Until it has replicated the configuration that adds it, the node knows no peer, yet it
    // must answer the primary (a NACK asking for the log from the start): so it starts with
    // the target's view of the nodes and their addresses. Its first `Peers` output replaces it.
    let seed = configured_nodes(&target, &service_cert_pem).await;
    eprintln!(
        "cloister: node {node_id}: {} peer(s) from {target}",
        seed.len()
    );
    channels.network.set_peers(seed);
    let mut settings = node_settings(config, no_genesis(config)?);
    settings.cose = cose;
    let snapshot = if join.fetch_recent_snapshot {
        fetch_snapshot(&target, &service_cert_pem, join).await
    } else {
        None
    };
    let core = match snapshot {
        Some((name, bytes)) => {
            let core = NodeCore::join_from_snapshot(node_env(settings), secrets, &name, &bytes)
                .with_context(|| format!("starting from {name} fetched from {target}"))?;
            let snapshots = Path::new(&config.snapshots.directory);
            cloister_host::snapshot_files::store_committed_snapshot(snapshots, &name, &bytes)?;
            eprintln!("cloister: node {node_id}: starting from {name}");
            core
        }
        None => NodeCore::join(node_env(settings), secrets)?,
    };
    let ledger = LedgerDirWriter::create(&ledger_dir, core.first_ledger_seqno().0)?;
    serve(config, core, ledger, &tls, channels).await
}

/// The target's latest committed snapshot (CCF's `fetch_recent_snapshot`: `GET /node/snapshot`
/// redirects to the file), or `None` when it has none or cannot be reached in
/// `fetch_snapshot_max_attempts` tries; the node then replicates the whole ledger.
async fn fetch_snapshot(
    target: &str,
    service_cert_pem: &str,
    join: &JoinCommand,
) -> Option<(String, Vec<u8>)> {
    let client = Client::new(target, service_cert_pem, None).ok()?;
    for attempt in 1..=join.fetch_snapshot_max_attempts.max(1) {
        if attempt > 1 {
            let pause = Duration::from_millis(join.fetch_snapshot_retry_interval_ms);
            tokio::time::sleep(pause).await;
        }
        let Ok(redirect) = client.get("/node/snapshot").await else {
            continue;
        };
        if redirect.status == 404 {
            return None; // no committed snapshot yet
        }
        let location = redirect
            .headers
            .get("location")
            .and_then(|value| value.to_str().ok())
            .filter(|_| redirect.status == 308)?;
        let name = location.rsplit('/').next()?.to_owned();
        match client.get(location).await {
            Ok(file) if file.status == 200 => return Some((name, file.body)),
            _ => continue,
        }
    }
    None
}

/// The nodes of the target's latest configuration with their node-to-node addresses (its
/// `GET /node/consensus`), or none if it cannot say.
async fn configured_nodes(target: &str, service_cert_pem: &str) -> Vec<(NodeId, String)> {
    let Ok(client) = Client::new(target, service_cert_pem, None) else {
        return Vec::new();
    };
    let Ok(response) = client.get("/node/consensus").await else {
        return Vec::new();
    };
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    let Some(nodes) = body["details"]["configs"]
        .as_array()
        .and_then(|configs| configs.last())
        .and_then(|config| config["nodes"].as_object())
    else {
        return Vec::new();
    };
    nodes
        .iter()
        .filter_map(|(id, node)| {
            let id = NodeId::try_from(id.clone()).ok()?;
            Some((id, node["address"].as_str()?.to_owned()))
        })
        .collect()
}

/// The node's identity and the service's secrets from a Trusted JoinOut.
fn join_secrets(
    key: EcKeyPair,
    self_signed_cert: Certificate,
    service_cert_pem: &str,
    info: &NetworkInfo,
) -> anyhow::Result<JoinSecrets> {
    let endorsed_pem = info
        .endorsed_cert_pem
        .as_deref()
        .context("the service trusted this node but sent no endorsed certificate")?;
    let endorsed_cert = Certificate::from_pem(endorsed_pem).context("endorsed_certificate")?;
    if endorsed_cert.spki_der()? != key.public_key().spki_der() {
        bail!("the endorsed certificate is not for this node's key");
    }
    let service_cert = Certificate::from_pem(service_cert_pem)?;
    endorsed_cert
        .verify_issued_by(&service_cert.public_key()?)
        .context("the endorsed certificate is not signed by the service")?;
    let service = ServiceIdentity {
        key: EcKeyPair::from_pem(&info.service_key_pem).context("network_info identity")?,
        cert: service_cert,
    };
    if service.key.public_key().spki_der() != service.cert.spki_der()?.as_slice() {
        bail!("network_info's service key is not the service certificate's key");
    }
    Ok(JoinSecrets {
        node: NodeIdentity {
            id: key.public_key().node_id(),
            key,
            endorsed_cert,
            self_signed_cert,
        },
        service,
        ledger_secrets: ledger_secrets(&info.ledger_secrets)?,
    })
}
