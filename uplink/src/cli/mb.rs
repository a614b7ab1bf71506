//! `uplink mb sj://BUCKET`: create a bucket.

use anyhow::{Context, Result};
use uplink::Project;

use super::SjUrl;

pub(crate) async fn run(project: &Project, location: &str) -> Result<()> {
    let bucket = SjUrl::parse_bucket(location)?;
    project
        .create_bucket(&bucket)
        .await
        .with_context(|| format!("create bucket {bucket}"))?;
    println!("Bucket {bucket} created");
    Ok(())
}
