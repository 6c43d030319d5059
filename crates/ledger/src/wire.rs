//! CCF's `RawWriter`/`RawReader` primitives (spec §2.3): little-endian integers, u64-length-
//! prefixed byte strings, raw fixed-size hashes. The reader never panics and never allocates
//! from a length it has not checked against the bytes that remain.

use cloister_crypto::Sha256Hash;

use crate::error::LedgerError;

/// A cursor over untrusted bytes. Offsets in its errors are relative to the start of `bytes`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    /// Byte offset of the next field.
    pub(crate) fn offset(&self) -> u64 {
        to_u64(self.pos)
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `len` bytes, or `Truncated` naming `field`.
    pub(crate) fn take(&mut self, len: u64, field: &'static str) -> Result<&'a [u8], LedgerError> {
        let truncated = || LedgerError::Truncated {
            offset: to_u64(self.pos),
            field,
            needed: len,
            available: to_u64(self.remaining()),
        };
        let len = usize::try_from(len).map_err(|_| truncated())?;
        if len > self.remaining() {
            return Err(truncated());
        }
        let end = self.pos + len; // cannot overflow: len <= remaining
        let out = self.bytes.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, LedgerError> {
        let [b] = self.array::<1>(field)?;
        Ok(b)
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, LedgerError> {
        Ok(u64::from_le_bytes(self.array::<8>(field)?))
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], LedgerError> {
        let slice = self.take(to_u64(N), field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    pub(crate) fn hash(&mut self, field: &'static str) -> Result<Sha256Hash, LedgerError> {
        Ok(Sha256Hash(self.array::<32>(field)?))
    }

    /// A u64 byte length followed by that many bytes (`std::string`, `SerialisedEntry`).
    pub(crate) fn blob(&mut self, field: &'static str) -> Result<&'a [u8], LedgerError> {
        let len = self.u64(field)?;
        self.take(len, field)
    }
}

pub(crate) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

pub(crate) fn put_blob(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u64(out, to_u64(bytes.len()));
    out.extend_from_slice(bytes);
}

/// `usize` → `u64`; lossless on every platform Rust supports (usize is at most 64 bits).
pub(crate) fn to_u64(n: usize) -> u64 {
    n as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_past_the_end_is_truncated_with_the_place() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(
            r.u64("size").unwrap_err(),
            LedgerError::Truncated {
                offset: 1,
                field: "size",
                needed: 8,
                available: 2
            }
        );
    }

    #[test]
    fn a_huge_blob_length_is_an_error_not_an_allocation() {
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.push(0);
        let mut r = Reader::new(&bytes);
        assert!(matches!(
            r.blob("key"),
            Err(LedgerError::Truncated {
                offset: 8,
                needed: u64::MAX,
                available: 1,
                ..
            })
        ));
    }

    #[test]
    fn blob_round_trips_through_put_blob() {
        let mut out = Vec::new();
        put_blob(&mut out, b"public:app");
        put_u64(&mut out, 7);
        let mut r = Reader::new(&out);
        assert_eq!(r.blob("name").unwrap(), b"public:app");
        assert_eq!(r.u64("n").unwrap(), 7);
        assert!(r.is_empty());
    }
}
