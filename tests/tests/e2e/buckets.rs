//! Bucket lifecycle and its refusals.

use satstore_tests::TestNet;
use uplink::ErrorKind;

use crate::helpers::upload;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bucket_lifecycle_and_refusals() {
    let net = TestNet::builder().nodes(10).start().await.expect("start");
    let project = net.project().await.expect("open project");

    let b = project.create_bucket("alpha").await.expect("create");
    assert_eq!(b.name, "alpha");
    let err = project.create_bucket("alpha").await.expect_err("duplicate");
    assert_eq!(err.kind(), ErrorKind::BucketAlreadyExists);
    project
        .ensure_bucket("alpha")
        .await
        .expect("ensure existing");
    project.ensure_bucket("beta").await.expect("ensure new");
    assert_eq!(
        project.stat_bucket("beta").await.expect("stat").name,
        "beta"
    );
    let err = project.stat_bucket("gamma").await.expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::BucketNotFound);

    let names: Vec<String> = project
        .list_buckets(&Default::default())
        .await
        .expect("list")
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["alpha", "beta"]);

    for bad in [
        "ab",
        "Upper",
        "has_underscore",
        "-dash",
        "dot..dot",
        "192.168.1.1",
        &"x".repeat(64),
    ] {
        let err = project.create_bucket(bad).await.expect_err(bad);
        assert!(
            matches!(
                err.kind(),
                ErrorKind::BucketNameInvalid | ErrorKind::InvalidArgument
            ),
            "{bad}: {err}"
        );
    }

    // A non-empty bucket is refused and loses nothing.
    upload(&project, "alpha", "k", 1, 5000)
        .await
        .expect("upload");
    let err = project.delete_bucket("alpha").await.expect_err("non-empty");
    assert_eq!(err.kind(), ErrorKind::BucketNotEmpty);
    crate::helpers::assert_object(&project, "alpha", "k", 1, 5000).await;
    project
        .delete_bucket_with_objects("alpha")
        .await
        .expect("delete with objects");
    assert_eq!(
        project.stat_bucket("alpha").await.expect_err("gone").kind(),
        ErrorKind::BucketNotFound
    );
    project.delete_bucket("beta").await.expect("delete empty");

    // Objects: missing ones and bad keys.
    project.create_bucket("objs").await.expect("create");
    let err = project
        .stat_object("objs", "nope")
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::ObjectNotFound);
    let err = project
        .delete_object("objs", "nope")
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::ObjectNotFound);
    assert!(
        project
            .upload_object("objs", "", &Default::default())
            .await
            .is_err()
    );
    assert!(
        project
            .upload_object("no-such-bucket", "k", &Default::default())
            .await
            .is_err()
            || upload(&project, "no-such-bucket", "k", 1, 10)
                .await
                .is_err()
    );

    // An aborted upload is never listed.
    let mut up = project
        .upload_object("objs", "aborted", &Default::default())
        .await
        .expect("begin");
    up.write_all(&vec![7u8; 300_000]).await.expect("write");
    up.abort().await.expect("abort");
    assert_eq!(
        project
            .stat_object("objs", "aborted")
            .await
            .expect_err("aborted")
            .kind(),
        ErrorKind::ObjectNotFound
    );
    let listed = project
        .list_objects("objs", &Default::default())
        .await
        .expect("list");
    assert!(listed.is_empty(), "aborted upload listed: {listed:?}");

    // Overwrite replaces the object.
    upload(&project, "objs", "k", 1, 100_000)
        .await
        .expect("first");
    upload(&project, "objs", "k", 2, 7_000)
        .await
        .expect("second");
    crate::helpers::assert_object(&project, "objs", "k", 2, 7_000).await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_api_key_is_refused() {
    let net = TestNet::start().await.expect("start");
    let good = net.net().access().clone();
    let forged_key = satstore_common::macaroon::ApiKey::new(&[42u8; 32]);
    let mut bad = good.clone();
    bad.api_key = forged_key;
    let project = bad.open_project().await.expect("open (no RPC yet)");
    let err = project.create_bucket("nope").await.expect_err("forged key");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = project
        .list_buckets(&Default::default())
        .await
        .expect_err("forged key");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    // The genuine key still works.
    let ok = good.open_project().await.expect("open");
    ok.create_bucket("yes").await.expect("genuine key");
    net.shutdown().await;
}
