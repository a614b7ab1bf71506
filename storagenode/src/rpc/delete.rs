//! `Piecestore.Delete`.

use satstore_proto::piecestore::{DeleteRequest, DeleteResponse};
use tonic::{Request, Response, Status};

use super::{PiecestoreService, fail};
use crate::error::VerifyError;
use crate::transfer::delete_piece;

impl PiecestoreService {
    pub(crate) async fn handle_delete(
        &self,
        req: Request<DeleteRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let Some(limit) = req.into_inner().limit else {
            return Err(fail(&self.ctx, VerifyError::MissingLimit.into()));
        };
        let piece = delete_piece(
            self.ctx.clone(),
            satstore_common::SignedMessage::from(limit),
        )
        .await
        .map_err(|e| fail(&self.ctx, e))?;
        tracing::Span::current().record("piece_id", tracing::field::display(piece));
        tracing::debug!("piece deleted");
        Ok(Response::new(DeleteResponse {}))
    }
}
