//! [`PieceStore`] on one RocksDB per node.
//!
//! Column families: `headers` (piece key -> [`PieceHeader`]), `data`
//! (piece key ‖ BE u32 index -> one 64 KiB hash chunk, in blob files),
//! `serials` (satellite ‖ serial -> BE i64 expiry), `orders` (satellite ‖
//! serial -> largest order) and `pending` (piece key -> reservation of an
//! upload in progress). Chunks are written with the WAL but without sync; the
//! commit batch (header + pending marker removal) is synced, which syncs the
//! WAL and so makes the chunks durable too. On open, chunks of uploads still
//! marked pending (a crash mid-upload) are deleted.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rocksdb::{
    ColumnFamily, ColumnFamilyDescriptor, DB, DBCompressionType, Direction, IteratorMode, Options,
    WriteBatch, WriteOptions,
};
use satstore_common::codec::{Reader, Writer};
use satstore_common::piece::HASH_CHUNK_SIZE;
use satstore_common::{NodeId, PieceId, SerialNumber, SignedMessage};

use super::disk::DiskSpace;
use super::header::PieceHeader;
use super::keys::{PIECE_KEY_LEN, chunk_key, chunk_range, piece_key, serial_key, split_piece_key};
use super::{PieceStore, PieceWriter, StoredOrder};
use crate::error::StoreError;

const CF_HEADERS: &str = "headers";
const CF_DATA: &str = "data";
const CF_SERIALS: &str = "serials";
const CF_ORDERS: &str = "orders";
const CF_PENDING: &str = "pending";
const TAG_ORDER_RECORD: u8 = 0x52;
const CHUNK: usize = HASH_CHUNK_SIZE as usize;

/// Tuning of a [`RocksPieceStore`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Bytes the node may use for pieces.
    pub allocated_space: u64,
    /// Bytes the filesystem must keep free whatever the allocation says
    /// (the disk may be shared, or smaller than the allocation).
    pub min_free_disk: u64,
}

/// RocksDB-backed piece store; cheap to clone (shared state).
#[derive(Clone)]
pub struct RocksPieceStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: RwLock<Option<DB>>,
    path: PathBuf,
    allocated: u64,
    used: AtomicU64,
    disk: DiskSpace,
    pieces: AtomicU64,
    /// Serializes read-modify-write of serials and orders.
    serial_lock: Mutex<()>,
    /// Serializes header creation and removal (keeps counters exact).
    piece_lock: Mutex<()>,
    /// Piece keys of uploads in progress.
    in_flight: Mutex<HashSet<[u8; PIECE_KEY_LEN]>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[allow(
    clippy::expect_used,
    reason = "column families are created when the store opens"
)]
fn cf<'a>(db: &'a DB, name: &str) -> &'a ColumnFamily {
    db.cf_handle(name)
        .expect("every column family is created when the store opens")
}

fn unsynced() -> WriteOptions {
    let mut o = WriteOptions::default();
    o.set_sync(false);
    o
}

fn synced() -> WriteOptions {
    let mut o = WriteOptions::default();
    o.set_sync(true);
    o
}

fn be_i64(v: &[u8]) -> Option<i64> {
    Some(i64::from_be_bytes(v.try_into().ok()?))
}

impl Inner {
    fn err(&self, source: rocksdb::Error) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source,
        }
    }

    fn with_db<T>(&self, f: impl FnOnce(&DB) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let guard = self.db.read().unwrap_or_else(|e| e.into_inner());
        let db = guard.as_ref().ok_or(StoreError::Closed)?;
        f(db)
    }

    fn read_header(&self, db: &DB, key: &[u8]) -> Result<Option<PieceHeader>, StoreError> {
        let Some(raw) = db
            .get_cf(cf(db, CF_HEADERS), key)
            .map_err(|e| self.err(e))?
        else {
            return Ok(None);
        };
        PieceHeader::decode(&raw)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("piece header: {e}")))
    }

    /// Removes a piece's header and chunks; returns whether a header existed.
    fn remove_piece(&self, db: &DB, key: &[u8; PIECE_KEY_LEN]) -> Result<bool, StoreError> {
        let _g = lock(&self.piece_lock);
        let size = match self.read_header(db, key) {
            Ok(h) => h.map(|h| h.piece_size),
            // A corrupt header still marks a stored piece; its size is unknown.
            Err(StoreError::Corrupt(_)) => Some(0),
            Err(e) => return Err(e),
        };
        let (start, end) = chunk_range(key);
        let mut batch = WriteBatch::default();
        batch.delete_cf(cf(db, CF_HEADERS), key);
        batch.delete_range_cf(cf(db, CF_DATA), start, end);
        // Synced: a delete the satellite was told about survives power loss.
        db.write_opt(batch, &synced()).map_err(|e| self.err(e))?;
        if let Some(size) = size {
            self.release(size);
            self.pieces.fetch_sub(1, Ordering::SeqCst);
            return Ok(true);
        }
        Ok(false)
    }

    /// Bytes that may still be written: what is left of the allocation,
    /// and of the filesystem above its floor, whichever is smaller.
    fn available(&self) -> u64 {
        let left = self
            .allocated
            .saturating_sub(self.used.load(Ordering::SeqCst));
        left.min(self.disk.available())
    }

    /// Reserves `n` bytes if they fit in the allocated space and on the disk.
    fn reserve(&self, n: u64) -> Result<(), StoreError> {
        let disk = self.disk.take(n);
        if disk < n {
            return Err(StoreError::NotEnoughSpace {
                requested: n,
                free: disk,
            });
        }
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(n).filter(|total| *total <= self.allocated)
            })
            .map(|_| ())
            .map_err(|used| StoreError::NotEnoughSpace {
                requested: n,
                free: self.allocated.saturating_sub(used),
            })
    }

    fn release(&self, n: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| {
                Some(u.saturating_sub(n))
            });
    }
}

