//! API keys as macaroons: a random head, a list of caveats, and a tail that
//! HMAC-chains them from a secret only the satellite keeps. Anyone may add a
//! caveat offline (restricting the key); only the satellite can verify.

use ring::hmac;
use thiserror::Error;

use crate::codec::{DecodeError, Reader, Writer};

const TAG_API_KEY: u8 = 0x20;
const TAG_CAVEAT: u8 = 0x21;
/// A caveat that also lists exact object keys: the fields of
/// [`TAG_CAVEAT`], then the exact keys. A satellite that predates exact
/// keys refuses such a caveat (unknown tag) instead of ignoring the list.
const TAG_CAVEAT_EXACT: u8 = 0x22;
const FORMAT_VERSION: u8 = 1;

/// The most caveats an API key may carry. The satellite refuses longer
/// keys before doing any work (each caveat costs an HMAC, a decode and a
/// revocation lookup), and [`ApiKey::try_restrict`] refuses to make one.
pub const MAX_CAVEATS: usize = 32;

/// Why an API key could not be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ApiKeyError {
    #[error("API key is not valid base58check text")]
    /// The text is not base58check.
    Text,
    #[error("API key bytes are malformed: {0}")]
    /// The decoded bytes are not an API key.
    Malformed(#[from] DecodeError),
    #[error("unsupported API key format version {0}")]
    /// A format version this build does not know.
    Version(u8),
    /// Restricting the key would exceed [`MAX_CAVEATS`].
    #[error(
        "API key already carries {0} caveats, the most a key may have is {MAX_CAVEATS}: \
         restrict a less restricted key instead"
    )]
    TooManyCaveats(usize),
}

/// One restriction on what an API key allows. Every caveat of a key must
/// allow an action; within a caveat, `allowed_paths` and `allowed_keys`
/// together are a list of alternatives (both empty = any path).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caveat {
    /// Downloads and stats are refused.
    pub disallow_reads: bool,
    /// Uploads and bucket creation are refused.
    pub disallow_writes: bool,
    /// Listings are refused.
    pub disallow_lists: bool,
    /// Deletions are refused.
    pub disallow_deletes: bool,
    /// (bucket, encrypted key prefix) pairs the key is limited to.
    pub allowed_paths: Vec<(String, Vec<u8>)>,
    /// (bucket, encrypted object key) pairs the key is limited to exactly:
    /// that object only, never its folder, and never a listing.
    pub allowed_keys: Vec<(String, Vec<u8>)>,
    /// Unix seconds; 0 = unbounded.
    pub not_before: i64,
    /// Unix seconds; 0 = unbounded.
    pub not_after: i64,
    /// Random bytes that make otherwise equal caveats distinct.
    pub nonce: Vec<u8>,
}

impl Caveat {
    /// Whether the caveat limits paths at all (prefixes or exact keys).
    pub fn restricts_paths(&self) -> bool {
        !self.allowed_paths.is_empty() || !self.allowed_keys.is_empty()
    }

    /// Canonical bytes of this caveat. Without exact keys the bytes are
    /// those of the original format, so older satellites read them.
    pub fn encode(&self) -> Vec<u8> {
        let exact = !self.allowed_keys.is_empty();
        let mut w = Writer::new(if exact { TAG_CAVEAT_EXACT } else { TAG_CAVEAT });
        let flags = (self.disallow_reads as u8)
            | (self.disallow_writes as u8) << 1
            | (self.disallow_lists as u8) << 2
            | (self.disallow_deletes as u8) << 3;
        w.u8(flags);
        write_pairs(&mut w, &self.allowed_paths);
        w.i64(self.not_before)
            .i64(self.not_after)
            .bytes(&self.nonce);
        if exact {
            write_pairs(&mut w, &self.allowed_keys);
        }
        w.finish()
    }

