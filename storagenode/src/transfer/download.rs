//! One piece download: limit verification, range checks, and chunk reads
//! verified against the stored chunk hashes, released only as the uplink's
//! orders cover them.

use std::sync::Arc;

use satstore_common::piece::{HASH_CHUNK_SIZE, verify_chunk};
use satstore_common::time::now_unix;
use satstore_common::{OrderLimit, SignedMessage};

use super::limits::{TransferSlot, expiry};
use super::upload::save_largest_order;
use super::{NodeContext, blocking};
use crate::error::{StoreError, TransferError};
use crate::store::PieceHeader;
use crate::verify::{OrderTracker, RpcKind, use_serial};

/// A download in progress.
pub struct DownloadSession {
    ctx: Arc<NodeContext>,
    signed_limit: SignedMessage,
    orders: OrderTracker,
    header: Arc<PieceHeader>,
    next_offset: u64,
    end: u64,
    sent: u64,
    expires: tokio::time::Instant,
    _slot: TransferSlot,
}

impl DownloadSession {
    /// Verifies the GET limit, takes a transfer slot, consumes the serial
    /// (durably), finds the piece and checks the range `[offset, offset + size)`.
    pub async fn begin(
        ctx: Arc<NodeContext>,
        signed_limit: SignedMessage,
        offset: i64,
        size: i64,
    ) -> Result<Self, TransferError> {
        let now = now_unix();
        let limit: OrderLimit = ctx
            .verifier
            .check_limit(&signed_limit, RpcKind::Download, now)?;
        let slot = ctx.slots.try_acquire(&limit)?;
        let (c, l) = (ctx.clone(), limit.clone());
        blocking(move || use_serial(&*c.store, &l, true)).await?;
        let (offset, size) = match (u64::try_from(offset), u64::try_from(size)) {
            (Ok(o), Ok(s)) => (o, s),
            _ => {
                return Err(TransferError::InvalidArgument(
                    "offset and size must not be negative".into(),
                ));
            }
        };
        if size > limit.limit {
            return Err(TransferError::PermissionDenied(format!(
                "requested {size} bytes but the order limit allows {}",
                limit.limit
            )));
        }
        let (c, sat, piece) = (ctx.clone(), limit.satellite_id, limit.piece_id);
        let header = blocking(move || Ok(c.store.header(&sat, &piece)?)).await?;
        if header.expires_at != 0 && header.expires_at <= now {
            return Err(StoreError::NotFound.into());
        }
        if offset % HASH_CHUNK_SIZE != 0 {
            return Err(TransferError::InvalidArgument(format!(
                "offset {offset} is not a multiple of the {HASH_CHUNK_SIZE} byte hash chunk"
            )));
        }
        let end = offset
            .checked_add(size)
            .filter(|e| *e <= header.piece_size)
            .ok_or_else(|| {
                TransferError::OutOfRange(format!(
                    "range {offset}+{size} lies beyond the piece of {} bytes",
                    header.piece_size
                ))
            })?;
        if end % HASH_CHUNK_SIZE != 0 && end != header.piece_size {
            return Err(TransferError::InvalidArgument(format!(
                "range end {end} is neither a multiple of the {HASH_CHUNK_SIZE} byte hash chunk nor the piece end"
            )));
        }
        Ok(DownloadSession {
            ctx,
            signed_limit,
            expires: expiry(&limit),
            _slot: slot,
            orders: OrderTracker::new(limit),
            header: Arc::new(header),
            next_offset: offset,
            end,
            sent: 0,
        })
    }

    /// When the download must have ended (its limit's order expiration).
    pub fn expires(&self) -> tokio::time::Instant {
        self.expires
    }

    /// The verified GET limit.
    pub fn limit(&self) -> &OrderLimit {
        self.orders.limit()
    }

    /// The stored header: the proof sent before the first chunk.
    pub fn header(&self) -> &PieceHeader {
        &self.header
    }

    /// Verifies and records an uplink order.
    pub fn add_order(&mut self, signed: SignedMessage) -> Result<(), TransferError> {
        self.orders.add(signed)?;
        Ok(())
    }

    /// Length of the next chunk to send, or `None` when the range is done.
    pub fn next_chunk_len(&self) -> Option<u64> {
        (self.next_offset < self.end).then(|| HASH_CHUNK_SIZE.min(self.end - self.next_offset))
    }

    /// True when the orders received cover `len` more bytes.
    pub fn covers(&self, len: u64) -> bool {
        self.sent + len <= self.orders.allowance()
    }

    /// Reads and verifies the next chunk; returns its offset and bytes.
    pub async fn read_next(&mut self) -> Result<(u64, Vec<u8>), TransferError> {
        let len = self.next_chunk_len().ok_or_else(|| {
            TransferError::InvalidArgument("the requested range is already sent".into())
        })?;
        if !self.covers(len) {
            return Err(TransferError::NotCovered(format!(
                "next chunk of {len} bytes is not covered by the signed orders"
            )));
        }
        let offset = self.next_offset;
        let index = offset / HASH_CHUNK_SIZE;
        let limit = self.orders.limit();
        let (c, sat, piece) = (self.ctx.clone(), limit.satellite_id, limit.piece_id);
        let header = self.header.clone();
        let data = blocking(move || {
            let idx = u32::try_from(index)
                .map_err(|_| TransferError::OutOfRange("chunk index too large".into()))?;
            let data = c.store.read_chunk(&sat, &piece, idx).map_err(|e| match e {
                StoreError::Corrupt(m) => TransferError::DataLoss(m),
                other => other.into(),
            })?;
            if data.len() as u64 != len || !verify_chunk(&header.chunk_hashes, index, &data) {
                return Err(TransferError::DataLoss(format!(
                    "chunk {index} of piece {piece} failed its hash check on this node"
                )));
            }
            Ok(data)
        })
        .await?;
        self.next_offset += len;
        self.sent += len;
        self.ctx.metrics.downloaded(len);
        Ok((offset, data))
    }

    /// Keeps the largest order for settlement (called however the download ends).
    pub async fn save_order(&self) {
        save_largest_order(&self.ctx, &self.signed_limit, &self.orders).await;
    }
}
