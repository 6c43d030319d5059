//! PKCS#10 certificate signing requests (RFC 2986), as CCF's join protocol uses them: a joining
//! node sends a CSR for its own key (subject CN and SANs), the service checks the CSR's
//! self-signature and that its key is the node's TLS key, and endorses it with the service key
//! (spec/ccf-api.md §6; CCF's `create_endorsed_cert`).
//!
//! Creation goes through rcgen with our own signer (every signature through `EcKeyPair`);
//! parsing and the self-signature check go through x509-parser and aws-lc here, so a CSR with
//! extensions rcgen's own reader refuses is still read.

use core::net::IpAddr;
use std::fmt;

use aws_lc_rs::signature::{self as sig, EcdsaVerificationAlgorithm};
use rcgen::{
    CertificateParams, DistinguishedName, DnType, PublicKeyData, SignatureAlgorithm, SigningKey,
};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use crate::ecdsa::{Curve, EcKeyPair, EcPublicKey};
use crate::error::CryptoError;
use crate::pem::{encode_pem, first_pem_block};
use crate::x509::{Certificate, CertificateSpec, issue_endorsed};

/// The PEM label of a PKCS#10 request (OpenSSL also reads the older "NEW CERTIFICATE REQUEST").
const CSR_LABELS: &[&str] = &["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

/// The subject CN an endorsed certificate gets when the CSR names none (CCF's default).
const DEFAULT_SUBJECT_CN: &str = "CCF Node";

/// A parsed CSR whose self-signature has been checked: its key really asked for it.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateSigningRequest {
    der: Vec<u8>,
    subject_cn: Option<String>,
    /// DNS names and IP addresses from the extensionRequest's subjectAltName, in order.
    sans: Vec<String>,
    public_key: EcPublicKey,
}

impl CertificateSigningRequest {
    /// A CSR for `key`'s public key with subject `CN=subject_cn` and `sans` (an entry that
    /// parses as an IP address becomes an IP SAN, others DNS names), signed by `key`.
    pub fn create(
        key: &EcKeyPair,
        subject_cn: &str,
        sans: &[String],
    ) -> Result<CertificateSigningRequest, CryptoError> {
        let mut params = CertificateParams::new(sans.to_vec()).map_err(issuance)?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, subject_cn);
        params.distinguished_name = name;
        let public = key.public_key();
        let signer = CsrSigner {
            key,
            public: &public,
        };
        let csr = params.serialize_request(&signer).map_err(issuance)?;
        CertificateSigningRequest::from_der(csr.der())
    }

    /// Parses the first `CERTIFICATE REQUEST` PEM block and checks its self-signature.
    pub fn from_pem(pem: &str) -> Result<CertificateSigningRequest, CryptoError> {
        CertificateSigningRequest::from_der(&first_pem_block(pem, CSR_LABELS)?.der)
    }

    /// Parses one DER CSR (trailing bytes refused) and checks its self-signature.
    pub fn from_der(der: &[u8]) -> Result<CertificateSigningRequest, CryptoError> {
        let (rest, csr) =
            X509CertificationRequest::from_der(der).map_err(|e| malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(malformed(format!("{} bytes after the request", rest.len())));
        }
        let info = &csr.certification_request_info;
        let public_key = EcPublicKey::from_spki_der(info.subject_pki.raw)?;
        let signature_oid = csr.signature_algorithm.algorithm.to_id_string();
        let algorithm = verification_algorithm(public_key.curve(), &signature_oid)?;
        public_key.verify_with(algorithm, info.raw, csr.signature_value.data.as_ref())?;
        let subject_cn = match info.subject.iter_common_name().next() {
            Some(cn) => Some(
                cn.as_str()
                    .map_err(|e| malformed(e.to_string()))?
                    .to_owned(),
            ),
            None => None,
        };
        let mut sans = Vec::new();
        for extension in csr.requested_extensions().into_iter().flatten() {
            if let ParsedExtension::SubjectAlternativeName(names) = extension {
                for name in &names.general_names {
                    sans.push(san_text(name)?);
                }
            }
        }
        Ok(CertificateSigningRequest {
            der: der.to_vec(),
            subject_cn,
            sans,
            public_key,
        })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn to_pem(&self) -> String {
        encode_pem("CERTIFICATE REQUEST", &self.der)
    }

    /// The key the CSR asks a certificate for (its self-signature verified with it).
    pub fn public_key(&self) -> &EcPublicKey {
        &self.public_key
    }

    /// The requested key's SubjectPublicKeyInfo DER (canonical form: NodeIds hash it).
    pub fn spki_der(&self) -> &[u8] {
        self.public_key.spki_der()
    }

    pub fn subject_common_name(&self) -> Option<&str> {
        self.subject_cn.as_deref()
    }

    /// The requested DNS names and IP addresses, as text.
    pub fn sans(&self) -> &[String] {
        &self.sans
    }
}

