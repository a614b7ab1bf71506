//! The stored header of a piece and its private byte encoding.

use satstore_common::SignedMessage;
use satstore_common::codec::{DecodeError, Reader, Writer};

/// Type tag of the header encoding (version 1).
const TAG_HEADER_V1: u8 = 0x51;

/// What the node keeps about a committed piece, next to its data: enough to
/// prove to a downloader (or auditor) what was uploaded and by whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PieceHeader {
    /// The satellite-signed PUT order limit the piece was uploaded under.
    pub order_limit: SignedMessage,
    /// The uplink-signed piece hash sent at the end of the upload.
    pub uplink_hash: SignedMessage,
    /// Size of the piece data in bytes.
    pub piece_size: u64,
    /// BLAKE3 hash of every 64 KiB hash chunk, concatenated (32 B each).
    pub chunk_hashes: Vec<u8>,
    /// When the piece was committed (unix seconds).
    pub created_at: i64,
    /// When the piece may be deleted (unix seconds, 0 = never).
    pub expires_at: i64,
}

impl PieceHeader {
    /// Encodes the header for storage.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_HEADER_V1);
        w.bytes(&self.order_limit.to_bytes())
            .bytes(&self.uplink_hash.to_bytes())
            .u64(self.piece_size)
            .bytes(&self.chunk_hashes)
            .i64(self.created_at)
            .i64(self.expires_at);
        w.finish()
    }

    /// Decodes a stored header.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, TAG_HEADER_V1)?;
        let h = PieceHeader {
            order_limit: SignedMessage::from_bytes(&r.bytes()?)?,
            uplink_hash: SignedMessage::from_bytes(&r.bytes()?)?,
            piece_size: r.u64()?,
            chunk_hashes: r.bytes()?,
            created_at: r.i64()?,
            expires_at: r.i64()?,
        };
        r.finish()?;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_garbage() {
        let h = PieceHeader {
            order_limit: SignedMessage {
                payload: vec![1, 2],
                signature: vec![3; 64],
                signer: vec![4; 32],
            },
            uplink_hash: SignedMessage::default(),
            piece_size: 70_000,
            chunk_hashes: vec![7; 64],
            created_at: 5,
            expires_at: 0,
        };
        let bytes = h.encode();
        assert_eq!(PieceHeader::decode(&bytes).unwrap(), h);
        assert!(PieceHeader::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(PieceHeader::decode(&[0x00]).is_err());
    }
}
