//! Ledger entry framing (spec §2.1, §2.2): the 8-byte entry header, the GCM header (tag then
//! IV), the public-domain length, the public domain and the private ciphertext.
//!
//! This module is the codec contract cloister-kv builds against (briefs/codec_contract.md); the
//! public-domain and map-record codecs of `public_domain.rs` are re-exported here for that
//! reason.

pub use crate::public_domain::{
    EntryType, MapChanges, PublicHeader, parse_map_records, parse_public_domain, write_map_records,
    write_public_domain,
};

use crate::error::LedgerError;
use crate::wire::{Reader, put_u64, to_u64};

/// Size of the entry header that precedes every entry body (spec §2.1).
pub const ENTRY_HEADER_BYTES: usize = 8;
/// Size of the AES-GCM tag (spec §2.2).
pub const GCM_TAG_BYTES: usize = 16;
/// Size of the AES-GCM IV (spec §2.2).
pub const GCM_IV_BYTES: usize = 12;

/// The only entry format version CCF writes and accepts (`entry_format_v1`, spec §2.1).
pub const ENTRY_FORMAT_VERSION: u8 = 1;
/// Largest body the 48-bit size field can describe (spec §2.1).
pub const ENTRY_BODY_BYTES_MAX: u64 = (1 << 48) - 1;

/// Bytes of the body before the public domain: tag, IV and the u64 public-domain length.
const BODY_PREFIX_BYTES: u64 = (GCM_TAG_BYTES + GCM_IV_BYTES + 8) as u64;
/// Bit 31 of the IV's view word marks a snapshot (spec §2.2).
const SNAPSHOT_VIEW_BIT: u32 = 0x8000_0000;

/// Flags of the 8-byte entry header (spec §1.4): they tell the host where chunks end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EntryFlags(pub u8);

impl EntryFlags {
    /// Complete the chunk after this (committable) entry.
    pub const FORCE_LEDGER_CHUNK_AFTER: u8 = 0x01;
    /// Complete the open chunk before writing this entry.
    pub const FORCE_LEDGER_CHUNK_BEFORE: u8 = 0x02;

    pub fn force_chunk_after(self) -> bool {
        self.0 & Self::FORCE_LEDGER_CHUNK_AFTER != 0
    }

    pub fn force_chunk_before(self) -> bool {
        self.0 & Self::FORCE_LEDGER_CHUNK_BEFORE != 0
    }
}

/// The 8-byte entry header: the C bitfield `{u8 version; u8 flags; u64 size:48}` (spec §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHeader {
    pub flags: EntryFlags,
    /// Bytes after the header (always <= `ENTRY_BODY_BYTES_MAX`).
    pub body_size: u64,
}

impl EntryHeader {
    /// Reads the header at the start of `bytes`; rejects any format version but 1.
    pub fn parse(bytes: &[u8]) -> Result<EntryHeader, LedgerError> {
        let raw: [u8; ENTRY_HEADER_BYTES] = Reader::new(bytes).array("entry header")?;
        if raw[0] != ENTRY_FORMAT_VERSION {
            return Err(LedgerError::UnsupportedEntryVersion {
                offset: 0,
                version: raw[0],
            });
        }
        let mut size = [0u8; 8];
        size[..6].copy_from_slice(&raw[2..]);
        Ok(EntryHeader {
            flags: EntryFlags(raw[1]),
            body_size: u64::from_le_bytes(size),
        })
    }

    /// The header bytes. `body_size` above 48 bits is cut to 48 bits: callers check first.
    pub fn to_bytes(&self) -> [u8; ENTRY_HEADER_BYTES] {
        let size = self.body_size.to_le_bytes();
        let mut out = [0u8; ENTRY_HEADER_BYTES];
        out[0] = ENTRY_FORMAT_VERSION;
        out[1] = self.flags.0;
        out[2..].copy_from_slice(&size[..6]);
        out
    }

    /// Length of the whole entry, header included.
    pub fn entry_len(&self) -> u64 {
        // body_size < 2^48, so this cannot overflow.
        self.body_size + to_u64(ENTRY_HEADER_BYTES)
    }
}

