//! The erasure scheme: a segment is cut into stripes of `k * share_size`
//! bytes; each stripe becomes `n` shares; piece `i` is share `i` of every
//! stripe, concatenated. Any `k` pieces rebuild the segment.
//!
//! The coder works on batches of whole stripes: for each piece it gathers
//! the shares of the batch into one contiguous shard, so one Reed-Solomon
//! call covers many stripes.

use reed_solomon_erasure::galois_8::ReedSolomon;
use thiserror::Error;

/// Why a scheme is invalid or a batch cannot be coded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ErasureError {
    #[error("invalid redundancy scheme: {0}")]
    /// The redundancy numbers do not make a usable scheme.
    InvalidScheme(String),
    #[error("batch of {0} bytes is not a whole number of stripes")]
    /// The data is not a whole number of stripes.
    PartialStripe(usize),
    #[error("need {needed} pieces to decode, have {have}")]
    /// Fewer pieces than the scheme needs to decode.
    NotEnoughPieces {
        /// Pieces the scheme needs.
        needed: usize,
        /// Pieces given.
        have: usize,
    },
    #[error("piece buffers differ in length")]
    /// The pieces given have different lengths.
    UnevenPieces,
    #[error("reed-solomon: {0}")]
    /// The Reed-Solomon library refused the input.
    Codec(String),
}

/// Redundancy `k / repair / success / total` with the share size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RedundancyScheme {
    /// Pieces needed to rebuild (k).
    pub required: u16,
    /// Healthy pieces below which the segment is repaired.
    pub repair: u16,
    /// Pieces an upload waits for before cutting the long tail.
    pub success: u16,
    /// Pieces an upload starts (n).
    pub total: u16,
    /// Bytes of one share.
    pub share_size: u32,
}

impl Default for RedundancyScheme {
    /// The localnet default: 4/6/8/10 with 256-byte shares.
    fn default() -> Self {
        RedundancyScheme {
            required: 4,
            repair: 6,
            success: 8,
            total: 10,
            share_size: 256,
        }
    }
}

impl RedundancyScheme {
    /// Checks `0 < k <= repair <= success <= total <= 255`, k < total and a
    /// share size that divides the piece hash chunk.
    pub fn validate(&self) -> Result<(), ErasureError> {
        let RedundancyScheme {
            required: k,
            repair: r,
            success: s,
            total: n,
            share_size,
        } = *self;
        if !(k > 0 && k <= r && r <= s && s <= n && k < n && n <= 255) {
            return Err(ErasureError::InvalidScheme(format!(
                "need 0 < k <= repair <= success <= total <= 255 and k < total, got {k}/{r}/{s}/{n}"
            )));
        }
        if share_size == 0 || !crate::piece::HASH_CHUNK_SIZE.is_multiple_of(share_size as u64) {
            return Err(ErasureError::InvalidScheme(format!(
                "share size {share_size} must divide {}",
                crate::piece::HASH_CHUNK_SIZE
            )));
        }
        Ok(())
    }

    /// Bytes of one stripe (`k * share_size`).
    pub fn stripe_size(&self) -> u64 {
        self.required as u64 * self.share_size as u64
    }

    /// Size of `encrypted_size` bytes padded with zeros to whole stripes.
    pub fn padded_size(&self, encrypted_size: u64) -> u64 {
        encrypted_size.div_ceil(self.stripe_size()) * self.stripe_size()
    }

    /// Size of each piece of a segment of `encrypted_size` bytes.
    pub fn piece_size(&self, encrypted_size: u64) -> u64 {
        self.padded_size(encrypted_size) / self.required as u64
    }
}

/// Encodes and decodes batches of stripes for one scheme.
pub struct ErasureCoder {
    scheme: RedundancyScheme,
    rs: ReedSolomon,
}

impl ErasureCoder {
    /// A coder for a validated scheme.
    pub fn new(scheme: RedundancyScheme) -> Result<Self, ErasureError> {
        scheme.validate()?;
        let k = scheme.required as usize;
        let n = scheme.total as usize;
        let rs = ReedSolomon::new(k, n - k).map_err(|e| ErasureError::Codec(format!("{e:?}")))?;
        Ok(ErasureCoder { scheme, rs })
    }

