//! spec/ccf-internals.md §2.5: the worked example entry, built with the codec and checked byte
//! for byte. The GCM tag is the spec's; one test recomputes it with cloister-crypto's AES-GCM
//! (dummy ledger secret 00 01 … 1f, AAD = public domain, empty plaintext).

use cloister_crypto::{Aes256GcmKey, Sha256Hash, sha256, sha256_concat};
use cloister_ledger::{
    EntryFlags, EntryType, GcmHeader, MapChanges, PublicHeader, parse_entry, parse_public_domain,
    write_entry, write_public_domain,
};

const COMMIT_EVIDENCE: &str =
    "ce:2.5:187ceea26f3f7d44a5e204750ce5782e98493a457a60d17119486e8bf7f211ea";
const TAG: [u8; 16] = [
    0x8f, 0x44, 0x89, 0x97, 0x4a, 0x0e, 0xdc, 0x9f, 0xa9, 0xcf, 0xc8, 0xa1, 0x1f, 0x08, 0xfe, 0x79,
];

fn header() -> PublicHeader {
    PublicHeader {
        entry_type: EntryType::WriteSetWithCommitEvidenceAndClaims,
        version: 5,
        claims_digest: Some(Sha256Hash([0; 32])),
        commit_evidence_digest: Some(sha256(COMMIT_EVIDENCE.as_bytes())),
        max_conflict_version: 0,
    }
}

fn maps() -> Vec<MapChanges> {
    vec![MapChanges {
        name: "public:app".into(),
        writes: vec![(b"k".to_vec(), b"v".to_vec())],
        removes: vec![],
    }]
}

fn example_entry() -> Vec<u8> {
    let public = write_public_domain(&header(), &maps());
    let gcm = GcmHeader {
        tag: TAG,
        iv: GcmHeader::iv_for(5, 2, false),
    };
    write_entry(EntryFlags(0), &gcm, &public, &[])
}

fn u64le(n: u64) -> [u8; 8] {
    n.to_le_bytes()
}

#[test]
fn the_worked_example_has_the_bytes_of_spec_2_5() {
    let entry = example_entry();
    let mut expected: Vec<u8> = vec![0x01, 0x00, 0xb9, 0, 0, 0, 0, 0];
    expected.extend_from_slice(&TAG);
    expected.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]);
    expected.extend_from_slice(&u64le(149));
    expected.push(4);
    expected.extend_from_slice(&u64le(5));
    expected.extend_from_slice(&[0; 32]);
    expected.extend_from_slice(sha256(COMMIT_EVIDENCE.as_bytes()).as_bytes());
    expected.extend_from_slice(&u64le(0));
    expected.extend_from_slice(&u64le(10));
    expected.extend_from_slice(b"public:app");
    expected.extend_from_slice(&[0; 16]);
    expected.extend_from_slice(&u64le(1));
    expected.extend_from_slice(&u64le(1));
    expected.push(b'k');
    expected.extend_from_slice(&u64le(1));
    expected.push(b'v');
    expected.extend_from_slice(&u64le(0));
    assert_eq!(entry, expected);
    assert_eq!(entry.len(), 8 + 185);
}

#[test]
fn the_commit_evidence_digest_starts_and_ends_as_printed() {
    let digest = sha256(COMMIT_EVIDENCE.as_bytes());
    assert_eq!(&digest.0[..4], &[0xd1, 0x37, 0x11, 0xbf]);
    assert_eq!(&digest.0[28..], &[0x94, 0xce, 0xe5, 0x8d]);
}

#[test]
fn the_worked_example_has_the_write_set_digest_and_leaf_of_spec_2_5() {
    // The write-set digest hashes the whole entry, so this pins every byte, the tag included.
    let entry = example_entry();
    let write_set_digest = sha256(&entry);
    assert_eq!(
        write_set_digest.to_hex(),
        "6087f6b5e134a05b5d035076a95b16b39a5f56ba3386beaf1b53cc8cc125e682"
    );
    let leaf = sha256_concat(&[
        write_set_digest.as_bytes(),
        sha256(COMMIT_EVIDENCE.as_bytes()).as_bytes(),
        &[0; 32],
    ]);
    assert_eq!(
        leaf.to_hex(),
        "18915044fea7914d49452795482f4c312f49a6ba487a47706ad5a11cfbf7c7fe"
    );
}

#[test]
fn the_worked_example_parses_back() {
    let entry = example_entry();
    let parts = parse_entry(&entry).unwrap();
    assert_eq!(parts.flags, EntryFlags(0));
    assert_eq!(
        (parts.gcm.seqno(), parts.gcm.view(), parts.gcm.is_snapshot()),
        (5, 2, false)
    );
    assert_eq!(parts.gcm.tag, TAG);
    assert_eq!(parts.public_domain.len(), 149);
    assert!(parts.private_ciphertext.is_empty());
    assert_eq!(
        parse_public_domain(parts.public_domain).unwrap(),
        (header(), maps())
    );
}

#[test]
fn the_spec_tag_is_aes_gcm_over_the_public_domain_with_the_dummy_secret() {
    let secret: [u8; 32] = std::array::from_fn(|i| i as u8);
    let public = write_public_domain(&header(), &maps());
    let iv = GcmHeader::iv_for(5, 2, false);
    let tag = Aes256GcmKey::new(&secret)
        .encrypt_in_place(&iv, &public, &mut [])
        .unwrap();
    assert_eq!(tag, TAG);
}
