//! X.509 certificates: parsing (x509-parser), issuing (rcgen, with our own signer so every
//! signature goes through `EcKeyPair`), and CCF's identity rules (spec/ccf-internals.md §7):
//! MemberId/UserId = hex SHA-256 of the certificate DER, NodeId = hex SHA-256 of the SPKI DER.

use std::fmt;

use aws_lc_rs::signature::{self as sig, EcdsaVerificationAlgorithm};
use cloister_types::{MemberId, UserId};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyUsagePurpose,
    PublicKeyData, SerialNumber, SignatureAlgorithm, SigningKey,
};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::ecdsa::{Curve, EcKeyPair, EcPublicKey};
use crate::error::CryptoError;
use crate::hash::{sha256, sha256_concat};
use crate::pem::{encode_pem, first_pem_block, parse_pem_blocks};

/// A parsed X.509 certificate; the DER is kept as given (ids hash it).
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    signature_oid: String,
    signature: Vec<u8>,
    spki: Vec<u8>,
    subject_cn: Option<String>,
    not_before_unix: i64,
    not_after_unix: i64,
}

impl Certificate {
    /// The first `CERTIFICATE` block. Tolerates one trailing NUL (older CCF ledgers stored
    /// PEM with it, spec §2.6) and any text outside the block.
    pub fn from_pem(pem: &str) -> Result<Certificate, CryptoError> {
        Certificate::from_der(&first_pem_block(pem, &["CERTIFICATE"])?.der)
    }

    /// Parses one DER certificate; trailing bytes are refused.
    pub fn from_der(der: &[u8]) -> Result<Certificate, CryptoError> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(malformed(format!(
                "{} bytes after the certificate",
                rest.len()
            )));
        }
        let tbs = &cert.tbs_certificate;
        let signature_oid = cert.signature_algorithm.algorithm.to_id_string();
        // RFC 5280 §4.1.1.2: the outer algorithm must equal the one inside the signed part.
        if tbs.signature.algorithm.to_id_string() != signature_oid {
            return Err(malformed(
                "signature algorithm differs inside and outside the TBS".into(),
            ));
        }
        let subject_cn = match tbs.subject.iter_common_name().next() {
            Some(cn) => Some(
                cn.as_str()
                    .map_err(|e| malformed(e.to_string()))?
                    .to_owned(),
            ),
            None => None,
        };
        Ok(Certificate {
            der: der.to_vec(),
            tbs: tbs.as_ref().to_vec(),
            signature_oid,
            signature: cert.signature_value.data.to_vec(),
            spki: tbs.subject_pki.raw.to_vec(),
            subject_cn,
            not_before_unix: tbs.validity.not_before.timestamp(),
            not_after_unix: tbs.validity.not_after.timestamp(),
        })
    }

    /// Every `CERTIFICATE` block, in order (none gives an empty list; other blocks are skipped).
    pub fn all_from_pem(pem: &str) -> Result<Vec<Certificate>, CryptoError> {
        parse_pem_blocks(pem)?
            .into_iter()
            .filter(|block| block.label == "CERTIFICATE")
            .map(|block| Certificate::from_der(&block.der))
            .collect()
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn to_pem(&self) -> String {
        encode_pem("CERTIFICATE", &self.der)
    }

    /// The subject's EC public key (P-256 or P-384).
    pub fn public_key(&self) -> Result<EcPublicKey, CryptoError> {
        EcPublicKey::from_spki_der(&self.spki)
    }

    /// The subject's SubjectPublicKeyInfo exactly as it appears in the certificate.
    pub fn spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        Ok(self.spki.clone())
    }

    /// Checks this certificate's signature with `issuer`'s key, using the digest its
    /// signatureAlgorithm names (ecdsa-with-SHA256/384/512).
    pub fn verify_issued_by(&self, issuer: &EcPublicKey) -> Result<(), CryptoError> {
        let algorithm = verification_algorithm(issuer.curve(), &self.signature_oid)?;
        issuer.verify_with(algorithm, &self.tbs, &self.signature)
    }

    pub fn subject_common_name(&self) -> Option<String> {
        self.subject_cn.clone()
    }

    /// (not_before, not_after) in unix seconds.
    pub fn validity_unix(&self) -> Result<(i64, i64), CryptoError> {
        Ok((self.not_before_unix, self.not_after_unix))
    }

    /// CCF's member id for this certificate: hex SHA-256 of the DER.
    pub fn member_id(&self) -> MemberId {
        MemberId::from_digest(&sha256(&self.der).0)
    }

    /// CCF's user id for this certificate: hex SHA-256 of the DER.
    pub fn user_id(&self) -> UserId {
        UserId::from_digest(&sha256(&self.der).0)
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject_cn", &self.subject_cn)
            .field("der_sha256", &sha256(&self.der).to_hex())
            .finish_non_exhaustive()
    }
}