    /// The scheme this coder implements.
    pub fn scheme(&self) -> &RedundancyScheme {
        &self.scheme
    }

    /// Encodes `data` (whole stripes) and returns one buffer per piece, each
    /// `data.len() / k` bytes: the shares of this batch for that piece.
    pub fn encode(&self, data: &[u8]) -> Result<Vec<Vec<u8>>, ErasureError> {
        let stripe = self.scheme.stripe_size() as usize;
        if !data.len().is_multiple_of(stripe) {
            return Err(ErasureError::PartialStripe(data.len()));
        }
        let k = self.scheme.required as usize;
        let n = self.scheme.total as usize;
        let ss = self.scheme.share_size as usize;
        let shard_len = data.len() / k;
        let mut shards: Vec<Vec<u8>> = (0..n).map(|_| vec![0u8; shard_len]).collect();
        for (s, stripe_bytes) in data.chunks_exact(stripe).enumerate() {
            for (i, share) in stripe_bytes.chunks_exact(ss).enumerate() {
                shards[i][s * ss..(s + 1) * ss].copy_from_slice(share);
            }
        }
        self.rs
            .encode(&mut shards)
            .map_err(|e| ErasureError::Codec(format!("{e:?}")))?;
        Ok(shards)
    }

    /// Rebuilds the stripes of a batch from at least `k` piece buffers of
    /// equal length (`None` = missing) and appends them to `out`.
    pub fn decode(
        &self,
        mut pieces: Vec<Option<Vec<u8>>>,
        out: &mut Vec<u8>,
    ) -> Result<(), ErasureError> {
        let k = self.scheme.required as usize;
        let n = self.scheme.total as usize;
        let ss = self.scheme.share_size as usize;
        pieces.resize(n, None);
        let have = pieces.iter().filter(|p| p.is_some()).count();
        if have < k {
            return Err(ErasureError::NotEnoughPieces { needed: k, have });
        }
        let len = pieces.iter().flatten().map(|p| p.len()).next().unwrap_or(0);
        if pieces.iter().flatten().any(|p| p.len() != len) || len % ss != 0 {
            return Err(ErasureError::UnevenPieces);
        }
        if pieces[..k].iter().any(|p| p.is_none()) {
            self.rs
                .reconstruct_data(&mut pieces)
                .map_err(|e| ErasureError::Codec(format!("{e:?}")))?;
        }
        let stripes = len / ss;
        out.reserve(stripes * k * ss);
        for s in 0..stripes {
            for piece in pieces.iter().take(k) {
                let p = piece
                    .as_ref()
                    .ok_or(ErasureError::NotEnoughPieces { needed: k, have })?;
                out.extend_from_slice(&p[s * ss..(s + 1) * ss]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let s = RedundancyScheme::default();
        assert_eq!(s.stripe_size(), 1024);
        assert_eq!(s.padded_size(1), 1024);
        assert_eq!(s.padded_size(1024), 1024);
        assert_eq!(s.piece_size(1025), 512);
        assert!(RedundancyScheme { required: 5, ..s }.validate().is_ok());
        assert!(RedundancyScheme { required: 11, ..s }.validate().is_err());
        assert!(
            RedundancyScheme {
                share_size: 300,
                ..s
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn any_k_pieces_rebuild() {
        let s = RedundancyScheme::default();
        let coder = ErasureCoder::new(s).unwrap();
        let data: Vec<u8> = (0..s.stripe_size() as usize * 7)
            .map(|i| (i * 31 % 256) as u8)
            .collect();
        let pieces = coder.encode(&data).unwrap();
        assert_eq!(pieces.len(), 10);
        // keep pieces 3, 5, 8, 9 only
        let subset: Vec<Option<Vec<u8>>> = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| [3, 5, 8, 9].contains(&i).then(|| p.clone()))
            .collect();
        let mut out = Vec::new();
        coder.decode(subset, &mut out).unwrap();
        assert_eq!(out, data);
        let too_few: Vec<Option<Vec<u8>>> = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| (i < 3).then(|| p.clone()))
            .collect();
        assert!(matches!(
            coder.decode(too_few, &mut Vec::new()),
            Err(ErasureError::NotEnoughPieces { .. })
        ));
        assert!(coder.encode(&data[1..]).is_err());
    }
}
