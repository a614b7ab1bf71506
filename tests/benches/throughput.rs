//! Throughput benchmark: on a localnet in this process (satellite + 10
//! nodes + client), upload and download one random object (default 256 MiB)
//! and print MB/s for each, the CPU seconds per GiB spent by the whole
//! process, and the peak RSS.
//!
//! Run with `cargo bench -p satstore-tests --bench throughput` (release
//! build). `BENCH_SIZE_MIB` changes the object size, `BENCH_RUNS` repeats,
//! `BENCH_INSECURE=1` runs every peer in plaintext (to measure TLS).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::time::Instant;

use satstore_tests::{DataStream, TestNet};
use uplink::{DownloadOptions, UploadOptions};

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the ")" of the command name: utime is field 14, stime 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// Peak resident set size in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mib: u64 = std::env::var("BENCH_SIZE_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let runs: u32 = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let size = mib << 20;
    // BENCH_INSECURE=1: plaintext gRPC, to measure what TLS costs.
    let insecure = std::env::var("BENCH_INSECURE").is_ok_and(|v| v == "1");
    let net = TestNet::builder().insecure(insecure).start().await?;
    let project = net.project().await?;
    project.create_bucket("bench").await?;
    let gib = size as f64 / (1u64 << 30) as f64;
    println!(
        "object: {mib} MiB, redundancy 4/6/8/10, 10 nodes, 64 MiB segments, {}",
        if insecure { "plaintext gRPC" } else { "TLS" }
    );

    // What generating and hashing the test data costs, to subtract.
    let g0 = cpu_seconds();
    let _ = DataStream::new(0, size).hash();
    let gen_cpu = cpu_seconds() - g0;
    println!(
        "data generation + hash alone: {:.2} CPU-s/GiB (subtracted below)",
        gen_cpu / gib
    );

    for run in 1..=runs {
        let key = format!("obj-{run}");
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        let mut up = project
            .upload_object("bench", &key, &UploadOptions::default())
            .await?;
        let mut data = DataStream::new(run as u64, size);
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = data.fill(&mut buf);
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            up.write_all(&buf[..n]).await?;
        }
        up.commit().await?;
        let want = hasher.finalize();
        let up_secs = t0.elapsed().as_secs_f64();
        let up_cpu = cpu_seconds() - cpu0 - gen_cpu / 2.0;

        let cpu1 = cpu_seconds();
        let t1 = Instant::now();
        let mut down = project
            .download_object(
                "bench",
                &key,
                &DownloadOptions {
                    offset: 0,
                    length: -1,
                },
            )
            .await?;
        let mut hasher = blake3::Hasher::new();
        let mut total = 0u64;
        loop {
            let n = down.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        anyhow::ensure!(total == size, "downloaded {total} of {size} bytes");
        anyhow::ensure!(hasher.finalize() == want, "downloaded bytes differ");
        let down_secs = t1.elapsed().as_secs_f64();
        let down_cpu = cpu_seconds() - cpu1 - gen_cpu / 2.0;

        let mb = size as f64 / 1e6;
        println!(
            "run {run}: upload {:.1} MB/s ({:.2} s, {:.1} CPU-s/GiB) | download {:.1} MB/s ({:.2} s, {:.1} CPU-s/GiB)",
            mb / up_secs,
            up_secs,
            up_cpu / gib,
            mb / down_secs,
            down_secs,
            down_cpu / gib
        );
    }
    println!("peak RSS of the whole process: {:.0} MiB", peak_rss_mib());
    net.shutdown().await;
    Ok(())
}
