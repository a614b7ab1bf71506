//! `Piecestore.Upload`: limit first, then orders and chunks, then `done`.

use satstore_proto::piecestore::{UploadRequest, UploadResponse};
use tonic::{Request, Response, Status, Streaming};

use super::{PiecestoreService, TransferStreamError, next_message, record_limit};
use crate::error::{TransferError, VerifyError};
use crate::transfer::UploadSession;

impl PiecestoreService {
    pub(crate) async fn handle_upload(
        &self,
        req: Request<Streaming<UploadRequest>>,
    ) -> Result<Response<UploadResponse>, Status> {
        let mut stream = req.into_inner();
        let ctx = &self.ctx;
        let first = match next_message(ctx, &mut stream, None).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                return Err(Status::invalid_argument(
                    "upload stream ended before the order limit",
                ));
            }
            Err(e) => return Err(e.into_status(ctx)),
        };
        let Some(limit) = first.limit.clone() else {
            return Err(TransferStreamError::from(VerifyError::MissingLimit).into_status(ctx));
        };
        let mut session =
            UploadSession::begin(ctx.clone(), satstore_common::SignedMessage::from(limit))
                .await
                .map_err(|e| TransferStreamError::from(e).into_status(ctx))?;
        record_limit(session.limit());

        let result = receive(&mut session, first, &mut stream, ctx).await;
        session.save_order().await;
        match result {
            Ok(done) => {
                tracing::debug!("piece stored");
                Ok(Response::new(UploadResponse {
                    done: Some(satstore_proto::common::Signed::from(done)),
                }))
            }
            Err(e) => Err(e.into_status(ctx)),
        }
    }
}

/// Applies messages until `done`; the first message may carry an order or a
/// chunk too.
async fn receive(
    session: &mut UploadSession,
    first: UploadRequest,
    stream: &mut Streaming<UploadRequest>,
    ctx: &crate::transfer::NodeContext,
) -> Result<satstore_common::SignedMessage, TransferStreamError> {
    let mut msg = UploadRequest {
        limit: None,
        ..first
    };
    loop {
        if msg.limit.is_some() {
            return Err(TransferError::InvalidArgument(
                "order limit sent twice in one upload".into(),
            )
            .into());
        }
        if let Some(order) = msg.order {
            session.add_order(satstore_common::SignedMessage::from(order))?;
        }
        if let Some(chunk) = msg.chunk {
            session.write(chunk.offset, chunk.data).await?;
        }
        if let Some(done) = msg.done {
            return Ok(session
                .finish(satstore_common::SignedMessage::from(done))
                .await?);
        }
        msg = match next_message(ctx, stream, Some(session.expires())).await? {
            Some(m) => m,
            None => {
                return Err(TransferError::InvalidArgument(
                    "upload stream ended without a piece hash; nothing stored".into(),
                )
                .into());
            }
        };
    }
}
