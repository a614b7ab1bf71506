//! Downloads a chunk-aligned byte range of one piece from one node:
//! `Piecestore.Download` with growing orders, the piece proof checked
//! before any byte is used, and every chunk verified against it. Chunks go
//! to the segment decoder through a bounded channel.

use std::time::Duration;

use satstore_common::piece::{self, HASH_CHUNK_SIZE};
use satstore_common::signing::SigningKeyPair;
use satstore_common::{NodeId, OrderLimit, PieceHash};
use satstore_proto::piecestore::{DownloadRequest, PieceProof};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tracing::Instrument;

use crate::convert::AddressedLimit;
use crate::dial::{self, AbortOnDrop, PieceError};
use crate::orders::{OrderSchedule, sign_order};
use crate::ranges::PieceRange;

/// What a piece download needs besides its limit.
#[derive(Clone)]
pub(crate) struct PieceDownloadParams {
    /// The access's satellite: original limits must be signed by it.
    pub satellite: NodeId,
    /// Signs orders for this segment's GET serial.
    pub key: SigningKeyPair,
    /// How to reach the node.
    pub dial: dial::DialOptions,
    /// Longest wait for the next message from the node.
    pub message_timeout: Duration,
    /// Channel depth towards the decoder, in chunks.
    pub depth: usize,
}

/// A running piece download yielding verified chunks in order.
pub(crate) struct PieceDownload {
    /// Piece number (erasure share index).
    pub piece_num: u32,
    /// Node serving it, for logs.
    pub node_id: NodeId,
    rx: mpsc::Receiver<Result<Vec<u8>, PieceError>>,
    _task: AbortOnDrop<()>,
}

impl PieceDownload {
    /// Starts fetching chunks `first_chunk..` of `range` from the node.
    pub(crate) fn start(
        limit: AddressedLimit,
        params: PieceDownloadParams,
        range: PieceRange,
        first_chunk: u64,
    ) -> Self {
        let (tx, rx) = mpsc::channel(params.depth.max(1));
        let piece_num = limit.piece_num;
        let node_id = limit.node.id;
        let span = tracing::debug_span!(
            "piece_download",
            node_id = %limit.node.id,
            piece_id = %limit.limit.piece_id,
            piece_num
        );
        let task = AbortOnDrop::spawn(
            async move {
                if let Err(e) = run(&limit, &params, range, first_chunk, &tx).await {
                    tracing::debug!(error = %e, "piece download failed");
                    let _ = tx.send(Err(e)).await;
                }
            }
            .instrument(span),
        );
        PieceDownload {
            piece_num,
            node_id,
            rx,
            _task: task,
        }
    }

    /// The next verified chunk; an error or an early end means this piece
    /// is unusable from here on.
    pub(crate) async fn next(&mut self) -> Result<Vec<u8>, String> {
        match self.rx.recv().await {
            Some(Ok(chunk)) => Ok(chunk),
            Some(Err(e)) => Err(e.to_string()),
            None => Err(format!("piece download from {} ended early", self.node_id)),
        }
    }
}

