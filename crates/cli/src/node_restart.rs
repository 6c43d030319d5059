//! Restarting a node after a crash or a stop, from what it kept in its directory: its state file
//! (identity, service identity, ledger secrets), its ledger and its last vote. The node replays
//! its ledger and comes back as a backup that catches up from the primary. CCF refuses to start
//! over an existing ledger; this is Cloister's extension (docs/node.md).

use std::path::{Path, PathBuf};

use anyhow::Context;
use cloister_host::{LedgerDirWriter, TlsIdentity, read_vote};
use cloister_node::config::NodeConfig;
use cloister_node::core::{NodeCore, PersistedState};
use cloister_types::{NodeId, SeqNo, View};

use crate::node_cmd::node_env;
use crate::node_serve::{serve, start_channels, write_file};
use crate::node_settings::{no_genesis, node_settings};
use crate::node_state_dir::{NodeState, VOTE_FILE};

pub async fn restart(config: &NodeConfig, state: NodeState) -> anyhow::Result<()> {
    let secrets = state.secrets()?;
    let ledger_dir = PathBuf::from(&config.ledger.directory);
    std::fs::create_dir_all(&ledger_dir)
        .with_context(|| format!("creating {}", ledger_dir.display()))?;
    let (ledger, disk) = LedgerDirWriter::resume(&ledger_dir)?;
    let vote = match read_vote(Path::new(VOTE_FILE))? {
        Some((view, voted_for)) => {
            Some((View(view), NodeId::try_from(voted_for).context(VOTE_FILE)?))
        }
        None => None,
    };
    eprintln!(
        "cloister: restarting node {} from its state and ledger ({} entries, committed up to {})",
        secrets.node.id,
        disk.entries.len(),
        disk.committed
    );
    write_file(
        &config.output_files.pid_file,
        &std::process::id().to_string(),
    )?;
    let key_pem = secrets.node.key.to_pem();
    let endorsed_pem = secrets.node.cert_pem();
    let service_pem = secrets.service.cert_pem();
    let tls = TlsIdentity::from_pem(&endorsed_pem, &key_pem)?;
    let channels = start_channels(config, &endorsed_pem, &key_pem, &service_pem).await?;
    let mut settings = node_settings(config, no_genesis(config)?);
    settings.cose = state.cose();
    // A node that joined from a snapshot keeps its ledger from the snapshot on.
    let snapshot = if disk.first > 1 {
        let dir = Path::new(&config.snapshots.directory);
        let found = cloister_host::snapshot_files::committed_snapshot_at(dir, disk.first - 1)?;
        Some(found.with_context(|| {
            format!(
                "the ledger starts at seqno {}, but {} holds no committed snapshot at {}",
                disk.first,
                dir.display(),
                disk.first - 1
            )
        })?)
    } else {
        None
    };
    let persisted = PersistedState {
        entries: disk.entries,
        committed: SeqNo(disk.committed),
        vote,
        snapshot,
    };
    let core = NodeCore::restart(node_env(settings), secrets, persisted)?;
    serve(config, core, ledger, &tls, channels).await
}
