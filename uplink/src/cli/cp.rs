//! `uplink cp SRC DST`: copy between a local file or `-` (stdin/stdout) and
//! `sj://BUCKET/KEY`. A destination ending in '/' (or a local directory)
//! gets the source's file name appended.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use uplink::{DownloadOptions, Project, UploadOptions};

use super::progress::{Tracked, bar};
use super::{Location, SjUrl};

pub(crate) async fn run(project: &Project, source: &str, destination: &str) -> Result<()> {
    match (Location::parse(source)?, Location::parse(destination)?) {
        (Location::Remote(_), Location::Remote(_)) => {
            bail!(
                "cp copies between local files and sj:// locations, not between two sj:// locations"
            )
        }
        (Location::Remote(src), dst) => download(project, source, &src, dst).await,
        (src, Location::Remote(dst)) => upload(project, src, &dst).await,
        _ => bail!("cp needs one sj://BUCKET/KEY location; use your shell's cp for local copies"),
    }
}

/// The object key for an upload: `dst.key`, or `dst.key` + the source's
/// file name when it names a "directory" (empty or ending in '/').
pub(crate) fn upload_key(src: &Location, dst: &SjUrl) -> Result<String> {
    if !dst.key.is_empty() && !dst.key.ends_with('/') {
        return Ok(dst.key.clone());
    }
    match src {
        Location::Local(p) => {
            let name = p.file_name().and_then(|n| n.to_str()).with_context(|| {
                format!(
                    "cannot name the object after {}: give sj://BUCKET/KEY",
                    p.display()
                )
            })?;
            Ok(format!("{}{name}", dst.key))
        }
        _ => bail!("cannot name an object read from stdin: give sj://BUCKET/KEY"),
    }
}

/// The local file for a download: `dst`, or `dst/<last key component>`
/// when `dst` is a directory or ends in '/'.
pub(crate) fn download_path(dst: &Path, dst_text: &str, key: &str) -> PathBuf {
    if dst_text.ends_with('/') || dst.is_dir() {
        let name = key.rsplit('/').next().unwrap_or(key);
        dst.join(name)
    } else {
        dst.to_path_buf()
    }
}

async fn upload(project: &Project, src: Location, dst: &SjUrl) -> Result<()> {
    let key = upload_key(&src, dst)?;
    let target = format!("sj://{}/{key}", dst.bucket);
    let mut upload = project
        .upload_object(&dst.bucket, &key, &UploadOptions::default())
        .await
        .with_context(|| format!("upload to {target}"))?;
    let written = match &src {
        Location::Local(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .with_context(|| format!("open {}", path.display()))?;
            let len = file.metadata().await.ok().map(|m| m.len());
            let bar = bar(len);
            let n = upload
                .write_file(Tracked::new(file, bar.clone()))
                .await
                .with_context(|| format!("upload {} to {target}", path.display()))?;
            bar.finish_and_clear();
            n
        }
        _ => {
            let bar = bar(None);
            let n = upload
                .write_file(Tracked::new(tokio::io::stdin(), bar.clone()))
                .await
                .with_context(|| format!("upload stdin to {target}"))?;
            bar.finish_and_clear();
            n
        }
    };
    upload
        .commit()
        .await
        .with_context(|| format!("commit {target}"))?;
    println!("Uploaded {written} bytes to {target}");
    Ok(())
}

async fn download(project: &Project, src_text: &str, src: &SjUrl, dst: Location) -> Result<()> {
    SjUrl::parse_object(src_text)?;
    let mut download = project
        .download_object(&src.bucket, &src.key, &DownloadOptions::default())
        .await
        .with_context(|| format!("download {src_text}"))?;
    let len = u64::try_from(download.info().system.content_length).ok();
    match dst {
        Location::Std => {
            download
                .read_file(tokio::io::stdout())
                .await
                .with_context(|| format!("download {src_text}"))?;
        }
        Location::Local(path) => {
            let text = path.to_string_lossy().to_string();
            let path = download_path(&path, &text, &src.key);
            let file = tokio::fs::File::create(&path)
                .await
                .with_context(|| format!("create {}", path.display()))?;
            let bar = bar(len);
            let result = download.read_file(Tracked::new(file, bar.clone())).await;
            bar.finish_and_clear();
            if let Err(e) = result {
                let _ = tokio::fs::remove_file(&path).await;
                return Err(e)
                    .with_context(|| format!("download {src_text} to {}", path.display()));
            }
            println!("Downloaded {src_text} to {}", path.display());
        }
        Location::Remote(_) => unreachable!("handled by run"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> SjUrl {
        SjUrl::parse(s).unwrap()
    }

    #[test]
    fn upload_keys() {
        let file = Location::Local("/tmp/dir/photo.jpg".into());
        assert_eq!(upload_key(&file, &url("sj://b/k")).unwrap(), "k");
        assert_eq!(upload_key(&file, &url("sj://b")).unwrap(), "photo.jpg");
        assert_eq!(upload_key(&file, &url("sj://b/a/")).unwrap(), "a/photo.jpg");
        assert_eq!(upload_key(&Location::Std, &url("sj://b/k")).unwrap(), "k");
        assert!(upload_key(&Location::Std, &url("sj://b/")).is_err());
    }

    #[test]
    fn download_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(
            download_path(d, &d.to_string_lossy(), "a/b.txt"),
            d.join("b.txt")
        );
        let f = d.join("out.bin");
        assert_eq!(download_path(&f, &f.to_string_lossy(), "a/b.txt"), f);
        assert_eq!(
            download_path(Path::new("new/"), "new/", "x"),
            Path::new("new/").join("x")
        );
    }
}
