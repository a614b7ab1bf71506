//! Uploads one remote segment: BeginSegment, erasure coding in batches of
//! whole stripes, one piece upload task per node fed through bounded
//! channels, long-tail cancellation, CommitSegment.
//!
//! Data handed to [`SegmentUpload::write`] is plaintext: it is sealed block
//! by block (AES-256-GCM, 64 KiB cipher blocks) straight into the batch
//! buffer, in place, with the segment's random content key; the batch size
//! (`k` hash chunks) is a whole number of cipher blocks.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use satstore_common::NodeId;
use satstore_common::erasure::{ErasureCoder, RedundancyScheme};
use satstore_common::piece::HASH_CHUNK_SIZE;
use satstore_proto::metainfo as pb;
use tokio::sync::mpsc;

use crate::config::UplinkConfig;
use crate::convert::{self, AddressedLimit};
use crate::dial::{AbortOnDrop, PieceError};
use crate::encryption::{
    CIPHER_BLOCK, Key, PLAIN_BLOCK, SegmentEncrypter, WrappedKey, encrypted_size,
};
use crate::error::{Result, UplinkError};
use crate::metainfo::Metainfo;
use crate::piece_upload::{StoredPiece, upload_piece};

struct PieceSlot {
    piece_num: u32,
    node_id: NodeId,
    tx: Option<mpsc::Sender<Vec<u8>>>,
    task: Option<AbortOnDrop<Result<StoredPiece, PieceError>>>,
}

impl PieceSlot {
    fn alive(&self) -> bool {
        self.tx.is_some()
    }
    /// Stops feeding this piece and cancels its transfer.
    fn cut(&mut self) {
        self.tx = None;
        self.task = None;
    }
}

/// One segment being uploaded.
pub(crate) struct SegmentUpload {
    scheme: RedundancyScheme,
    coder: ErasureCoder,
    segment_id: Vec<u8>,
    pieces: Vec<PieceSlot>,
    batch: Vec<u8>,
    batch_size: usize,
    /// Ciphertext bytes produced so far.
    size: u64,
    encrypter: Option<SegmentEncrypter>,
    wrapped: WrappedKey,
    grace: Duration,
    last_error: Option<String>,
}