impl RocksPieceStore {
    /// Opens (or creates) the store at `path`, removes the data of uploads
    /// interrupted by a crash and recomputes the used space.
    pub fn open(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.set_max_background_jobs(2);
        db_opts.set_compression_type(DBCompressionType::None);
        db_opts.set_max_total_wal_size(128 << 20);
        db_opts.set_keep_log_file_num(3);

        let small = || {
            let mut o = Options::default();
            o.set_compression_type(DBCompressionType::None);
            o.set_write_buffer_size(4 << 20);
            o
        };
        let mut data = Options::default();
        data.set_compression_type(DBCompressionType::None);
        data.set_enable_blob_files(true);
        data.set_min_blob_size(4096);
        data.set_blob_compression_type(DBCompressionType::None);
        data.set_enable_blob_gc(true);
        data.set_write_buffer_size(16 << 20);
        data.set_max_write_buffer_number(2);

        let cfs = vec![
            ColumnFamilyDescriptor::new(CF_HEADERS, small()),
            ColumnFamilyDescriptor::new(CF_DATA, data),
            ColumnFamilyDescriptor::new(CF_SERIALS, small()),
            ColumnFamilyDescriptor::new(CF_ORDERS, small()),
            ColumnFamilyDescriptor::new(CF_PENDING, small()),
        ];
        let db = DB::open_cf_descriptors(&db_opts, path, cfs).map_err(|source| StoreError::Db {
            path: path.to_path_buf(),
            source,
        })?;
        let inner = Inner {
            db: RwLock::new(Some(db)),
            path: path.to_path_buf(),
            allocated: options.allocated_space,
            used: AtomicU64::new(0),
            disk: DiskSpace::new(path.to_path_buf(), options.min_free_disk),
            pieces: AtomicU64::new(0),
            serial_lock: Mutex::new(()),
            piece_lock: Mutex::new(()),
            in_flight: Mutex::new(HashSet::new()),
        };
        inner.with_db(|db| recover(&inner, db))?;
        Ok(RocksPieceStore {
            inner: Arc::new(inner),
        })
    }
}

/// Deletes leftovers of interrupted uploads and recounts committed pieces.
fn recover(inner: &Inner, db: &DB) -> Result<(), StoreError> {
    let mut pending = Vec::new();
    for item in db.iterator_cf(cf(db, CF_PENDING), IteratorMode::Start) {
        let (k, _) = item.map_err(|e| inner.err(e))?;
        pending.push(k);
    }
    if !pending.is_empty() {
        let mut batch = WriteBatch::default();
        for k in &pending {
            if let Ok(pk) = <[u8; PIECE_KEY_LEN]>::try_from(&k[..]) {
                let (start, end) = chunk_range(&pk);
                batch.delete_range_cf(cf(db, CF_DATA), start, end);
            }
            batch.delete_cf(cf(db, CF_PENDING), k);
        }
        db.write_opt(batch, &synced()).map_err(|e| inner.err(e))?;
        tracing::warn!(
            count = pending.len(),
            "removed data of uploads interrupted by a crash"
        );
    }
    let (mut used, mut count) = (0u64, 0u64);
    for item in db.iterator_cf(cf(db, CF_HEADERS), IteratorMode::Start) {
        let (k, v) = item.map_err(|e| inner.err(e))?;
        count += 1;
        match PieceHeader::decode(&v) {
            Ok(h) => used += h.piece_size,
            Err(e) => {
                tracing::warn!(key = %satstore_common::hex::encode(&k), error = %e, "corrupt piece header")
            }
        }
    }
    inner.used.store(used, Ordering::SeqCst);
    inner.pieces.store(count, Ordering::SeqCst);
    Ok(())
}