    /// Parses canonical caveat bytes (either format).
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let exact = b.first() == Some(&TAG_CAVEAT_EXACT);
        let mut r = Reader::new(b, if exact { TAG_CAVEAT_EXACT } else { TAG_CAVEAT })?;
        let flags = r.u8()?;
        let allowed_paths = read_pairs(&mut r)?;
        let mut c = Caveat {
            disallow_reads: flags & 1 != 0,
            disallow_writes: flags & 2 != 0,
            disallow_lists: flags & 4 != 0,
            disallow_deletes: flags & 8 != 0,
            allowed_paths,
            allowed_keys: Vec::new(),
            not_before: r.i64()?,
            not_after: r.i64()?,
            nonce: r.bytes()?,
        };
        if exact {
            c.allowed_keys = read_pairs(&mut r)?;
            if c.allowed_keys.is_empty() {
                // One caveat, one encoding: no exact keys means the old tag.
                return Err(DecodeError::Invalid("empty exact key list"));
            }
        }
        r.finish()?;
        Ok(c)
    }
}

fn write_pairs(w: &mut Writer, pairs: &[(String, Vec<u8>)]) {
    w.u32(pairs.len() as u32);
    for (bucket, path) in pairs {
        w.bytes(bucket.as_bytes()).bytes(path);
    }
}

fn read_pairs(r: &mut Reader<'_>) -> Result<Vec<(String, Vec<u8>)>, DecodeError> {
    let n = r.u32()? as usize;
    let mut pairs = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let bucket = String::from_utf8(r.bytes()?).map_err(|_| DecodeError::Invalid("bucket"))?;
        pairs.push((bucket, r.bytes()?));
    }
    Ok(pairs)
}

/// An API key: head (the lookup id), caveats, and the chained tail.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    head: Vec<u8>,
    caveats: Vec<Vec<u8>>,
    tail: [u8; 32],
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ApiKey(head={}, caveats={})",
            crate::hex::encode(&self.head),
            self.caveats.len()
        )
    }
}

fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

impl ApiKey {
    /// A new root key for `secret` with a random head.
    pub fn new(secret: &[u8]) -> Self {
        let head: [u8; 32] = rand::random();
        ApiKey {
            head: head.to_vec(),
            caveats: Vec::new(),
            tail: mac(secret, &head),
        }
    }

    /// The head: identifies the root key (and so its secret and project).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The raw caveats, oldest first.
    pub fn caveats(&self) -> &[Vec<u8>] {
        &self.caveats
    }

    /// The final tail of the chain.
    pub fn tail(&self) -> &[u8; 32] {
        &self.tail
    }

    /// A copy of this key with one more caveat; needs no secret. Refuses
    /// to go beyond [`MAX_CAVEATS`] (a satellite would refuse the key).
    pub fn try_restrict(&self, caveat: &Caveat) -> Result<ApiKey, ApiKeyError> {
        if self.caveats.len() >= MAX_CAVEATS {
            return Err(ApiKeyError::TooManyCaveats(self.caveats.len()));
        }
        Ok(self.restrict(caveat))
    }

    /// A copy of this key with one more caveat; needs no secret. Does not
    /// check [`MAX_CAVEATS`] (see [`ApiKey::try_restrict`]): satellites
    /// refuse keys with more.
    pub fn restrict(&self, caveat: &Caveat) -> ApiKey {
        let bytes = caveat.encode();
        let tail = mac(&self.tail, &bytes);
        let mut caveats = self.caveats.clone();
        caveats.push(bytes);
        ApiKey {
            head: self.head.clone(),
            caveats,
            tail,
        }
    }

    /// Recomputes the chain from `secret`: returns every tail (root first,
    /// so revocations of any ancestor can be matched) if the key is genuine,
    /// `None` if it was forged or altered.
    pub fn verify(&self, secret: &[u8]) -> Option<Vec<[u8; 32]>> {
        let mut tails = Vec::with_capacity(self.caveats.len() + 1);
        let mut t = mac(secret, &self.head);
        tails.push(t);
        for c in &self.caveats {
            t = mac(&t, c);
            tails.push(t);
        }
        let diff = t
            .iter()
            .zip(self.tail.iter())
            .fold(0u8, |d, (a, b)| d | (a ^ b));
        (diff == 0).then_some(tails)
    }

