//! `Piecestore.Download`: proof first, then one message per hash chunk as
//! the uplink's orders cover it.

use std::pin::Pin;

use futures::Stream;
use satstore_proto::piecestore::{Chunk, DownloadRequest, DownloadResponse, PieceProof};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;

use super::{PiecestoreService, TransferStreamError, bounded, next_message, record_limit};
use crate::error::{TransferError, VerifyError};
use crate::transfer::{DownloadSession, NodeContext};

/// The response stream of a download.
pub type DownloadStream = Pin<Box<dyn Stream<Item = Result<DownloadResponse, Status>> + Send>>;

/// Messages buffered between the chunk reader and the connection.
const SEND_BUFFER: usize = 4;

impl PiecestoreService {
    pub(crate) async fn handle_download(
        &self,
        req: Request<Streaming<DownloadRequest>>,
    ) -> Result<Response<DownloadStream>, Status> {
        let mut inbound = req.into_inner();
        let ctx = self.ctx.clone();
        let first = match next_message(&ctx, &mut inbound, None).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                return Err(Status::invalid_argument(
                    "download stream ended before the order limit",
                ));
            }
            Err(e) => return Err(e.into_status(&ctx)),
        };
        let Some(limit) = first.limit else {
            return Err(TransferStreamError::from(VerifyError::MissingLimit).into_status(&ctx));
        };
        let mut session = DownloadSession::begin(
            ctx.clone(),
            satstore_common::SignedMessage::from(limit),
            first.offset,
            first.size,
        )
        .await
        .map_err(|e| TransferStreamError::from(e).into_status(&ctx))?;
        record_limit(session.limit());
        if let Some(order) = first.order {
            session
                .add_order(satstore_common::SignedMessage::from(order))
                .map_err(|e| TransferStreamError::from(e).into_status(&ctx))?;
        }

        let (tx, rx) = mpsc::channel(SEND_BUFFER);
        let span = tracing::Span::current();
        tokio::spawn(
            async move {
                let result = send_chunks(&ctx, &mut session, &mut inbound, &tx).await;
                session.save_order().await;
                if let Err(e) = result {
                    let status = e.into_status(&ctx);
                    let _ = tx.send(Err(status)).await;
                }
            }
            .instrument(span),
        );
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Sends the proof, then every chunk once orders cover it.
async fn send_chunks(
    ctx: &NodeContext,
    session: &mut DownloadSession,
    inbound: &mut Streaming<DownloadRequest>,
    tx: &mpsc::Sender<Result<DownloadResponse, Status>>,
) -> Result<(), TransferStreamError> {
    let h = session.header();
    let proof = DownloadResponse {
        proof: Some(PieceProof {
            original_limit: Some(satstore_proto::common::Signed::from(h.order_limit.clone())),
            uplink_hash: Some(satstore_proto::common::Signed::from(h.uplink_hash.clone())),
            chunk_hashes: h.chunk_hashes.clone(),
            piece_size: h.piece_size as i64,
        }),
        chunk: None,
    };
    if !send(ctx, session.expires(), tx, proof).await? {
        return Ok(());
    }
    while let Some(len) = session.next_chunk_len() {
        while !session.covers(len) {
            match next_message(ctx, inbound, Some(session.expires())).await? {
                Some(m) => {
                    if let Some(order) = m.order {
                        session.add_order(satstore_common::SignedMessage::from(order))?;
                    }
                }
                None => {
                    return Err(TransferError::NotCovered(
                        "download stream closed before an order covered the next chunk".into(),
                    )
                    .into());
                }
            }
        }
        let (offset, data) = session.read_next().await?;
        let msg = DownloadResponse {
            proof: None,
            chunk: Some(Chunk {
                offset: offset as i64,
                data,
            }),
        };
        if !send(ctx, session.expires(), tx, msg).await? {
            return Ok(());
        }
    }
    Ok(())
}

/// Sends one message; false when the client went away. A client that
/// stops reading is cut off like an idle one.
async fn send(
    ctx: &NodeContext,
    expires: tokio::time::Instant,
    tx: &mpsc::Sender<Result<DownloadResponse, Status>>,
    msg: DownloadResponse,
) -> Result<bool, TransferStreamError> {
    Ok(bounded(ctx, Some(expires), tx.send(Ok(msg))).await?.is_ok())
}
