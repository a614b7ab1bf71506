//! `uplink cat sj://BUCKET/KEY`: write an object to stdout.

use anyhow::{Context, Result};
use uplink::Project;

use super::SjUrl;

pub(crate) async fn run(project: &Project, location: &str) -> Result<()> {
    let u = SjUrl::parse_object(location)?;
    let mut download = project
        .download_object(&u.bucket, &u.key, &Default::default())
        .await
        .with_context(|| format!("download {location}"))?;
    download
        .read_file(tokio::io::stdout())
        .await
        .with_context(|| format!("download {location}"))?;
    Ok(())
}
