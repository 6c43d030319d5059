//! A ledger written by Cloister's write path, checked by CCF's own tools (read_ledger.py and
//! ccf.receipt from ccf 6.0.28) and by Cloister's verifier: every signature verifies, private maps
//! stay private, receipts verify, and any flipped byte in a committed chunk is caught.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use cloister::sample_ledger::{SampleLedger, SampleSpec, write_sample_ledger};
use cloister_check::{LedgerOptions, collect_chunks, verify_ledger};
use cloister_crypto::{Certificate, Entropy, SeededEntropy};
use cloister_kv::{LedgerSecret, commit_evidence};
use cloister_merkle::ProofElement;
use cloister_node::build_receipt;
use serde_json::Value;
use support::{ccf_python, cloister, read_ledger_summary};

const PRIVATE_CANARY: &[u8] = b"private-canary-5f1c9a7e-do-not-leak";
const PUBLIC_CANARY: &[u8] = b"public-canary-8d2b4e60-visible";

/// 1,000 application transactions, a signature every 40, chunks of ~48 KiB: over 25 signatures
/// and several chunks, public and private maps.
fn sample(dir: &Path) -> SampleLedger {
    let spec = SampleSpec {
        transactions: 1_000,
        sig_tx_interval: 40,
        chunk_threshold_bytes: 48 * 1024,
        value_bytes: 100,
        seed: 42,
        private_canary: Some(PRIVATE_CANARY.to_vec()),
        public_canary: Some(PUBLIC_CANARY.to_vec()),
        keep_entries: true,
    };
    write_sample_ledger(dir, &spec).unwrap()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn committed_chunks(dir: &Path) -> Vec<PathBuf> {
    files_in(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".committed"))
        .collect()
}

#[test]
fn sample_ledger_has_many_chunks_signatures_and_both_domains() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = sample(dir.path());
    assert!(ledger.last_seqno >= 1_000);
    assert!(ledger.signatures >= 25, "{} signatures", ledger.signatures);
    assert!(
        committed_chunks(dir.path()).len() >= 4,
        "{:?}",
        files_in(dir.path())
    );
    let private = ledger
        .entries
        .iter()
        .filter(|o| o.bytes.len() > 300)
        .count();
    assert!(private > 100);
}

#[test]
fn ccf_read_ledger_verifies_a_cloister_ledger() {
    let Some(python) = ccf_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ledger_dir = dir.path().join("ledger");
    sample(&ledger_dir);

    for extra in [&[][..], &["--uncommitted"][..]] {
        let python_summary = read_ledger_summary(&python, &ledger_dir, extra);

        // Cloister's verifier agrees line for line.
        let ours = cloister()
            .args(["ledger", "verify"])
            .args(extra)
            .arg(&ledger_dir)
            .output()
            .unwrap();
        assert!(ours.status.success());
        let ours_text = String::from_utf8(ours.stdout).unwrap();
        assert!(
            ours_text.contains(&python_summary),
            "python: {python_summary}\nours: {ours_text}"
        );
    }
}

#[test]
fn private_canary_never_reaches_disk_and_public_canary_does() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let mut all = Vec::new();
    for file in files_in(dir.path()) {
        all.extend(fs::read(file).unwrap());
    }
    let forms = |canary: &[u8]| {
        vec![
            canary.to_vec(),
            hex::encode(canary).into_bytes(),
            hex::encode_upper(canary).into_bytes(),
            base64::engine::general_purpose::STANDARD
                .encode(canary)
                .into_bytes(),
        ]
    };
    let contains = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    for form in forms(PRIVATE_CANARY) {
        assert!(
            !contains(&form),
            "private canary found on disk as {}",
            String::from_utf8_lossy(&form)
        );
    }
    assert!(
        contains(PUBLIC_CANARY),
        "positive control: the public canary must be on disk"
    );
}

