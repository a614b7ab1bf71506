//! Satellite-signed tokens handed to clients and given back later: the
//! stream id (names a pending or committed object) and the segment id
//! (names a segment being uploaded and its order limits). Clients cannot
//! alter them, so commit-time values are taken from the token, never from
//! the request.

use prost::Message;
use satstore_common::signing::SigningDomain;
use satstore_common::{Identity, SignedMessage};
use satstore_proto::internal::{SegmentIdPayload, StreamIdPayload};

use crate::error::{SatelliteError, invalid};

/// How long a token stays valid after it was issued.
pub const TOKEN_LIFETIME_SECS: i64 = 48 * 3600;

/// Signs and verifies tokens with the satellite identity.
#[derive(Clone, Debug)]
pub struct TokenSigner {
    identity: Identity,
}

impl TokenSigner {
    /// A signer for this satellite identity.
    pub fn new(identity: Identity) -> Self {
        TokenSigner { identity }
    }

    fn sign<M: Message>(&self, domain: SigningDomain, msg: &M) -> Vec<u8> {
        self.identity
            .keys()
            .sign_bytes(domain, msg.encode_to_vec())
            .to_bytes()
    }

    /// Verifies a token signed under `domain` and decodes it strictly: the
    /// payload must be exactly the encoding of what it decodes to (no
    /// unknown fields, nothing a newer or forged encoder slipped in).
    fn verify<M: Message + Default>(
        &self,
        domain: SigningDomain,
        what: &str,
        token: &[u8],
    ) -> Result<M, SatelliteError> {
        let env = SignedMessage::from_bytes(token)
            .map_err(|e| invalid(format!("{what} is malformed: {e}")))?;
        let payload = env
            .verify_bytes(domain, &self.identity.id())
            .map_err(|e| invalid(format!("{what} was not issued by this satellite: {e}")))?;
        let m =
            M::decode(payload).map_err(|e| invalid(format!("{what} payload is malformed: {e}")))?;
        if m.encode_to_vec() != payload {
            return Err(invalid(format!("{what} payload is not canonical")));
        }
        Ok(m)
    }

    fn check_age(what: &str, created_at: i64, now: i64) -> Result<(), SatelliteError> {
        if now - created_at > TOKEN_LIFETIME_SECS {
            return Err(invalid(format!(
                "{what} expired (issued more than 48 h ago); start the operation again"
            )));
        }
        Ok(())
    }

    /// Signs a stream id payload (its `created_at_unix` is the issue time).
    pub fn sign_stream(&self, p: &StreamIdPayload) -> Vec<u8> {
        self.sign(SigningDomain::StreamId, p)
    }

    /// Verifies a stream id issued by this satellite within the lifetime.
    pub fn verify_stream(&self, token: &[u8], now: i64) -> Result<StreamIdPayload, SatelliteError> {
        let p: StreamIdPayload = self.verify(SigningDomain::StreamId, "stream id", token)?;
        Self::check_age("stream id", p.created_at_unix, now)?;
        Ok(p)
    }

    /// Signs a segment id payload.
    pub fn sign_segment(&self, p: &SegmentIdPayload) -> Vec<u8> {
        self.sign(SigningDomain::SegmentId, p)
    }

    /// Verifies a segment id issued by this satellite within the lifetime.
    pub fn verify_segment(
        &self,
        token: &[u8],
        now: i64,
    ) -> Result<SegmentIdPayload, SatelliteError> {
        let p: SegmentIdPayload = self.verify(SigningDomain::SegmentId, "segment id", token)?;
        Self::check_age("segment id", p.created_at_unix, now)?;
        if p.stream.is_none() {
            return Err(invalid("segment id carries no stream"));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(created: i64) -> StreamIdPayload {
        StreamIdPayload {
            project_id: vec![1; 16],
            bucket: "b".into(),
            encrypted_key: b"k".to_vec(),
            version: 1,
            stream_id: vec![2; 16],
            created_at_unix: created,
            ..Default::default()
        }
    }

    #[test]
    fn round_trip_tamper_foreign_and_expired() {
        let signer = TokenSigner::new(Identity::generate(0));
        let t = signer.sign_stream(&stream(1000));
        assert_eq!(signer.verify_stream(&t, 1000).unwrap(), stream(1000));

        // Signed by another satellite.
        let other = TokenSigner::new(Identity::generate(0));
        let foreign = other.sign_stream(&stream(1000));
        let err = signer.verify_stream(&foreign, 1000).unwrap_err();
        assert!(
            err.to_string().contains("not issued by this satellite"),
            "{err}"
        );

        // Tampered payload.
        let mut env = SignedMessage::from_bytes(&t).unwrap();
        env.payload[3] ^= 1;
        assert!(signer.verify_stream(&env.to_bytes(), 1000).is_err());
        assert!(signer.verify_stream(b"garbage", 1000).is_err());

        // Expired.
        assert!(
            signer
                .verify_stream(&t, 1000 + TOKEN_LIFETIME_SECS + 1)
                .is_err()
        );

        // Segment tokens need a stream; a stream token is not a segment token.
        let seg = SegmentIdPayload {
            stream: Some(stream(5)),
            created_at_unix: 5,
            ..Default::default()
        };
        let st = signer.sign_segment(&seg);
        assert_eq!(signer.verify_segment(&st, 6).unwrap(), seg);
        let no_stream = signer.sign_segment(&SegmentIdPayload {
            created_at_unix: 5,
            ..Default::default()
        });
        assert!(signer.verify_segment(&no_stream, 6).is_err());
        // A stream token is never a segment token, even if its bytes decode
        // as one; and the satellite's own signature over other bytes (an
        // order limit, say) is never a token.
        let mut as_segment = SignedMessage::from_bytes(&t).unwrap();
        as_segment.payload = seg.encode_to_vec();
        assert!(signer.verify_segment(&as_segment.to_bytes(), 6).is_err());
        let foreign_domain = Identity::generate(0);
        let other_signer = TokenSigner::new(foreign_domain.clone());
        let limit_sig = foreign_domain
            .keys()
            .sign_bytes(SigningDomain::OrderLimit, stream(1000).encode_to_vec())
            .to_bytes();
        assert!(other_signer.verify_stream(&limit_sig, 1000).is_err());
        // Unknown fields appended to a genuine payload are refused.
        let mut padded = stream(1000).encode_to_vec();
        padded.extend_from_slice(&[0x30, 0x01]);
        let padded = foreign_domain
            .keys()
            .sign_bytes(SigningDomain::StreamId, padded)
            .to_bytes();
        let e = other_signer.verify_stream(&padded, 1000).unwrap_err();
        assert!(e.to_string().contains("not canonical"), "{e}");
    }
}
