//! The node's piece store: the [`PieceStore`] trait that the RPC layer and
//! tests use, and [`RocksPieceStore`], its RocksDB implementation.
//!
//! Pieces are streamed: a [`PieceWriter`] appends data as it arrives and a
//! piece becomes visible only when [`PieceWriter::commit`] writes its header.
//! Dropping a writer without committing removes what it wrote.

mod disk;
mod header;
mod keys;
mod rocks;

pub use disk::filesystem_available;
pub use header::PieceHeader;
pub use rocks::{RocksPieceStore, StoreOptions};

use satstore_common::{NodeId, PieceId, SerialNumber, SignedMessage};

use crate::error::StoreError;

/// Appends the data of one piece being uploaded. Drop without commit = cancel:
/// the written data and the space reservation are released.
pub trait PieceWriter: Send + Sync {
    /// Appends the next bytes of the piece.
    fn write(&mut self, data: &[u8]) -> Result<(), StoreError>;
    /// Bytes written so far.
    fn size(&self) -> u64;
    /// Makes the piece visible and durable (synced) with `header`, whose
    /// `piece_size` must equal [`PieceWriter::size`]; the limit's serial and
    /// `order` (the transfer's largest) become durable in the same write.
    fn commit(
        self: Box<Self>,
        header: &PieceHeader,
        order: Option<&StoredOrder>,
    ) -> Result<(), StoreError>;
}

/// The largest order received under one order limit, kept for settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOrder {
    /// The satellite-signed order limit.
    pub limit: SignedMessage,
    /// The uplink-signed order with the largest amount.
    pub order: SignedMessage,
    /// The amount of `order`.
    pub amount: u64,
}

/// Storage of pieces, used serial numbers and orders of one node.
/// Object-safe so tests can wrap it for fault injection.
pub trait PieceStore: Send + Sync {
    /// Starts writing a piece of at most `expected` bytes. Nothing is
    /// reserved yet: each write reserves what it adds. Fails with
    /// `AlreadyExists` if the piece is stored or being uploaded and with
    /// `NotEnoughSpace` if `expected` bytes are not available now.
    fn begin_upload(
        &self,
        satellite: &NodeId,
        piece: &PieceId,
        expected: u64,
    ) -> Result<Box<dyn PieceWriter>, StoreError>;
    /// The header of a committed piece (`NotFound` if absent).
    fn header(&self, satellite: &NodeId, piece: &PieceId) -> Result<PieceHeader, StoreError>;
    /// Hash chunk number `index` of a committed piece, as stored (unverified).
    fn read_chunk(
        &self,
        satellite: &NodeId,
        piece: &PieceId,
        index: u32,
    ) -> Result<Vec<u8>, StoreError>;
    /// Ids of the committed pieces of `satellite`.
    fn piece_ids(&self, satellite: &NodeId) -> Result<Vec<PieceId>, StoreError>;
    /// Deletes a piece; deleting a missing piece is not an error.
    fn delete_piece(&self, satellite: &NodeId, piece: &PieceId) -> Result<(), StoreError>;
    /// Deletes every piece whose expiration is at or before `now_unix`;
    /// returns how many.
    fn delete_expired_pieces(&self, now_unix: i64) -> Result<u64, StoreError>;
    /// Bytes used: committed piece sizes plus reservations of uploads in flight.
    fn used_space(&self) -> u64;
    /// Bytes this node may use in total.
    fn allocated_space(&self) -> u64;
    /// Bytes that may still be written: the rest of the allocation, capped
    /// by the filesystem's real free space above its floor.
    fn available_space(&self) -> u64;
    /// Number of committed pieces.
    fn piece_count(&self) -> u64;
    /// Records `serial` as used until `expires_unix`; returns false if it was
    /// already used (a replay). `durable`: synced before returning (downloads
    /// and deletes); uploads pass false, their piece commit syncs it.
    fn use_serial(
        &self,
        satellite: &NodeId,
        serial: &SerialNumber,
        expires_unix: i64,
        durable: bool,
    ) -> Result<bool, StoreError>;
    /// Forgets serials that expired at or before `now_unix`; returns how many.
    fn delete_expired_serials(&self, now_unix: i64) -> Result<u64, StoreError>;
    /// Keeps `order` for settlement if it is larger than the stored one
    /// (synced).
    fn save_order(
        &self,
        satellite: &NodeId,
        serial: &SerialNumber,
        order: &StoredOrder,
    ) -> Result<(), StoreError>;
    /// The order kept for `serial`, if any.
    fn order(
        &self,
        satellite: &NodeId,
        serial: &SerialNumber,
    ) -> Result<Option<StoredOrder>, StoreError>;
    /// Closes the underlying database; later calls fail with `Closed`.
    /// Waits for operations in progress.
    fn close(&self);
}
