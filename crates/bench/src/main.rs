//! `cloister-bench`: closed-loop small-write load against a Cloister service or an etcd
//! cluster; prints committed and acknowledged writes/s and p50/p99 latency.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use cloister_bench::{CloisterTarget, Endpoint, Report, cloister, etcd};

#[derive(Parser)]
#[command(name = "cloister-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// `POST /app/log/private` as a user; commits polled at the end.
    Cloister(CloisterArgs),
    /// `POST /v3/kv/put` through etcd's JSON gateway (answered after commit).
    Etcd(EtcdArgs),
}

#[derive(Args)]
struct Load {
    /// Concurrent clients, each one keep-alive connection with one request in flight.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// How long the clients write.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
}

#[derive(Args)]
struct CloisterArgs {
    /// Node URLs, comma-separated (`https://127.0.0.1:8000`); clients spread over them.
    #[arg(long, value_delimiter = ',', required = true)]
    url: Vec<String>,
    /// The service certificate.
    #[arg(long)]
    ca: PathBuf,
    /// The user's certificate.
    #[arg(long)]
    cert: PathBuf,
    /// The user's private key.
    #[arg(long)]
    key: PathBuf,
    #[command(flatten)]
    load: Load,
}

#[derive(Args)]
struct EtcdArgs {
    /// Client URLs, comma-separated (`http://127.0.0.1:2379,...`); clients spread over them.
    #[arg(long, value_delimiter = ',', required = true)]
    endpoints: Vec<String>,
    #[command(flatten)]
    load: Load,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(report) => {
            print!("{}", report.human());
            println!("{}", report.result_line());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cloister-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Cloister(args) => {
            let target = CloisterTarget {
                urls: args.url,
                service_cert_pem: read(&args.ca)?,
                user_cert_pem: read(&args.cert)?,
                user_key_pem: read(&args.key)?,
            };
            let (clients, duration) = args.load.parse()?;
            runtime.block_on(cloister::bench(&target, clients, duration))
        }
        Command::Etcd(args) => {
            let endpoints = args
                .endpoints
                .iter()
                .map(|url| Endpoint::parse(url))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (clients, duration) = args.load.parse()?;
            runtime.block_on(etcd::bench(&endpoints, clients, duration))
        }
    }
}

impl Load {
    fn parse(&self) -> anyhow::Result<(usize, Duration)> {
        anyhow::ensure!(self.clients > 0, "--clients must be at least 1");
        let duration = Duration::try_from_secs_f64(self.seconds)
            .ok()
            .filter(|d| !d.is_zero())
            .context("--seconds must be a positive number")?;
        Ok((self.clients, duration))
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}
