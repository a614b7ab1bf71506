//! Uploads one piece to one node: `Piecestore.Upload` fed from a bounded
//! channel of erasure shares, with orders sent ahead of the data and the
//! node's signed piece hash checked at the end.

use satstore_common::piece::{ChunkHasher, HASH_CHUNK_SIZE};
use satstore_common::signing::SigningKeyPair;
use satstore_common::{PieceHash, SignedMessage};
use satstore_proto::piecestore::{Chunk, UploadRequest};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tracing::Instrument;

use crate::convert::AddressedLimit;
use crate::dial::{self, AbortOnDrop, PieceError};
use crate::orders::{OrderSchedule, sign_order};

/// A piece the node stored and countersigned.
#[derive(Debug)]
pub(crate) struct StoredPiece {
    /// Piece number within the segment.
    pub piece_num: u32,
    /// The node-signed PieceHash, proof for CommitSegment.
    pub node_hash: SignedMessage,
}

/// Runs one piece upload until `data` closes (the segment is complete),
/// then finishes it. Cancel by aborting the task.
pub(crate) async fn upload_piece(
    limit: AddressedLimit,
    key: SigningKeyPair,
    data: mpsc::Receiver<Vec<u8>>,
    dial_opts: dial::DialOptions,
) -> Result<StoredPiece, PieceError> {
    let span = tracing::debug_span!(
        "piece_upload",
        node_id = %limit.node.id,
        piece_id = %limit.limit.piece_id,
        piece_num = limit.piece_num
    );
    let result = run(&limit, &key, data, dial_opts)
        .instrument(span.clone())
        .await;
    if let Err(e) = &result {
        span.in_scope(|| tracing::debug!(error = %e, "piece upload failed"));
    }
    result
}

#[allow(
    clippy::expect_used,
    reason = "the receiver is held until the stream is handed out"
)]
async fn run(
    a: &AddressedLimit,
    key: &SigningKeyPair,
    mut data: mpsc::Receiver<Vec<u8>>,
    dial_opts: dial::DialOptions,
) -> Result<StoredPiece, PieceError> {
    let node = a.node.to_string();
    let bad = |reason: String| PieceError::BadAnswer {
        node: node.clone(),
        reason,
    };
    let mut client = dial::piecestore(&a.node, &dial_opts)?;
    let (tx, rx) = mpsc::channel::<UploadRequest>(4);
    let first = UploadRequest {
        limit: Some(satstore_proto::common::Signed::from(a.signed.clone())),
        ..Default::default()
    };
    tx.send(first)
        .await
        .expect("receiver is alive: the stream was not handed out yet");
    let mut call = AbortOnDrop::spawn(async move { client.upload(ReceiverStream::new(rx)).await });

    let mut hasher = ChunkHasher::new();
    let mut schedule = OrderSchedule::new(a.limit.limit);
    let mut offset = 0u64;
    'feed: while let Some(buf) = data.recv().await {
        for part in split_chunks(buf) {
            let end = offset + part.len() as u64;
            if end > a.limit.limit {
                return Err(PieceError::BadAnswer {
                    node: node.clone(),
                    reason: format!(
                        "piece would exceed its order limit of {} bytes",
                        a.limit.limit
                    ),
                });
            }
            let order = schedule.cover(end).map(|amount| {
                satstore_proto::common::Signed::from(sign_order(key, a.limit.serial_number, amount))
            });
            hasher.update(&part);
            let msg = UploadRequest {
                order,
                chunk: Some(Chunk {
                    offset: offset as i64,
                    data: part,
                }),
                ..Default::default()
            };
            offset = end;
            if tx.send(msg).await.is_err() {
                // The call ended early; its result says why.
                break 'feed;
            }
        }
    }
    let (_, root) = hasher.finish();
    let uplink_hash = PieceHash {
        piece_id: a.limit.piece_id,
        hash: root,
        piece_size: offset,
        timestamp: satstore_common::time::now_unix(),
    };
    let done = UploadRequest {
        done: Some(satstore_proto::common::Signed::from(key.sign(&uplink_hash))),
        ..Default::default()
    };
    let _ = tx.send(done).await;
    drop(tx);
    let response = match (&mut call).await {
        Ok(Ok(r)) => r.into_inner(),
        Ok(Err(status)) => return Err(PieceError::from_status(&node, status)),
        Err(e) => return Err(bad(format!("upload task failed: {e}"))),
    };
    let signed = response
        .done
        .ok_or_else(|| bad("no signed piece hash in the answer".into()))?;
    let node_hash = SignedMessage::from(signed);
    let theirs: PieceHash = node_hash
        .verify(&a.limit.storage_node_id)
        .map_err(|e| bad(format!("piece hash: {e}")))?;
    if theirs.piece_id != uplink_hash.piece_id || theirs.piece_size != offset || theirs.hash != root
    {
        return Err(bad(format!(
            "node stored a different piece (size {} vs {offset}, hash match: {})",
            theirs.piece_size,
            theirs.hash == root
        )));
    }
    Ok(StoredPiece {
        piece_num: a.piece_num,
        node_hash,
    })
}

/// Splits a share buffer into messages of at most one hash chunk (buffers
/// from the segment encoder already are; this only guards the invariant).
fn split_chunks(buf: Vec<u8>) -> Vec<Vec<u8>> {
    let max = HASH_CHUNK_SIZE as usize;
    if buf.len() <= max {
        return vec![buf];
    }
    buf.chunks(max).map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_small_buffers_and_cuts_big_ones() {
        assert_eq!(split_chunks(vec![1; 10]).len(), 1);
        let parts = split_chunks(vec![2; HASH_CHUNK_SIZE as usize * 2 + 1]);
        assert_eq!(
            parts.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![65536, 65536, 1]
        );
    }
}
