//! What a storage node signs to join a satellite's network: its check-in
//! announcement and its answer to the satellite's dial-back challenge. Both
//! are canonical messages under their own signing domains, decoded strictly
//! (no unknown fields, no trailing bytes, bounded strings).

use crate::codec::{DecodeError, Reader, Writer};
use crate::signing::{Canonical, SigningDomain};

const TAG_PING_PROOF: u8 = 0x30;
const TAG_CHECK_IN: u8 = 0x31;

/// Length of a ping challenge: the node signs nothing else under
/// [`SigningDomain::PingProof`].
pub const PING_CHALLENGE_LEN: usize = 32;
/// Longest `host:port` a check-in may announce.
pub const MAX_ADDRESS_LEN: usize = 255;
/// Longest software version string a check-in may carry.
pub const MAX_VERSION_LEN: usize = 64;

/// A node's proof that it holds its identity key: its signature over the
/// satellite's random challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingProof {
    /// The satellite's challenge, echoed.
    pub challenge: [u8; PING_CHALLENGE_LEN],
}

impl Canonical for PingProof {
    const DOMAIN: SigningDomain = SigningDomain::PingProof;

    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_PING_PROOF);
        w.fixed(&self.challenge);
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, TAG_PING_PROOF)?;
        let p = PingProof {
            challenge: r.fixed()?,
        };
        r.finish()?;
        Ok(p)
    }
}

/// A node's announcement to a satellite: where to reach it, how much space
/// it offers, what it runs. `timestamp_ms` must be recent and larger than
/// the node's previous check-in, so a captured check-in cannot be replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckInInfo {
    /// `host:port` of the node's gRPC endpoint.
    pub address: String,
    /// Free space offered, in bytes.
    pub free_disk: u64,
    /// Software version.
    pub version: String,
    /// When the node signed this, in unix milliseconds.
    pub timestamp_ms: i64,
}

fn bounded_string(
    r: &mut Reader<'_>,
    max: usize,
    what: &'static str,
) -> Result<String, DecodeError> {
    let b = r.bytes()?;
    if b.len() > max {
        return Err(DecodeError::Invalid(what));
    }
    String::from_utf8(b).map_err(|_| DecodeError::Invalid(what))
}

impl Canonical for CheckInInfo {
    const DOMAIN: SigningDomain = SigningDomain::CheckIn;

    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_CHECK_IN);
        w.bytes(self.address.as_bytes())
            .u64(self.free_disk)
            .bytes(self.version.as_bytes())
            .i64(self.timestamp_ms);
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, TAG_CHECK_IN)?;
        let c = CheckInInfo {
            address: bounded_string(&mut r, MAX_ADDRESS_LEN, "check-in address")?,
            free_disk: r.u64()?,
            version: bounded_string(&mut r, MAX_VERSION_LEN, "check-in version")?,
            timestamp_ms: r.i64()?,
        };
        r.finish()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::SigningKeyPair;

    fn info() -> CheckInInfo {
        CheckInInfo {
            address: "127.0.0.1:7777".into(),
            free_disk: 1 << 30,
            version: "0.1.0".into(),
            timestamp_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn round_trip_and_strict_decoding() {
        let c = info();
        assert_eq!(CheckInInfo::decode(&c.encode()).unwrap(), c);
        let mut trailing = c.encode();
        trailing.push(0);
        assert_eq!(CheckInInfo::decode(&trailing), Err(DecodeError::Trailing));
        let long = CheckInInfo {
            address: "a".repeat(MAX_ADDRESS_LEN + 1),
            ..info()
        };
        assert!(CheckInInfo::decode(&long.encode()).is_err());
        let p = PingProof {
            challenge: [5; PING_CHALLENGE_LEN],
        };
        assert_eq!(PingProof::decode(&p.encode()).unwrap(), p);
        assert!(PingProof::decode(&p.encode()[..20]).is_err());
    }

    #[test]
    fn a_ping_proof_is_never_a_check_in() {
        let k = SigningKeyPair::generate();
        let id = k.public_key().node_id();
        // Whatever the challenge, the proof's signature and tag are its own.
        let proof = k.sign(&PingProof {
            challenge: [0x31; PING_CHALLENGE_LEN],
        });
        assert!(proof.verify::<CheckInInfo>(&id).is_err());
        let mut as_check_in = proof.clone();
        as_check_in.payload = info().encode();
        assert!(as_check_in.verify::<CheckInInfo>(&id).is_err());
        let check_in = k.sign(&info());
        assert!(check_in.verify::<PingProof>(&id).is_err());
        assert_eq!(check_in.verify::<CheckInInfo>(&id).unwrap(), info());
    }
}
