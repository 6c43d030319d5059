//! `cloister node start|join --config <file.json>`: CCF's node configuration in, a running node
//! out (the counterpart of `cchost --config`). Fields Cloister does not support yet are refused,
//! each named; a bad value names its field. A node whose directory already holds its state file
//! restarts from it instead (node_restart.rs).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Subcommand;
use cloister_node::apps::logging::LoggingApp;
use cloister_node::config::{
    CommandKind, CommandType, NodeConfig, check_supported, parse_node_config,
};
use cloister_node::core::{Frontends, NodeEnv, NodeSettings};

use crate::node_addresses::resolve_port_zero;
use crate::node_state_dir::NodeState;
use crate::{node_join, node_restart, node_start};

#[derive(Subcommand)]
pub enum NodeCommand {
    /// Start a node from a CCF node configuration file (command.type = "Start").
    Start {
        /// CCF node configuration (cchost JSON).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Join an existing service (command.type = "Join").
    Join {
        /// CCF node configuration (cchost JSON).
        #[arg(long, short)]
        config: PathBuf,
    },
}

pub const DAY_SECONDS: i64 = 24 * 3600;

pub fn run(command: NodeCommand) -> anyhow::Result<ExitCode> {
    let (expected, path) = match command {
        NodeCommand::Start { config } => (CommandType::Start, config),
        NodeCommand::Join { config } => (CommandType::Join, config),
    };
    let config = load_config(&path)?;
    if config.command.command_type() != expected {
        bail!(
            "{}: command.type must be \"{}\" for `cloister node {}`",
            path.display(),
            expected.as_str(),
            expected.as_str().to_lowercase()
        );
    }
    let config = resolve_port_zero(config)?;
    crate::node_logging::install(&config.logging);
    // The node runs JavaScript in QuickJS, which may use up to `max_stack_bytes` of the calling
    // thread's stack (cloister-js caps it at `JS_STACK_BYTES_CEILING`). The node's core runs as a
    // local task of a LocalSet (its interpreters stay on one thread, see node_serve) on a thread
    // of our own whose stack is well above that cap; servers and peer channels run on the
    // worker threads, which run no JavaScript.
    let node_thread = std::thread::Builder::new()
        .name("cloister-node".to_owned())
        .stack_size(NODE_THREAD_STACK_BYTES)
        .spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let local = tokio::task::LocalSet::new();
            runtime.block_on(local.run_until(async {
                if let Some(state) = NodeState::load(Path::new("."))? {
                    return node_restart::restart(&config, state).await;
                }
                match &config.command.kind {
                    CommandKind::Start(start) => node_start::start(&config, start).await,
                    CommandKind::Join(join) => node_join::join(&config, join).await,
                    CommandKind::Recover(_) => bail!("command.type \"Recover\" is not supported"),
                }
            }))
        })?;
    node_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the node thread panicked"))??;
    Ok(ExitCode::SUCCESS)
}

/// Stack of the thread that runs the node's core and its JavaScript: four times QuickJS's cap.
const NODE_THREAD_STACK_BYTES: usize = 4 * cloister_js::JS_STACK_BYTES_CEILING as usize;

/// Parses and checks the configuration file.
fn load_config(path: &Path) -> anyhow::Result<NodeConfig> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let config =
        parse_node_config(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Err(unsupported) = check_supported(&config) {
        if !unsupported.is_empty() {
            let list: Vec<String> = unsupported.iter().map(|u| format!("  {u}")).collect();
            bail!(
                "{} asks for what Cloister does not support yet:\n{}",
                path.display(),
                list.join("\n")
            );
        }
    }
    Ok(config)
}

/// The constitution engine and the frontends every node serves (the logging app among them).
/// What every node is built with: its settings, the QuickJS constitution engine, the built-in
/// frontends with the logging app, starting now.
pub fn node_env(settings: NodeSettings) -> NodeEnv {
    NodeEnv {
        settings,
        engine: Box::new(cloister_js::QuickJsConstitution::new()),
        frontends: Frontends::with_builtins(&[&LoggingApp]),
        now_ms: 0,
        now_unix: unix_now(),
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(command: &str) -> NodeConfig {
        parse_node_config(&format!(
            r#"{{
              "enclave": {{ "platform": "Virtual", "type": "Virtual" }},
              "network": {{
                "node_to_node_interface": {{ "bind_address": "127.0.0.1:0" }},
                "rpc_interfaces": {{ "main": {{ "bind_address": "127.0.0.1:0" }} }}
              }},
              "command": {command}
            }}"#
        ))
        .unwrap()
    }

    #[test]
    fn a_join_configuration_is_supported_and_recovery_is_not() {
        let join =
            config(r#"{ "type": "Join", "join": { "target_rpc_address": "127.0.0.1:8000" } }"#);
        assert!(check_supported(&join).is_ok());

        let recover = config(
            r#"{ "type": "Recover", "recover": { "previous_service_identity_file": "p.pem" } }"#,
        );
        let found = check_supported(&recover).unwrap_err();
        assert!(found.iter().any(|u| u.path == "command.type"));
    }
}
