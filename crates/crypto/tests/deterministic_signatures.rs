//! Replayability: everything a key from a seeded `Entropy` signs — prehashed node signatures,
//! DER and COSE signatures, self-signed and endorsed certificates — is the same bytes when the
//! whole run is made again from the same seed, and still verifies. Keys from `OsEntropy` keep
//! aws-lc's randomised signatures. (Here rather than beside the code: only entropy.rs may name
//! `OsEntropy` inside src/, crates/cli/tests/architecture.rs checks.)

// The helpers below build fixed test data; a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use cloister_crypto::{
    CertificateSpec, Curve, EcKeyPair, OsEntropy, SeededEntropy, cose, issue_endorsed,
    issue_self_signed, sha256,
};

/// Every signed artefact of a small service, made from one seed.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    prehashed: Vec<u8>,
    der: Vec<u8>,
    cose: Vec<u8>,
    sign1: Vec<u8>,
    service_cert: Vec<u8>,
    node_cert: Vec<u8>,
}

fn spec(cn: &str, is_ca: bool) -> CertificateSpec {
    CertificateSpec {
        subject_cn: cn.into(),
        sans: vec!["127.0.0.1".into()],
        not_before_unix: 1_700_000_000,
        not_after_unix: 1_700_086_400,
        is_ca,
    }
}

fn run(seed: u64) -> Run {
    let mut entropy = SeededEntropy::from_seed(seed);
    let service = EcKeyPair::generate(Curve::P384, &mut entropy).unwrap();
    let node = EcKeyPair::generate(Curve::P384, &mut entropy).unwrap();
    let root = sha256(b"merkle root").0;

    let prehashed = node.sign_prehashed_der(&root).unwrap();
    node.public_key()
        .verify_prehashed_der(&root, &prehashed)
        .unwrap();
    let der = node.sign_der(b"tbs").unwrap();
    node.public_key().verify_der(b"tbs", &der).unwrap();
    let cose = service.sign_cose(b"Sig_structure").unwrap();
    service
        .public_key()
        .verify_cose(b"Sig_structure", &cose)
        .unwrap();
    let sign1 = cose::sign1(&service, &[], &root, true).unwrap();
    cose::Sign1::parse(&sign1)
        .unwrap()
        .verify(&service.public_key(), Some(&root))
        .unwrap();

    let service_cert = issue_self_signed(&service, &spec("CCF Service", true)).unwrap();
    service_cert
        .verify_issued_by(&service.public_key())
        .unwrap();
    let node_cert = issue_endorsed(
        &node.public_key(),
        &spec("CCF Node", false),
        &service,
        &service_cert,
    )
    .unwrap();
    node_cert.verify_issued_by(&service.public_key()).unwrap();

    Run {
        prehashed,
        der,
        cose,
        sign1,
        service_cert: service_cert.der().to_vec(),
        node_cert: node_cert.der().to_vec(),
    }
}

#[test]
fn the_same_seed_replays_every_signature_byte_for_byte() {
    let first = run(42);
    assert_eq!(first, run(42));
    let other = run(43);
    assert_ne!(first.prehashed, other.prehashed);
    assert_ne!(first.node_cert, other.node_cert);
}

#[test]
fn os_entropy_keys_sign_randomly_and_can_opt_in() {
    let root = sha256(b"merkle root").0;
    for curve in [Curve::P256, Curve::P384] {
        let key = EcKeyPair::generate(curve, &mut OsEntropy).unwrap();
        assert!(!key.has_deterministic_signatures());
        let (a, b) = (
            key.sign_prehashed_der(&root).unwrap(),
            key.sign_prehashed_der(&root).unwrap(),
        );
        assert_ne!(a, b);
        key.public_key().verify_prehashed_der(&root, &a).unwrap();
        key.public_key().verify_prehashed_der(&root, &b).unwrap();
        assert_ne!(key.sign_cose(b"m").unwrap(), key.sign_cose(b"m").unwrap());
        assert_ne!(key.sign_der(b"m").unwrap(), key.sign_der(b"m").unwrap());

        // An OS-entropy key can opt in (say, to replay from a key file).
        let opted = key.with_deterministic_signatures().unwrap();
        assert!(opted.has_deterministic_signatures());
        assert_eq!(
            opted.sign_cose(b"m").unwrap(),
            opted.sign_cose(b"m").unwrap()
        );

        // A seeded key read back from PEM signs randomly until it opts in, and then exactly as
        // the seeded key does.
        let seeded = EcKeyPair::generate(curve, &mut SeededEntropy::from_seed(13)).unwrap();
        let reloaded = EcKeyPair::from_pem(&seeded.to_pem()).unwrap();
        assert!(!reloaded.has_deterministic_signatures());
        assert_ne!(
            reloaded.sign_cose(b"m").unwrap(),
            reloaded.sign_cose(b"m").unwrap()
        );
        let reloaded = reloaded.with_deterministic_signatures().unwrap();
        assert_eq!(
            reloaded.sign_cose(b"m").unwrap(),
            seeded.sign_cose(b"m").unwrap()
        );
    }
}
