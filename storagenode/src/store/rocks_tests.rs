use super::*;
use crate::testing::CorruptPiece;
use satstore_common::piece::ChunkHasher;

fn open(dir: &Path, allocated: u64) -> RocksPieceStore {
    RocksPieceStore::open(
        &dir.join("pieces.db"),
        StoreOptions {
            allocated_space: allocated,
            min_free_disk: 0,
        },
    )
    .unwrap()
}

fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn header_for(bytes: &[u8]) -> PieceHeader {
    let mut h = ChunkHasher::new();
    h.update(bytes);
    let (chunk_hashes, _) = h.finish();
    PieceHeader {
        order_limit: SignedMessage::default(),
        uplink_hash: SignedMessage::default(),
        piece_size: bytes.len() as u64,
        chunk_hashes,
        created_at: 1,
        expires_at: 0,
    }
}

fn put(store: &RocksPieceStore, sat: &NodeId, piece: &PieceId, bytes: &[u8]) {
    let mut w = store.begin_upload(sat, piece, bytes.len() as u64).unwrap();
    for part in bytes.chunks(10_000) {
        w.write(part).unwrap();
    }
    w.commit(&header_for(bytes), None).unwrap();
}

#[test]
fn committed_piece_reads_back_chunk_by_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 1 << 30);
    let sat = NodeId::from_public_key(&[1; 32]);
    let piece = PieceId::random();
    let bytes = data(CHUNK * 2 + 123, 7);
    put(&store, &sat, &piece, &bytes);

    let h = store.header(&sat, &piece).unwrap();
    assert_eq!(h, header_for(&bytes));
    for i in 0..3u32 {
        let chunk = store.read_chunk(&sat, &piece, i).unwrap();
        let start = i as usize * CHUNK;
        assert_eq!(chunk, bytes[start..(start + CHUNK).min(bytes.len())]);
    }
    assert_eq!(store.used_space(), bytes.len() as u64);
    assert_eq!(store.piece_count(), 1);
    assert_eq!(store.piece_ids(&sat).unwrap(), vec![piece]);
    let other = NodeId::from_public_key(&[2; 32]);
    assert!(store.piece_ids(&other).unwrap().is_empty());
    assert!(matches!(
        store.begin_upload(&sat, &piece, 1),
        Err(StoreError::AlreadyExists)
    ));
}

#[test]
fn uncommitted_upload_is_invisible_and_released_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 1000);
    let sat = NodeId::from_public_key(&[1; 32]);
    let piece = PieceId::random();
    let mut w = store.begin_upload(&sat, &piece, 600).unwrap();
    // Nothing is set aside before bytes arrive.
    assert_eq!(store.used_space(), 0);
    w.write(&[1; 100]).unwrap();
    assert_eq!(store.used_space(), 100);
    assert!(matches!(
        store.header(&sat, &piece),
        Err(StoreError::NotFound)
    ));
    // A second upload of the same piece waits its turn.
    assert!(matches!(
        store.begin_upload(&sat, &piece, 1),
        Err(StoreError::AlreadyExists)
    ));
    // Bytes received by the upload in flight count as used.
    match store.begin_upload(&sat, &PieceId::random(), 950) {
        Err(StoreError::NotEnoughSpace { requested, free }) => {
            assert_eq!((requested, free), (950, 900))
        }
        _ => panic!("expected NotEnoughSpace"),
    }
    // Two uploads that each fit alone: the second one's bytes stop at the
    // allocation, mid-stream.
    let mut other = store.begin_upload(&sat, &PieceId::random(), 900).unwrap();
    other.write(&[2; 800]).unwrap();
    assert!(matches!(
        other.write(&[2; 200]),
        Err(StoreError::NotEnoughSpace { .. })
    ));
    drop(other);
    drop(w);
    assert_eq!(store.used_space(), 0);
    assert!(store.read_chunk(&sat, &piece, 0).is_err());
    // The size check at commit refuses a header that lies.
    let mut w = store.begin_upload(&sat, &piece, 10).unwrap();
    w.write(&[1; 10]).unwrap();
    assert!(matches!(
        w.commit(&header_for(&[1; 11]), None),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.used_space(), 0);
    assert_eq!(store.piece_count(), 0);
}

