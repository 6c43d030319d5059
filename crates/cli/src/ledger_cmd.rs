//! `cloister ledger verify` and `cloister ledger read`: the Rust counterparts of CCF's
//! read_ledger.py, with the same defaults (committed chunks only, verification on) and output
//! lines, plus `--json` for machines.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use cloister_check::{LedgerEvent, LedgerOptions, LedgerReport, collect_chunks, verify_ledger};

use cloister::sample_ledger::{SampleSpec, write_sample_ledger};

use crate::ledger_print::{EntryPrinter, PrintMode};

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Verify ledger integrity: Merkle roots, node and service signatures, service transitions.
    Verify {
        #[command(flatten)]
        files: FileArgs,
        /// Print one JSON object: {"complete", "signatures", "verified_until", "error", ...}.
        #[arg(long)]
        json: bool,
    },
    /// Print ledger transactions (and verify them, unless told not to).
    Read {
        #[command(flatten)]
        files: FileArgs,
        /// Don't print transaction digests or contents.
        #[arg(short, long, conflicts_with_all = ["digests_only", "tables"])]
        quiet: bool,
        /// Only print `view.seqno write_set_digest` per transaction.
        #[arg(short, long, conflicts_with = "tables")]
        digests_only: bool,
        /// Regex filter for the tables to display.
        #[arg(short, long)]
        tables: Option<String>,
        /// INSECURE: skip Merkle tree and signature verification.
        #[arg(long)]
        insecure_skip_verification: bool,
        /// Print the final report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a sample service ledger with Cloister's write path (for trying the tools).
    Sample {
        /// Directory to write into: the ledger goes in `<out>/ledger`, the service certificate
        /// in `<out>/service_cert.pem`.
        #[arg(long)]
        out: PathBuf,
        /// Application transactions to write.
        #[arg(long, default_value_t = 1000)]
        transactions: u64,
        /// A signature every this many transactions.
        #[arg(long, default_value_t = 100)]
        sig_tx_interval: u64,
        /// End a chunk at the first signature past this many bytes.
        #[arg(long, default_value_t = 1 << 20)]
        chunk_bytes: u64,
        /// Bytes of each value written.
        #[arg(long, default_value_t = 100)]
        value_bytes: usize,
        /// Seed of the keys and values (the ledger is reproducible from it).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Args)]
pub struct FileArgs {
    /// Ledger directories or ledger chunk files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also read uncommitted ledger chunks.
    #[arg(long)]
    uncommitted: bool,
    /// Also read `.recovery` ledger chunks.
    #[arg(long)]
    recovery: bool,
}

pub fn run(command: LedgerCommand) -> anyhow::Result<ExitCode> {
    match command {
        LedgerCommand::Verify { files, json } => run_ledger(&files, PrintMode::Quiet, true, json),
        LedgerCommand::Read {
            files,
            quiet,
            digests_only,
            tables,
            insecure_skip_verification,
            json,
        } => {
            let mode = if quiet {
                PrintMode::Quiet
            } else if digests_only {
                PrintMode::Digests
            } else {
                let filter = tables
                    .map(|pattern| {
                        regex_lite::Regex::new(&pattern)
                            .with_context(|| format!("bad --tables regex {pattern:?}"))
                    })
                    .transpose()?;
                PrintMode::Contents(filter)
            };
            run_ledger(&files, mode, !insecure_skip_verification, json)
        }
        LedgerCommand::Sample {
            out,
            transactions,
            sig_tx_interval,
            chunk_bytes,
            value_bytes,
            seed,
        } => {
            let spec = SampleSpec {
                transactions,
                sig_tx_interval,
                chunk_threshold_bytes: chunk_bytes,
                value_bytes,
                seed,
                ..SampleSpec::default()
            };
            let ledger_dir = out.join("ledger");
            let sample = write_sample_ledger(&ledger_dir, &spec)?;
            let cert_path = out.join("service_cert.pem");
            std::fs::write(&cert_path, &sample.service_cert_pem)
                .with_context(|| format!("writing {}", cert_path.display()))?;
            println!(
                "Wrote {} transactions with {} signatures to {} (last signature {}); service certificate in {}",
                sample.last_seqno,
                sample.signatures,
                ledger_dir.display(),
                sample.last_signature,
                cert_path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_ledger(
    files: &FileArgs,
    mode: PrintMode,
    verify: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let options = LedgerOptions {
        uncommitted: files.uncommitted,
        recovery: files.recovery,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let report = match collect_chunks(&files.paths, options) {
        Ok(chunks) => {
            if !json {
                writeln!(out, "Reading ledger from {:?}", files.paths)?;
                writeln!(
                    out,
                    "Contains {} chunk{}",
                    chunks.len(),
                    if chunks.len() == 1 { "" } else { "s" }
                )?;
            }
            if json {
                verify_ledger(&chunks, verify, &mut |_| {})
            } else {
                let mut printer = EntryPrinter::new(&mut out, mode);
                let report = verify_ledger(&chunks, verify, &mut |event: LedgerEvent<'_>| {
                    printer.print(event)
                });
                printer.result()?;
                report
            }
        }
        Err(error) => LedgerReport {
            complete: false,
            signatures: 0,
            verified_until: None,
            error: Some(error),
            chunks: 0,
            transactions: 0,
            bytes: 0,
        },
    };
    print_report(&mut out, &report, verify, json)?;
    Ok(if report.complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(
    out: &mut impl Write,
    report: &LedgerReport,
    verify: bool,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(report)?)?;
        return Ok(());
    }
    match &report.error {
        Some(error) => writeln!(out, "Error verifying ledger: {error}")?,
        None if verify => writeln!(out, "Ledger verification complete")?,
        None => writeln!(out, "Skipped ledger integrity verification")?,
    }
    if verify {
        writeln!(
            out,
            "Found {} signatures, and verified until {}",
            report.signatures,
            report.verified_until.unwrap_or_default()
        )?;
    }
    Ok(())
}
