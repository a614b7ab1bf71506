//! S3 gateway load benchmark. Starts a localnet in this process (satellite,
//! 10 storage nodes, the S3 gateway) and measures, printing one table:
//!
//! - the uplink-direct PUT/GET of one large object (default 256 MiB; the
//!   baseline, as the `throughput` bench does it) and the same through S3;
//! - PUT/GET MB/s of 64 x 4 MiB objects with 16 requests in flight;
//! - ops/s and p50/p99 latency of 4 KiB PUT/GET/HEAD/DELETE, 16 in flight;
//! - process CPU seconds per GiB moved. The whole network (client, gateway,
//!   uplink, satellite, nodes) runs in this process, so CPU-s/GiB is the
//!   cost of the whole system for that phase, not of the gateway alone.
//!
//! Bodies are streamed: data is generated in 1 MiB pieces, never held whole.
//!
//! Run: `cargo bench -p satstore-tests --bench s3load`. Knobs:
//! `BENCH_SIZE_MIB` (256), `BENCH_RUNS` (2), `BENCH_OBJECTS` (64),
//! `BENCH_OBJECT_MIB` (4), `BENCH_SMALL_OPS` (1000 per op type),
//! `BENCH_INFLIGHT` (16), `BENCH_S3_CHUNKED=1` (aws-chunked signed PUTs
//! instead of UNSIGNED-PAYLOAD).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use bytes::Bytes;
use futures::{StreamExt, stream};
use http::StatusCode;
use http_body_util::BodyExt;
use satstore_tests::s3::{PayloadSigning, S3Client};
use satstore_tests::{DataStream, TestNet};
use uplink::{DownloadOptions, Project, UploadOptions};

const PIECE: usize = 1 << 20;

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The stream `seed` of `len` bytes as 1 MiB pieces, generated lazily.
fn pieces(seed: u64, len: u64) -> impl futures::Stream<Item = Bytes> + Send + Unpin + 'static {
    let mut data = DataStream::new(seed, len);
    stream::iter(std::iter::from_fn(move || {
        let mut buf = vec![0u8; PIECE];
        let n = data.fill(&mut buf);
        (n > 0).then(|| {
            buf.truncate(n);
            Bytes::from(buf)
        })
    }))
}

/// One measured phase.
struct Row {
    name: String,
    bytes: u64,
    secs: f64,
    cpu: f64,
}

impl Row {
    fn print(&self) {
        let gib = self.bytes as f64 / (1u64 << 30) as f64;
        println!(
            "| {:<34} | {:>9.1} | {:>8.2} | {:>10.2} |",
            self.name,
            self.bytes as f64 / 1e6 / self.secs,
            self.secs,
            self.cpu / gib
        );
    }
}

async fn uplink_put(project: &Project, key: &str, seed: u64, size: u64) -> anyhow::Result<()> {
    let mut up = project
        .upload_object("bench", key, &UploadOptions::default())
        .await?;
    let mut data = DataStream::new(seed, size);
    let mut buf = vec![0u8; PIECE];
    loop {
        let n = data.fill(&mut buf);
        if n == 0 {
            break;
        }
        up.write_all(&buf[..n]).await?;
    }
    up.commit().await?;
    Ok(())
}

async fn uplink_get(project: &Project, key: &str) -> anyhow::Result<([u8; 32], u64)> {
    let opts = DownloadOptions {
        offset: 0,
        length: -1,
    };
    let mut down = project.download_object("bench", key, &opts).await?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; PIECE];
    let mut total = 0;
    loop {
        let n = down.read(&mut buf).await?;
        if n == 0 {
            return Ok((*h.finalize().as_bytes(), total));
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
}

async fn s3_put(
    s3: &S3Client,
    key: &str,
    seed: u64,
    size: u64,
    signing: PayloadSigning,
) -> anyhow::Result<()> {
    let r = s3
        .put_object_stream("bench", key, size, pieces(seed, size), signing)
        .await?;
    ensure!(
        r.status == StatusCode::OK,
        "PUT {key}: {} {}",
        r.status,
        r.text()
    );
    Ok(())
}

/// GETs an object, hashing the body as it streams in.
async fn s3_get(s3: &S3Client, key: &str) -> anyhow::Result<([u8; 32], u64)> {
    let resp = s3.get_object_stream("bench", key, None).await?;
    ensure!(
        resp.status() == StatusCode::OK,
        "GET {key}: {}",
        resp.status()
    );
    let mut body = resp.into_body();
    let mut h = blake3::Hasher::new();
    let mut total = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            total += data.len() as u64;
            h.update(&data);
        }
    }
    Ok((*h.finalize().as_bytes(), total))
}

