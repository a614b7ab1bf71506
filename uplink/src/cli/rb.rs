//! `uplink rb [--force] sj://BUCKET`: remove a bucket.

use anyhow::{Context, Result};
use uplink::{ErrorKind, Project};

use super::SjUrl;

pub(crate) async fn run(project: &Project, location: &str, force: bool) -> Result<()> {
    let bucket = SjUrl::parse_bucket(location)?;
    let result = if force {
        project.delete_bucket_with_objects(&bucket).await
    } else {
        project.delete_bucket(&bucket).await
    };
    match result {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::BucketNotEmpty => {
            anyhow::bail!(
                "delete bucket {bucket}: it is not empty (use --force to delete its objects too)"
            )
        }
        Err(e) => return Err(e).with_context(|| format!("delete bucket {bucket}")),
    }
    println!("Bucket {bucket} deleted");
    Ok(())
}
