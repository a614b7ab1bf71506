//! Fault injection for tests: compiled only into this crate's own tests and
//! into builds with the `test-support` cargo feature, which only test
//! crates enable. A node binary never carries it, and no production trait
//! or type offers it.

use satstore_common::{NodeId, PieceId, SignedMessage};

use crate::error::StoreError;
use crate::peer::StorageNodeHandle;

/// Damages stored piece data in place, so tests can check that corruption
/// is detected (by hash) and routed around.
pub trait CorruptPiece {
    /// Flips the byte at `offset` of a stored piece's data. Fails with
    /// `NotFound` if the piece (or that chunk) is not stored and with
    /// `Invalid` if `offset` lies beyond the piece.
    fn corrupt_piece(
        &self,
        satellite: &NodeId,
        piece: &PieceId,
        offset: u64,
    ) -> Result<(), StoreError>;
}

impl CorruptPiece for StorageNodeHandle {
    fn corrupt_piece(
        &self,
        satellite: &NodeId,
        piece: &PieceId,
        offset: u64,
    ) -> Result<(), StoreError> {
        self.rocks_store().corrupt_piece(satellite, piece, offset)
    }
}

/// A freshly signed check-in message exactly as `node` sends it, for tests
/// that replay or tamper with one.
pub fn signed_check_in(node: &StorageNodeHandle) -> SignedMessage {
    node.check_in().signed_info()
}
