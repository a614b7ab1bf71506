//! Rough write throughput of the RocksDB piece store (chunks unsynced, one
//! synced commit per piece). Usage: `cargo run -p storagenode --example
//! store_write -- [DIR] [PIECES] [PIECE_MIB]`. A measurement aid, not a test.

use std::time::Instant;

use satstore_common::piece::ChunkHasher;
use satstore_common::{NodeId, PieceId, SignedMessage};
use storagenode::store::{PieceHeader, PieceStore, RocksPieceStore, StoreOptions};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("store-write-bench"));
    let pieces: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(64);
    let mib: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2);
    let _ = std::fs::remove_dir_all(&dir);
    let store = RocksPieceStore::open(
        &dir,
        StoreOptions {
            allocated_space: u64::MAX,
            min_free_disk: 0,
        },
    )?;
    let sat = NodeId::from_public_key(&[1; 32]);
    let data: Vec<u8> = (0..mib << 20).map(|_| rand::random::<u8>()).collect();
    let mut hasher = ChunkHasher::new();
    hasher.update(&data);
    let (chunk_hashes, _) = hasher.finish();
    let start = Instant::now();
    for _ in 0..pieces {
        let piece = PieceId::random();
        let mut w = store.begin_upload(&sat, &piece, data.len() as u64)?;
        for part in data.chunks(32 * 1024) {
            w.write(part)?;
        }
        w.commit(
            &PieceHeader {
                order_limit: SignedMessage::default(),
                uplink_hash: SignedMessage::default(),
                piece_size: data.len() as u64,
                chunk_hashes: chunk_hashes.clone(),
                created_at: 0,
                expires_at: 0,
            },
            None,
        )?;
    }
    let secs = start.elapsed().as_secs_f64();
    let total = (pieces * data.len()) as f64 / (1 << 20) as f64;
    println!(
        "{pieces} pieces x {mib} MiB: {total:.0} MiB in {secs:.2} s = {:.0} MiB/s, {:.1} ms/piece",
        total / secs,
        secs * 1000.0 / pieces as f64
    );
    store.close();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
