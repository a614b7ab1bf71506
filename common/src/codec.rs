//! A minimal canonical binary encoding for signed messages: fixed-width
//! big-endian integers and length-prefixed byte strings, in a fixed field
//! order. Signers and verifiers never re-encode: they keep the bytes.

use thiserror::Error;

/// Why canonical bytes could not be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("message truncated")]
    /// The message ends before a field does.
    Truncated,
    #[error("unexpected message type {0}")]
    /// The leading type tag is not the one expected.
    WrongType(u8),
    #[error("trailing bytes after message")]
    /// Bytes follow the last field.
    Trailing,
    #[error("invalid field: {0}")]
    /// A field holds a value its type does not allow.
    Invalid(&'static str),
}

/// Builds canonical bytes.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// Starts a message of the given type tag (domain separation).
    pub fn new(tag: u8) -> Self {
        Writer { buf: vec![tag] }
    }
    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }
    /// Appends a big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends a big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends a big-endian i64.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// Appends bytes of a length both sides know (no prefix).
    pub fn fixed(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }
    /// Appends bytes with a u32 length prefix.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v);
        self
    }
    /// The encoded message.
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// Reads canonical bytes written by [`Writer`].
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Checks the type tag and positions after it.
    pub fn new(buf: &'a [u8], tag: u8) -> Result<Self, DecodeError> {
        match buf.first() {
            None => Err(DecodeError::Truncated),
            Some(&t) if t != tag => Err(DecodeError::WrongType(t)),
            Some(_) => Ok(Reader { buf: &buf[1..] }),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.fixed::<4>()?))
    }
    /// Reads a big-endian u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.fixed::<8>()?))
    }
    /// Reads a big-endian i64.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.fixed::<8>()?))
    }
    /// Reads exactly `N` bytes.
    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    /// Reads bytes written with a u32 length prefix.
    pub fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    /// Fails if bytes remain: a canonical message has exactly one encoding.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing)
        }
    }
}