/// The GCM header, serialised tag then IV (spec §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GcmHeader {
    pub tag: [u8; GCM_TAG_BYTES],
    pub iv: [u8; GCM_IV_BYTES],
}

impl GcmHeader {
    /// IV = seqno u64 LE ‖ view u32 LE; a snapshot sets `iv[11] |= 0x80` (and uses view 0).
    ///
    /// # Panics
    /// If `view > 0x7FFF_FFFF` (CCF throws there too). Use [`GcmHeader::try_iv_for`] when the
    /// view is not already known to be in range.
    pub fn iv_for(seqno: u64, view: u32, snapshot: bool) -> [u8; GCM_IV_BYTES] {
        match GcmHeader::try_iv_for(seqno, view, snapshot) {
            Ok(iv) => iv,
            Err(error) => panic!("{error}"),
        }
    }

    /// As [`GcmHeader::iv_for`], with an error for a view above 0x7FFF_FFFF.
    pub fn try_iv_for(
        seqno: u64,
        view: u32,
        snapshot: bool,
    ) -> Result<[u8; GCM_IV_BYTES], LedgerError> {
        if view & SNAPSHOT_VIEW_BIT != 0 {
            return Err(LedgerError::ViewOutOfRange { view });
        }
        let view_word = if snapshot {
            view | SNAPSHOT_VIEW_BIT
        } else {
            view
        };
        let mut iv = [0u8; GCM_IV_BYTES];
        iv[..8].copy_from_slice(&seqno.to_le_bytes());
        iv[8..].copy_from_slice(&view_word.to_le_bytes());
        Ok(iv)
    }

    /// The seqno in IV bytes 0..8.
    pub fn seqno(&self) -> u64 {
        let mut seqno = [0u8; 8];
        seqno.copy_from_slice(&self.iv[..8]);
        u64::from_le_bytes(seqno)
    }

    /// The view in IV bytes 8..12 without the snapshot bit (as CCF's Python prints it).
    pub fn view(&self) -> u32 {
        self.view_word() & !SNAPSHOT_VIEW_BIT
    }

    /// Whether bit 31 of the view word (the snapshot marker) is set.
    pub fn is_snapshot(&self) -> bool {
        self.view_word() & SNAPSHOT_VIEW_BIT != 0
    }

    /// Tag ‖ IV, as written after the entry header.
    pub fn to_bytes(&self) -> [u8; GCM_TAG_BYTES + GCM_IV_BYTES] {
        let mut out = [0u8; GCM_TAG_BYTES + GCM_IV_BYTES];
        out[..GCM_TAG_BYTES].copy_from_slice(&self.tag);
        out[GCM_TAG_BYTES..].copy_from_slice(&self.iv);
        out
    }

    fn view_word(&self) -> u32 {
        let mut word = [0u8; 4];
        word.copy_from_slice(&self.iv[8..]);
        u32::from_le_bytes(word)
    }
}

/// Whole entry: 8-byte header (version 1, flags, u48 body size) ‖ tag ‖ iv ‖ u64 public_len ‖
/// public ‖ ciphertext (spec §2.1).
///
/// # Panics
/// If the body would exceed 2^48 − 1 bytes (256 TiB: not a buffer a caller can hold).
pub fn write_entry(
    flags: EntryFlags,
    gcm: &GcmHeader,
    public_domain: &[u8],
    ciphertext: &[u8],
) -> Vec<u8> {
    let body_size = BODY_PREFIX_BYTES + to_u64(public_domain.len()) + to_u64(ciphertext.len());
    assert!(
        body_size <= ENTRY_BODY_BYTES_MAX,
        "entry body of {body_size} bytes exceeds 48 bits"
    );
    let header = EntryHeader { flags, body_size };
    let mut out = Vec::with_capacity(ENTRY_HEADER_BYTES + body_size as usize);
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(&gcm.to_bytes());
    put_u64(&mut out, to_u64(public_domain.len()));
    out.extend_from_slice(public_domain);
    out.extend_from_slice(ciphertext);
    out
}

