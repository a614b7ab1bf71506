//! One piece upload: limit verification, space reservation, order
//! accounting, streaming writes with chunk hashing, and the final piece-hash
//! check before the piece is committed and countersigned.

use std::sync::Arc;

use satstore_common::piece::{ChunkHasher, HASH_CHUNK_SIZE};
use satstore_common::time::now_unix;
use satstore_common::{OrderLimit, PieceHash, SignedMessage};

use super::limits::{TransferSlot, expiry};
use super::{NodeContext, blocking};
use crate::error::{StoreError, TransferError};
use crate::store::{PieceHeader, PieceWriter, StoredOrder};
use crate::verify::{OrderTracker, RpcKind, use_serial};

/// An upload in progress. Dropping it before [`UploadSession::finish`]
/// discards everything received.
pub struct UploadSession {
    ctx: Arc<NodeContext>,
    signed_limit: SignedMessage,
    orders: OrderTracker,
    writer: Option<Box<dyn PieceWriter>>,
    hasher: ChunkHasher,
    received: u64,
    expires: tokio::time::Instant,
    committed: bool,
    _slot: TransferSlot,
}

impl UploadSession {
    /// Verifies the PUT limit, takes a transfer slot, consumes the serial
    /// and opens the piece. No space is set aside until bytes arrive.
    pub async fn begin(
        ctx: Arc<NodeContext>,
        signed_limit: SignedMessage,
    ) -> Result<Self, TransferError> {
        let now = now_unix();
        let limit = ctx
            .verifier
            .check_limit(&signed_limit, RpcKind::Upload, now)?;
        let slot = ctx.slots.try_acquire(&limit)?;
        let (c, l) = (ctx.clone(), limit.clone());
        let writer = blocking(move || {
            use_serial(&*c.store, &l, false)?;
            Ok(c.store
                .begin_upload(&l.satellite_id, &l.piece_id, l.limit)?)
        })
        .await?;
        Ok(UploadSession {
            ctx,
            signed_limit,
            expires: expiry(&limit),
            orders: OrderTracker::new(limit),
            writer: Some(writer),
            hasher: ChunkHasher::new(),
            received: 0,
            committed: false,
            _slot: slot,
        })
    }

    /// When the upload must have ended (its limit's order expiration).
    pub fn expires(&self) -> tokio::time::Instant {
        self.expires
    }

    /// The verified limit.
    pub fn limit(&self) -> &OrderLimit {
        self.orders.limit()
    }

    /// Verifies and records an uplink order.
    pub fn add_order(&mut self, signed: SignedMessage) -> Result<(), TransferError> {
        self.orders.add(signed)?;
        Ok(())
    }

    /// Appends a chunk of piece data at `offset` (must follow the previous).
    pub async fn write(&mut self, offset: i64, data: Vec<u8>) -> Result<(), TransferError> {
        if offset != self.received as i64 {
            return Err(TransferError::InvalidArgument(format!(
                "chunk offset {offset}, expected {}",
                self.received
            )));
        }
        if data.len() as u64 > HASH_CHUNK_SIZE {
            return Err(TransferError::InvalidArgument(format!(
                "chunk of {} bytes exceeds the {HASH_CHUNK_SIZE} byte maximum",
                data.len()
            )));
        }
        let end = self.received + data.len() as u64;
        let limit = self.limit().limit;
        if end > limit {
            return Err(TransferError::PermissionDenied(format!(
                "upload exceeds the order limit of {limit} bytes"
            )));
        }
        let allowed = self.orders.allowance();
        if end > allowed {
            return Err(TransferError::NotCovered(format!(
                "upload reaches {end} bytes but the signed orders allow {allowed}"
            )));
        }
        self.hasher.update(&data);
        let mut writer = self
            .writer
            .take()
            .ok_or_else(|| StoreError::Invalid("upload writer already released".into()))?;
        let (writer, res) = tokio::task::spawn_blocking(move || {
            let r = writer.write(&data);
            (writer, r)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        self.writer = Some(writer);
        res?;
        self.received = end;
        self.ctx.metrics.uploaded(end - offset as u64);
        Ok(())
    }

    /// Checks the uplink-signed piece hash against what arrived, commits the
    /// piece durably and returns the node-signed piece hash.
    pub async fn finish(
        &mut self,
        signed_hash: SignedMessage,
    ) -> Result<SignedMessage, TransferError> {
        let limit = self.limit().clone();
        let claimed: PieceHash = signed_hash
            .verify_with_key(&limit.uplink_public_key)
            .map_err(|e| {
                TransferError::InvalidArgument(format!("piece hash signature invalid: {e}"))
            })?;
        if claimed.piece_id != limit.piece_id {
            return Err(TransferError::InvalidArgument(
                "piece hash names another piece than the order limit".into(),
            ));
        }
        if claimed.piece_size != self.received {
            return Err(TransferError::InvalidArgument(format!(
                "piece hash says {} bytes but {} were received",
                claimed.piece_size, self.received
            )));
        }
        let (chunk_hashes, root) = std::mem::take(&mut self.hasher).finish();
        if claimed.hash != root {
            return Err(TransferError::InvalidArgument("piece hash mismatch".into()));
        }
        let now = now_unix();
        let header = PieceHeader {
            order_limit: self.signed_limit.clone(),
            uplink_hash: signed_hash,
            piece_size: self.received,
            chunk_hashes,
            created_at: now,
            expires_at: limit.piece_expiration,
        };
        let writer = self
            .writer
            .take()
            .ok_or_else(|| StoreError::Invalid("upload writer already released".into()))?;
        let order = self.largest_order();
        blocking(move || Ok(writer.commit(&header, order.as_ref())?)).await?;
        self.committed = true;
        self.ctx.metrics.observe_store(&*self.ctx.store);
        let signed = self.ctx.identity.keys().sign(&PieceHash {
            piece_id: limit.piece_id,
            hash: root,
            piece_size: self.received,
            timestamp: now,
        });
        Ok(signed)
    }

    fn largest_order(&self) -> Option<StoredOrder> {
        let (amount, order) = self.orders.largest().cloned()?;
        Some(StoredOrder {
            limit: self.signed_limit.clone(),
            order,
            amount,
        })
    }

    /// Keeps the largest order for settlement when the upload failed (a
    /// committed upload kept it with the piece).
    pub async fn save_order(&self) {
        if !self.committed {
            save_largest_order(&self.ctx, &self.signed_limit, &self.orders).await;
        }
    }
}

impl Drop for UploadSession {
    fn drop(&mut self) {
        if self.writer.is_some() {
            // Dropping the writer discards the data; refresh the gauges after.
            self.writer = None;
            self.ctx.metrics.observe_store(&*self.ctx.store);
        }
    }
}

/// Stores the largest order of a transfer, logging (not failing) on error.
pub(crate) async fn save_largest_order(
    ctx: &Arc<NodeContext>,
    signed_limit: &SignedMessage,
    orders: &OrderTracker,
) {
    let Some((amount, order)) = orders.largest().cloned() else {
        return;
    };
    let limit = orders.limit().clone();
    let record = StoredOrder {
        limit: signed_limit.clone(),
        order,
        amount,
    };
    let store = ctx.store.clone();
    let res = blocking(move || {
        Ok(store.save_order(&limit.satellite_id, &limit.serial_number, &record)?)
    })
    .await;
    if let Err(e) = res {
        tracing::warn!(error = %e, "could not keep order for settlement");
    }
}
