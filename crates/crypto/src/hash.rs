//! SHA-256, the digest CCF uses for leaves, write sets, commit evidence and entity ids.

use std::fmt;

use aws_lc_rs::digest;

/// A SHA-256 digest. Displayed as lowercase hex, as CCF prints hashes in JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Sha256Hash(pub [u8; 32]);

impl Sha256Hash {
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters (either case); `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Sha256Hash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Sha256Hash(out))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hash({})", self.to_hex())
    }
}

impl fmt::Display for Sha256Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// SHA-256 of one buffer.
pub fn sha256(data: &[u8]) -> Sha256Hash {
    let mut hasher = Sha256Hasher::new();
    hasher.update(data);
    hasher.finish()
}

/// SHA-256 of the concatenation of `parts`, without copying them together.
pub fn sha256_concat(parts: &[&[u8]]) -> Sha256Hash {
    let mut hasher = Sha256Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finish()
}

/// Incremental SHA-256.
pub struct Sha256Hasher(digest::Context);

impl Sha256Hasher {
    pub fn new() -> Sha256Hasher {
        Sha256Hasher(digest::Context::new(&digest::SHA256))
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> Sha256Hash {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        Sha256Hash(out)
    }
}

impl Default for Sha256Hasher {
    fn default() -> Sha256Hasher {
        Sha256Hasher::new()
    }
}

impl fmt::Debug for Sha256Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256Hasher")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_fips_180_vector() {
        assert_eq!(
            sha256(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_concat(&[b"a", b"bc"]), sha256(b"abc"));
    }
}
