//! Multipart uploads end to end: parts spanning several segments uploaded
//! concurrently, re-uploads, part and upload listings with etags, commit of
//! all parts or a subset, ranged reads across part and segment boundaries,
//! abort, missing parts and read-only shares.

use satstore_tests::{DataStream, TestNet};
use uplink::{
    CommitUploadOptions, ErrorKind, ListObjectsOptions, ListUploadsOptions, Permission, Project,
    UploadOptions,
};

use crate::helpers::{download_bytes, upload};

const MIB: u64 = 1 << 20;

/// Uploads `data` as part `n` with etag `etag-n`; returns the committed size.
async fn put_part(project: &Project, key: &str, id: &str, n: u32, data: &[u8]) -> u64 {
    let mut part = project
        .upload_part("multi", key, id, n)
        .await
        .unwrap_or_else(|e| panic!("begin part {n}: {e}"));
    for chunk in data.chunks(300 * 1024) {
        part.write_all(chunk).await.expect("write part");
    }
    part.set_etag(format!("etag-{n}").into_bytes())
        .expect("set etag");
    let info = part
        .commit()
        .await
        .unwrap_or_else(|e| panic!("commit part {n}: {e}"));
    assert_eq!(info.part_number, n);
    assert_eq!(info.etag, format!("etag-{n}").into_bytes());
    info.size
}

