//! Segment calls: begin (select nodes, sign PUT limits), commit (verify the
//! node-signed piece hashes), make inline, and download (GET limits).

use std::collections::{HashMap, HashSet};

use satstore_common::erasure::RedundancyScheme;
use satstore_common::orders::{PieceAction, PieceHash};
use satstore_common::signing::SigningKeyPair;
use satstore_common::time::now_unix;
use satstore_common::{NodeId, PieceId};
use satstore_proto::internal::{SegmentIdLimit, SegmentIdPayload, StreamIdPayload};
use satstore_proto::metainfo as pb;

use super::multipart::MAX_PART_SEGMENTS;
use super::{INLINE_OVERHEAD, MetainfoEndpoint, check_project, stream_id_of};
use crate::auth::{Action, AuthContext, Scope};
use crate::convert::{redundancy_from_proto, redundancy_to_proto};
use crate::error::{SatelliteError, invalid};
use crate::orders::{LimitBatch, LimitSpec};
use crate::store::multipart::MAX_PART_NUMBER;
use crate::store::segments::MAX_SEGMENTS_PER_OBJECT;
use crate::store::{ObjectRecord, ObjectStatus, SegmentPiece, SegmentPosition, SegmentRecord};

fn position(p: Option<pb::SegmentPosition>) -> SegmentPosition {
    let p = p.unwrap_or_default();
    SegmentPosition {
        part: p.part,
        index: p.index,
    }
}

/// A segment's plaintext is never larger than its ciphertext (content is
/// always encrypted, which only adds bytes), nor negative: so sums of
/// plaintext sizes stay bounded by what was stored.
fn check_plain_size(plain_size: i64, encrypted_size: i64) -> Result<(), SatelliteError> {
    if plain_size < 0 || plain_size > encrypted_size {
        return Err(invalid(format!(
            "plain_size {plain_size} must be between 0 and the encrypted size {encrypted_size}"
        )));
    }
    Ok(())
}

fn no_longer_pending() -> SatelliteError {
    SatelliteError::UploadDone("object was committed meanwhile; the segment was not stored".into())
}

/// Plain uploads use part 0 only; multipart uploads parts 1..=10000.
/// Indexes stay below the segments an object (or a part) may have.
fn check_position(object: &ObjectRecord, pos: SegmentPosition) -> Result<(), SatelliteError> {
    let max_index = if object.multipart_deadline != 0 {
        MAX_PART_SEGMENTS as i64
    } else {
        MAX_SEGMENTS_PER_OBJECT
    };
    if i64::from(pos.index) >= max_index {
        return Err(invalid(format!(
            "segment index {} is out of range: at most {max_index} segments per {}",
            pos.index,
            if object.multipart_deadline != 0 {
                "part"
            } else {
                "object"
            }
        )));
    }
    if object.multipart_deadline != 0 {
        if pos.part == 0 || pos.part > MAX_PART_NUMBER {
            return Err(invalid(format!(
                "part number {} is out of range: multipart uploads use parts 1 to {MAX_PART_NUMBER}",
                pos.part
            )));
        }
    } else if pos.part != 0 {
        return Err(invalid(format!(
            "segment part {} given for a plain upload; only part 0 is allowed",
            pos.part
        )));
    }
    Ok(())
}

impl MetainfoEndpoint {
    /// Extra room above `max_segment_size` allowed in `max_order_limit`
    /// (encryption overhead).
    fn max_order_limit_cap(&self) -> u64 {
        let m = self.limits.max_segment_size;
        m + (m / 16).max(64 * 1024)
    }

    /// Scheme named by a stream token (the configured one if absent).
    fn stream_redundancy(&self, p: &StreamIdPayload) -> Result<RedundancyScheme, SatelliteError> {
        match &p.redundancy {
            Some(r) => redundancy_from_proto(r),
            None => Ok(self.limits.redundancy),
        }
    }

    /// Fails unless the stream's object exists and is still pending.
    async fn require_pending(&self, stream_id: &[u8; 16]) -> Result<ObjectRecord, SatelliteError> {
        match self.store.object_by_stream(stream_id).await? {
            Some(o) if o.status == ObjectStatus::Pending => Ok(o),
            Some(_) => Err(SatelliteError::UploadDone(
                "object is already committed".into(),
            )),
            None => Err(SatelliteError::UploadNotFound(
                "pending object not found (aborted?)".into(),
            )),
        }
    }