/// Writer of one piece; see [`PieceWriter`].
struct RocksPieceWriter {
    inner: Arc<Inner>,
    key: [u8; PIECE_KEY_LEN],
    reserved: u64,
    buf: Vec<u8>,
    next_index: u32,
    size: u64,
    committed: bool,
}

impl RocksPieceWriter {
    fn flush_chunk(&mut self) -> Result<(), StoreError> {
        let key = chunk_key(&self.key, self.next_index);
        let inner = &self.inner;
        inner.with_db(|db| {
            db.put_cf_opt(cf(db, CF_DATA), key, &self.buf, &unsynced())
                .map_err(|e| inner.err(e))
        })?;
        self.buf.clear();
        self.next_index = self
            .next_index
            .checked_add(1)
            .ok_or_else(|| StoreError::Invalid("piece has too many chunks".into()))?;
        Ok(())
    }
}

impl PieceWriter for RocksPieceWriter {
    fn write(&mut self, mut data: &[u8]) -> Result<(), StoreError> {
        // Space is set aside as bytes arrive, never ahead of them.
        let n = data.len() as u64;
        self.inner.reserve(n)?;
        self.reserved += n;
        while !data.is_empty() {
            let n = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            self.size += n as u64;
            data = &data[n..];
            if self.buf.len() == CHUNK {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn commit(
        mut self: Box<Self>,
        header: &PieceHeader,
        order: Option<&StoredOrder>,
    ) -> Result<(), StoreError> {
        if header.piece_size != self.size {
            return Err(StoreError::Invalid(format!(
                "header says {} bytes, {} written",
                header.piece_size, self.size
            )));
        }
        if !self.buf.is_empty() {
            self.flush_chunk()?;
        }
        // The serial (written unsynced when the upload began) and the order
        // become durable with the piece, in the one synced batch.
        let limit: Option<satstore_common::OrderLimit> =
            header.order_limit.decode_unverified().ok();
        let inner = self.inner.clone();
        let _serials = lock(&inner.serial_lock);
        let _g = lock(&inner.piece_lock);
        inner.with_db(|db| {
            let mut batch = WriteBatch::default();
            batch.put_cf(cf(db, CF_HEADERS), self.key, header.encode());
            batch.delete_cf(cf(db, CF_PENDING), self.key);
            if let Some(l) = &limit {
                let key = serial_key(&l.satellite_id, &l.serial_number);
                batch.put_cf(cf(db, CF_SERIALS), key, l.order_expiration.to_be_bytes());
                if let Some(o) = order {
                    put_larger_order(db, &mut batch, &key, o).map_err(|e| inner.err(e))?;
                }
            }
            db.write_opt(batch, &synced()).map_err(|e| inner.err(e))
        })?;
        self.committed = true;
        // The reservation becomes the piece's size (they are equal).
        inner.used.fetch_add(self.size, Ordering::SeqCst);
        inner.release(self.reserved);
        inner.pieces.fetch_add(1, Ordering::SeqCst);
        lock(&inner.in_flight).remove(&self.key);
        Ok(())
    }
}

impl Drop for RocksPieceWriter {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let inner = &self.inner;
        let res = inner.with_db(|db| {
            let (start, end) = chunk_range(&self.key);
            let mut batch = WriteBatch::default();
            batch.delete_range_cf(cf(db, CF_DATA), start, end);
            batch.delete_cf(cf(db, CF_PENDING), self.key);
            db.write_opt(batch, &unsynced()).map_err(|e| inner.err(e))
        });
        if let Err(e) = res {
            // Left behind: the pending marker makes the next open clean up.
            tracing::debug!(error = %e, "could not discard cancelled upload now");
        }
        inner.release(self.reserved);
        lock(&inner.in_flight).remove(&self.key);
    }
}

fn encode_order(o: &StoredOrder) -> Vec<u8> {
    let mut w = Writer::new(TAG_ORDER_RECORD);
    w.bytes(&o.limit.to_bytes())
        .bytes(&o.order.to_bytes())
        .u64(o.amount);
    w.finish()
}

/// Adds `order` to `batch` unless the stored order for `key` is as large.
fn put_larger_order(
    db: &DB,
    batch: &mut WriteBatch,
    key: &[u8],
    order: &StoredOrder,
) -> Result<(), rocksdb::Error> {
    let orders = cf(db, CF_ORDERS);
    let current = db.get_cf(orders, key)?;
    if current
        .and_then(|b| decode_order(&b))
        .is_some_and(|c| c.amount >= order.amount)
    {
        return Ok(());
    }
    batch.put_cf(orders, key, encode_order(order));
    Ok(())
}

fn decode_order(b: &[u8]) -> Option<StoredOrder> {
    let mut r = Reader::new(b, TAG_ORDER_RECORD).ok()?;
    let o = StoredOrder {
        limit: SignedMessage::from_bytes(&r.bytes().ok()?).ok()?,
        order: SignedMessage::from_bytes(&r.bytes().ok()?).ok()?,
        amount: r.u64().ok()?,
    };
    r.finish().ok()?;
    Some(o)
}

impl PieceStore for RocksPieceStore {
    fn begin_upload(
        &self,
        satellite: &NodeId,
        piece: &PieceId,
        expected: u64,
    ) -> Result<Box<dyn PieceWriter>, StoreError> {
        let inner = &self.inner;
        let key = piece_key(satellite, piece);
        let mut in_flight = lock(&inner.in_flight);
        if in_flight.contains(&key) {
            return Err(StoreError::AlreadyExists);
        }
        inner.with_db(|db| {
            let exists = db
                .get_pinned_cf(cf(db, CF_HEADERS), key)
                .map_err(|e| inner.err(e))?
                .is_some();
            if exists {
                return Err(StoreError::AlreadyExists);
            }
            let free = inner.available();
            if free < expected {
                return Err(StoreError::NotEnoughSpace {
                    requested: expected,
                    free,
                });
            }
            db.put_cf_opt(cf(db, CF_PENDING), key, [], &unsynced())
                .map_err(|e| inner.err(e))
        })?;
        in_flight.insert(key);
        Ok(Box::new(RocksPieceWriter {
            inner: inner.clone(),
            key,
            reserved: 0,
            buf: Vec::with_capacity(CHUNK),
            next_index: 0,
            size: 0,
            committed: false,
        }))
    }

    fn header(&self, satellite: &NodeId, piece: &PieceId) -> Result<PieceHeader, StoreError> {
        let key = piece_key(satellite, piece);
        self.inner
            .with_db(|db| self.inner.read_header(db, &key))?
            .ok_or(StoreError::NotFound)
    }

    fn read_chunk(
        &self,
        satellite: &NodeId,
        piece: &PieceId,
        index: u32,
    ) -> Result<Vec<u8>, StoreError> {
        let key = chunk_key(&piece_key(satellite, piece), index);
        let inner = &self.inner;
        inner
            .with_db(|db| db.get_cf(cf(db, CF_DATA), key).map_err(|e| inner.err(e)))?
            .ok_or_else(|| StoreError::Corrupt(format!("chunk {index} of piece {piece} missing")))
    }

    fn piece_ids(&self, satellite: &NodeId) -> Result<Vec<PieceId>, StoreError> {
        let inner = &self.inner;
        inner.with_db(|db| {
            let mut out = Vec::new();
            let mode = IteratorMode::From(satellite.as_bytes(), Direction::Forward);
            for item in db.iterator_cf(cf(db, CF_HEADERS), mode) {
                let (k, _) = item.map_err(|e| inner.err(e))?;
                match split_piece_key(&k) {
                    Some((sat, piece)) if sat == *satellite => out.push(piece),
                    _ => break,
                }
            }
            Ok(out)
        })
    }

    fn delete_piece(&self, satellite: &NodeId, piece: &PieceId) -> Result<(), StoreError> {
        let key = piece_key(satellite, piece);
        let inner = &self.inner;
        inner.with_db(|db| inner.remove_piece(db, &key).map(|_| ()))
    }

    fn delete_expired_pieces(&self, now_unix: i64) -> Result<u64, StoreError> {
        let inner = &self.inner;
        inner.with_db(|db| {
            let mut expired = Vec::new();
            for item in db.iterator_cf(cf(db, CF_HEADERS), IteratorMode::Start) {
                let (k, v) = item.map_err(|e| inner.err(e))?;
                let Ok(h) = PieceHeader::decode(&v) else {
                    continue;
                };
                if h.expires_at != 0
                    && h.expires_at <= now_unix
                    && let Ok(key) = <[u8; PIECE_KEY_LEN]>::try_from(&k[..])
                {
                    expired.push(key);
                }
            }
            let mut n = 0;
            for key in &expired {
                if inner.remove_piece(db, key)? {
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    fn used_space(&self) -> u64 {
        self.inner.used.load(Ordering::SeqCst)
    }

    fn allocated_space(&self) -> u64 {
        self.inner.allocated
    }

    fn available_space(&self) -> u64 {
        self.inner.available()
    }

    fn piece_count(&self) -> u64 {
        self.inner.pieces.load(Ordering::SeqCst)
    }

    fn use_serial(
        &self,
        satellite: &NodeId,
        serial: &SerialNumber,
        expires_unix: i64,
        durable: bool,
    ) -> Result<bool, StoreError> {
        let key = serial_key(satellite, serial);
        let inner = &self.inner;
        let _g = lock(&inner.serial_lock);
        inner.with_db(|db| {
            let serials = cf(db, CF_SERIALS);
            if db
                .get_pinned_cf(serials, key)
                .map_err(|e| inner.err(e))?
                .is_some()
            {
                return Ok(false);
            }
            let opts = if durable { synced() } else { unsynced() };
            db.put_cf_opt(serials, key, expires_unix.to_be_bytes(), &opts)
                .map_err(|e| inner.err(e))?;
            Ok(true)
        })
    }

    fn delete_expired_serials(&self, now_unix: i64) -> Result<u64, StoreError> {
        let inner = &self.inner;
        let _g = lock(&inner.serial_lock);
        inner.with_db(|db| {
            let serials = cf(db, CF_SERIALS);
            let mut batch = WriteBatch::default();
            let mut n = 0;
            for item in db.iterator_cf(serials, IteratorMode::Start) {
                let (k, v) = item.map_err(|e| inner.err(e))?;
                if be_i64(&v).is_none_or(|exp| exp <= now_unix) {
                    batch.delete_cf(serials, k);
                    n += 1;
                }
            }
            db.write_opt(batch, &unsynced()).map_err(|e| inner.err(e))?;
            Ok(n)
        })
    }

    fn save_order(
        &self,
        satellite: &NodeId,
        serial: &SerialNumber,
        order: &StoredOrder,
    ) -> Result<(), StoreError> {
        let key = serial_key(satellite, serial);
        let inner = &self.inner;
        let _g = lock(&inner.serial_lock);
        inner.with_db(|db| {
            let mut batch = WriteBatch::default();
            put_larger_order(db, &mut batch, &key, order).map_err(|e| inner.err(e))?;
            if batch.is_empty() {
                return Ok(());
            }
            // Synced: an order is money; concurrent syncs share one fsync.
            db.write_opt(batch, &synced()).map_err(|e| inner.err(e))
        })
    }

    fn order(
        &self,
        satellite: &NodeId,
        serial: &SerialNumber,
    ) -> Result<Option<StoredOrder>, StoreError> {
        let key = serial_key(satellite, serial);
        let inner = &self.inner;
        let raw =
            inner.with_db(|db| db.get_cf(cf(db, CF_ORDERS), key).map_err(|e| inner.err(e)))?;
        match raw {
            None => Ok(None),
            Some(b) => decode_order(&b)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt("stored order record".into())),
        }
    }

    fn close(&self) {
        let db = self
            .inner
            .db
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(db);
    }
}

// Test-only fault injection: never compiled into a node build.
#[cfg(any(test, feature = "test-support"))]
impl crate::testing::CorruptPiece for RocksPieceStore {
    fn corrupt_piece(
        &self,
        satellite: &NodeId,
        piece: &PieceId,
        offset: u64,
    ) -> Result<(), StoreError> {
        let index = u32::try_from(offset / HASH_CHUNK_SIZE)
            .map_err(|_| StoreError::Invalid("offset too large".into()))?;
        let pos = (offset % HASH_CHUNK_SIZE) as usize;
        let key = chunk_key(&piece_key(satellite, piece), index);
        let inner = &self.inner;
        inner.with_db(|db| {
            let mut data = db
                .get_cf(cf(db, CF_DATA), key)
                .map_err(|e| inner.err(e))?
                .ok_or(StoreError::NotFound)?;
            let byte = data
                .get_mut(pos)
                .ok_or_else(|| StoreError::Invalid(format!("offset {offset} beyond the piece")))?;
            *byte ^= 0xff;
            db.put_cf_opt(cf(db, CF_DATA), key, data, &synced())
                .map_err(|e| inner.err(e))
        })
    }
}

#[cfg(test)]
#[path = "rocks_tests.rs"]
mod tests;