#[allow(
    clippy::expect_used,
    reason = "the receiver is held until the stream is handed out"
)]
async fn run(
    a: &AddressedLimit,
    p: &PieceDownloadParams,
    range: PieceRange,
    first_chunk: u64,
    out: &mpsc::Sender<Result<Vec<u8>, PieceError>>,
) -> Result<(), PieceError> {
    let node = a.node.to_string();
    let bad = |reason: String| PieceError::BadAnswer {
        node: node.clone(),
        reason,
    };
    let offset = PieceRange::chunk_offset(first_chunk);
    let end = range.offset + range.size;
    if offset >= end {
        return Ok(());
    }
    let size = end - offset;
    let mut client = dial::piecestore(&a.node, &p.dial)?;
    let mut schedule = OrderSchedule::new(size.min(a.limit.limit));
    let order = schedule.cover(2 * HASH_CHUNK_SIZE).map(|amount| {
        satstore_proto::common::Signed::from(sign_order(&p.key, a.limit.serial_number, amount))
    });
    let (req_tx, req_rx) = mpsc::channel::<DownloadRequest>(4);
    let first = DownloadRequest {
        limit: Some(satstore_proto::common::Signed::from(a.signed.clone())),
        offset: offset as i64,
        size: size as i64,
        order,
    };
    req_tx
        .send(first)
        .await
        .expect("receiver is alive: the stream was not handed out yet");
    let rpc = |status| PieceError::from_status(&node, status);
    let mut stream = client
        .download(ReceiverStream::new(req_rx))
        .await
        .map_err(rpc)?
        .into_inner();
    let mut next_msg =
        async || match tokio::time::timeout(p.message_timeout, stream.message()).await {
            Ok(Ok(Some(m))) => Ok(m),
            Ok(Ok(None)) => Err(PieceError::BadAnswer {
                node: node.clone(),
                reason: "stream ended early".into(),
            }),
            Ok(Err(status)) => Err(PieceError::from_status(&node, status)),
            Err(_) => Err(PieceError::Timeout {
                node: node.clone(),
                timeout: p.message_timeout,
            }),
        };
    let first = next_msg().await?;
    let proof = first
        .proof
        .ok_or_else(|| bad("first message carries no piece proof".into()))?;
    let hashes = verify_proof(proof, &a.limit, &p.satellite, range.piece_size).map_err(bad)?;
    let mut pending_chunk = first.chunk;
    let mut pos = offset;
    let mut received = 0u64;
    while pos < end {
        let chunk = match pending_chunk.take() {
            Some(c) => c,
            None => next_msg()
                .await?
                .chunk
                .ok_or_else(|| bad("message without a chunk".into()))?,
        };
        let index = pos / HASH_CHUNK_SIZE;
        let want = range.chunk_len(index);
        if chunk.offset != pos as i64 || chunk.data.len() as u64 != want {
            return Err(bad(format!(
                "expected chunk at {pos} of {want} bytes, got {} bytes at {}",
                chunk.data.len(),
                chunk.offset
            )));
        }
        if !piece::verify_chunk(&hashes, index, &chunk.data) {
            return Err(bad(format!(
                "chunk {index} does not match its hash (corrupted piece)"
            )));
        }
        pos += want;
        received += want;
        if let Some(amount) = schedule.cover(received + 2 * HASH_CHUNK_SIZE) {
            let msg = DownloadRequest {
                order: Some(satstore_proto::common::Signed::from(sign_order(
                    &p.key,
                    a.limit.serial_number,
                    amount,
                ))),
                ..Default::default()
            };
            let _ = req_tx.send(msg).await;
        }
        if out.send(Ok(chunk.data)).await.is_err() {
            return Ok(()); // the decoder no longer needs this piece
        }
    }
    Ok(())
}

