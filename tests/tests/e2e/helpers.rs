//! Upload and download helpers shared by the scenarios.

use satstore_tests::DataStream;
use uplink::{DownloadOptions, Project, UploadOptions};

/// Size of the writes the helpers make.
pub const WRITE_SIZE: usize = 256 * 1024;

/// Uploads `len` bytes of the stream `seed` and commits.
pub async fn upload(
    project: &Project,
    bucket: &str,
    key: &str,
    seed: u64,
    len: u64,
) -> anyhow::Result<()> {
    let mut up = project
        .upload_object(bucket, key, &UploadOptions::default())
        .await?;
    let mut data = DataStream::new(seed, len);
    let mut buf = vec![0u8; WRITE_SIZE];
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

/// Downloads a range and returns its BLAKE3 hash and length.
pub async fn download_hash(
    project: &Project,
    bucket: &str,
    key: &str,
    offset: i64,
    length: i64,
) -> anyhow::Result<([u8; 32], u64)> {
    let mut down = project
        .download_object(bucket, key, &DownloadOptions { offset, length })
        .await?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 300 * 1024];
    let mut total = 0u64;
    loop {
        let n = down.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((*h.finalize().as_bytes(), total))
}

/// Downloads a small range into memory.
pub async fn download_bytes(
    project: &Project,
    bucket: &str,
    key: &str,
    offset: i64,
    length: i64,
) -> anyhow::Result<Vec<u8>> {
    let mut down = project
        .download_object(bucket, key, &DownloadOptions { offset, length })
        .await?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = down.read(&mut buf).await?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Asserts the whole object equals the stream `seed` of `len` bytes.
pub async fn assert_object(project: &Project, bucket: &str, key: &str, seed: u64, len: u64) {
    let got = download_hash(project, bucket, key, 0, -1)
        .await
        .unwrap_or_else(|e| panic!("download {key}: {e:#}"));
    let want = DataStream::new(seed, len).hash();
    assert_eq!(got.1, want.1, "length of {key}");
    assert!(got.0 == want.0, "content of {key} differs");
}
