//! The façade against what real CCF 6 services wrote (testdata/ccf6, see its README): node
//! signatures over Merkle roots, COSE root signatures, certificates and CCF-format key files.
//!
//! Signature values below were pulled once out of the ledgers with /tmp/ccfvenv's `ccf.ledger`
//! (and checked there with Python `cryptography`); the PEM files are read from testdata.

// Helpers outside `#[test]` fns fail the test loudly on bad fixtures, like the tests do.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cloister_crypto::cose::{self, HEADER_KID, HEADER_VDS, Label, Sign1, Value};
use cloister_crypto::{Certificate, CryptoError, Curve, EcKeyPair, sha256};

macro_rules! testdata {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/ccf6/",
            $path
        ))
    };
}

/// eol_service, signature transaction 10.500: `public:ccf.internal.signatures`.
const EOL_SIG_B64: &str = "MGUCMHsJWBX/3E6s0oGoeASNIlKPuyKlSjCux7EBOId5StOQZgqQFS1pQcsGb99e4weXiQIx\
    AKeNcWAzVwcCFpCBK8zq0uKFWWEcnPaj7uyJROj/r7vUGACAZAAsv3XZuHq8BCncag==";
const EOL_ROOT: &str = "11b46d1aa9ae228b0d41ba836857b3d9b4c8d11df060eb4dc7bb1353f845730a";
const EOL_NODE: &str = "74b94baae1c80854e082e1b5821d202fc80cc61b6a84d5d4226bc51cd2fe9295";
/// That node's `public:ccf.gov.nodes.endorsed_certificates` value.
const EOL_NODE_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBxTCCAUygAwIBAgIRAMJAxNqyHCt4iBruqdPAgIIwCgYIKoZIzj0EAwMwFjEU
MBIGA1UEAwwLQ0NGIE5ldHdvcmswHhcNMjUwMjE3MTYyNjM3WhcNMjYwMjE3MTYy
NjM2WjATMREwDwYDVQQDDAhDQ0YgTm9kZTB2MBAGByqGSM49AgEGBSuBBAAiA2IA
BMdBu5Nt/olpAcLDW1+H1sHCN24+lMJW6iT3BcB1xvycwEuPQQFOhNwcL/3VGBA5
zh6YOHWMJImS9ldwbKcQrl/bTFKrJ/0EVNHBDIXQR9LVFv3jIR16Rz8JSubpVoh7
6qNhMF8wDAYDVR0TAQH/BAIwADAdBgNVHQ4EFgQUd6ICYeCgwPn2gdX5j/99tndI
WlMwHwYDVR0jBBgwFoAUouGhaflKPoDZ4e8chERbT2BUQBEwDwYDVR0RBAgwBocE
f7Ym2zAKBggqhkjOPQQDAwNnADBkAjBj0lV8+NCybP+4tj+Z0KE24V9j8qaG2AmW
mEphpIPIp39FjNJJOF1hmVuSCU58B38CMA1i4ujGkF6GFaRqmm9TqUuU6Osh5BfG
PPJ99K7L3iZ0P44KEG47MmaIwlg426RnxA==
-----END CERTIFICATE-----
";

/// cose_flipflop_service, signature transaction 2.16: `public:ccf.internal.cose_signatures`
/// (eol_service predates COSE signatures) and the root of the PrimarySignature written in the
/// same transaction.
const FLIPFLOP_COSE_B64: &str = "0oRYjKUBOCIEWEBkZjc3ODc1ZGE1NDUyZDVkNGViY2EyZTkwYzY0NGZiZGU5ZmY5NmI5\
    MmJjNjU1YTg5OWZkYzkxNzE2NDFmZmRiGQGLAg+jBhpoJGSXAXNzZXJ2aWNlLmV4YW1wbGUuY29tAnBsZWRnZXIuc2lnbmF0d\
    XJlZmNjZi52MaFkdHhpZGQyLjE2oPZYYETvlfLkiGjzvFfO+PKcEvOMap3SyErD9pp8Z+7/NIulfOWByQYYkIjTFr14UVxVWA0\
    jDC+l4F620/yyafUC5YqzQDsEOFITGrsnrCu1fy+AdocIEOxc7+XP5ZDTGD4nGg==";
const FLIPFLOP_ROOT: &str = "e05d50857029a0ae4f86b9563239b5b1f2097b76108e692034b16358221cea97";

fn b64(text: &str) -> Vec<u8> {
    let compact: String = text.split_whitespace().collect();
    STANDARD.decode(compact).unwrap()
}