impl fmt::Debug for CertificateSigningRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateSigningRequest")
            .field("subject_cn", &self.subject_cn)
            .field("sans", &self.sans)
            .field("public_key", &self.public_key)
            .finish()
    }
}

/// A certificate for the CSR's key, subject CN and SANs, valid over
/// `[not_before_unix, not_after_unix]`, signed by `issuer_key` whose certificate is
/// `issuer_cert` (CCF's `create_endorsed_cert`: CA:FALSE, issuer = the service).
pub fn issue_from_csr(
    csr: &CertificateSigningRequest,
    not_before_unix: i64,
    not_after_unix: i64,
    issuer_key: &EcKeyPair,
    issuer_cert: &Certificate,
) -> Result<Certificate, CryptoError> {
    let spec = CertificateSpec {
        subject_cn: csr
            .subject_cn
            .clone()
            .unwrap_or_else(|| DEFAULT_SUBJECT_CN.to_owned()),
        sans: csr.sans.clone(),
        not_before_unix,
        not_after_unix,
        is_ca: false,
    };
    issue_endorsed(&csr.public_key, &spec, issuer_key, issuer_cert)
}

/// A SAN as `CertificateSpec` takes it back: DNS names as they are, IPs in their usual text.
fn san_text(name: &GeneralName<'_>) -> Result<String, CryptoError> {
    match name {
        GeneralName::DNSName(dns) => Ok((*dns).to_owned()),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => {
                let octets: [u8; 4] = [bytes[0], bytes[1], bytes[2], bytes[3]];
                Ok(IpAddr::from(octets).to_string())
            }
            16 => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(bytes);
                Ok(IpAddr::from(octets).to_string())
            }
            n => Err(malformed(format!("an IP address SAN of {n} bytes"))),
        },
        // CCF's node CSRs carry only DNS and IP SANs; anything else cannot be re-issued here.
        other => Err(malformed(format!("unsupported subjectAltName {other}"))),
    }
}

fn verification_algorithm(
    curve: Curve,
    signature_oid: &str,
) -> Result<&'static EcdsaVerificationAlgorithm, CryptoError> {
    Ok(match (curve, signature_oid) {
        (Curve::P256, "1.2.840.10045.4.3.2") => &sig::ECDSA_P256_SHA256_ASN1,
        (Curve::P256, "1.2.840.10045.4.3.3") => &sig::ECDSA_P256_SHA384_ASN1,
        (Curve::P256, "1.2.840.10045.4.3.4") => &sig::ECDSA_P256_SHA512_ASN1,
        (Curve::P384, "1.2.840.10045.4.3.2") => &sig::ECDSA_P384_SHA256_ASN1,
        (Curve::P384, "1.2.840.10045.4.3.3") => &sig::ECDSA_P384_SHA384_ASN1,
        (Curve::P384, "1.2.840.10045.4.3.4") => &sig::ECDSA_P384_SHA512_ASN1,
        (_, other) => return Err(CryptoError::UnsupportedSignatureAlgorithm(other.to_owned())),
    })
}

/// Lets rcgen sign the request through `EcKeyPair` (SHA-384 for P-384, as OpenSSL's default).
struct CsrSigner<'a> {
    key: &'a EcKeyPair,
    public: &'a EcPublicKey,
}

impl PublicKeyData for CsrSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.public.point()
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self.key.curve() {
            Curve::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Curve::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

impl SigningKey for CsrSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key
            .sign_der(msg)
            .map_err(|_| rcgen::Error::RingUnspecified)
    }
}

fn malformed(why: String) -> CryptoError {
    CryptoError::MalformedCertificate(format!("certificate signing request: {why}"))
}

