//! The stored forms of objects and segments: their records, the column
//! lists queries select, and decoding a row back into a record.

use satstore_common::PieceId;
use satstore_common::codec::{Reader, Writer};
use satstore_common::erasure::RedundancyScheme;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;
use super::pieces::{PieceRef, SegmentPiece, decode_pieces};
use super::types::{ObjectStatus, SegmentPosition, fixed16};

const TAG_REDUNDANCY: u8 = 0x71;

/// An object version as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRecord {
    /// Owning project.
    pub project_id: [u8; 16],
    /// Bucket name.
    pub bucket: String,
    /// Encrypted object key.
    pub encrypted_key: Vec<u8>,
    /// Version, growing per key.
    pub version: i64,
    /// Unique id of this upload.
    pub stream_id: [u8; 16],
    /// Pending or committed.
    pub status: ObjectStatus,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, 0 = never.
    pub expires_at: i64,
    /// Number of segments (set at commit).
    pub segment_count: i64,
    /// Sum of the segments' plain sizes (set at commit).
    pub plain_size: i64,
    /// Sum of the segments' encrypted sizes (set at commit).
    pub encrypted_size: i64,
    /// Encrypted user metadata.
    pub encrypted_metadata: Vec<u8>,
    /// Nonce of the metadata.
    pub encrypted_metadata_nonce: Vec<u8>,
    /// Wrapped metadata key.
    pub encrypted_metadata_key: Vec<u8>,
    /// Cipher suite of the content.
    pub cipher_suite: i64,
    /// Encryption block size.
    pub block_size: i64,
    /// Multipart uploads: unix seconds after which the still-pending upload
    /// is deleted; 0 for plain uploads (and once committed).
    pub multipart_deadline: i64,
}

impl ObjectRecord {
    /// Whether this is a pending multipart upload.
    pub fn is_pending_multipart(&self) -> bool {
        self.status == ObjectStatus::Pending && self.multipart_deadline != 0
    }
}

/// A segment as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentRecord {
    /// Stream the segment belongs to.
    pub stream_id: [u8; 16],
    /// Position within the object.
    pub position: SegmentPosition,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, 0 = never.
    pub expires_at: i64,
    /// Root piece id (all zero for inline segments).
    pub root_piece_id: PieceId,
    /// Wrapped content key.
    pub encrypted_key: Vec<u8>,
    /// Nonce of the wrapped key.
    pub encrypted_key_nonce: Vec<u8>,
    /// Size after encryption.
    pub encrypted_size: i64,
    /// Offset of the first plaintext byte within the object (set at commit).
    pub plain_offset: i64,
    /// Plaintext size.
    pub plain_size: i64,
    /// Redundancy of the pieces.
    pub redundancy: RedundancyScheme,
    /// Data of an inline segment.
    pub inline_data: Option<Vec<u8>>,
    /// Pieces of a remote segment.
    pub pieces: Vec<SegmentPiece>,
}

impl SegmentRecord {
    /// The piece id stored on the node holding `piece`.
    pub fn piece_id(&self, piece: &SegmentPiece) -> PieceId {
        piece.piece_ref(&self.root_piece_id).piece_id
    }

    /// The remote pieces this segment references.
    pub fn piece_refs(&self) -> Vec<PieceRef> {
        self.pieces
            .iter()
            .map(|p| p.piece_ref(&self.root_piece_id))
            .collect()
    }
}

/// Encodes a redundancy scheme.
pub fn encode_redundancy(rs: &RedundancyScheme) -> Vec<u8> {
    let mut w = Writer::new(TAG_REDUNDANCY);
    w.u32(rs.required as u32)
        .u32(rs.repair as u32)
        .u32(rs.success as u32)
        .u32(rs.total as u32)
        .u32(rs.share_size);
    w.finish()
}

