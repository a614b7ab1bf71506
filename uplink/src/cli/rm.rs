//! `uplink rm sj://BUCKET/KEY`: delete an object.

use anyhow::{Context, Result};
use uplink::Project;

use super::SjUrl;

pub(crate) async fn run(project: &Project, location: &str) -> Result<()> {
    let u = SjUrl::parse_object(location)?;
    project
        .delete_object(&u.bucket, &u.key)
        .await
        .with_context(|| format!("delete {location}"))?;
    println!("Deleted {location}");
    Ok(())
}
