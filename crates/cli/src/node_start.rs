//! `command.type = "Start"`: a new service. The node draws the service and node identities and
//! the first ledger secret, keeps them in its state file (for a restart), and writes the genesis
//! transaction into a new ledger.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::bail;
use cloister_crypto::{Entropy, OsEntropy};
use cloister_host::{LedgerDirWriter, TlsIdentity};
use cloister_node::config::{NodeConfig, StartCommand};
use cloister_node::core::{NodeCore, NodeEnv, NodeSecrets};
use cloister_node::{NodeIdentity, ServiceIdentity};

use crate::node_cmd::{DAY_SECONDS, node_env, unix_now};
use crate::node_serve::{serve, start_channels, write_file};
use crate::node_settings::{cose_config, genesis_config, node_settings, subject_alt_names};
use crate::node_state_dir::NodeState;

pub async fn start(config: &NodeConfig, start: &StartCommand) -> anyhow::Result<()> {
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
    let mut settings = node_settings(config, genesis_config(config, start)?);
    settings.cose = cose_config(Some(start));
    NodeState::new(&node, &service, &[(1, ledger_secret)], &settings.cose).save(Path::new("."))?;

    write_file(
        &config.command.service_certificate_file,
        &service.cert_pem(),
    )?;
    write_file(&config.output_files.node_certificate_file, &node.cert_pem())?;
    write_file(
        &config.output_files.pid_file,
        &std::process::id().to_string(),
    )?;
    let key_pem = node.key.to_pem();
    let tls = TlsIdentity::from_pem(&node.cert_pem(), &key_pem)?;
    let channels = start_channels(config, &node.cert_pem(), &key_pem, &service.cert_pem()).await?;

    let secrets = NodeSecrets {
        node,
        service,
        ledger_secret,
    };
    let env = NodeEnv {
        now_unix: now,
        ..node_env(settings)
    };
    let core = NodeCore::start(env, secrets)?;
    let ledger = LedgerDirWriter::create(&ledger_dir, 1)?;
    serve(config, core, ledger, &tls, channels).await
}