/// What to put in a certificate. Times are inputs (no clock): unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSpec {
    pub subject_cn: String,
    /// DNS names or IP addresses (an entry that parses as an IP becomes an IP SAN).
    pub sans: Vec<String>,
    pub not_before_unix: i64,
    pub not_after_unix: i64,
    /// CA:TRUE with pathlen 1, as CCF's service certificate; otherwise an explicit CA:FALSE,
    /// as CCF's endorsed node certificates.
    pub is_ca: bool,
}

/// A certificate for `key`'s public key signed by `key` itself (CCF's service identity, §7).
pub fn issue_self_signed(
    key: &EcKeyPair,
    spec: &CertificateSpec,
) -> Result<Certificate, CryptoError> {
    let public = key.public_key();
    let params = certificate_params(spec, &public, &public)?;
    let signer = RcgenSigner {
        key,
        public: &public,
    };
    let cert = params.self_signed(&signer).map_err(issuance)?;
    Certificate::from_der(cert.der())
}

/// A certificate for `subject` signed by `issuer_key` whose certificate is `issuer_cert` (CCF's
/// node endorsement by the service identity, §7).
pub fn issue_endorsed(
    subject: &EcPublicKey,
    spec: &CertificateSpec,
    issuer_key: &EcKeyPair,
    issuer_cert: &Certificate,
) -> Result<Certificate, CryptoError> {
    let issuer_public = issuer_key.public_key();
    if issuer_cert.public_key()? != issuer_public {
        return Err(CryptoError::CertificateIssuance(
            "the issuer key is not the key of the issuer certificate".into(),
        ));
    }
    let params = certificate_params(spec, subject, &issuer_public)?;
    let signer = RcgenSigner {
        key: issuer_key,
        public: &issuer_public,
    };
    let issuer = Issuer::from_ca_cert_der(&issuer_cert.der().into(), signer).map_err(issuance)?;
    let cert = params
        .signed_by(&RcgenPublicKey(subject), &issuer)
        .map_err(issuance)?;
    Certificate::from_der(cert.der())
}

fn certificate_params(
    spec: &CertificateSpec,
    subject: &EcPublicKey,
    issuer: &EcPublicKey,
) -> Result<CertificateParams, CryptoError> {
    if spec.not_before_unix > spec.not_after_unix {
        return Err(CryptoError::CertificateIssuance(
            "not_before is after not_after".into(),
        ));
    }
    let mut params = CertificateParams::new(spec.sans.clone()).map_err(issuance)?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, spec.subject_cn.as_str());
    params.distinguished_name = name;
    params.not_before = unix_time(spec.not_before_unix)?;
    params.not_after = unix_time(spec.not_after_unix)?;
    params.is_ca = if spec.is_ca {
        IsCa::Ca(BasicConstraints::Constrained(1))
    } else {
        IsCa::ExplicitNoCa
    };
    if spec.is_ca {
        // CCF 6's service certificate carries no keyUsage, but RFC 5280 wants keyCertSign on a
        // CA, and strict verifiers (Python cryptography's, behind ccf.receipt.check_cert_chain)
        // refuse a chain without it.
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
    }
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(serial_number(spec, subject, issuer));
    Ok(params)
}

/// A 16-byte positive serial, as CCF uses, derived from everything that names the certificate
/// rather than drawn at random: issuing stays a pure function of its inputs (sans-IO), and a
/// renewal (new validity) still gets a new serial.
fn serial_number(
    spec: &CertificateSpec,
    subject: &EcPublicKey,
    issuer: &EcPublicKey,
) -> SerialNumber {
    let digest = sha256_concat(&[
        b"cloister x509 serial v1",
        subject.spki_der(),
        issuer.spki_der(),
        spec.subject_cn.as_bytes(),
        &spec.not_before_unix.to_le_bytes(),
        &spec.not_after_unix.to_le_bytes(),
    ]);
    let mut serial = digest.0[..16].to_vec();
    serial[0] &= 0x7f;
    SerialNumber::from(serial)
}

fn unix_time(seconds: i64) -> Result<OffsetDateTime, CryptoError> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|e| CryptoError::CertificateIssuance(format!("time {seconds} out of range: {e}")))
}