/// Receipts for 100 random committed transactions: built as CCF builds historical receipts,
/// verified in Rust and by CCF's Python `ccf.receipt`; altered proofs fail in both.
#[test]
fn receipts_of_random_transactions_verify_in_rust_and_with_ccf_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = sample(dir.path());
    let service_cert = Certificate::from_pem(&ledger.service_cert_pem).unwrap();
    let secret = LedgerSecret::new(ledger.ledger_secret);
    let signatures: Vec<usize> = ledger
        .entries
        .iter()
        .enumerate()
        .filter(|(_, o)| o.committable)
        .map(|(i, _)| i)
        .collect();
    let candidates: Vec<usize> = (0..ledger.entries.len())
        .filter(|&i| !ledger.entries[i].committable && signatures.iter().any(|&s| s > i))
        .collect();

    let mut entropy = SeededEntropy::from_seed(99);
    let mut receipts = Vec::new();
    for _ in 0..100 {
        let mut pick = [0u8; 8];
        entropy.fill_bytes(&mut pick);
        let index = candidates[(u64::from_le_bytes(pick) % candidates.len() as u64) as usize];
        let target = &ledger.entries[index];
        let signature_index = *signatures.iter().find(|&&s| s > index).unwrap();
        let evidence = commit_evidence(&secret, target.txid);
        let receipt = build_receipt(
            &target.bytes,
            &evidence,
            &ledger.entries[signature_index].bytes,
        )
        .unwrap();
        receipt.verify(&service_cert).unwrap();
        receipts.push(receipt);
    }

    // Any altered proof element, in any receipt, fails.
    let mut altered = Vec::new();
    for receipt in &receipts {
        for position in 0..receipt.proof.len() {
            let mut bad = receipt.clone();
            bad.proof[position] = flip(bad.proof[position]);
            assert!(
                bad.verify(&service_cert).is_err(),
                "altered proof element {position} verified"
            );
            if altered.len() < 20 {
                altered.push(bad);
            }
        }
    }

    let Some(python) = ccf_python() else { return };
    let cert_path = dir.path().join("service_cert.pem");
    fs::write(&cert_path, &ledger.service_cert_pem).unwrap();
    let good: Vec<Value> = receipts
        .iter()
        .map(|r| serde_json::from_str(&r.to_json()).unwrap())
        .collect();
    let bad: Vec<Value> = altered
        .iter()
        .map(|r| serde_json::from_str(&r.to_json()).unwrap())
        .collect();
    let input = dir.path().join("receipts.json");
    fs::write(
        &input,
        serde_json::json!({ "good": good, "bad": bad }).to_string(),
    )
    .unwrap();
    let output = std::process::Command::new(&python)
        .arg("-c")
        .arg(PYTHON_RECEIPT_CHECK)
        .arg(&input)
        .arg(&cert_path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        text.trim(),
        format!(
            "good verified {} / {}; bad rejected {} / {}",
            good.len(),
            good.len(),
            bad.len(),
            bad.len()
        )
    );
}

fn flip(element: ProofElement) -> ProofElement {
    let mut hash = element.hash();
    hash.0[7] ^= 0x01;
    match element {
        ProofElement::Left(_) => ProofElement::Left(hash),
        ProofElement::Right(_) => ProofElement::Right(hash),
    }
}

/// Verifies receipts the way CCF's documentation and e2e tests use `ccf.receipt`.
const PYTHON_RECEIPT_CHECK: &str = r#"
import json, sys
from hashlib import sha256
from cryptography.x509 import load_pem_x509_certificate
import ccf.receipt

data = json.load(open(sys.argv[1]))
service_cert = load_pem_x509_certificate(open(sys.argv[2], "rb").read())

def check(r):
    c = r["leaf_components"]
    leaf = sha256(bytes.fromhex(c["write_set_digest"]) + sha256(c["commit_evidence"].encode()).digest() + bytes.fromhex(c["claims_digest"])).hexdigest()
    root = ccf.receipt.root(leaf, r["proof"])
    node_cert = load_pem_x509_certificate(r["cert"].encode())
    ccf.receipt.verify(root, r["signature"], node_cert)
    endorsements = [load_pem_x509_certificate(e.encode()) for e in r.get("service_endorsements", [])]
    ccf.receipt.check_endorsements(node_cert, service_cert, endorsements)
    ccf.receipt.check_cert_chain(node_cert, service_cert, endorsements)

good = 0
for r in data["good"]:
    check(r)
    good += 1
bad = 0
for r in data["bad"]:
    try:
        check(r)
    except Exception:
        bad += 1
print(f"good verified {good} / {len(data['good'])}; bad rejected {bad} / {len(data['bad'])}")
"#;