    /// BeginSegment: selects nodes and signs one PUT limit per node.
    pub async fn begin_segment(
        &self,
        req: pb::BeginSegmentRequest,
    ) -> Result<pb::BeginSegmentResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let p = self.verify_stream(&auth, &req.stream_id)?;
        auth.check(Action::Write, Scope::Path(&p.bucket, &p.encrypted_key))?;
        let stream_id = stream_id_of(&p)?;
        let object = self.require_pending(&stream_id).await?;
        let pos = position(req.position);
        check_position(&object, pos)?;
        if req.max_order_limit <= 0 {
            return Err(invalid("max_order_limit must be positive"));
        }
        let max_order_limit = (req.max_order_limit as u64).min(self.max_order_limit_cap());
        let rs = self.stream_redundancy(&p)?;
        let nodes = self
            .overlay
            .select_for_upload(rs.total as usize, rs.success as usize)
            .await?;
        let now = now_unix();
        let root = PieceId::random();
        let piece_key = SigningKeyPair::generate();
        let specs: Vec<LimitSpec> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| LimitSpec {
                node: n.id,
                piece_id: root.derive(&n.id, i as u32),
            })
            .collect();
        let batch = LimitBatch {
            action: PieceAction::Put,
            limit: rs.piece_size(max_order_limit),
            piece_expiration: p.expires_at_unix,
            uplink_public_key: piece_key.public_key(),
            project_id: &auth.project_id,
            bucket: &p.bucket,
        };
        let signed = self
            .orders
            .sign_limits(self.orders.new_serial(now), now, &batch, &specs);
        let token = SegmentIdPayload {
            stream: Some(p.clone()),
            part: pos.part,
            index: pos.index,
            root_piece_id: root.as_bytes().to_vec(),
            limits: specs
                .iter()
                .enumerate()
                .map(|(i, s)| SegmentIdLimit {
                    piece_num: i as u32,
                    node_id: s.node.as_bytes().to_vec(),
                    piece_id: s.piece_id.as_bytes().to_vec(),
                })
                .collect(),
            created_at_unix: now,
            max_order_limit: max_order_limit as i64,
        };
        let limits = signed
            .into_iter()
            .zip(&nodes)
            .enumerate()
            .map(|(i, (limit, n))| pb::AddressedOrderLimit {
                piece_num: i as u32,
                limit: Some(satstore_proto::common::Signed::from(limit)),
                node_address: format!("{}@{}", n.id, n.address),
            })
            .collect();
        Ok(pb::BeginSegmentResponse {
            segment_id: self.tokens.sign_segment(&token),
            limits,
            piece_private_key: piece_key.seed().to_vec(),
            redundancy: Some(redundancy_to_proto(&rs)),
        })
    }

    /// CommitSegment: stores the segment with the pieces whose node-signed
    /// hashes verify; needs at least `success` of them.
    pub async fn commit_segment(
        &self,
        req: pb::CommitSegmentRequest,
    ) -> Result<pb::CommitSegmentResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let s = self.tokens.verify_segment(&req.segment_id, now_unix())?;
        let p = s
            .stream
            .clone()
            .ok_or_else(|| invalid("segment id carries no stream"))?;
        check_project(&auth, &p)?;
        auth.check(Action::Write, Scope::Path(&p.bucket, &p.encrypted_key))?;
        let stream_id = stream_id_of(&p)?;
        self.require_pending(&stream_id).await?;
        if req.encrypted_size <= 0 || req.encrypted_size > s.max_order_limit {
            return Err(invalid(format!(
                "encrypted_size {} must be positive and at most the segment's max_order_limit {}",
                req.encrypted_size, s.max_order_limit
            )));
        }
        check_plain_size(req.plain_size, req.encrypted_size)?;
        let rs = self.stream_redundancy(&p)?;
        let root = PieceId::from_slice(&s.root_piece_id)
            .map_err(|e| invalid(format!("segment id: {e}")))?;
        let pieces =
            verify_piece_hashes(&s, &req.results, rs.piece_size(req.encrypted_size as u64))?;
        if pieces.valid.len() < rs.success as usize {
            return Err(SatelliteError::FailedPrecondition(format!(
                "only {} of {} piece upload results are valid, need {}{}",
                pieces.valid.len(),
                req.results.len(),
                rs.success,
                if pieces.errors.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", pieces.errors.join("; "))
                }
            )));
        }
        let seg = SegmentRecord {
            stream_id,
            position: SegmentPosition {
                part: s.part,
                index: s.index,
            },
            created_at: now_unix(),
            expires_at: p.expires_at_unix,
            root_piece_id: root,
            encrypted_key: req.encrypted_key,
            encrypted_key_nonce: req.encrypted_key_nonce,
            encrypted_size: req.encrypted_size,
            plain_offset: 0,
            plain_size: req.plain_size,
            redundancy: rs,
            inline_data: None,
            pieces: pieces.valid,
        };
        let replaced = self
            .store
            .put_segment(&seg)
            .await?
            .ok_or_else(no_longer_pending)?;
        self.deleter
            .delete_later(replaced, auth.project_id, p.bucket.clone());
        self.metrics
            .segment_committed(false, req.encrypted_size as u64);
        Ok(pb::CommitSegmentResponse {})
    }

    /// MakeInlineSegment: stores a small segment's data in the database.
    #[allow(clippy::expect_used, reason = "a 32-byte slice is a piece id")]
    pub async fn make_inline_segment(
        &self,
        req: pb::MakeInlineSegmentRequest,
    ) -> Result<pb::MakeInlineSegmentResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let p = self.verify_stream(&auth, &req.stream_id)?;
        auth.check(Action::Write, Scope::Path(&p.bucket, &p.encrypted_key))?;
        let stream_id = stream_id_of(&p)?;
        let object = self.require_pending(&stream_id).await?;
        check_position(&object, position(req.position))?;
        let max = self.limits.max_inline_size + INLINE_OVERHEAD;
        if req.encrypted_inline_data.len() as u64 > max {
            return Err(invalid(format!(
                "inline segment of {} bytes exceeds the limit of {max} bytes",
                req.encrypted_inline_data.len()
            )));
        }
        let size = req.encrypted_inline_data.len() as i64;
        check_plain_size(req.plain_size, size)?;
        let seg = SegmentRecord {
            stream_id,
            position: position(req.position),
            created_at: now_unix(),
            expires_at: p.expires_at_unix,
            root_piece_id: PieceId::from_slice(&[0; 32]).expect("32 bytes is a piece id"),
            encrypted_key: req.encrypted_key,
            encrypted_key_nonce: req.encrypted_key_nonce,
            encrypted_size: size,
            plain_offset: 0,
            plain_size: req.plain_size,
            redundancy: self.stream_redundancy(&p)?,
            inline_data: Some(req.encrypted_inline_data),
            pieces: vec![],
        };
        let replaced = self
            .store
            .put_segment(&seg)
            .await?
            .ok_or_else(no_longer_pending)?;
        self.deleter
            .delete_later(replaced, auth.project_id, p.bucket);
        self.metrics.segment_committed(true, size as u64);
        Ok(pb::MakeInlineSegmentResponse {})
    }

    /// DownloadSegment: inline data, or GET limits for every piece holder
    /// (online nodes first).
    pub async fn download_segment(
        &self,
        req: pb::DownloadSegmentRequest,
    ) -> Result<pb::DownloadSegmentResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let p = self.verify_stream(&auth, &req.stream_id)?;
        auth.check(Action::Read, Scope::Path(&p.bucket, &p.encrypted_key))?;
        let stream_id = stream_id_of(&p)?;
        match self.store.object_by_stream(&stream_id).await? {
            Some(o) if o.status == ObjectStatus::Committed => {}
            _ => return Err(SatelliteError::ObjectNotFound("object not found".into())),
        }
        let pos = position(req.position);
        let seg = self
            .store
            .get_segment(&stream_id, pos)
            .await?
            .ok_or_else(|| SatelliteError::NotFound("segment not found".into()))?;
        let info = pb::SegmentInfo {
            position: Some(pb::SegmentPosition {
                part: pos.part,
                index: pos.index,
            }),
            plain_offset: seg.plain_offset,
            plain_size: seg.plain_size,
            encrypted_size: seg.encrypted_size,
            inline: seg.inline_data.is_some(),
        };
        let mut resp = pb::DownloadSegmentResponse {
            segment: Some(info),
            encrypted_key: seg.encrypted_key.clone(),
            encrypted_key_nonce: seg.encrypted_key_nonce.clone(),
            redundancy: Some(redundancy_to_proto(&seg.redundancy)),
            ..Default::default()
        };
        if let Some(data) = seg.inline_data.clone() {
            resp.encrypted_inline_data = data;
            return Ok(resp);
        }
        let (limits, key) = self.sign_get_limits(&auth, &p.bucket, &seg).await?;
        resp.limits = limits;
        resp.piece_private_key = key.seed().to_vec();
        Ok(resp)
    }

    async fn sign_get_limits(
        &self,
        auth: &AuthContext,
        bucket: &str,
        seg: &SegmentRecord,
    ) -> Result<(Vec<pb::AddressedOrderLimit>, SigningKeyPair), SatelliteError> {
        let by_node: HashMap<NodeId, SegmentPiece> =
            seg.pieces.iter().map(|p| (p.node, *p)).collect();
        let ids: Vec<NodeId> = seg.pieces.iter().map(|p| p.node).collect();
        let nodes = self.overlay.order_for_download(&ids).await?;
        let mut chosen = Vec::with_capacity(nodes.len());
        for n in nodes {
            if let Some(piece) = by_node.get(&n.id) {
                chosen.push((n, *piece));
            }
        }
        let specs: Vec<LimitSpec> = chosen
            .iter()
            .map(|(n, piece)| LimitSpec {
                node: n.id,
                piece_id: seg.piece_id(piece),
            })
            .collect();
        let now = now_unix();
        let key = SigningKeyPair::generate();
        let batch = LimitBatch {
            action: PieceAction::Get,
            limit: seg.redundancy.piece_size(seg.encrypted_size.max(0) as u64),
            piece_expiration: seg.expires_at,
            uplink_public_key: key.public_key(),
            project_id: &auth.project_id,
            bucket,
        };
        let signed = self
            .orders
            .sign_limits(self.orders.new_serial(now), now, &batch, &specs);
        let limits = signed
            .into_iter()
            .zip(&chosen)
            .map(|(limit, (n, piece))| pb::AddressedOrderLimit {
                piece_num: piece.num as u32,
                limit: Some(satstore_proto::common::Signed::from(limit)),
                node_address: format!("{}@{}", n.id, n.address),
            })
            .collect();
        Ok((limits, key))
    }
}

