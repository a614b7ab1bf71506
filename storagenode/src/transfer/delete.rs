//! Piece deletion under a DELETE order limit.

use std::sync::Arc;

use satstore_common::time::now_unix;
use satstore_common::{PieceId, SignedMessage};

use super::{NodeContext, blocking};
use crate::error::TransferError;
use crate::verify::RpcKind;

/// Verifies the DELETE limit and deletes its piece (a missing piece is fine).
/// Returns the deleted piece's id.
pub async fn delete_piece(
    ctx: Arc<NodeContext>,
    signed_limit: SignedMessage,
) -> Result<PieceId, TransferError> {
    let now = now_unix();
    let c = ctx.clone();
    let piece = blocking(move || {
        let limit = c
            .verifier
            .verify_limit(&*c.store, &signed_limit, RpcKind::Delete, now)?;
        c.store.delete_piece(&limit.satellite_id, &limit.piece_id)?;
        Ok(limit.piece_id)
    })
    .await?;
    ctx.metrics.observe_store(&*ctx.store);
    Ok(piece)
}
