//! Downloads a byte range of one segment: inline data straight from the
//! satellite's answer, or `k` piece downloads decoded hash chunk by hash
//! chunk, replacing any piece that fails by the next unused order limit
//! at the chunk where it failed.
//!
//! The ciphertext range goes to a [`DecryptSink`] right after `decode`,
//! which forwards the plaintext.

use std::collections::{BTreeSet, VecDeque};

use satstore_common::erasure::ErasureCoder;
use satstore_proto::metainfo::DownloadSegmentResponse;

use crate::convert::{self, AddressedLimit};
use crate::decrypt::{DecryptSink, ReaderGone};
use crate::error::{Result, UplinkError};
use crate::piece_download::{PieceDownload, PieceDownloadParams};
use crate::ranges::{self, PieceRange};
use crate::session::Session;

/// Streams ciphertext bytes `[start, end)` of the segment described by
/// `resp` (whose ciphertext is `encrypted_size` bytes) to `sink`.
pub(crate) async fn download_segment(
    session: &Session,
    resp: DownloadSegmentResponse,
    encrypted_size: u64,
    start: u64,
    end: u64,
    sink: &mut DecryptSink<'_>,
) -> Result<std::result::Result<(), ReaderGone>> {
    if start >= end {
        return Ok(Ok(()));
    }
    if resp.limits.is_empty() {
        let data = resp.encrypted_inline_data;
        if data.len() as u64 != encrypted_size {
            return Err(UplinkError::Internal(format!(
                "object data is corrupt or was tampered with: inline segment holds {} bytes, expected {encrypted_size}",
                data.len()
            )));
        }
        return sink.push(data, start as usize..end as usize).await;
    }
    let scheme = convert::redundancy_from_pb(resp.redundancy)?;
    let coder = ErasureCoder::new(scheme).map_err(|e| UplinkError::Internal(e.to_string()))?;
    let k = scheme.required as usize;
    let satellite = session.satellite.id;
    let params = PieceDownloadParams {
        satellite,
        key: convert::piece_key(&resp.piece_private_key)?,
        dial: session.dial_options(),
        message_timeout: session.config.message_timeout,
        depth: session.config.piece_channel_depth,
    };
    let mut unused = VecDeque::new();
    let mut seen = BTreeSet::new();
    for a in resp.limits {
        if let Some(l) = AddressedLimit::from_pb(a, &satellite)?
            && l.piece_num < scheme.total as u32
            && seen.insert(l.piece_num)
        {
            unused.push_back(l);
        }
    }
    let range = PieceRange::new(&scheme, encrypted_size, start, end);
    let mut active: Vec<PieceDownload> = Vec::with_capacity(k);
    while active.len() < k {
        let Some(l) = unused.pop_front() else { break };
        active.push(PieceDownload::start(
            l,
            params.clone(),
            range,
            range.first_chunk,
        ));
    }
    let mut last_error = String::new();
    for index in range.first_chunk..range.first_chunk + range.chunks {
        let mut shares: Vec<Option<Vec<u8>>> = vec![None; scheme.total as usize];
        let mut j = 0;
        while j < active.len() {
            match active[j].next().await {
                Ok(chunk) => {
                    shares[active[j].piece_num as usize] = Some(chunk);
                    j += 1;
                }
                Err(e) => {
                    tracing::warn!(node_id = %active[j].node_id, piece_num = active[j].piece_num, error = %e, "dropping piece download");
                    last_error = e;
                    active.swap_remove(j);
                    if let Some(l) = unused.pop_front() {
                        active.push(PieceDownload::start(l, params.clone(), range, index));
                    }
                }
            }
        }
        if active.len() < k {
            return Err(UplinkError::Unavailable(format!(
                "download failed: only {} pieces available, need {k} (last error: {last_error})",
                active.len()
            )));
        }
        let mut decoded = Vec::new();
        coder
            .decode(shares, &mut decoded)
            .map_err(|e| UplinkError::Internal(format!("erasure decode: {e}")))?;
        let keep = ranges::trim(&scheme, index, range.chunk_len(index), start, end);
        if let Err(gone) = sink.push(decoded, keep).await? {
            return Ok(Err(gone));
        }
    }
    Ok(Ok(()))
}
