//! Objects of every size class come back byte-exact, on both databases.

use satstore_tests::{DataStream, Db, TestNet};

use crate::helpers::{assert_object, download_bytes, download_hash, upload};

const MIB: u64 = 1 << 20;

async fn round_trips(db: Db) {
    let net = TestNet::builder()
        .db(db)
        .start()
        .await
        .expect("start network");
    let project = net.project().await.expect("open project");
    project
        .create_bucket("roundtrip")
        .await
        .expect("create bucket");
    let sizes = [0, 1, 4096, 5 * MIB, 130 * MIB];
    for (seed, size) in sizes.iter().enumerate() {
        let key = format!("obj-{size}");
        upload(&project, "roundtrip", &key, seed as u64, *size)
            .await
            .unwrap_or_else(|e| panic!("upload {size}: {e:#}"));
        let stat = project.stat_object("roundtrip", &key).await.expect("stat");
        assert_eq!(stat.system.content_length, *size as i64);
    }
    for (seed, size) in sizes.iter().enumerate() {
        assert_object(
            &project,
            "roundtrip",
            &format!("obj-{size}"),
            seed as u64,
            *size,
        )
        .await;
    }

    // Ranged reads across the segment boundaries of the 130 MiB object
    // (64 MiB segments): a range spanning the first boundary, one spanning
    // the second, a suffix, and a range entirely inside one segment.
    let key = "obj-136314880";
    let seed = 4;
    for (start, end) in [
        (64 * MIB - 1000, 64 * MIB + 1000),
        (128 * MIB - 70_000, 128 * MIB + 70_000),
        (130 * MIB - 10, 130 * MIB),
        (3 * MIB + 7, 3 * MIB + 7 + 65_536 * 3),
    ] {
        let got = download_bytes(
            &project,
            "roundtrip",
            key,
            start as i64,
            (end - start) as i64,
        )
        .await
        .expect("ranged download");
        assert!(
            got == DataStream::range(seed, start, end),
            "range {start}..{end} differs"
        );
    }
    // Suffix read: negative offset = the last N bytes.
    let tail = download_bytes(&project, "roundtrip", key, -100, -1)
        .await
        .expect("suffix");
    assert!(tail == DataStream::range(seed, 130 * MIB - 100, 130 * MIB));
    // A range within an inline object.
    let mid = download_bytes(&project, "roundtrip", "obj-4096", 100, 50)
        .await
        .expect("inline range");
    assert!(mid == DataStream::range(2, 100, 150));
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trips_on_sqlite() {
    round_trips(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trips_on_postgres() {
    round_trips(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ranges_across_many_small_segments() {
    // 1 MiB segments: a 3.5 MiB object has four segments; check ranges that
    // start and end on, just before and just after every boundary.
    let net = TestNet::builder()
        .segment_size(MIB)
        .start()
        .await
        .expect("start network");
    let project = net.project().await.expect("open project");
    project
        .create_bucket("ranges")
        .await
        .expect("create bucket");
    let len = 3 * MIB + MIB / 2;
    upload(&project, "ranges", "o", 9, len)
        .await
        .expect("upload");
    let whole = download_hash(&project, "ranges", "o", 0, -1)
        .await
        .expect("download");
    assert_eq!(whole, DataStream::new(9, len).hash());
    for b in [MIB, 2 * MIB, 3 * MIB] {
        for (s, e) in [
            (b - 1, b + 1),
            (b, b + 1),
            (b - 1, b),
            (b - 300_000, b + 300_000),
        ] {
            let got = download_bytes(&project, "ranges", "o", s as i64, (e - s) as i64)
                .await
                .expect("range");
            assert!(got == DataStream::range(9, s, e), "range {s}..{e}");
        }
    }
    // A range running past the end is cut at the end.
    let got = download_bytes(&project, "ranges", "o", (len - 5) as i64, 100)
        .await
        .expect("range past end");
    assert!(got == DataStream::range(9, len - 5, len));
    // A start beyond the end is refused.
    assert!(
        download_bytes(&project, "ranges", "o", (len + 10) as i64, 5)
            .await
            .is_err()
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn read_chunk_hands_out_the_rest_without_losing_bytes() {
    let net = TestNet::builder()
        .segment_size(1 << 20)
        .start()
        .await
        .expect("start network");
    let project = net.project().await.expect("project");
    project.create_bucket("chunks").await.expect("bucket");
    let len = 3 * (1 << 20) + 12_345;
    upload(&project, "chunks", "o", 21, len)
        .await
        .expect("upload");
    let mut dl = project
        .download_object(
            "chunks",
            "o",
            &uplink::DownloadOptions {
                offset: 0,
                length: -1,
            },
        )
        .await
        .expect("download");
    // A partial read first, then whole chunks: together, the object.
    let mut got = vec![0u8; 1000];
    let n = dl.read(&mut got).await.expect("read");
    got.truncate(n);
    let mut chunks = 0;
    while let Some(c) = dl.read_chunk().await.expect("read_chunk") {
        assert!(!c.is_empty(), "no empty chunks");
        got.extend_from_slice(&c);
        chunks += 1;
    }
    assert!(chunks > 1, "the object arrives in several chunks");
    assert_eq!(got, DataStream::new(21, len).to_vec());
    assert!(dl.read_chunk().await.expect("after the end").is_none());
    net.shutdown().await;
}