/// 100 seeded single-byte flips in committed chunks: every one is detected, and the error names
/// the file, the byte offset and the seqno. (The uncommitted tail is read too, so that its
/// signatures cover the last committed chunk's final signature, as a live node's would.)
#[test]
fn every_flipped_byte_in_a_committed_chunk_is_detected_and_located() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let options = LedgerOptions {
        uncommitted: true,
        recovery: false,
    };
    let chunks = collect_chunks(&[dir.path().to_path_buf()], options).unwrap();
    let clean = verify_ledger(&chunks, true, &mut |_| {});
    assert!(clean.complete, "{clean:?}");

    let committed = committed_chunks(dir.path());
    let sizes: Vec<u64> = committed
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .collect();
    let total: u64 = sizes.iter().sum();
    let mut entropy = SeededEntropy::from_seed(2024);
    for flip_number in 0..100 {
        let mut pick = [0u8; 9];
        entropy.fill_bytes(&mut pick);
        let mut position = u64::from_le_bytes(pick[..8].try_into().unwrap()) % total;
        let mut file = 0;
        while position >= sizes[file] {
            position -= sizes[file];
            file += 1;
        }
        let path = &committed[file];
        let original = fs::read(path).unwrap();
        let mut mutated = original.clone();
        mutated[position as usize] ^= 1 << (pick[8] % 8);
        fs::write(path, &mutated).unwrap();

        let report = verify_ledger(&chunks, true, &mut |_| {});
        fs::write(path, &original).unwrap();

        let error = report.error.unwrap_or_else(|| {
            panic!(
                "flip {flip_number} at {}:{position} not detected",
                path.display()
            )
        });
        assert!(!report.complete);
        assert!(
            error.offset.is_some(),
            "flip {flip_number}: no offset in {error}"
        );
        let flipped = seqno_at(&original, path, position);
        if error.file == path.display().to_string() && error.seqno == Some(flipped) {
            continue;
        }
        // Otherwise the flip changed a leaf, found at the next signature: the error must name
        // that signature's place and a seqno range holding the flipped transaction.
        let (from, to) = altered_range(&error.message).unwrap_or_else(|| {
            let header = u64::from_le_bytes(original[..8].try_into().unwrap());
            panic!("flip {flip_number} of seqno {flipped} at byte {position} (table at {header}, file {} bytes): {error}", original.len())
        });
        assert!(
            from <= flipped && flipped <= to,
            "flip {flip_number} of seqno {flipped}: {error}"
        );
        assert!(
            error.seqno.is_some(),
            "flip {flip_number}: no seqno in {error}"
        );
    }
}

/// The seqno whose bytes hold `position` of a committed chunk (header bytes count as the first
/// entry's, position-table bytes as the entry the slot points to).
fn seqno_at(chunk: &[u8], path: &Path, position: u64) -> u64 {
    let name =
        cloister_ledger::ChunkName::parse(path.file_name().unwrap().to_str().unwrap()).unwrap();
    let parse = cloister_ledger::parse_chunk(chunk).unwrap();
    let last = parse.entries.last().unwrap();
    let table_start = last.offset + last.bytes.len() as u64;
    if position >= table_start {
        return name.start + (position - table_start) / 4;
    }
    let index = parse
        .entries
        .iter()
        .rposition(|entry| entry.offset <= position)
        .unwrap_or(0);
    name.start + index as u64
}

/// `a..=b` from "... seqnos a..=b was altered".
fn altered_range(message: &str) -> Option<(u64, u64)> {
    let rest = message.split("seqnos ").nth(1)?;
    let range = rest.split_whitespace().next()?;
    let (from, to) = range.split_once("..=")?;
    Some((from.parse().ok()?, to.parse().ok()?))
}