/// Checks the proof chain of a piece: the original PUT limit is signed by
/// our satellite and names the same piece, the uplink's piece hash is
/// signed by that limit's piece key and names the piece, the chunk hashes
/// hash to it and the sizes agree. Returns the chunk hashes.
pub(crate) fn verify_proof(
    proof: PieceProof,
    get_limit: &OrderLimit,
    satellite: &NodeId,
    piece_size: u64,
) -> Result<Vec<u8>, String> {
    let original = proof
        .original_limit
        .ok_or("proof lacks the original order limit")?;
    let original: OrderLimit = satstore_common::SignedMessage::from(original)
        .verify(satellite)
        .map_err(|e| format!("original order limit: {e}"))?;
    if original.piece_id != get_limit.piece_id {
        return Err("original order limit is for another piece".into());
    }
    if !original.action.is_put() {
        return Err("original order limit is not an upload limit".into());
    }
    let uplink_hash = proof
        .uplink_hash
        .ok_or("proof lacks the uplink piece hash")?;
    let uplink_hash: PieceHash = satstore_common::SignedMessage::from(uplink_hash)
        .verify_with_key(&original.uplink_public_key)
        .map_err(|e| format!("uplink piece hash: {e}"))?;
    if uplink_hash.piece_id != get_limit.piece_id {
        return Err("uplink piece hash is for another piece".into());
    }
    if piece::root_hash(&proof.chunk_hashes) != uplink_hash.hash {
        return Err("chunk hashes do not match the signed piece hash".into());
    }
    if proof.piece_size < 0
        || proof.piece_size as u64 != uplink_hash.piece_size
        || uplink_hash.piece_size != piece_size
    {
        return Err(format!(
            "piece size mismatch: proof {}, signed {}, expected {piece_size}",
            proof.piece_size, uplink_hash.piece_size
        ));
    }
    if proof.chunk_hashes.len() as u64 != piece::chunk_count(piece_size) * 32 {
        return Err("wrong number of chunk hashes".into());
    }
    Ok(proof.chunk_hashes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use satstore_common::piece::ChunkHasher;
    use satstore_common::{PieceAction, PieceId, SerialNumber};

    struct Fixture {
        sat: SigningKeyPair,
        piece_key: SigningKeyPair,
        put: OrderLimit,
        get: OrderLimit,
        data: Vec<u8>,
    }

    fn fixture() -> Fixture {
        let sat = SigningKeyPair::generate();
        let piece_key = SigningKeyPair::generate();
        let put = OrderLimit {
            serial_number: SerialNumber::new(100),
            satellite_id: sat.public_key().node_id(),
            storage_node_id: NodeId::from_public_key(&[9; 32]),
            piece_id: PieceId::random(),
            action: PieceAction::Put,
            limit: 1 << 20,
            piece_expiration: 0,
            order_creation: 1,
            order_expiration: 100,
            uplink_public_key: piece_key.public_key(),
            tenant: [0; 16],
            encrypted_metadata: vec![],
        };
        let get = OrderLimit {
            action: PieceAction::Get,
            uplink_public_key: SigningKeyPair::generate().public_key(),
            ..put.clone()
        };
        let data = (0..HASH_CHUNK_SIZE + 500).map(|i| i as u8).collect();
        Fixture {
            sat,
            piece_key,
            put,
            get,
            data,
        }
    }

    fn proof(f: &Fixture) -> PieceProof {
        let mut h = ChunkHasher::new();
        h.update(&f.data);
        let (hashes, root) = h.finish();
        let uplink_hash = PieceHash {
            piece_id: f.put.piece_id,
            hash: root,
            piece_size: f.data.len() as u64,
            timestamp: 5,
        };
        PieceProof {
            original_limit: Some(satstore_proto::common::Signed::from(f.sat.sign(&f.put))),
            uplink_hash: Some(satstore_proto::common::Signed::from(
                f.piece_key.sign(&uplink_hash),
            )),
            chunk_hashes: hashes,
            piece_size: f.data.len() as i64,
        }
    }

    #[test]
    fn genuine_proof_verifies_and_checks_chunks() {
        let f = fixture();
        let sat_id = f.sat.public_key().node_id();
        let hashes = verify_proof(proof(&f), &f.get, &sat_id, f.data.len() as u64).unwrap();
        let c = HASH_CHUNK_SIZE as usize;
        assert!(piece::verify_chunk(&hashes, 0, &f.data[..c]));
        assert!(piece::verify_chunk(&hashes, 1, &f.data[c..]));
        let mut bad = f.data[c..].to_vec();
        bad[0] ^= 1;
        assert!(!piece::verify_chunk(&hashes, 1, &bad));
    }

    #[test]
    fn forged_proofs_are_refused() {
        let f = fixture();
        let sat_id = f.sat.public_key().node_id();
        let size = f.data.len() as u64;
        // Wrong satellite.
        let other = SigningKeyPair::generate().public_key().node_id();
        assert!(
            verify_proof(proof(&f), &f.get, &other, size)
                .unwrap_err()
                .contains("original order limit")
        );
        // Limit for another piece.
        let get = OrderLimit {
            piece_id: PieceId::random(),
            ..f.get.clone()
        };
        assert!(verify_proof(proof(&f), &get, &sat_id, size).is_err());
        // Piece hash signed by another key.
        let mut p = proof(&f);
        let mut h: PieceHash = satstore_common::SignedMessage::from(p.uplink_hash.clone().unwrap())
            .decode_unverified()
            .unwrap();
        h.piece_size += 1;
        p.uplink_hash = Some(satstore_proto::common::Signed::from(
            SigningKeyPair::generate().sign(&h),
        ));
        assert!(
            verify_proof(p, &f.get, &sat_id, size)
                .unwrap_err()
                .contains("uplink piece hash")
        );
        // Tampered chunk hashes.
        let mut p = proof(&f);
        p.chunk_hashes[3] ^= 1;
        assert!(
            verify_proof(p, &f.get, &sat_id, size)
                .unwrap_err()
                .contains("chunk hashes")
        );
        // Size disagreement.
        assert!(
            verify_proof(proof(&f), &f.get, &sat_id, size + 1)
                .unwrap_err()
                .contains("size")
        );
        // Missing parts.
        let mut p = proof(&f);
        p.original_limit = None;
        assert!(verify_proof(p, &f.get, &sat_id, size).is_err());
    }
}