/// Runs `f` at `inflight` concurrency over `0..n`; returns the wall time
/// and every call's latency.
async fn concurrent<F, Fut>(n: u64, inflight: usize, f: F) -> anyhow::Result<(f64, Vec<Duration>)>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let t0 = Instant::now();
    let results: Vec<anyhow::Result<Duration>> = stream::iter(0..n)
        .map(|i| {
            let fut = f(i);
            async move {
                let t = Instant::now();
                fut.await?;
                Ok(t.elapsed())
            }
        })
        .buffer_unordered(inflight)
        .collect()
        .await;
    let secs = t0.elapsed().as_secs_f64();
    let lat = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok((secs, lat))
}

/// Peak resident set of the whole process (satellite, nodes, gateway,
/// client), in MiB; 0 where /proc is missing.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = (sorted.len() * p / 100).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mib = env_u64("BENCH_SIZE_MIB", 256);
    let runs = env_u64("BENCH_RUNS", 2);
    let objects = env_u64("BENCH_OBJECTS", 64);
    let object_mib = env_u64("BENCH_OBJECT_MIB", 4);
    let small_ops = env_u64("BENCH_SMALL_OPS", 1000);
    let inflight = env_u64("BENCH_INFLIGHT", 16).max(1) as usize;
    let signing = if env_u64("BENCH_S3_CHUNKED", 0) == 1 {
        PayloadSigning::Chunked {
            chunk_size: 64 << 10,
        }
    } else {
        PayloadSigning::Unsigned
    };
    let size = mib << 20;

    // BENCH_INSECURE=1: plaintext gRPC, to measure what TLS costs.
    let insecure = std::env::var("BENCH_INSECURE").is_ok_and(|v| v == "1");
    let net = TestNet::builder()
        .insecure(insecure)
        .start()
        .await
        .context("start localnet")?;
    let project = net.project().await?;
    project.create_bucket("bench").await?;
    let creds = net.net().s3();
    let s3 = S3Client::new(&creds.endpoint, &creds.access_key, &creds.secret_key)?;
    println!(
        "localnet in this process: satellite + 10 nodes (4/6/8/10) + S3 gateway at {}; S3 PUT signing: {signing:?}",
        creds.endpoint
    );
    println!(
        "CPU-s/GiB is user+system CPU of the whole process (client, gateway, uplink, satellite, nodes)."
    );

    let g0 = cpu_seconds();
    let _ = DataStream::new(0, size).hash();
    let gen_cpu = cpu_seconds() - g0;
    let gib = size as f64 / (1u64 << 30) as f64;
    println!(
        "data generation + BLAKE3 alone: {:.2} CPU-s/GiB (half subtracted from each large-object row)",
        gen_cpu / gib
    );

    // The first upload into empty RocksDB stores runs faster than every
    // later one (no flushes or compactions of earlier data yet), which
    // would flatter whichever path goes first: warm the nodes up first.
    {
        let t = Instant::now();
        uplink_put(&project, "warm-up", 999, size).await?;
        println!(
            "warm-up uplink PUT of {mib} MiB (not counted): {:.1} MB/s",
            size as f64 / 1e6 / t.elapsed().as_secs_f64()
        );
    }

    let mut rows = Vec::new();
    let (mut up_put, mut up_get, mut s3_put_s, mut s3_get_s) = (0.0, 0.0, 0.0, 0.0);
    for run in 1..=runs {
        let seed = 1000 + run;
        let want = DataStream::new(seed, size).hash();

        let key = format!("uplink-{run}");
        let (c, t) = (cpu_seconds(), Instant::now());
        uplink_put(&project, &key, seed, size).await?;
        up_put += t.elapsed().as_secs_f64();
        rows.push(Row {
            name: format!("uplink PUT {mib} MiB (run {run})"),
            bytes: size,
            secs: t.elapsed().as_secs_f64(),
            cpu: cpu_seconds() - c - gen_cpu / 2.0,
        });
        let (c, t) = (cpu_seconds(), Instant::now());
        let got = uplink_get(&project, &key).await?;
        ensure!(got == want, "uplink download of {key} differs");
        up_get += t.elapsed().as_secs_f64();
        rows.push(Row {
            name: format!("uplink GET {mib} MiB (run {run})"),
            bytes: size,
            secs: t.elapsed().as_secs_f64(),
            cpu: cpu_seconds() - c - gen_cpu / 2.0,
        });

        let key = format!("s3-{run}");
        let (c, t) = (cpu_seconds(), Instant::now());
        s3_put(&s3, &key, seed, size, signing).await?;
        s3_put_s += t.elapsed().as_secs_f64();
        rows.push(Row {
            name: format!("S3 PUT {mib} MiB (run {run})"),
            bytes: size,
            secs: t.elapsed().as_secs_f64(),
            cpu: cpu_seconds() - c - gen_cpu / 2.0,
        });
        let (c, t) = (cpu_seconds(), Instant::now());
        let got = s3_get(&s3, &key).await?;
        ensure!(got == want, "S3 download of {key} differs");
        s3_get_s += t.elapsed().as_secs_f64();
        rows.push(Row {
            name: format!("S3 GET {mib} MiB (run {run})"),
            bytes: size,
            secs: t.elapsed().as_secs_f64(),
            cpu: cpu_seconds() - c - gen_cpu / 2.0,
        });
    }

    println!(
        "S3 speed as a share of the uplink's over {runs} run(s): PUT {:.0}%, GET {:.0}%",
        100.0 * up_put / s3_put_s,
        100.0 * up_get / s3_get_s
    );
    println!(
        "peak RSS after the {mib} MiB objects (whole process): {:.0} MiB",
        peak_rss_mib()
    );

    // Many medium objects, `inflight` at a time.
    let osize = object_mib << 20;
    let total = osize * objects;
    let c = cpu_seconds();
    let (secs, _) = concurrent(objects, inflight, |i| {
        let s3 = s3.clone();
        async move { s3_put(&s3, &format!("mid-{i}"), 5000 + i, osize, signing).await }
    })
    .await?;
    rows.push(Row {
        name: format!("S3 PUT {objects} x {object_mib} MiB, {inflight} in flight"),
        bytes: total,
        secs,
        cpu: cpu_seconds() - c,
    });
    let c = cpu_seconds();
    let (secs, _) = concurrent(objects, inflight, |i| {
        let s3 = s3.clone();
        async move {
            let got = s3_get(&s3, &format!("mid-{i}")).await?;
            ensure!(got.1 == osize, "mid-{i}: {} bytes", got.1);
            Ok(())
        }
    })
    .await?;
    rows.push(Row {
        name: format!("S3 GET {objects} x {object_mib} MiB, {inflight} in flight"),
        bytes: total,
        secs,
        cpu: cpu_seconds() - c,
    });

    println!();
    println!(
        "| {:<34} | {:>9} | {:>8} | {:>10} |",
        "phase", "MB/s", "seconds", "CPU-s/GiB"
    );
    println!("|{:-<36}|{:->11}|{:->10}|{:->12}|", "", "", "", "");
    for r in &rows {
        r.print();
    }

    // Small objects: PUT, GET, HEAD, DELETE of 4 KiB.
    let small = Bytes::from(DataStream::new(7, 4096).to_vec());
    println!();
    println!("4 KiB objects, {small_ops} ops per type, {inflight} in flight:");
    println!(
        "| {:<6} | {:>9} | {:>8} | {:>8} | {:>10} |",
        "op", "ops/s", "p50 ms", "p99 ms", "CPU-ms/op"
    );
    println!(
        "|{:-<8}|{:->11}|{:->10}|{:->10}|{:->12}|",
        "", "", "", "", ""
    );
    for op in ["PUT", "GET", "HEAD", "DELETE"] {
        let c = cpu_seconds();
        let (secs, mut lat) = concurrent(small_ops, inflight, |i| {
            let s3 = s3.clone();
            let small = small.clone();
            async move {
                let key = format!("small-{i}");
                let r = match op {
                    "PUT" => s3.put_object("bench", &key, small).await?,
                    "GET" => s3.get_object("bench", &key, None).await?,
                    "HEAD" => s3.head_object("bench", &key).await?,
                    _ => s3.delete_object("bench", &key).await?,
                };
                ensure!(
                    r.status.is_success(),
                    "{op} {key}: {} {}",
                    r.status,
                    r.text()
                );
                if op == "GET" {
                    ensure!(r.body.len() == 4096, "GET {key}: {} bytes", r.body.len());
                }
                Ok(())
            }
        })
        .await?;
        let cpu = cpu_seconds() - c;
        lat.sort();
        println!(
            "| {:<6} | {:>9.0} | {:>8.2} | {:>8.2} | {:>10.2} |",
            op,
            small_ops as f64 / secs,
            percentile(&lat, 50),
            percentile(&lat, 99),
            cpu * 1e3 / small_ops as f64
        );
    }
    net.shutdown().await;
    Ok(())
}
