//! The key and metadata codecs: every object key and every piece of custom
//! metadata crosses to the satellite through these functions. Today they
//! are the identity (plain keys, serialized metadata); client-side
//! encryption replaces their bodies without touching the callers.

use std::collections::BTreeMap;

use satstore_common::codec::{Reader, Writer};

use crate::error::{Result, UplinkError};

const TAG_METADATA: u8 = 0x40;

/// The bytes sent as `encrypted_key` for an object key (or key prefix).
pub(crate) fn encode_key(_bucket: &str, key: &str) -> Vec<u8> {
    key.as_bytes().to_vec()
}

/// The object key of `encrypted_key` bytes received from the satellite.
pub(crate) fn decode_key(_bucket: &str, encrypted: &[u8]) -> Result<String> {
    String::from_utf8(encrypted.to_vec()).map_err(|_| {
        UplinkError::Internal("satellite returned an object key that is not UTF-8".into())
    })
}

/// The bytes sent as `encrypted_metadata` for custom metadata (empty map =
/// empty bytes).
pub(crate) fn encode_metadata(custom: &BTreeMap<String, String>) -> Vec<u8> {
    if custom.is_empty() {
        return Vec::new();
    }
    let mut w = Writer::new(TAG_METADATA);
    w.u32(custom.len() as u32);
    for (k, v) in custom {
        w.bytes(k.as_bytes()).bytes(v.as_bytes());
    }
    w.finish()
}

/// Custom metadata from `encrypted_metadata` bytes.
pub(crate) fn decode_metadata(encrypted: &[u8]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if encrypted.is_empty() {
        return Ok(out);
    }
    let bad = |why: &str| UplinkError::Internal(format!("object metadata is malformed: {why}"));
    let mut r = Reader::new(encrypted, TAG_METADATA).map_err(|e| bad(&e.to_string()))?;
    let n = r.u32().map_err(|e| bad(&e.to_string()))?;
    for _ in 0..n {
        let k = r.bytes().map_err(|e| bad(&e.to_string()))?;
        let v = r.bytes().map_err(|e| bad(&e.to_string()))?;
        let k = String::from_utf8(k).map_err(|_| bad("key not UTF-8"))?;
        let v = String::from_utf8(v).map_err(|_| bad("value not UTF-8"))?;
        out.insert(k, v);
    }
    r.finish().map_err(|e| bad(&e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_and_rejects_garbage() {
        let mut m = BTreeMap::new();
        assert!(encode_metadata(&m).is_empty());
        assert_eq!(decode_metadata(&[]).unwrap(), m);
        m.insert("content-type".to_string(), "text/plain".to_string());
        m.insert("ünïcode".to_string(), String::new());
        let b = encode_metadata(&m);
        assert_eq!(decode_metadata(&b).unwrap(), m);
        assert!(decode_metadata(&b[..b.len() - 1]).is_err());
        assert!(decode_metadata(&[1, 2, 3]).is_err());
    }

    #[test]
    fn keys_round_trip() {
        let k = "photos/2024/ünï.jpg";
        assert_eq!(decode_key("b", &encode_key("b", k)).unwrap(), k);
        assert!(decode_key("b", &[0xff]).is_err());
    }
}
