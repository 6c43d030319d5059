//! `cloister`: the command line of Cloister, a CCF-compatible service in Rust.

mod ledger_cmd;
mod ledger_print;

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
    /// Read and verify ledgers (Cloister's or CCF's), like CCF's read_ledger.py.
    Ledger {
        #[command(subcommand)]
        command: ledger_cmd::LedgerCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Ledger { command } => ledger_cmd::run(command),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cloister: {error:#}");
            ExitCode::FAILURE
        }
    }
}