fn verification_algorithm(
    issuer_curve: Curve,
    signature_oid: &str,
) -> Result<&'static EcdsaVerificationAlgorithm, CryptoError> {
    let algorithm = match (issuer_curve, signature_oid) {
        (Curve::P256, ECDSA_WITH_SHA256) => &sig::ECDSA_P256_SHA256_ASN1,
        (Curve::P256, ECDSA_WITH_SHA384) => &sig::ECDSA_P256_SHA384_ASN1,
        (Curve::P256, ECDSA_WITH_SHA512) => &sig::ECDSA_P256_SHA512_ASN1,
        (Curve::P384, ECDSA_WITH_SHA256) => &sig::ECDSA_P384_SHA256_ASN1,
        (Curve::P384, ECDSA_WITH_SHA384) => &sig::ECDSA_P384_SHA384_ASN1,
        (Curve::P384, ECDSA_WITH_SHA512) => &sig::ECDSA_P384_SHA512_ASN1,
        (_, other) => return Err(CryptoError::UnsupportedSignatureAlgorithm(other.to_owned())),
    };
    Ok(algorithm)
}

const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_WITH_SHA384: &str = "1.2.840.10045.4.3.3";
const ECDSA_WITH_SHA512: &str = "1.2.840.10045.4.3.4";

fn rcgen_algorithm(curve: Curve) -> &'static SignatureAlgorithm {
    match curve {
        Curve::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        Curve::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
    }
}

/// Lets rcgen sign through `EcKeyPair`, with the hash that matches the curve (SHA-384 for
/// P-384, as CCF's certificates are signed, §7).
struct RcgenSigner<'a> {
    key: &'a EcKeyPair,
    public: &'a EcPublicKey,
}

impl PublicKeyData for RcgenSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.public.point()
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        rcgen_algorithm(self.key.curve())
    }
}

impl SigningKey for RcgenSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key
            .sign_der(msg)
            .map_err(|_| rcgen::Error::RingUnspecified)
    }
}

/// The subject key of an endorsed certificate, for rcgen.
struct RcgenPublicKey<'a>(&'a EcPublicKey);

impl PublicKeyData for RcgenPublicKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0.point()
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        rcgen_algorithm(self.0.curve())
    }
}

fn malformed(why: String) -> CryptoError {
    CryptoError::MalformedCertificate(why)
}

