//! The `cloister-sim` binary: `--seed S` runs one seed and prints its trace and final hash;
//! `--seeds A..B` runs many and prints a summary line with counts. `--nodes 3|5`,
//! `--safety-ms T`, `--time-box-secs T` (stop starting seeds after T wall-clock seconds),
//! `--bug commit-without-quorum|commit-unsigned` (an injected bug, to see the checks work),
//! `--storage-stress` (every seed crashes often on a slow disk, tearing writes and flipping bits),
//! `--quiet` (failures and the summary only).

use std::process::ExitCode;

use cloister_sim::faults::FaultPlan;
use cloister_sim::{Bug, RunConfig, RunReport, run};

struct Args {
    seeds: std::ops::Range<u64>,
    single: bool,
    nodes: usize,
    safety_ms: Option<u64>,
    time_box_secs: Option<u64>,
    bug: Option<Bug>,
    quiet: bool,
    storage_stress: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seeds: 0..1,
        single: true,
        nodes: 3,
        safety_ms: None,
        time_box_secs: None,
        bug: None,
        quiet: false,
        storage_stress: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seed" => {
                let seed: u64 = value()?.parse().map_err(|e| format!("--seed: {e}"))?;
                args.seeds = seed..seed + 1;
                args.single = true;
            }
            "--seeds" => {
                let text = value()?;
                let (a, b) = text
                    .split_once("..")
                    .ok_or("--seeds takes A..B (B excluded)")?;
                let a: u64 = a.parse().map_err(|e| format!("--seeds: {e}"))?;
                let b: u64 = b.parse().map_err(|e| format!("--seeds: {e}"))?;
                args.seeds = a..b;
                args.single = false;
            }
            "--nodes" => {
                args.nodes = value()?.parse().map_err(|e| format!("--nodes: {e}"))?;
                if args.nodes != 3 && args.nodes != 5 {
                    return Err("--nodes is 3 or 5".into());
                }
            }
            "--safety-ms" => {
                args.safety_ms = Some(value()?.parse().map_err(|e| format!("--safety-ms: {e}"))?)
            }
            "--time-box-secs" => {
                args.time_box_secs = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--time-box-secs: {e}"))?,
                )
            }
            "--bug" => args.bug = Some(value()?.parse()?),
            "--quiet" => args.quiet = true,
            "--storage-stress" => args.storage_stress = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

fn config(args: &Args, seed: u64) -> RunConfig {
    let mut config = RunConfig::new(seed, args.nodes);
    if let Some(ms) = args.safety_ms {
        config.safety_ms = ms;
    }
    config.bug = args.bug;
    config.keep_trace = args.single && !args.quiet;
    if args.storage_stress {
        config.faults = Some(FaultPlan::storage_stress());
    }
    config
}

fn print_stats(report: &RunReport) {
    let s = &report.stats;
    println!(
        "seed {} {}: hash {} steps {} sim {} ms; writes {}/{} acked, read back {}, committed to {}, max view {}; crashes {} restarts {} torn {} flips {} write errors {} pauses {} partitions {} joins {} retirements {}; messages {} delivered {} dropped",
        report.config.seed,
        if report.passed() { "ok" } else { "FAILED" },
        report.hash,
        s.steps,
        s.sim_ms,
        s.writes_acked,
        s.writes_sent,
        s.read_back,
        s.committed_seqno,
        s.max_view,
        s.crashes,
        s.restarts,
        s.torn,
        s.flips,
        s.write_errors,
        s.pauses,
        s.partitions,
        s.joins,
        s.retirements,
        s.delivered,
        s.dropped,
    );
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(why) => {
            eprintln!("cloister-sim: {why}");
            return ExitCode::from(2);
        }
    };
    // The only wall clock in the simulator: the time box decides whether to start another
    // seed, never anything inside a run.
    #[allow(clippy::disallowed_methods, clippy::disallowed_types)]
    let started = std::time::Instant::now();
    let (mut passed, mut failed, mut ran) = (0u64, 0u64, 0u64);
    for seed in args.seeds.clone() {
        if let Some(limit) = args.time_box_secs
            && started.elapsed().as_secs() >= limit
        {
            break;
        }
        let report = run(config(&args, seed));
        ran += 1;
        if args.single {
            for line in &report.trace {
                println!("{line}");
            }
        }
        if !args.quiet || !report.passed() || args.single {
            print_stats(&report);
        }
        match report.failure_text() {
            Some(text) => {
                failed += 1;
                println!("{text}");
            }
            None => passed += 1,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "summary: {ran} seeds ({}..{}), {passed} passed, {failed} failed, {:.1} s, {:.2} seeds/s",
        args.seeds.start,
        args.seeds.start + ran,
        seconds,
        ran as f64 / seconds.max(1e-9)
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