/// Decodes a scheme made by [`encode_redundancy`].
pub fn decode_redundancy(b: &[u8]) -> Result<RedundancyScheme, StoreError> {
    let bad = |e: &dyn std::fmt::Display| StoreError::corrupt("segment redundancy", e);
    let mut r = Reader::new(b, TAG_REDUNDANCY).map_err(|e| bad(&e))?;
    let mut next16 = || -> Result<u16, StoreError> {
        let v = r.u32().map_err(|e| bad(&e))?;
        u16::try_from(v).map_err(|e| bad(&e))
    };
    let required = next16()?;
    let repair = next16()?;
    let success = next16()?;
    let total = next16()?;
    let share_size = r.u32().map_err(|e| bad(&e))?;
    r.finish().map_err(|e| bad(&e))?;
    Ok(RedundancyScheme {
        required,
        repair,
        success,
        total,
        share_size,
    })
}

/// The columns [`object_from_row`] reads, in table order.
pub(crate) const OBJECT_COLUMNS: &str = "project_id, bucket, encrypted_key, version, stream_id, status, \
    created_at, expires_at, segment_count, plain_size, encrypted_size, encrypted_metadata, \
    encrypted_metadata_nonce, encrypted_metadata_key, cipher_suite, block_size, multipart_deadline";

/// An object row selected with [`OBJECT_COLUMNS`].
pub(crate) fn object_from_row(row: &AnyRow) -> Result<ObjectRecord, StoreError> {
    Ok(ObjectRecord {
        project_id: fixed16("project id", row.try_get("project_id")?)?,
        bucket: row.try_get("bucket")?,
        encrypted_key: row.try_get("encrypted_key")?,
        version: row.try_get("version")?,
        stream_id: fixed16("stream id", row.try_get("stream_id")?)?,
        status: ObjectStatus::from_i64(row.try_get("status")?)?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        segment_count: row.try_get("segment_count")?,
        plain_size: row.try_get("plain_size")?,
        encrypted_size: row.try_get("encrypted_size")?,
        encrypted_metadata: row.try_get("encrypted_metadata")?,
        encrypted_metadata_nonce: row.try_get("encrypted_metadata_nonce")?,
        encrypted_metadata_key: row.try_get("encrypted_metadata_key")?,
        cipher_suite: row.try_get("cipher_suite")?,
        block_size: row.try_get("block_size")?,
        multipart_deadline: row.try_get("multipart_deadline")?,
    })
}

/// The columns [`segment_from_row`] reads, in table order.
pub(crate) const SEGMENT_COLUMNS: &str = "stream_id, position, created_at, expires_at, root_piece_id, \
     encrypted_key, encrypted_key_nonce, encrypted_size, plain_offset, plain_size, redundancy, \
     inline_data, pieces";

/// A segment row selected with [`SEGMENT_COLUMNS`].
pub(crate) fn segment_from_row(row: &AnyRow) -> Result<SegmentRecord, StoreError> {
    let stream_id: Vec<u8> = row.try_get("stream_id")?;
    let root: Vec<u8> = row.try_get("root_piece_id")?;
    let redundancy: Vec<u8> = row.try_get("redundancy")?;
    let pieces: Vec<u8> = row.try_get("pieces")?;
    Ok(SegmentRecord {
        stream_id: stream_id
            .try_into()
            .map_err(|_| StoreError::corrupt("segment stream id", "want 16 bytes"))?,
        position: SegmentPosition::decode(row.try_get("position")?),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        root_piece_id: PieceId::from_slice(&root)
            .map_err(|e| StoreError::corrupt("root piece id", e))?,
        encrypted_key: row.try_get("encrypted_key")?,
        encrypted_key_nonce: row.try_get("encrypted_key_nonce")?,
        encrypted_size: row.try_get("encrypted_size")?,
        plain_offset: row.try_get("plain_offset")?,
        plain_size: row.try_get("plain_size")?,
        redundancy: decode_redundancy(&redundancy)?,
        inline_data: row.try_get("inline_data")?,
        pieces: decode_pieces(&pieces)?,
    })
}
