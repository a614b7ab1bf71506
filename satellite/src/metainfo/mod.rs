//! The `Metainfo` gRPC service called by uplinks: buckets, objects,
//! segments, listing. [`MetainfoEndpoint`] holds the domain logic (split by
//! concern into the submodules); [`service`] adapts it to tonic.

pub mod buckets;
pub mod keys;
pub mod list;
pub mod multipart;
pub mod objects;
pub mod segments;
pub mod service;

use std::sync::Arc;

use satstore_common::erasure::RedundancyScheme;
use satstore_common::time::now_unix;
use satstore_proto::common::RequestHeader;
use satstore_proto::internal::StreamIdPayload;
use satstore_proto::metainfo as pb;

use crate::auth::{AuthContext, Authenticator};
use crate::deleter::PieceDeleter;
use crate::error::SatelliteError;
use crate::metrics::SatelliteMetrics;
use crate::orders::OrderSigner;
use crate::overlay::Overlay;
use crate::store::{ObjectRecord, Store};
use crate::tokens::TokenSigner;

pub use service::MetainfoService;

/// Longest accepted encrypted object key.
pub const MAX_KEY_LEN: usize = 4000;

/// Room for AEAD overhead on top of `max_inline_size` for inline segments.
pub const INLINE_OVERHEAD: u64 = 64;

/// Limits the metainfo service applies.
#[derive(Clone, Copy, Debug)]
pub struct MetainfoLimits {
    /// Redundancy of new segments.
    pub redundancy: RedundancyScheme,
    /// Largest plaintext segment.
    pub max_segment_size: u64,
    /// Largest inline segment.
    pub max_inline_size: u64,
    /// Lifetime of a multipart upload that is not committed.
    pub multipart_expiration: std::time::Duration,
}

/// Everything the Metainfo handlers need.
pub struct MetainfoEndpoint {
    pub(crate) store: Store,
    pub(crate) auth: Authenticator,
    pub(crate) tokens: TokenSigner,
    pub(crate) orders: Arc<OrderSigner>,
    pub(crate) overlay: Overlay,
    pub(crate) deleter: PieceDeleter,
    pub(crate) metrics: SatelliteMetrics,
    pub(crate) limits: MetainfoLimits,
}

impl MetainfoEndpoint {
    /// Wires the endpoint from its parts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        tokens: TokenSigner,
        orders: Arc<OrderSigner>,
        overlay: Overlay,
        deleter: PieceDeleter,
        metrics: SatelliteMetrics,
        limits: MetainfoLimits,
    ) -> Self {
        MetainfoEndpoint {
            auth: Authenticator::new(store.clone()),
            store,
            tokens,
            orders,
            overlay,
            deleter,
            metrics,
            limits,
        }
    }

    /// Authenticates the API key of a request header.
    pub(crate) async fn authenticate(
        &self,
        header: &Option<RequestHeader>,
    ) -> Result<AuthContext, SatelliteError> {
        let key = header
            .as_ref()
            .map(|h| h.api_key.as_slice())
            .unwrap_or_default();
        self.auth.authenticate(key, now_unix()).await
    }

    /// Verifies a stream token and that it belongs to the caller's project.
    pub(crate) fn verify_stream(
        &self,
        auth: &AuthContext,
        token: &[u8],
    ) -> Result<StreamIdPayload, SatelliteError> {
        let p = self.tokens.verify_stream(token, now_unix())?;
        check_project(auth, &p)?;
        Ok(p)
    }
}

/// Refuses tokens of another project.
pub(crate) fn check_project(auth: &AuthContext, p: &StreamIdPayload) -> Result<(), SatelliteError> {
    if p.project_id != auth.project_id {
        return Err(SatelliteError::PermissionDenied(
            "stream id belongs to another project".into(),
        ));
    }
    Ok(())
}

/// Parses a 16-byte stream id from a token payload.
pub(crate) fn stream_id_of(p: &StreamIdPayload) -> Result<[u8; 16], SatelliteError> {
    p.stream_id.as_slice().try_into().map_err(|_| {
        SatelliteError::InvalidArgument("stream id token carries a malformed id".into())
    })
}

/// Checks a bucket name: 3-63 chars of lowercase letters, digits, '-' and
/// '.', starting and ending with a letter or digit, no "..", not an IPv4.
pub fn validate_bucket_name(name: &str) -> Result<(), SatelliteError> {
    let bad = |rule: &str| {
        SatelliteError::BucketNameInvalid(format!("invalid bucket name {name:?}: {rule}"))
    };
    if name.len() < 3 || name.len() > 63 {
        return Err(bad("must be 3 to 63 characters long"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(bad(
            "only lowercase letters, digits, '-' and '.' are allowed",
        ));
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(bad("must start and end with a letter or digit"));
    }
    if name.contains("..") {
        return Err(bad("must not contain \"..\""));
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(bad("must not be formatted as an IPv4 address"));
    }
    Ok(())
}

/// Wire form of an object (`stream_id` = a token, or empty).
pub(crate) fn object_info(o: &ObjectRecord, stream_token: Vec<u8>) -> pb::ObjectInfo {
    pb::ObjectInfo {
        bucket: o.bucket.clone(),
        encrypted_key: o.encrypted_key.clone(),
        version: o.version.max(0) as u64,
        created_at_unix: o.created_at,
        expires_at_unix: o.expires_at,
        plain_size: o.plain_size,
        encrypted_size: o.encrypted_size,
        segment_count: o.segment_count.max(0) as u32,
        encrypted_metadata: o.encrypted_metadata.clone(),
        encrypted_metadata_nonce: o.encrypted_metadata_nonce.clone(),
        encrypted_metadata_key: o.encrypted_metadata_key.clone(),
        encryption: Some(pb::EncryptionParameters {
            cipher_suite: o.cipher_suite.max(0) as u32,
            block_size: o.block_size.max(0) as u32,
        }),
        stream_id: stream_token,
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.v2", "0ab", &"a".repeat(63)] {
            validate_bucket_name(ok).unwrap();
        }
        let cases = [
            ("ab", "3 to 63"),
            (&"a".repeat(64), "3 to 63"),
            ("Abc", "lowercase"),
            ("a_b", "lowercase"),
            ("-ab", "start and end"),
            ("ab.", "start and end"),
            ("a..b", "\"..\""),
            ("192.168.1.1", "IPv4"),
        ];
        for (name, rule) in cases {
            let e = validate_bucket_name(name).unwrap_err();
            assert!(
                matches!(e, SatelliteError::BucketNameInvalid(ref m) if m.contains(rule)),
                "{name}: {e}"
            );
        }
    }
}

#[cfg(test)]
mod service_tests;

#[cfg(test)]
mod upload_tests;

#[cfg(test)]
mod revoke_tests;

#[cfg(test)]
mod multipart_tests;

#[cfg(test)]
mod bounds_tests;