async fn read_all(project: &Project, key: &str) -> Vec<u8> {
    download_bytes(project, "multi", key, 0, -1)
        .await
        .unwrap_or_else(|e| panic!("download {key}: {e:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parts_span_segments_and_read_back_across_boundaries() {
    // 2 MiB segments: the 5 MiB parts take three segments each.
    let net = TestNet::builder()
        .segment_size(2 * MIB)
        .start()
        .await
        .expect("start network");
    let project = net.project().await.expect("project");
    project.create_bucket("multi").await.expect("bucket");
    let key = "dir/big.bin";
    let up = project
        .begin_upload("multi", key, &UploadOptions::default())
        .await
        .expect("begin upload");
    assert_eq!(up.key, key);
    assert!(
        up.upload_id.chars().all(|c| c.is_ascii_alphanumeric()),
        "{}",
        up.upload_id
    );

    let parts = [
        DataStream::new(1, 5 * MIB).to_vec(),
        DataStream::new(2, 5 * MIB).to_vec(),
        DataStream::new(3, MIB).to_vec(),
    ];
    // Concurrent part uploads (the gateway gets parallel UploadPart calls).
    let mut tasks = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let (project, id, data) = (project.clone(), up.upload_id.clone(), data.clone());
        tasks.push(tokio::spawn(async move {
            put_part(&project, key, &id, i as u32 + 1, &data).await
        }));
    }
    for (t, data) in tasks.into_iter().zip(&parts) {
        assert_eq!(t.await.expect("part task"), data.len() as u64);
    }
    // Re-uploading part 2 replaces it.
    let part2 = DataStream::new(22, 5 * MIB - 12_345).to_vec();
    put_part(&project, key, &up.upload_id, 2, &part2).await;

    // Pending uploads are invisible to stat and listing.
    let err = project
        .stat_object("multi", key)
        .await
        .expect_err("pending");
    assert_eq!(err.kind(), ErrorKind::ObjectNotFound, "{err}");
    let listed = project
        .list_objects(
            "multi",
            &ListObjectsOptions {
                recursive: true,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert!(listed.is_empty(), "{listed:?}");

    // Part listing with cursor and limit; etags round-trip.
    let (page, more) = project
        .list_upload_parts("multi", key, &up.upload_id, 0, 2)
        .await
        .expect("list parts");
    assert!(more);
    let nums: Vec<u32> = page.iter().map(|p| p.part_number).collect();
    assert_eq!(nums, vec![1, 2]);
    assert_eq!(page[1].size, part2.len() as u64);
    assert_eq!(page[1].etag, b"etag-2");
    let (rest, more) = project
        .list_upload_parts("multi", key, &up.upload_id, 2, 0)
        .await
        .expect("list parts");
    assert!(!more);
    assert_eq!(rest.len(), 1);
    assert_eq!((rest[0].part_number, rest[0].size), (3, MIB));

    // Upload listing: prefixes, cursor, limit, plaintext keys.
    let other = project
        .begin_upload("multi", "dir/another", &UploadOptions::default())
        .await
        .expect("begin");
    let top = project
        .begin_upload("multi", "top", &UploadOptions::default())
        .await
        .expect("begin");
    let list = |prefix: &str, cursor: &str, limit| ListUploadsOptions {
        prefix: prefix.into(),
        cursor: cursor.into(),
        limit,
    };
    let (all, more) = project
        .list_uploads("multi", &list("", "", 0))
        .await
        .expect("list uploads");
    assert!(!more);
    let keys: Vec<&str> = all.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(keys, vec!["dir/another", "dir/big.bin", "top"]);
    let (dir_b, _) = project
        .list_uploads("multi", &list("dir/b", "", 0))
        .await
        .expect("list uploads");
    assert_eq!(dir_b.len(), 1);
    assert_eq!(dir_b[0].upload_id, up.upload_id);
    assert_eq!(dir_b[0].key, key);
    let (first, more) = project
        .list_uploads("multi", &list("dir/", "", 1))
        .await
        .expect("list uploads");
    assert!(more);
    assert_eq!(first[0].upload_id, other.upload_id);
    let (after, more) = project
        .list_uploads("multi", &list("", "dir/big.bin", 10))
        .await
        .expect("list uploads");
    assert!(!more);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].upload_id, top.upload_id);

    // Commit every part; read back whole and across boundaries.
    let mut custom = std::collections::BTreeMap::new();
    custom.insert("content-type".to_string(), "application/x-test".to_string());
    let obj = project
        .commit_upload(
            "multi",
            key,
            &up.upload_id,
            CommitUploadOptions {
                custom_metadata: custom.clone(),
                parts: vec![],
            },
        )
        .await
        .expect("commit upload");
    let want: Vec<u8> = [&parts[0][..], &part2[..], &parts[2][..]].concat();
    assert_eq!(obj.system.content_length, want.len() as i64);
    let stat = project.stat_object("multi", key).await.expect("stat");
    assert_eq!(stat.custom, custom);
    assert_eq!(stat.system.content_length, want.len() as i64);
    assert!(read_all(&project, key).await == want, "content differs");
    let p1 = 5 * MIB;
    let p2 = p1 + part2.len() as u64;
    for (start, end) in [
        (p1 - 1000, p1 + 1000),               // part 1 -> part 2
        (p2 - 70_000, p2 + 70_000),           // part 2 -> part 3
        (2 * MIB - 10, 2 * MIB + 10),         // segment boundary inside part 1
        (p1 + 2 * MIB - 5, p1 + 2 * MIB + 5), // segment boundary inside part 2
        (1000, want.len() as u64 - 1000),     // nearly everything
        (want.len() as u64 - 7, want.len() as u64),
    ] {
        let got = download_bytes(&project, "multi", key, start as i64, (end - start) as i64)
            .await
            .expect("ranged download");
        assert!(
            got == want[start as usize..end as usize],
            "range {start}..{end} differs"
        );
    }
    let (left, _) = project
        .list_uploads("multi", &list("", "", 0))
        .await
        .expect("list uploads");
    let keys: Vec<&str> = left.iter().map(|u| u.key.as_str()).collect();
    assert_eq!(keys, vec!["dir/another", "top"]);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subsets_missing_parts_abort_and_read_only_shares() {
    let net = TestNet::builder()
        .segment_size(MIB)
        .start()
        .await
        .expect("start network");
    let project = net.project().await.expect("project");
    project.create_bucket("multi").await.expect("bucket");
    // An existing object is replaced by the commit.
    upload(&project, "multi", "sub", 9, 100_000)
        .await
        .expect("plain upload");
    let up = project
        .begin_upload("multi", "sub", &UploadOptions::default())
        .await
        .expect("begin");
    let id = up.upload_id.as_str();
    let p1 = DataStream::new(11, 1_500_000).to_vec(); // remote segments
    let p2 = DataStream::new(12, 1000).to_vec(); // inline
    let p4 = DataStream::new(14, 200_000).to_vec();
    put_part(&project, "sub", id, 1, &p1).await;
    put_part(&project, "sub", id, 2, &p2).await;
    assert_eq!(put_part(&project, "sub", id, 3, &[]).await, 0); // empty part
    put_part(&project, "sub", id, 4, &p4).await;

    // A part that was never uploaded: InvalidPart, nothing changes.
    let err = project
        .commit_upload(
            "multi",
            "sub",
            id,
            CommitUploadOptions {
                parts: vec![1, 5],
                ..Default::default()
            },
        )
        .await
        .expect_err("missing part");
    assert_eq!(err.kind(), ErrorKind::InvalidPart, "{err}");
    assert_eq!(
        read_all(&project, "sub").await,
        DataStream::new(9, 100_000).to_vec()
    );

    // Read-only share: no multipart writes.
    let ro = net
        .net()
        .access()
        .share(
            &Permission {
                allow_download: true,
                allow_list: true,
                ..Default::default()
            },
            &[],
        )
        .expect("share");
    let ro = ro.open_project().await.expect("ro project");
    let err = ro
        .begin_upload("multi", "ro", &UploadOptions::default())
        .await
        .expect_err("ro begin");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = ro
        .upload_part("multi", "sub", id, 6)
        .await
        .expect_err("ro part");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = ro
        .commit_upload("multi", "sub", id, CommitUploadOptions::default())
        .await
        .expect_err("ro commit");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = ro
        .abort_upload("multi", "sub", id)
        .await
        .expect_err("ro abort");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");

    // Commit a subset: part 4 is dropped, the empty part 3 adds nothing.
    let obj = project
        .commit_upload(
            "multi",
            "sub",
            id,
            CommitUploadOptions {
                parts: vec![1, 2, 3],
                ..Default::default()
            },
        )
        .await
        .expect("commit subset");
    let want = [&p1[..], &p2[..]].concat();
    assert_eq!(obj.system.content_length, want.len() as i64);
    assert!(read_all(&project, "sub").await == want, "subset content");
    let got = download_bytes(&project, "multi", "sub", 1_500_000 - 3, 10)
        .await
        .expect("range across parts");
    assert_eq!(got, want[1_500_000 - 3..1_500_000 + 7]);
    // The id is spent.
    let err = project
        .upload_part("multi", "sub", id, 5)
        .await
        .expect_err("committed");
    assert_eq!(err.kind(), ErrorKind::UploadNotFound, "{err}");

    // Abort: later part uploads and the commit are refused clearly.
    let ab = project
        .begin_upload("multi", "aborted", &UploadOptions::default())
        .await
        .expect("begin");
    put_part(&project, "aborted", &ab.upload_id, 1, &p4).await;
    project
        .abort_upload("multi", "aborted", &ab.upload_id)
        .await
        .expect("abort");
    let err = project
        .upload_part("multi", "aborted", &ab.upload_id, 2)
        .await
        .expect_err("part after abort");
    assert_eq!(err.kind(), ErrorKind::UploadNotFound, "{err}");
    let err = project
        .commit_upload(
            "multi",
            "aborted",
            &ab.upload_id,
            CommitUploadOptions::default(),
        )
        .await
        .expect_err("commit after abort");
    assert_eq!(err.kind(), ErrorKind::UploadNotFound, "{err}");
    let err = project
        .list_upload_parts("multi", "aborted", &ab.upload_id, 0, 0)
        .await
        .expect_err("parts after abort");
    assert_eq!(err.kind(), ErrorKind::UploadNotFound, "{err}");
    let err = project
        .upload_part("multi", "aborted", "not-an-id", 1)
        .await
        .expect_err("malformed id");
    assert_eq!(err.kind(), ErrorKind::UploadNotFound, "{err}");
    let err = project
        .stat_object("multi", "aborted")
        .await
        .expect_err("never committed");
    assert_eq!(err.kind(), ErrorKind::ObjectNotFound, "{err}");
    net.shutdown().await;
}