/// A parsed entry borrowing the input bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryParts<'a> {
    pub flags: EntryFlags,
    pub gcm: GcmHeader,
    /// Plaintext public domain; also the AES-GCM AAD (spec §2.1).
    pub public_domain: &'a [u8],
    /// AES-256-GCM ciphertext of the private map records; empty when there are none.
    pub private_ciphertext: &'a [u8],
}

/// Parses one whole entry (8-byte header included). `bytes` must be exactly the entry: CCF's
/// deserialiser requires `body_size == remaining bytes` (spec §2.1). Errors, never panics.
pub fn parse_entry(bytes: &[u8]) -> Result<EntryParts<'_>, LedgerError> {
    let header = EntryHeader::parse(bytes)?;
    let actual = to_u64(bytes.len().saturating_sub(ENTRY_HEADER_BYTES));
    if header.body_size != actual {
        return Err(LedgerError::EntrySizeMismatch {
            offset: 2,
            declared: header.body_size,
            actual,
        });
    }
    let mut reader = Reader::new(bytes);
    reader.take(to_u64(ENTRY_HEADER_BYTES), "entry header")?;
    let tag = reader.array::<GCM_TAG_BYTES>("GCM tag")?;
    let iv = reader.array::<GCM_IV_BYTES>("GCM IV")?;
    let len_offset = reader.offset();
    let public_len = reader.u64("public domain length")?;
    let available = to_u64(reader.remaining());
    if public_len > available {
        return Err(LedgerError::PublicDomainOverrun {
            offset: len_offset,
            declared: public_len,
            available,
        });
    }
    let public_domain = reader.take(public_len, "public domain")?;
    let private_ciphertext = reader.take(to_u64(reader.remaining()), "private domain")?;
    Ok(EntryParts {
        flags: header.flags,
        gcm: GcmHeader { tag, iv },
        public_domain,
        private_ciphertext,
    })
}

/// Splits `bytes` into the entry at its start (by the header's body size) and what follows.
/// Used for snapshot files (a JSON receipt follows the entry, spec §8.2) and chunk walks.
pub fn split_entry(bytes: &[u8]) -> Result<(&[u8], &[u8]), LedgerError> {
    let header = EntryHeader::parse(bytes)?;
    let mut reader = Reader::new(bytes);
    let entry = reader.take(header.entry_len(), "entry")?;
    let rest = reader.take(to_u64(reader.remaining()), "after entry")?;
    Ok((entry, rest))
}

