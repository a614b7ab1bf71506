//! Runs the fuzz targets of [`satstore_tests::fuzz`] for a time budget each.
//!
//! `fuzz [--seconds N] [--target NAME]... [--seed S] [--list]`; exits 1 with
//! a reproducer line when a parser panics.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::time::Duration;

use satstore_tests::fuzz;

/// The target that talks to a live gateway.
const NETWORK: &str = "gateway-http";

fn main() -> std::process::ExitCode {
    let mut seconds = 5u64;
    let mut seed: u64 = rand::random();
    let mut names: Vec<String> = Vec::new();
    let mut list = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = |args: &mut dyn Iterator<Item = String>, flag: &str| {
            args.next().unwrap_or_else(|| {
                eprintln!("error: {flag} needs a value");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--seconds" => {
                seconds = value(&mut args, "--seconds").parse().unwrap_or_else(|_| {
                    eprintln!("error: --seconds takes a whole number");
                    std::process::exit(2)
                })
            }
            "--seed" => {
                seed = value(&mut args, "--seed").parse().unwrap_or_else(|_| {
                    eprintln!("error: --seed takes a whole number");
                    std::process::exit(2)
                })
            }
            "--target" => names.push(value(&mut args, "--target")),
            "--list" => list = true,
            other => {
                eprintln!("error: unknown argument {other:?}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let mut targets = fuzz::targets::all();
    if list {
        for t in &targets {
            println!("{}", t.name);
        }
        println!("{NETWORK}");
        return std::process::ExitCode::SUCCESS;
    }
    for n in &names {
        if n != NETWORK && !targets.iter().any(|t| t.name == n) {
            eprintln!("error: no fuzz target named {n:?} (see --list)");
            return std::process::ExitCode::from(2);
        }
    }
    if names.is_empty() || names.iter().any(|n| n == NETWORK) {
        // The one target that needs a running network (a localnet here).
        match fuzz::gateway::http_requests() {
            Ok(t) => targets.push(t),
            Err(e) => {
                eprintln!("error: start the network for {NETWORK}: {e:#}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    // Panics are the findings: report them once, below, not from the hook.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failed = false;
    for t in targets
        .iter()
        .filter(|t| names.is_empty() || names.iter().any(|n| n == t.name))
    {
        match fuzz::run(t, Duration::from_secs(seconds), seed) {
            Ok(r) => println!("fuzz {}: {} inputs, no panic", r.name, r.iterations),
            Err(f) => {
                println!("fuzz FAILED: {f}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