fn issuance(error: rcgen::Error) -> CryptoError {
    CryptoError::CertificateIssuance(error.to_string())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::entropy::SeededEntropy;
    use crate::x509::issue_self_signed;

    fn key(curve: Curve, seed: u64) -> EcKeyPair {
        EcKeyPair::generate(curve, &mut SeededEntropy::from_seed(seed)).unwrap()
    }

    fn sans() -> Vec<String> {
        vec!["127.0.0.1".into(), "node1.example".into(), "::1".into()]
    }

    fn service() -> (EcKeyPair, Certificate) {
        let service = key(Curve::P384, 1);
        let spec = CertificateSpec {
            subject_cn: "CCF Service".into(),
            sans: vec![],
            not_before_unix: 1_700_000_000,
            not_after_unix: 1_800_000_000,
            is_ca: true,
        };
        let cert = issue_self_signed(&service, &spec).unwrap();
        (service, cert)
    }

    #[test]
    fn a_csr_round_trips_through_pem_with_its_key_subject_and_sans() {
        for curve in [Curve::P384, Curve::P256] {
            let node = key(curve, 2);
            let csr = CertificateSigningRequest::create(&node, "CCF Node", &sans()).unwrap();
            let pem = csr.to_pem();
            assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
            let parsed = CertificateSigningRequest::from_pem(&pem).unwrap();
            assert_eq!(parsed, csr);
            assert_eq!(parsed.public_key(), &node.public_key());
            assert_eq!(parsed.spki_der(), node.public_key().spki_der());
            assert_eq!(parsed.subject_common_name(), Some("CCF Node"));
            assert_eq!(parsed.sans(), sans().as_slice());
        }
    }

    #[test]
    fn a_tampered_csr_is_refused() {
        let csr =
            CertificateSigningRequest::create(&key(Curve::P384, 2), "CCF Node", &sans()).unwrap();
        let mut der = csr.der().to_vec();
        // "node1.example" → "oode1.example": still parses, no longer matches the signature.
        let at = der.windows(13).position(|w| w == b"node1.example").unwrap();
        der[at] ^= 1;
        assert_eq!(
            CertificateSigningRequest::from_der(&der),
            Err(CryptoError::BadSignature)
        );
        assert!(CertificateSigningRequest::from_der(b"not a csr").is_err());
        let mut trailing = csr.der().to_vec();
        trailing.push(0);
        assert!(CertificateSigningRequest::from_der(&trailing).is_err());
    }

    #[test]
    fn the_issued_certificate_verifies_under_the_service_and_carries_the_csr_key() {
        let (service_key, service_cert) = service();
        for curve in [Curve::P384, Curve::P256] {
            let node = key(curve, 3);
            let csr = CertificateSigningRequest::create(&node, "CCF Node", &sans()).unwrap();
            let cert = issue_from_csr(
                &csr,
                1_700_000_100,
                1_700_086_499,
                &service_key,
                &service_cert,
            )
            .unwrap();
            cert.verify_issued_by(&service_key.public_key()).unwrap();
            assert_eq!(
                cert.verify_issued_by(&node.public_key()),
                Err(CryptoError::BadSignature)
            );
            assert_eq!(cert.public_key().unwrap(), node.public_key());
            assert_eq!(cert.subject_common_name().as_deref(), Some("CCF Node"));
            assert_eq!(cert.validity_unix(), Ok((1_700_000_100, 1_700_086_499)));
            let parsed = x509_parser::parse_x509_certificate(cert.der()).unwrap().1;
            assert!(!parsed.is_ca());
            let san = parsed.subject_alternative_name().unwrap().unwrap().value;
            let names: Vec<String> = san
                .general_names
                .iter()
                .map(|n| san_text(n).unwrap())
                .collect();
            assert_eq!(names, sans());
        }
    }

    #[test]
    fn issuing_with_a_key_that_is_not_the_issuers_is_refused() {
        let (_, service_cert) = service();
        let csr = CertificateSigningRequest::create(&key(Curve::P384, 3), "n", &[]).unwrap();
        assert!(matches!(
            issue_from_csr(&csr, 0, 1, &key(Curve::P384, 9), &service_cert),
            Err(CryptoError::CertificateIssuance(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn mutated_csrs_never_panic(at in 0usize..600, bit in 0u8..8) {
            let csr = CertificateSigningRequest::create(&key(Curve::P256, 4), "n", &sans()).unwrap();
            let mut der = csr.der().to_vec();
            let at = at % der.len();
            der[at] ^= 1 << bit;
            let _ = CertificateSigningRequest::from_der(&der);
        }
    }
}