impl SegmentUpload {
    /// Calls BeginSegment for segment (`part`, `index`) (at most `max_plain` plain
    /// bytes, encrypted with `content_key`, which `wrapped` carries sealed
    /// with the object's key) and starts one piece upload per order limit.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn begin(
        metainfo: &Metainfo,
        satellite: &NodeId,
        config: &UplinkConfig,
        dial: &crate::dial::DialOptions,
        stream_id: &[u8],
        part: u32,
        index: u32,
        max_plain: u64,
        content_key: &Key,
        wrapped: WrappedKey,
    ) -> Result<Self> {
        let resp = metainfo
            .begin_segment(pb::BeginSegmentRequest {
                header: None,
                stream_id: stream_id.to_vec(),
                position: Some(pb::SegmentPosition { part, index }),
                max_order_limit: encrypted_size(max_plain) as i64,
            })
            .await?;
        let scheme = convert::redundancy_from_pb(resp.redundancy)?;
        let coder = ErasureCoder::new(scheme).map_err(|e| UplinkError::Internal(e.to_string()))?;
        let key = convert::piece_key(&resp.piece_private_key)?;
        let mut pieces = Vec::with_capacity(resp.limits.len());
        let mut seen = BTreeSet::new();
        for a in resp.limits {
            let Some(limit) = AddressedLimit::from_pb(a, satellite)? else {
                continue;
            };
            if limit.piece_num >= scheme.total as u32 || !seen.insert(limit.piece_num) {
                return Err(UplinkError::Internal(format!(
                    "satellite sent a bad or duplicate piece number {}",
                    limit.piece_num
                )));
            }
            let (tx, rx) = mpsc::channel(config.piece_channel_depth.max(1));
            let piece_num = limit.piece_num;
            let node_id = limit.node.id;
            let task = AbortOnDrop::spawn(upload_piece(limit, key.clone(), rx, dial.clone()));
            pieces.push(PieceSlot {
                piece_num,
                node_id,
                tx: Some(tx),
                task: Some(task),
            });
        }
        if pieces.len() < scheme.success as usize {
            return Err(UplinkError::Unavailable(format!(
                "upload failed: satellite offered {} nodes, need {}",
                pieces.len(),
                scheme.success
            )));
        }
        let batch_size = scheme.required as usize * HASH_CHUNK_SIZE as usize;
        debug_assert_eq!(batch_size % CIPHER_BLOCK, 0);
        Ok(SegmentUpload {
            scheme,
            coder,
            segment_id: resp.segment_id,
            pieces,
            batch: Vec::with_capacity(batch_size),
            batch_size,
            size: 0,
            encrypter: Some(SegmentEncrypter::new(content_key, part, index)),
            wrapped,
            grace: config.long_tail_grace,
            last_error: None,
        })
    }

    /// Plaintext bytes written to this segment so far.
    pub(crate) fn plain_size(&self) -> u64 {
        self.encrypter.as_ref().map_or(0, |e| e.plain_len())
    }

    fn encrypter(&mut self) -> Result<&mut SegmentEncrypter> {
        self.encrypter
            .as_mut()
            .ok_or_else(|| UplinkError::Internal("segment already finished".into()))
    }

    /// Adds plaintext: it is sealed into the batch (whole cipher blocks);
    /// full batches are encoded and sent to the pieces.
    pub(crate) async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            // The batch only ever holds whole cipher blocks here.
            let free_blocks = (self.batch_size - self.batch.len()) / CIPHER_BLOCK;
            let enc = self.encrypter()?;
            let pending = (enc.plain_len() % PLAIN_BLOCK as u64) as usize;
            let n = (free_blocks * PLAIN_BLOCK - pending).min(data.len());
            let before = self.batch.len();
            let mut batch = std::mem::take(&mut self.batch);
            let pushed = self.encrypter()?.push(&data[..n], &mut batch);
            self.batch = batch;
            pushed?;
            self.size += (self.batch.len() - before) as u64;
            data = &data[n..];
            if self.batch.len() == self.batch_size {
                self.flush_batch().await?;
            }
        }
        Ok(())
    }

    /// Encodes the buffered batch (zero-padded to whole stripes) and feeds it.
    async fn flush_batch(&mut self) -> Result<()> {
        let padded = self.scheme.padded_size(self.batch.len() as u64) as usize;
        self.batch.resize(padded, 0);
        let shares = self
            .coder
            .encode(&self.batch)
            .map_err(|e| UplinkError::Internal(format!("erasure encode: {e}")))?;
        self.batch.clear();
        self.feed(shares).await
    }

    /// Sends one share buffer to every live piece; once `success` pieces
    /// took theirs, the others get `grace` before they are cut off.
    async fn feed(&mut self, mut shares: Vec<Vec<u8>>) -> Result<()> {
        let success = self.scheme.success as usize;
        let mut sends = FuturesUnordered::new();
        let mut pending = BTreeSet::new();
        for (slot_idx, slot) in self.pieces.iter().enumerate() {
            let Some(tx) = slot.tx.clone() else { continue };
            let share = std::mem::take(&mut shares[slot.piece_num as usize]);
            pending.insert(slot_idx);
            sends.push(async move { (slot_idx, tx.send(share).await.is_ok()) });
        }
        let mut accepted = 0usize;
        let mut dead = Vec::new();
        while accepted < success {
            match sends.next().await {
                Some((i, ok)) => {
                    pending.remove(&i);
                    if ok { accepted += 1 } else { dead.push(i) }
                }
                None => break,
            }
        }
        if accepted >= success && !sends.is_empty() {
            let deadline = tokio::time::sleep(self.grace);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    next = sends.next() => match next {
                        Some((i, ok)) => {
                            pending.remove(&i);
                            if !ok {
                                dead.push(i);
                            }
                        }
                        None => break,
                    },
                    _ = &mut deadline => break,
                }
            }
        }
        drop(sends);
        for i in pending {
            let slot = &mut self.pieces[i];
            tracing::debug!(node_id = %slot.node_id, piece_num = slot.piece_num, "long tail: cutting a slow piece upload");
            slot.cut();
        }
        for i in dead {
            self.reap(i).await;
        }
        let alive = self.pieces.iter().filter(|p| p.alive()).count();
        if alive < success {
            return Err(self.failure(alive));
        }
        Ok(())
    }

    /// Records why a piece whose task ended early failed.
    async fn reap(&mut self, i: usize) {
        let slot = &mut self.pieces[i];
        slot.tx = None;
        if let Some(task) = slot.task.take() {
            let why = match task.await {
                Ok(Ok(_)) => "node finished the piece early".to_string(),
                Ok(Err(e)) => e.to_string(),
                Err(e) => format!("piece task: {e}"),
            };
            tracing::debug!(node_id = %slot.node_id, piece_num = slot.piece_num, error = %why, "piece upload dropped");
            self.last_error = Some(why);
        }
    }

    fn failure(&self, stored: usize) -> UplinkError {
        let mut msg = format!(
            "upload failed: only {stored} of {} pieces stored, need {}",
            self.pieces.len(),
            self.scheme.success
        );
        if let Some(e) = &self.last_error {
            msg.push_str(&format!(" (last error: {e})"));
        }
        UplinkError::Unavailable(msg)
    }

    /// Flushes the last batch, waits for `success` node-signed hashes (plus
    /// a grace period for stragglers), cancels the rest and commits.
    pub(crate) async fn finish(mut self, metainfo: &Metainfo) -> Result<()> {
        let enc = self
            .encrypter
            .take()
            .ok_or_else(|| UplinkError::Internal("segment already finished".into()))?;
        let before = self.batch.len();
        let plain_size = enc.finish(&mut self.batch)?;
        self.size += (self.batch.len() - before) as u64;
        if self.size != encrypted_size(plain_size) {
            return Err(UplinkError::Internal(format!(
                "segment encrypted to {} bytes, expected {}",
                self.size,
                encrypted_size(plain_size)
            )));
        }
        if !self.batch.is_empty() {
            self.flush_batch().await?;
        }
        let success = self.scheme.success as usize;
        let mut running = FuturesUnordered::new();
        for slot in &mut self.pieces {
            slot.tx = None; // closing the channel tells the task the piece is complete
            if let Some(task) = slot.task.take() {
                let (num, node) = (slot.piece_num, slot.node_id);
                running.push(async move { (num, node, task.await) });
            }
        }
        let mut stored: Vec<StoredPiece> = Vec::new();
        let on_result = |num: u32,
                         node: NodeId,
                         r: std::result::Result<
            Result<StoredPiece, PieceError>,
            tokio::task::JoinError,
        >,
                         stored: &mut Vec<StoredPiece>,
                         last: &mut Option<String>| {
            match r {
                Ok(Ok(p)) => stored.push(p),
                Ok(Err(e)) => {
                    tracing::debug!(node_id = %node, piece_num = num, error = %e, "piece upload failed");
                    *last = Some(e.to_string());
                }
                Err(e) => *last = Some(format!("piece task: {e}")),
            }
        };
        let mut last_error = self.last_error.take();
        while stored.len() < success {
            match running.next().await {
                Some((num, node, r)) => on_result(num, node, r, &mut stored, &mut last_error),
                None => break,
            }
        }
        if stored.len() >= success && !running.is_empty() {
            let deadline = tokio::time::sleep(self.grace);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    next = running.next() => match next {
                        Some((num, node, r)) => on_result(num, node, r, &mut stored, &mut last_error),
                        None => break,
                    },
                    _ = &mut deadline => break,
                }
            }
        }
        // Dropping the rest aborts their transfers (long-tail cancellation).
        drop(running);
        self.last_error = last_error;
        if stored.len() < success {
            return Err(self.failure(stored.len()));
        }
        metainfo
            .commit_segment(pb::CommitSegmentRequest {
                header: None,
                segment_id: std::mem::take(&mut self.segment_id),
                encrypted_key: std::mem::take(&mut self.wrapped.encrypted_key),
                encrypted_key_nonce: self.wrapped.nonce.to_vec(),
                encrypted_size: self.size as i64,
                plain_size: plain_size as i64,
                results: stored
                    .into_iter()
                    .map(|p| pb::SegmentPieceUploadResult {
                        piece_num: p.piece_num,
                        hash: Some(satstore_proto::common::Signed::from(p.node_hash)),
                    })
                    .collect(),
            })
            .await?;
        Ok(())
    }
}