fn issuance(error: rcgen::Error) -> CryptoError {
    CryptoError::CertificateIssuance(error.to_string())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::entropy::SeededEntropy;

    fn key(curve: Curve, seed: u64) -> EcKeyPair {
        EcKeyPair::generate(curve, &mut SeededEntropy::from_seed(seed)).unwrap()
    }

    fn spec(cn: &str, is_ca: bool) -> CertificateSpec {
        CertificateSpec {
            subject_cn: cn.into(),
            sans: vec!["127.0.0.1".into(), "node.example".into()],
            not_before_unix: 1_700_000_000,
            not_after_unix: 1_700_086_400,
            is_ca,
        }
    }

    #[test]
    fn self_signed_p384_ca_verifies_with_its_own_key() {
        let service = key(Curve::P384, 1);
        let cert = issue_self_signed(&service, &spec("CCF Service", true)).unwrap();
        cert.verify_issued_by(&service.public_key()).unwrap();
        assert_eq!(cert.public_key().unwrap(), service.public_key());
        assert_eq!(cert.subject_common_name().as_deref(), Some("CCF Service"));
        assert_eq!(cert.validity_unix(), Ok((1_700_000_000, 1_700_086_400)));
        assert_eq!(cert.signature_oid, ECDSA_WITH_SHA384);
        assert_eq!(
            cert.verify_issued_by(&key(Curve::P384, 2).public_key()),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn endorsed_certificate_verifies_with_issuer_and_not_another_key() {
        let service = key(Curve::P384, 1);
        let service_cert = issue_self_signed(&service, &spec("CCF Service", true)).unwrap();
        for node_curve in [Curve::P384, Curve::P256] {
            let node = key(node_curve, 3).public_key();
            let endorsed =
                issue_endorsed(&node, &spec("CCF Node", false), &service, &service_cert).unwrap();
            endorsed.verify_issued_by(&service.public_key()).unwrap();
            assert_eq!(
                endorsed.verify_issued_by(&key(Curve::P384, 4).public_key()),
                Err(CryptoError::BadSignature)
            );
            assert_eq!(
                endorsed.verify_issued_by(&node),
                Err(CryptoError::BadSignature)
            );
            assert_eq!(endorsed.public_key().unwrap(), node);
            assert_eq!(endorsed.spki_der().unwrap(), node.spki_der());
        }
    }

    #[test]
    fn endorsing_with_a_key_that_is_not_the_issuers_is_refused() {
        let service = key(Curve::P384, 1);
        let service_cert = issue_self_signed(&service, &spec("CCF Service", true)).unwrap();
        let node = key(Curve::P384, 3).public_key();
        let result = issue_endorsed(
            &node,
            &spec("CCF Node", false),
            &key(Curve::P384, 9),
            &service_cert,
        );
        assert!(matches!(result, Err(CryptoError::CertificateIssuance(_))));
    }

    #[test]
    fn issuing_refuses_inverted_validity() {
        let mut bad = spec("x", false);
        bad.not_before_unix = bad.not_after_unix + 1;
        assert!(matches!(
            issue_self_signed(&key(Curve::P256, 1), &bad),
            Err(CryptoError::CertificateIssuance(_))
        ));
    }

    #[test]
    fn issuing_is_a_pure_function_of_its_inputs() {
        let service = key(Curve::P384, 1);
        let a = issue_self_signed(&service, &spec("CCF Service", true)).unwrap();
        let b = issue_self_signed(&service, &spec("CCF Service", true)).unwrap();
        // A seeded key signs with RFC 6979 nonces, so even the signature is the same.
        assert_eq!(a, b);
        // The same key read from PEM (not opted in) signs randomly with aws-lc; everything
        // signed is still the same.
        let random = EcKeyPair::from_pem(&service.to_pem()).unwrap();
        let c = issue_self_signed(&random, &spec("CCF Service", true)).unwrap();
        let d = issue_self_signed(&random, &spec("CCF Service", true)).unwrap();
        assert_eq!(c.tbs, d.tbs);
        assert_ne!(c.signature, d.signature);
        c.verify_issued_by(&service.public_key()).unwrap();
        let mut renewed = spec("CCF Service", true);
        renewed.not_after_unix += 1;
        let e = issue_self_signed(&service, &renewed).unwrap();
        let serial = |cert: &Certificate| {
            X509Certificate::from_der(&cert.der)
                .unwrap()
                .1
                .tbs_certificate
                .raw_serial()
                .to_vec()
        };
        assert_eq!(serial(&a), serial(&b));
        assert_ne!(serial(&a), serial(&e));
    }

    #[test]
    fn pem_round_trips_and_all_from_pem_reads_every_certificate() {
        let one = issue_self_signed(&key(Curve::P256, 1), &spec("a", true)).unwrap();
        let two = issue_self_signed(&key(Curve::P384, 2), &spec("b", true)).unwrap();
        assert_eq!(Certificate::from_pem(&one.to_pem()).unwrap(), one);
        let both = format!("{}{}", one.to_pem(), two.to_pem());
        assert_eq!(
            Certificate::all_from_pem(&both).unwrap(),
            vec![one.clone(), two]
        );
        assert_eq!(Certificate::all_from_pem("").unwrap(), vec![]);
        let with_nul = format!("{}\0", one.to_pem());
        assert_eq!(Certificate::from_pem(&with_nul).unwrap(), one);
    }

    #[test]
    fn ids_hash_the_certificate_der() {
        let cert = issue_self_signed(&key(Curve::P384, 1), &spec("member0", true)).unwrap();
        assert_eq!(cert.member_id().as_str(), sha256(cert.der()).to_hex());
        assert_eq!(cert.user_id().as_str(), sha256(cert.der()).to_hex());
    }

    #[test]
    fn from_der_refuses_trailing_bytes_and_garbage() {
        let cert = issue_self_signed(&key(Curve::P256, 1), &spec("a", true)).unwrap();
        let mut der = cert.der().to_vec();
        der.push(0);
        assert!(matches!(
            Certificate::from_der(&der),
            Err(CryptoError::MalformedCertificate(_))
        ));
        assert!(matches!(
            Certificate::from_der(b"nope"),
            Err(CryptoError::MalformedCertificate(_))
        ));
    }

    #[test]
    fn a_modified_certificate_no_longer_verifies() {
        let service = key(Curve::P384, 1);
        let cert = issue_self_signed(&service, &spec("CCF Service", true)).unwrap();
        let mut der = cert.der().to_vec();
        // Flip a bit inside the subject CN ("CCF Service" → "BCF Service").
        let at = der.windows(11).position(|w| w == b"CCF Service").unwrap();
        der[at] ^= 1;
        let tampered = Certificate::from_der(&der).unwrap();
        assert_eq!(
            tampered.verify_issued_by(&service.public_key()),
            Err(CryptoError::BadSignature)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn certificate_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = Certificate::from_der(&bytes);
        }

        #[test]
        fn mutated_certificates_never_panic(at in 0usize..600, bit in 0u8..8) {
            let cert = issue_self_signed(&key(Curve::P256, 1), &spec("a", true)).unwrap();
            let mut der = cert.der().to_vec();
            let at = at % der.len();
            der[at] ^= 1 << bit;
            if let Ok(parsed) = Certificate::from_der(&der) {
                let _ = parsed.verify_issued_by(&key(Curve::P256, 1).public_key());
                let _ = parsed.public_key();
            }
        }
    }
}