/// Fuzz-as-test: 5,000 seeded mutations of a Cloister ledger's chunks (byte flips, truncations,
/// insertions, deletions, overwritten length fields, swapped chunks) never panic the verifier,
/// and every mutation of a committed chunk is reported as an error. The one exception is the
/// ledger's very last transaction: in CCF's design a transaction's leaf is signed by the *next*
/// signature, so the bytes of the final signature transaction that its own checks do not cover
/// (its GCM tag, for one) are covered by nothing yet — as with CCF's own verifier.
#[test]
fn garbled_and_truncated_ledgers_never_panic_the_verifier() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SampleSpec {
        transactions: 60,
        sig_tx_interval: 10,
        chunk_threshold_bytes: 4 * 1024,
        seed: 5,
        ..SampleSpec::default()
    };
    write_sample_ledger(dir.path(), &spec).unwrap();
    let chunks = collect_chunks(
        &[dir.path().to_path_buf()],
        LedgerOptions {
            uncommitted: true,
            recovery: false,
        },
    )
    .unwrap();
    let originals: Vec<(cloister_check::ChunkFile, Vec<u8>)> = chunks
        .iter()
        .map(|c| (c.clone(), fs::read(&c.path).unwrap()))
        .collect();
    assert!(cloister_check::verify_chunk_bytes(&originals, true).complete);
    let last_chunk = originals.len() - 1;
    let last_entry_offset = cloister_ledger::parse_chunk(&originals[last_chunk].1)
        .unwrap()
        .entries
        .last()
        .unwrap()
        .offset as usize;

    let mut entropy = SeededEntropy::from_seed(77);
    let mut random = |bound: usize| {
        let mut word = [0u8; 8];
        entropy.fill_bytes(&mut word);
        (u64::from_le_bytes(word) % bound.max(1) as u64) as usize
    };
    let mut detected = 0;
    for _ in 0..5_000 {
        let mut mutated = originals.clone();
        let target = random(mutated.len());
        let bytes = &mut mutated[target].1;
        match random(6) {
            0 => {
                let at = random(bytes.len());
                bytes[at] ^= 1 << random(8);
            }
            1 => bytes.truncate(random(bytes.len())),
            2 => {
                let at = random(bytes.len());
                bytes.insert(at, random(256) as u8);
            }
            3 => {
                let at = random(bytes.len());
                bytes.remove(at);
            }
            4 => {
                // Overwrite 8 bytes (a length field, an offset, a version) with random ones.
                let at = random(bytes.len().saturating_sub(8));
                for byte in bytes.iter_mut().skip(at).take(8) {
                    *byte = random(256) as u8;
                }
            }
            _ => {
                let other = random(mutated.len());
                let swapped = mutated[other].1.clone();
                mutated[target].1 = swapped;
            }
        }
        let (before, after) = (&originals[target].1, &mutated[target].1);
        let Some(first_change) =
            (0..before.len().max(after.len())).find(|&i| before.get(i) != after.get(i))
        else {
            continue;
        };
        let report = cloister_check::verify_chunk_bytes(&mutated, true);
        let covered = target != last_chunk || first_change < last_entry_offset;
        if covered {
            let error = report.error.unwrap_or_else(|| {
                panic!(
                    "mutation of {} at byte {first_change} not detected",
                    mutated[target].0.path.display()
                )
            });
            assert!(!error.file.is_empty());
            detected += 1;
        }
    }
    assert!(
        detected > 4_000,
        "only {detected} mutations were checked for detection"
    );
}

/// A bad node signature (checked on the second core) is reported at its own transaction, and
/// only the signatures before it count as verified.
#[test]
fn a_forged_node_signature_is_reported_at_its_signature_and_stops_the_count() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let chunks = collect_chunks(&[dir.path().to_path_buf()], LedgerOptions::default()).unwrap();
    let clean = verify_ledger(&chunks, true, &mut |_| {});
    assert!(clean.complete);

    // The third `"sig":"` of the second committed chunk: change one base64 character.
    let path = &chunks[1].path;
    let original = fs::read(path).unwrap();
    let needle = b"\"sig\":\"";
    let at = original
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .nth(2)
        .map(|(i, _)| i + needle.len() + 10)
        .unwrap();
    let mut forged = original.clone();
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    fs::write(path, &forged).unwrap();
    let report = verify_ledger(&chunks, true, &mut |_| {});
    fs::write(path, &original).unwrap();

    let error = report.error.expect("forged signature detected");
    assert_eq!(error.file, path.display().to_string());
    assert!(
        error
            .message
            .contains("signature over the root does not verify"),
        "{error}"
    );
    let forged_seqno = error.seqno.unwrap();
    let verified = report.verified_until.unwrap().seqno.0;
    assert!(
        verified < forged_seqno,
        "verified until {verified}, forged at {forged_seqno}"
    );
    assert!(report.signatures < clean.signatures);
}