    /// Serialized bytes (what travels in request headers).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_API_KEY);
        w.u8(FORMAT_VERSION)
            .bytes(&self.head)
            .u32(self.caveats.len() as u32);
        for c in &self.caveats {
            w.bytes(c);
        }
        w.fixed(&self.tail);
        w.finish()
    }

    /// Parses serialized bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, ApiKeyError> {
        let mut r = Reader::new(b, TAG_API_KEY)?;
        let v = r.u8()?;
        if v != FORMAT_VERSION {
            return Err(ApiKeyError::Version(v));
        }
        let head = r.bytes()?;
        let n = r.u32()? as usize;
        let mut caveats = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            caveats.push(r.bytes()?);
        }
        let tail = r.fixed::<32>()?;
        r.finish()?;
        Ok(ApiKey {
            head,
            caveats,
            tail,
        })
    }

    /// Text form: base58check (version 0) of the serialized bytes.
    pub fn serialize(&self) -> String {
        bs58::encode(self.to_bytes())
            .with_check_version(0)
            .into_string()
    }

    /// Parses the text form.
    pub fn parse(s: &str) -> Result<Self, ApiKeyError> {
        let raw = bs58::decode(s.trim())
            .with_check(Some(0))
            .into_vec()
            .map_err(|_| ApiKeyError::Text)?;
        Self::from_bytes(&raw[1..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genuine_restricted_and_forged_keys() {
        let secret = [5u8; 32];
        let root = ApiKey::new(&secret);
        assert_eq!(root.verify(&secret).unwrap().len(), 1);
        let c = Caveat {
            disallow_writes: true,
            allowed_paths: vec![("b".into(), b"p/".to_vec())],
            not_after: 99,
            ..Default::default()
        };
        let restricted = root.restrict(&c);
        let tails = restricted.verify(&secret).unwrap();
        assert_eq!(tails[0], *root.tail());
        assert_eq!(Caveat::decode(&restricted.caveats()[0]).unwrap(), c);

        let parsed = ApiKey::parse(&restricted.serialize()).unwrap();
        assert_eq!(parsed, restricted);

        // Dropping a caveat (keeping the tail) breaks the chain.
        let mut stripped = restricted.clone();
        stripped.caveats.clear();
        assert!(stripped.verify(&secret).is_none());
        // Wrong secret.
        assert!(root.verify(&[6u8; 32]).is_none());
        // Truncated bytes.
        let b = restricted.to_bytes();
        assert!(ApiKey::from_bytes(&b[..b.len() - 1]).is_err());
        assert!(ApiKey::parse("not-a-key").is_err());
    }

    #[test]
    fn exact_keys_use_their_own_tag_and_plain_caveats_keep_the_old_bytes() {
        let plain = Caveat {
            disallow_writes: true,
            allowed_paths: vec![("b".into(), b"p/".to_vec())],
            nonce: vec![1],
            ..Default::default()
        };
        let bytes = plain.encode();
        assert_eq!(bytes[0], TAG_CAVEAT);
        assert_eq!(Caveat::decode(&bytes).unwrap(), plain);
        let exact = Caveat {
            allowed_keys: vec![("b".into(), b"enc/key".to_vec())],
            ..plain.clone()
        };
        let bytes = exact.encode();
        assert_eq!(bytes[0], TAG_CAVEAT_EXACT);
        assert_eq!(Caveat::decode(&bytes).unwrap(), exact);
        assert!(exact.restricts_paths());
        // The old decoding of the new tag fails instead of dropping the keys.
        assert!(Reader::new(&bytes, TAG_CAVEAT).is_err());
        // An exact-tagged caveat without exact keys is not canonical.
        let mut w = Writer::new(TAG_CAVEAT_EXACT);
        w.u8(0).u32(0).i64(0).i64(0).bytes(b"").u32(0);
        assert!(Caveat::decode(&w.finish()).is_err());
        // Truncated or trailing bytes.
        assert!(Caveat::decode(&bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(Caveat::decode(&long).is_err());
    }

    #[test]
    fn try_restrict_stops_at_the_caveat_limit() {
        let mut key = ApiKey::new(&[1; 32]);
        for _ in 0..MAX_CAVEATS {
            key = key.try_restrict(&Caveat::default()).unwrap();
        }
        assert_eq!(
            key.try_restrict(&Caveat::default()).unwrap_err(),
            ApiKeyError::TooManyCaveats(MAX_CAVEATS)
        );
    }
}