#[test]
fn reopen_keeps_committed_pieces_and_drops_interrupted_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let sat = NodeId::from_public_key(&[1; 32]);
    let kept = PieceId::random();
    let lost = PieceId::random();
    let serial = SerialNumber::new(i64::MAX);
    let bytes = data(CHUNK + 5, 1);
    {
        let store = open(dir.path(), 1 << 30);
        put(&store, &sat, &kept, &bytes);
        assert!(store.use_serial(&sat, &serial, i64::MAX, true).unwrap());
        let mut w = store.begin_upload(&sat, &lost, 1 << 20).unwrap();
        w.write(&data(CHUNK * 3, 2)).unwrap();
        // Crash: the database closes under the writer, which cannot clean up.
        store.close();
        drop(w);
        assert!(matches!(store.piece_count(), 1));
        assert!(matches!(store.header(&sat, &kept), Err(StoreError::Closed)));
    }
    let store = open(dir.path(), 1 << 30);
    assert_eq!(
        store.header(&sat, &kept).unwrap().piece_size,
        bytes.len() as u64
    );
    assert_eq!(store.used_space(), bytes.len() as u64);
    assert_eq!(store.piece_count(), 1);
    assert!(store.read_chunk(&sat, &lost, 0).is_err());
    assert!(!store.use_serial(&sat, &serial, i64::MAX, true).unwrap());
    // The interrupted piece id can be uploaded again.
    put(&store, &sat, &lost, &[9; 10]);
}

#[test]
fn delete_corrupt_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 1 << 30);
    let sat = NodeId::from_public_key(&[1; 32]);
    let piece = PieceId::random();
    let bytes = data(CHUNK + 10, 3);
    put(&store, &sat, &piece, &bytes);

    store.corrupt_piece(&sat, &piece, CHUNK as u64 + 2).unwrap();
    let chunk = store.read_chunk(&sat, &piece, 1).unwrap();
    assert_eq!(chunk[2], bytes[CHUNK + 2] ^ 0xff);
    let h = store.header(&sat, &piece).unwrap();
    assert!(!satstore_common::piece::verify_chunk(
        &h.chunk_hashes,
        1,
        &chunk
    ));
    assert!(
        store
            .corrupt_piece(&sat, &piece, 10 * CHUNK as u64)
            .is_err()
    );

    store.delete_piece(&sat, &piece).unwrap();
    store.delete_piece(&sat, &piece).unwrap(); // idempotent
    assert!(matches!(
        store.header(&sat, &piece),
        Err(StoreError::NotFound)
    ));
    assert!(store.read_chunk(&sat, &piece, 0).is_err());
    assert_eq!((store.used_space(), store.piece_count()), (0, 0));

    let expiring = PieceId::random();
    let mut w = store.begin_upload(&sat, &expiring, 3).unwrap();
    w.write(&[1, 2, 3]).unwrap();
    let mut h = header_for(&[1, 2, 3]);
    h.expires_at = 100;
    w.commit(&h, None).unwrap();
    put(&store, &sat, &piece, &[4; 4]);
    assert_eq!(store.delete_expired_pieces(99).unwrap(), 0);
    assert_eq!(store.delete_expired_pieces(100).unwrap(), 1);
    assert_eq!(store.piece_ids(&sat).unwrap(), vec![piece]);
    assert_eq!(store.used_space(), 4);
}

#[test]
fn serials_and_orders() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 1 << 30);
    let sat = NodeId::from_public_key(&[1; 32]);
    let (a, b) = (SerialNumber::new(10), SerialNumber::new(20));
    assert!(store.use_serial(&sat, &a, 10, true).unwrap());
    assert!(!store.use_serial(&sat, &a, 10, true).unwrap());
    assert!(store.use_serial(&sat, &b, 20, true).unwrap());
    assert_eq!(store.delete_expired_serials(15).unwrap(), 1);
    assert!(
        store.use_serial(&sat, &a, 10, true).unwrap(),
        "expired serial forgotten"
    );
    assert!(!store.use_serial(&sat, &b, 20, true).unwrap());

    let mk = |amount: u64| StoredOrder {
        limit: SignedMessage {
            payload: vec![1],
            ..Default::default()
        },
        order: SignedMessage {
            payload: amount.to_be_bytes().to_vec(),
            ..Default::default()
        },
        amount,
    };
    assert_eq!(store.order(&sat, &a).unwrap(), None);
    store.save_order(&sat, &a, &mk(5)).unwrap();
    store.save_order(&sat, &a, &mk(3)).unwrap();
    assert_eq!(store.order(&sat, &a).unwrap(), Some(mk(5)));
    store.save_order(&sat, &a, &mk(9)).unwrap();
    assert_eq!(store.order(&sat, &a).unwrap().map(|o| o.amount), Some(9));
}

/// Writes a few MiB through the store to catch pathological slowness; not a
/// benchmark (timings in a debug test binary mean nothing).
#[test]
fn streams_several_pieces_without_buffering_whole_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 1 << 30);
    let sat = NodeId::from_public_key(&[1; 32]);
    let bytes = data(CHUNK * 16, 5);
    let ids: Vec<PieceId> = (0..8).map(|_| PieceId::random()).collect();
    for id in &ids {
        put(&store, &sat, id, &bytes);
    }
    let mut listed = store.piece_ids(&sat).unwrap();
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(store.used_space(), 8 * bytes.len() as u64);
}