/// Outcome of checking a CommitSegment's results.
#[derive(Debug, Default)]
pub struct VerifiedPieces {
    /// Pieces whose node-signed hash verified.
    pub valid: Vec<SegmentPiece>,
    /// Why the others were refused.
    pub errors: Vec<String>,
}

/// Checks each result against the limit with its piece number in the
/// segment token: signed by that node, same piece id, `piece_size`
/// bytes. Duplicate piece numbers are ignored.
pub fn verify_piece_hashes(
    s: &SegmentIdPayload,
    results: &[pb::SegmentPieceUploadResult],
    piece_size: u64,
) -> Result<VerifiedPieces, SatelliteError> {
    let mut limits = HashMap::new();
    for l in &s.limits {
        let node =
            NodeId::from_slice(&l.node_id).map_err(|e| invalid(format!("segment id: {e}")))?;
        let piece =
            PieceId::from_slice(&l.piece_id).map_err(|e| invalid(format!("segment id: {e}")))?;
        limits.insert(l.piece_num, (node, piece));
    }
    let mut seen = HashSet::new();
    let mut out = VerifiedPieces::default();
    for r in results {
        if !seen.insert(r.piece_num) {
            continue;
        }
        let n = r.piece_num;
        let Some((node, piece_id)) = limits.get(&n) else {
            out.errors
                .push(format!("piece {n}: no order limit was issued for it"));
            continue;
        };
        let Some(hash) = r.hash.clone() else {
            out.errors.push(format!("piece {n}: no signed hash"));
            continue;
        };
        let hash: PieceHash = match satstore_common::SignedMessage::from(hash).verify(node) {
            Ok(h) => h,
            Err(e) => {
                out.errors
                    .push(format!("piece {n}: hash not signed by its node: {e}"));
                continue;
            }
        };
        if hash.piece_id != *piece_id {
            out.errors.push(format!("piece {n}: wrong piece id"));
            continue;
        }
        if hash.piece_size != piece_size {
            out.errors.push(format!(
                "piece {n}: size {} differs from the expected {piece_size}",
                hash.piece_size
            ));
            continue;
        }
        let num =
            u16::try_from(n).map_err(|_| invalid(format!("piece number {n} is too large")))?;
        out.valid.push(SegmentPiece { num, node: *node });
    }
    Ok(out)
}
