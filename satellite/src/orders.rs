//! Order-limit signing: one limit per piece transfer, one serial per
//! segment and action, with the project and bucket sealed into
//! `encrypted_metadata` so only this satellite can read them back.

use std::time::Duration;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use satstore_common::orders::{OrderLimit, PieceAction};
use satstore_common::{Identity, NodeId, PieceId, PublicKey, SerialNumber, SignedMessage};

use crate::error::SatelliteError;

/// One limit to sign.
#[derive(Clone, Copy, Debug)]
pub struct LimitSpec {
    /// Node the limit is addressed to.
    pub node: NodeId,
    /// Piece the transfer concerns.
    pub piece_id: PieceId,
}

/// What all limits of one batch share.
#[derive(Clone, Debug)]
pub struct LimitBatch<'a> {
    /// What the limits allow.
    pub action: PieceAction,
    /// Most bytes per transfer.
    pub limit: u64,
    /// Piece expiration (unix seconds, 0 = never).
    pub piece_expiration: i64,
    /// The uplink's per-segment public key.
    pub uplink_public_key: PublicKey,
    /// Project the transfer is accounted to.
    pub project_id: &'a [u8],
    /// Bucket the transfer is accounted to.
    pub bucket: &'a str,
}

/// Signs order limits with the satellite identity.
pub struct OrderSigner {
    identity: Identity,
    metadata_key: LessSafeKey,
    tenant_key: ring::hmac::Key,
    expiration: Duration,
}

impl std::fmt::Debug for OrderSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OrderSigner({})", self.identity.id())
    }
}

impl OrderSigner {
    /// A signer whose limits expire `expiration` after creation.
    #[allow(
        clippy::expect_used,
        reason = "a SHA-256 digest is a valid AES-256 key"
    )]
    pub fn new(identity: Identity, expiration: Duration) -> Self {
        let mut material = b"satstore order-limit metadata v1".to_vec();
        material.extend_from_slice(&identity.keys().seed());
        let digest = ring::digest::digest(&ring::digest::SHA256, &material);
        let key = UnboundKey::new(&AES_256_GCM, digest.as_ref())
            .expect("a SHA-256 digest is a valid AES-256 key");
        let mut tenant_material = b"satstore order-limit tenant v1".to_vec();
        tenant_material.extend_from_slice(&identity.keys().seed());
        let tenant_digest = ring::digest::digest(&ring::digest::SHA256, &tenant_material);
        OrderSigner {
            identity,
            metadata_key: LessSafeKey::new(key),
            tenant_key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, tenant_digest.as_ref()),
            expiration,
        }
    }

    /// The id limits are signed with.
    pub fn satellite_id(&self) -> NodeId {
        self.identity.id()
    }

    /// Seals `project_id ‖ bucket`: random nonce ‖ AES-GCM ciphertext.
    #[allow(clippy::expect_used, reason = "sealing a small buffer cannot fail")]
    pub fn seal_metadata(&self, project_id: &[u8], bucket: &str) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut data = Vec::with_capacity(project_id.len() + 1 + bucket.len());
        data.push(project_id.len() as u8);
        data.extend_from_slice(project_id);
        data.extend_from_slice(bucket.as_bytes());
        self.metadata_key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::empty(),
                &mut data,
            )
            .expect("sealing a small buffer cannot fail");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        out
    }

    /// Opens metadata made by [`OrderSigner::seal_metadata`]: (project id, bucket).
    pub fn open_metadata(&self, sealed: &[u8]) -> Result<(Vec<u8>, String), SatelliteError> {
        let bad = || SatelliteError::InvalidArgument("order limit metadata does not open".into());
        if sealed.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| bad())?;
        let mut buf = ct.to_vec();
        let plain = self
            .metadata_key
            .open_in_place(nonce, Aad::empty(), &mut buf)
            .map_err(|_| bad())?;
        let (&n, rest) = plain.split_first().ok_or_else(bad)?;
        if rest.len() < n as usize {
            return Err(bad());
        }
        let (project, bucket) = rest.split_at(n as usize);
        let bucket = String::from_utf8(bucket.to_vec()).map_err(|_| bad())?;
        Ok((project.to_vec(), bucket))
    }

    /// The opaque tenant tag of a project: the same for every limit of the
    /// project, unlinkable to it without this satellite's key.
    pub fn tenant_tag(&self, project_id: &[u8]) -> [u8; 16] {
        let tag = ring::hmac::sign(&self.tenant_key, project_id);
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag.as_ref()[..16]);
        out
    }

    /// A fresh serial for limits created at `now`.
    pub fn new_serial(&self, now: i64) -> SerialNumber {
        SerialNumber::new(now + self.expiration.as_secs() as i64)
    }

    /// Signs one limit per spec, all sharing `serial` and the batch fields.
    pub fn sign_limits(
        &self,
        serial: SerialNumber,
        now: i64,
        batch: &LimitBatch<'_>,
        specs: &[LimitSpec],
    ) -> Vec<SignedMessage> {
        let encrypted_metadata = self.seal_metadata(batch.project_id, batch.bucket);
        let tenant = self.tenant_tag(batch.project_id);
        specs
            .iter()
            .map(|s| {
                let limit = OrderLimit {
                    serial_number: serial,
                    satellite_id: self.identity.id(),
                    storage_node_id: s.node,
                    piece_id: s.piece_id,
                    action: batch.action,
                    limit: batch.limit,
                    piece_expiration: batch.piece_expiration,
                    order_creation: now,
                    order_expiration: now + self.expiration.as_secs() as i64,
                    uplink_public_key: batch.uplink_public_key,
                    tenant,
                    encrypted_metadata: encrypted_metadata.clone(),
                };
                self.identity.keys().sign(&limit)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use satstore_common::signing::SigningKeyPair;

    #[test]
    fn limits_verify_for_the_satellite_and_carry_sealed_metadata() {
        let ident = Identity::generate(0);
        let signer = OrderSigner::new(ident.clone(), Duration::from_secs(3600));
        let piece_key = SigningKeyPair::generate();
        let node = NodeId::from_public_key(&[3; 32]);
        let batch = LimitBatch {
            action: PieceAction::Put,
            limit: 4096,
            piece_expiration: 0,
            uplink_public_key: piece_key.public_key(),
            project_id: &[7; 16],
            bucket: "photos",
        };
        let serial = signer.new_serial(100);
        let spec = LimitSpec {
            node,
            piece_id: PieceId::random(),
        };
        let signed = signer.sign_limits(serial, 100, &batch, &[spec, spec]);
        assert_eq!(signed.len(), 2);
        let l: OrderLimit = signed[0].verify(&ident.id()).unwrap();
        assert_eq!(l.serial_number, serial);
        assert_eq!(l.storage_node_id, node);
        assert_eq!(l.order_expiration, 3700);
        assert_eq!(l.limit, 4096);
        let (project, bucket) = signer.open_metadata(&l.encrypted_metadata).unwrap();
        assert_eq!((project, bucket.as_str()), (vec![7; 16], "photos"));
        // Another satellite cannot open it.
        let other = OrderSigner::new(Identity::generate(0), Duration::from_secs(1));
        assert!(other.open_metadata(&l.encrypted_metadata).is_err());
        assert!(signer.open_metadata(&[1, 2]).is_err());
        // One tag per project, unlike another project's or satellite's.
        assert_eq!(l.tenant, signer.tenant_tag(&[7; 16]));
        assert_ne!(l.tenant, signer.tenant_tag(&[8; 16]));
        assert_ne!(l.tenant, other.tenant_tag(&[7; 16]));
    }
}
