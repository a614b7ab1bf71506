//! Listing with prefixes, the '/' delimiter, cursors and pagination.

use satstore_tests::TestNet;
use uplink::{ListObjectsOptions, UplinkConfig};

use crate::helpers::upload;

fn names(items: &[uplink::Object]) -> Vec<String> {
    items
        .iter()
        .map(|o| {
            if o.is_prefix {
                format!("PRE {}", o.key)
            } else {
                o.key.clone()
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listing_prefixes_delimiter_and_pages() {
    let net = TestNet::start().await.expect("start network");
    let config = UplinkConfig {
        list_page_size: 2,
        ..UplinkConfig::default()
    };
    let project = net.project_with(&config).await.expect("open project");
    project.create_bucket("list").await.expect("bucket");
    let keys = ["a/1", "a/2", "a/b/3", "a/b/4", "b", "c/5", "d", "e/f/g/6"];
    for (i, k) in keys.iter().enumerate() {
        upload(&project, "list", k, i as u64, 10 + i as u64)
            .await
            .expect("upload");
    }

    // Top level, collapsed at '/', pages of 2 stitched together in order.
    let top = project
        .list_objects("list", &ListObjectsOptions::default())
        .await
        .expect("list");
    assert_eq!(names(&top), ["PRE a/", "b", "PRE c/", "d", "PRE e/"]);
    let b = top.iter().find(|o| o.key == "b").expect("b listed");
    assert_eq!(b.system.content_length, 14);

    // Inside a prefix: keys are relative to it... as the seed's API returns
    // them (full keys), with sub-prefixes collapsed.
    let a = project
        .list_objects(
            "list",
            &ListObjectsOptions {
                prefix: "a/".into(),
                ..Default::default()
            },
        )
        .await
        .expect("list a/");
    assert_eq!(names(&a), ["a/1", "a/2", "PRE a/b/"]);

    // Recursive: every key, sorted.
    let all = project
        .list_objects(
            "list",
            &ListObjectsOptions {
                recursive: true,
                ..Default::default()
            },
        )
        .await
        .expect("list recursive");
    let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    assert_eq!(names(&all), sorted);

    // Cursor: strictly after it.
    let after = project
        .list_objects(
            "list",
            &ListObjectsOptions {
                recursive: true,
                cursor: "a/b/4".into(),
                ..Default::default()
            },
        )
        .await
        .expect("list with cursor");
    assert_eq!(names(&after), ["b", "c/5", "d", "e/f/g/6"]);

    // One page with a limit reports that more remain; the next page picks up
    // after the last item, even when that item is a prefix.
    let (page, more) = project
        .list_objects_page("list", &ListObjectsOptions::default(), 2)
        .await
        .expect("page 1");
    assert_eq!(names(&page), ["PRE a/", "b"]);
    assert!(more);
    let (page2, _) = project
        .list_objects_page(
            "list",
            &ListObjectsOptions {
                cursor: "a/".into(),
                ..Default::default()
            },
            2,
        )
        .await
        .expect("page after a prefix");
    assert_eq!(names(&page2), ["b", "PRE c/"]);

    // A prefix must end with '/'.
    assert!(
        project
            .list_objects(
                "list",
                &ListObjectsOptions {
                    prefix: "a".into(),
                    ..Default::default()
                },
            )
            .await
            .is_err()
    );
    // Deleted objects are gone from listings at once.
    project.delete_object("list", "b").await.expect("delete");
    let top = project
        .list_objects("list", &ListObjectsOptions::default())
        .await
        .expect("list");
    assert_eq!(names(&top), ["PRE a/", "PRE c/", "d", "PRE e/"]);
    net.shutdown().await;
}