/// Offset of the public domain inside an entry: where public-domain error offsets start.
pub const PUBLIC_DOMAIN_OFFSET: u64 = ENTRY_HEADER_BYTES as u64 + BODY_PREFIX_BYTES;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn gcm(seqno: u64, view: u32) -> GcmHeader {
        GcmHeader {
            tag: [0xAB; 16],
            iv: GcmHeader::iv_for(seqno, view, false),
        }
    }

    #[test]
    fn iv_is_seqno_then_view_little_endian() {
        let iv = GcmHeader::iv_for(5, 2, false);
        assert_eq!(iv, [5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
    }

    #[test]
    fn snapshot_iv_sets_the_top_bit_of_the_last_byte() {
        let g = GcmHeader {
            tag: [0; 16],
            iv: GcmHeader::iv_for(493, 0, true),
        };
        assert_eq!(&g.iv[8..], &[0, 0, 0, 0x80]);
        assert!(g.is_snapshot());
        assert_eq!((g.seqno(), g.view()), (493, 0));
    }

    #[test]
    fn a_view_with_bit_31_set_cannot_be_encoded() {
        assert_eq!(
            GcmHeader::try_iv_for(1, 0x8000_0000, false).unwrap_err(),
            LedgerError::ViewOutOfRange { view: 0x8000_0000 }
        );
        assert!(GcmHeader::try_iv_for(1, 0x7FFF_FFFF, false).is_ok());
    }

    #[test]
    fn entry_header_holds_a_48_bit_little_endian_size() {
        let h = EntryHeader {
            flags: EntryFlags(EntryFlags::FORCE_LEDGER_CHUNK_AFTER),
            body_size: 0x0102_0304_0506,
        };
        assert_eq!(h.to_bytes(), [1, 1, 6, 5, 4, 3, 2, 1]);
        assert_eq!(EntryHeader::parse(&h.to_bytes()).unwrap(), h);
        assert!(h.flags.force_chunk_after() && !h.flags.force_chunk_before());
    }

    #[test]
    fn entry_format_version_other_than_one_is_rejected() {
        let bytes = [2, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            parse_entry(&bytes).unwrap_err(),
            LedgerError::UnsupportedEntryVersion {
                offset: 0,
                version: 2
            }
        );
    }

    #[test]
    fn body_size_must_equal_the_remaining_bytes() {
        let mut entry = write_entry(EntryFlags(0), &gcm(1, 2), b"pub", b"");
        entry.push(0);
        assert_eq!(
            parse_entry(&entry).unwrap_err(),
            LedgerError::EntrySizeMismatch {
                offset: 2,
                declared: 39,
                actual: 40
            }
        );
    }

    #[test]
    fn public_length_past_the_body_is_an_overrun() {
        let mut entry = write_entry(EntryFlags(0), &gcm(1, 2), b"pub", b"");
        entry[36] = 200;
        assert_eq!(
            parse_entry(&entry).unwrap_err(),
            LedgerError::PublicDomainOverrun {
                offset: 36,
                declared: 200,
                available: 3
            }
        );
    }

    #[test]
    fn a_body_too_short_for_the_gcm_header_is_truncated() {
        let bytes = [1, 0, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        assert!(matches!(
            parse_entry(&bytes).unwrap_err(),
            LedgerError::Truncated {
                offset: 8,
                field: "GCM tag",
                ..
            }
        ));
    }

    #[test]
    fn split_entry_returns_what_follows_the_entry() {
        let mut bytes = write_entry(EntryFlags(0), &gcm(1, 2), b"pub", b"secret");
        let len = bytes.len();
        bytes.extend_from_slice(b"{\"receipt\":1}");
        let (entry, rest) = split_entry(&bytes).unwrap();
        assert_eq!((entry.len(), rest), (len, &b"{\"receipt\":1}"[..]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn entries_round_trip(
            flags in 0u8..4,
            tag in any::<[u8; 16]>(),
            seqno in any::<u64>(),
            view in 0u32..=0x7FFF_FFFF,
            snapshot in any::<bool>(),
            public in proptest::collection::vec(any::<u8>(), 0..64),
            private in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let gcm = GcmHeader { tag, iv: GcmHeader::iv_for(seqno, view, snapshot) };
            let bytes = write_entry(EntryFlags(flags), &gcm, &public, &private);
            prop_assert_eq!(bytes.len(), 44 + public.len() + private.len());
            let parts = parse_entry(&bytes).unwrap();
            prop_assert_eq!(parts.flags, EntryFlags(flags));
            prop_assert_eq!(parts.gcm, gcm);
            prop_assert_eq!((parts.gcm.seqno(), parts.gcm.view(), parts.gcm.is_snapshot()), (seqno, view, snapshot));
            prop_assert_eq!(parts.public_domain, &public[..]);
            prop_assert_eq!(parts.private_ciphertext, &private[..]);
        }

        #[test]
        fn whatever_parses_as_an_entry_re_serialises_to_the_same_bytes(
            flags in any::<u8>(),
            gcm in any::<[u8; 28]>(),
            public_len in 0u64..80,
            rest in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            // A well-framed body whose public length may or may not fit: parsing either fails
            // or is the exact inverse of write_entry.
            let body_size = 36 + rest.len() as u64;
            let mut bytes = EntryHeader { flags: EntryFlags(flags), body_size }.to_bytes().to_vec();
            bytes.extend_from_slice(&gcm);
            bytes.extend_from_slice(&public_len.to_le_bytes());
            bytes.extend_from_slice(&rest);
            let parsed = parse_entry(&bytes);
            prop_assert_eq!(parsed.is_ok(), public_len <= rest.len() as u64);
            if let Ok(parts) = parsed {
                let again = write_entry(parts.flags, &parts.gcm, parts.public_domain, parts.private_ciphertext);
                prop_assert_eq!(again, bytes);
            }
        }
    }
}
