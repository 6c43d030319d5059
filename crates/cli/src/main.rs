//! `cloister`: the command line of Cloister, a CCF-compatible service in Rust.

mod gov_cmd;
mod keygen_cmd;
mod ledger_cmd;
mod ledger_print;
mod node_addresses;
mod node_cmd;
mod node_join;
mod node_logging;
mod node_restart;
mod node_serve;
mod node_settings;
mod node_start;
mod node_state_dir;
mod receipt_cmd;
mod sandbox_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cloister",
    version,
    about = "Cloister: a CCF-compatible confidential consortium service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node (CCF's cchost): `cloister node start|join --config <file.json>`.
    Node {
        #[command(subcommand)]
        command: node_cmd::NodeCommand,
    },
    /// Start a local network (one node for now) with member0 and user0, opened for use.
    Sandbox(sandbox_cmd::SandboxArgs),
    /// Generate a member or user identity, as CCF's keygenerator.sh does.
    Keygen {
        /// Name of the identity: files are <name>_privk.pem, <name>_cert.pem, …
        #[arg(long)]
        name: String,
        /// Also generate an RSA encryption key pair (recovery members).
        #[arg(long)]
        gen_enc_key: bool,
        /// Directory to write into.
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
    /// Read and verify ledgers (Cloister's or CCF's), like CCF's read_ledger.py.
    Ledger {
        #[command(subcommand)]
        command: ledger_cmd::LedgerCommand,
    },
    /// A member's governance requests: sign (like ccf_cose_sign1), propose, vote, withdraw,
    /// activate-member.
    Gov {
        #[command(subcommand)]
        command: gov_cmd::GovCommand,
    },
    /// Verify receipts offline against the service certificate, like ccf.receipt.
    Receipt {
        #[command(subcommand)]
        command: receipt_cmd::ReceiptCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Ledger { command } => ledger_cmd::run(command),
        Command::Gov { command } => gov_cmd::run(command),
        Command::Receipt { command } => receipt_cmd::run(command),
        Command::Node { command } => node_cmd::run(command),
        Command::Sandbox(args) => sandbox_cmd::run(args),
        Command::Keygen {
            name,
            gen_enc_key,
            dir,
        } => keygen_cmd::generate(&dir, &name, gen_enc_key).map(|cert| {
            println!("Generated {name}'s identity: {}", cert.display());
            ExitCode::SUCCESS
        }),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cloister: {error:#}");
            ExitCode::FAILURE
        }
    }
}
