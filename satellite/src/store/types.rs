//! Value types every store module shares: an object's lifecycle state, a
//! segment's position, and the small helpers that decode or bound stored
//! byte strings. A leaf: it imports no other store module.

use super::StoreError;

/// Lifecycle state of an object.
///
/// The discriminants are what `objects.status` holds; queries bind them
/// with [`ObjectStatus::as_i64`] rather than spelling them out, and rows
/// written by earlier releases hold the same numbers, so they must never
/// change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectStatus {
    /// Segments are being uploaded; invisible to readers.
    Pending = 1,
    /// Visible to readers.
    Committed = 3,
}

impl ObjectStatus {
    /// Every status, for tests and checks that must cover them all.
    pub const ALL: [ObjectStatus; 2] = [ObjectStatus::Pending, ObjectStatus::Committed];

    /// The value stored in (and bound against) `objects.status`.
    pub fn as_i64(self) -> i64 {
        self as i64
    }

    /// Parses a stored `objects.status`; any other value is a corrupt row.
    pub fn from_i64(v: i64) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_i64() == v)
            .ok_or_else(|| StoreError::corrupt("object status", v))
    }
}

/// Position of a segment: multipart part and index within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentPosition {
    /// Multipart part number (0 for plain uploads).
    pub part: u32,
    /// Index within the part.
    pub index: u32,
}

impl SegmentPosition {
    /// The stored form: `part << 32 | index`.
    pub fn encode(self) -> i64 {
        ((self.part as u64) << 32 | self.index as u64) as i64
    }
    /// Parses the stored form.
    pub fn decode(v: i64) -> Self {
        let v = v as u64;
        SegmentPosition {
            part: (v >> 32) as u32,
            index: v as u32,
        }
    }
}

/// The smallest byte string greater than every string starting with `p`,
/// or `None` if there is none (empty or all 0xff).
pub fn prefix_upper_bound(p: &[u8]) -> Option<Vec<u8>> {
    let mut v = p.to_vec();
    while let Some(last) = v.pop() {
        if last < 0xff {
            v.push(last + 1);
            return Some(v);
        }
    }
    None
}

/// A stored 16-byte id (project or stream id); `what` names it in the
/// error if the row holds another length.
pub(crate) fn fixed16(what: &'static str, v: Vec<u8>) -> Result<[u8; 16], StoreError> {
    v.try_into()
        .map_err(|v: Vec<u8>| StoreError::corrupt(what, format!("{} bytes, want 16", v.len())))
}
