//! Reading a peer's `/metrics` endpoint in tests.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The `/metrics` text served at `addr`.
pub async fn text(addr: SocketAddr) -> anyhow::Result<String> {
    let mut conn = tokio::net::TcpStream::connect(addr).await?;
    conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await?;
    let mut body = String::new();
    conn.read_to_string(&mut body).await?;
    Ok(body)
}

/// Polls `/metrics` at `addr` until it contains `line` (at most 20 s).
pub async fn wait_for(addr: SocketAddr, line: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if text(addr).await?.contains(line) {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("metric line {line:?} never appeared at {addr}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