#[test]
fn real_ccf_node_signature_over_the_root_verifies() {
    let cert = Certificate::from_pem(EOL_NODE_CERT).unwrap();
    let key = cert.public_key().unwrap();
    assert_eq!(key.curve(), Curve::P384);
    let root = hex::decode(EOL_ROOT).unwrap();
    let sig = b64(EOL_SIG_B64);
    key.verify_prehashed_der(&root, &sig).unwrap();

    let mut other_root = root.clone();
    other_root[0] ^= 1;
    assert_eq!(
        key.verify_prehashed_der(&other_root, &sig),
        Err(CryptoError::BadSignature)
    );
    let mut other_sig = sig.clone();
    let last = other_sig.len() - 1;
    other_sig[last] ^= 1;
    assert_eq!(
        key.verify_prehashed_der(&root, &other_sig),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn real_node_id_is_sha256_of_the_node_spki() {
    let cert = Certificate::from_pem(EOL_NODE_CERT).unwrap();
    let key = cert.public_key().unwrap();
    assert_eq!(key.node_id().as_str(), EOL_NODE);
    // The canonical SPKI we keep is byte-identical to the one in CCF's certificate.
    assert_eq!(key.spki_der(), cert.spki_der().unwrap());
}

#[test]
fn real_node_certificate_is_endorsed_by_the_service_certificate() {
    let service = Certificate::from_pem(testdata!("eol_service/common/service_cert.pem")).unwrap();
    let node = Certificate::from_pem(EOL_NODE_CERT).unwrap();
    node.verify_issued_by(&service.public_key().unwrap())
        .unwrap();
    service
        .verify_issued_by(&service.public_key().unwrap())
        .unwrap();
    assert_eq!(
        node.verify_issued_by(&node.public_key().unwrap()),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        service.subject_common_name().as_deref(),
        Some("CCF Network")
    );
    assert_eq!(node.subject_common_name().as_deref(), Some("CCF Node"));
    // Not Before: Feb 17 16:26:37 2025 GMT, Not After: Feb 16 16:26:36 2026 GMT (openssl x509).
    assert_eq!(service.validity_unix(), Ok((1_739_809_597, 1_771_259_196)));
}

#[test]
fn real_ccf_cose_root_signature_verifies_with_the_service_certificate() {
    let service =
        Certificate::from_pem(testdata!("cose_flipflop_service/common/service_cert.pem")).unwrap();
    let key = service.public_key().unwrap();
    let root = hex::decode(FLIPFLOP_ROOT).unwrap();
    let msg = Sign1::parse(&b64(FLIPFLOP_COSE_B64)).unwrap();

    assert_eq!(msg.payload, None, "CCF detaches the root");
    assert!(msg.unprotected.is_empty());
    assert_eq!(msg.alg(), Some(-35));
    msg.verify(&key, Some(&root)).unwrap();

    let mut flipped_root = root.clone();
    flipped_root[31] ^= 1;
    assert_eq!(
        msg.verify(&key, Some(&flipped_root)),
        Err(CryptoError::BadSignature)
    );
    let mut flipped_sig = msg.clone();
    flipped_sig.signature[0] ^= 1;
    assert_eq!(
        flipped_sig.verify(&key, Some(&root)),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn real_ccf_cose_header_carries_kid_vds_cwt_and_txid_in_ccf_order() {
    let service =
        Certificate::from_pem(testdata!("cose_flipflop_service/common/service_cert.pem")).unwrap();
    let msg = Sign1::parse(&b64(FLIPFLOP_COSE_B64)).unwrap();
    let kid = sha256(service.public_key().unwrap().spki_der()).to_hex();
    assert_eq!(
        msg.protected_get(&Label::Int(HEADER_KID)),
        Some(&Value::Bytes(kid.into_bytes()))
    );
    assert_eq!(
        msg.protected_get(&Label::Int(HEADER_VDS)),
        Some(&Value::Integer(2.into()))
    );
    let labels: Vec<Label> = msg.protected.iter().map(|(l, _)| l.clone()).collect();
    assert_eq!(
        labels,
        vec![
            Label::Int(1),
            Label::Int(4),
            Label::Int(395),
            Label::Int(15),
            Label::Text("ccf.v1".into())
        ]
    );
    let txid = Value::Map(vec![(
        Value::Text("txid".into()),
        Value::Text("2.16".into()),
    )]);
    assert_eq!(
        msg.protected_get(&Label::Text("ccf.v1".into())),
        Some(&txid)
    );
}

#[test]
fn sign1_reproduces_ccf_protected_header_bytes() {
    // Re-sign CCF's own header entries (all but alg) with a P-384 key of ours: the protected
    // bytes must come out identical, so our signatures are over what CCF would sign.
    let ccf = Sign1::parse(&b64(FLIPFLOP_COSE_B64)).unwrap();
    let extras: Vec<(Label, Value)> = ccf.protected[1..].to_vec();
    let key = EcKeyPair::generate(
        Curve::P384,
        &mut cloister_crypto::SeededEntropy::from_seed(1),
    )
    .unwrap();
    let root = hex::decode(FLIPFLOP_ROOT).unwrap();
    let ours = Sign1::parse(&cose::sign1(&key, &extras, &root, true).unwrap()).unwrap();
    assert_eq!(ours.protected_bytes, ccf.protected_bytes);
    ours.verify(&key.public_key(), Some(&root)).unwrap();
    // And the whole envelope has CCF's shape: only the signature differs.
    let ccf_bytes = b64(FLIPFLOP_COSE_B64);
    let our_bytes = ours.encode().unwrap();
    assert_eq!(our_bytes.len(), ccf_bytes.len());
    assert_eq!(
        our_bytes[..our_bytes.len() - 96],
        ccf_bytes[..ccf_bytes.len() - 96]
    );
}

#[test]
fn testdata_certificates_parse_and_ids_match_the_ledgers() {
    // Member and user ids as keyed in public:ccf.gov.{members,users}.certs of each ledger.
    let cases = [
        (
            testdata!("eol_service/common/member0_cert.pem"),
            "aca4ad6e2086e0fd9cba1d8a4c3fe932941aee60df7896f0a209471d909899f0",
        ),
        (testdata!("eol_service/common/member1_cert.pem"), ""),
        (testdata!("eol_service/common/member2_cert.pem"), ""),
        (
            testdata!("eol_service/common/user0_cert.pem"),
            "b01fd09b65a5641893e12e7e58ed77b5bc823141e2708a395630136bc33cb39e",
        ),
        (
            testdata!("cose_flipflop_service/common/member0_cert.pem"),
            "46d2a7518877166654dfa07d9c4c5aaa0ba82a3f62648216f45fdd7de0e79b38",
        ),
        (
            testdata!("cose_flipflop_service/common/user0_cert.pem"),
            "1a260cad24689b6241f59cab47f9b144c97b1f358c092361d37cb1173e7edb68",
        ),
    ];
    let eol_members = [
        "aca4ad6e2086e0fd9cba1d8a4c3fe932941aee60df7896f0a209471d909899f0",
        "b9180f92adaf4add7ccdf09843c7c95f56e541cec32f555049d55bb11c85f93d",
        "e13f0ff7c90f52bb3a3ecef48dba9bfbe56c841ad3aa3e0ac11b5bc6fa767e70",
    ];
    for (pem, id) in cases {
        let cert = Certificate::from_pem(pem).unwrap();
        // Member and user certificates from keygenerator.sh are self-signed.
        cert.verify_issued_by(&cert.public_key().unwrap()).unwrap();
        assert_eq!(cert.member_id().as_str(), cert.user_id().as_str());
        if id.is_empty() {
            assert!(
                eol_members.contains(&cert.member_id().as_str()),
                "{:?}",
                cert.member_id()
            );
        } else {
            assert_eq!(cert.member_id().as_str(), id);
        }
    }
}

#[test]
fn every_service_certificate_parses_and_is_self_signed() {
    for pem in [
        testdata!("eol_service/common/service_cert.pem"),
        testdata!("sgx_service/common/service_cert.pem"),
        testdata!("cose_flipflop_service/common/service_cert.pem"),
        testdata!("double_sealed_service/common/service_cert.pem"),
        testdata!("expired_service/common/service_cert.pem"),
    ] {
        let cert = Certificate::from_pem(pem).unwrap();
        assert_eq!(cert.public_key().unwrap().curve(), Curve::P384);
        cert.verify_issued_by(&cert.public_key().unwrap()).unwrap();
        let (not_before, not_after) = cert.validity_unix().unwrap();
        assert!(not_before < not_after);
    }
}

#[test]
fn pem_with_a_trailing_nul_parses() {
    let pem = format!("{}\0", testdata!("eol_service/common/service_cert.pem"));
    let cert = Certificate::from_pem(&pem).unwrap();
    assert_eq!(
        cert,
        Certificate::from_pem(testdata!("eol_service/common/service_cert.pem")).unwrap()
    );
}

#[test]
fn ccf_ec_parameters_private_keys_load_and_sign_for_their_certificates() {
    let pairs = [
        (
            testdata!("eol_service/common/member0_privk.pem"),
            testdata!("eol_service/common/member0_cert.pem"),
        ),
        (
            testdata!("eol_service/common/user0_privk.pem"),
            testdata!("eol_service/common/user0_cert.pem"),
        ),
        // This one is a SEC1 key without the optional public key: it must be derived.
        (
            testdata!("cose_flipflop_service/common/member0_privk.pem"),
            testdata!("cose_flipflop_service/common/member0_cert.pem"),
        ),
    ];
    for (key_pem, cert_pem) in pairs {
        assert!(key_pem.starts_with("-----BEGIN EC PARAMETERS-----"));
        let key = EcKeyPair::from_pem(key_pem).unwrap();
        let cert_key = Certificate::from_pem(cert_pem)
            .unwrap()
            .public_key()
            .unwrap();
        assert_eq!(key.public_key(), cert_key);

        let digest = sha256(b"a governance request").0;
        cert_key
            .verify_prehashed_der(&digest, &key.sign_prehashed_der(&digest).unwrap())
            .unwrap();
        let signed = cose::sign1(&key, &[], b"{}", false).unwrap();
        Sign1::parse(&signed)
            .unwrap()
            .verify(&cert_key, None)
            .unwrap();
    }
}

#[test]
fn rsa_encryption_keys_are_not_ec_keys() {
    let rsa = testdata!("eol_service/common/member0_enc_pubk.pem");
    assert!(matches!(
        cloister_crypto::EcPublicKey::from_pem(rsa),
        Err(CryptoError::UnsupportedCurve(_))
    ));
}
