//! An [`Entropy`] seen as a `rand_core` generator, for the RustCrypto `rsa` crate (prime
//! search, PSS salts, blinding): every random byte those operations use comes from the caller.

use rsa::rand_core::{CryptoRng, Error, RngCore};

use crate::entropy::Entropy;

/// Borrows an [`Entropy`] as a `rand_core` 0.6 RNG.
pub(crate) struct EntropyRng<'a>(pub &'a mut dyn Entropy);

impl RngCore for EntropyRng<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.0.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.0.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

// The caller's Entropy is the node's CSPRNG (or a seeded one in replayable runs).
impl CryptoRng for EntropyRng<'_> {}
