//! AMD's endorsement certificates (VCEK, ASK, ARK): what verification needs from each, read
//! with x509-parser, and their RSASSA-PSS signatures checked through cloister-crypto.

use cloister_crypto::{HashAlg, rsa_pss_verify};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::signature_algorithm::SignatureAlgorithm;

use crate::error::SnpError;

/// How a certificate is signed: AMD signs ARK, ASK and VCEK with RSASSA-PSS; anything else
/// is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signing {
    Pss { hash: HashAlg, salt_len: usize },
    Unsupported,
}

/// One endorsement certificate, reduced to owned parts.
#[derive(Clone, Debug)]
pub(crate) struct EndorsementCert {
    tbs: Vec<u8>,
    signature: Vec<u8>,
    signing: Signing,
    pub(crate) spki: Vec<u8>,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    is_ca: bool,
    /// (dotted OID, the extnValue OCTET STRING's contents).
    extensions: Vec<(String, Vec<u8>)>,
}

impl EndorsementCert {
    pub(crate) fn from_der(index: usize, der: &[u8]) -> Result<EndorsementCert, SnpError> {
        let bad = |reason: String| SnpError::BadCertificate { index, reason };
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
        if !rest.is_empty() {
            return Err(bad(format!("{} bytes after the certificate", rest.len())));
        }
        let signing = match SignatureAlgorithm::try_from(&cert.signature_algorithm) {
            Ok(SignatureAlgorithm::RSASSA_PSS(params)) => {
                match (
                    hash_of(&params.hash_algorithm_oid().to_id_string()),
                    usize::try_from(params.salt_length()),
                ) {
                    (Some(hash), Ok(salt_len)) => Signing::Pss { hash, salt_len },
                    _ => Signing::Unsupported,
                }
            }
            _ => Signing::Unsupported,
        };
        let is_ca = matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
        Ok(EndorsementCert {
            tbs: cert.tbs_certificate.as_ref().to_vec(),
            signature: cert.signature_value.data.to_vec(),
            signing,
            spki: cert.tbs_certificate.subject_pki.raw.to_vec(),
            subject: cert.subject().as_raw().to_vec(),
            issuer: cert.issuer().as_raw().to_vec(),
            is_ca,
            extensions: cert
                .extensions()
                .iter()
                .map(|ext| (ext.oid.to_id_string(), ext.value.to_vec()))
                .collect(),
        })
    }

    /// Whether `issuer` issued this certificate: names chain, the issuer is a CA, and the
    /// signature verifies with the issuer's key.
    pub(crate) fn issued_by(&self, issuer: &EndorsementCert) -> bool {
        issuer.is_ca && self.issuer == issuer.subject && self.signed_by(&issuer.spki)
    }

    /// Whether the signature verifies with the RSA key `spki`.
    pub(crate) fn signed_by(&self, spki: &[u8]) -> bool {
        match self.signing {
            Signing::Pss { hash, salt_len } => {
                rsa_pss_verify(spki, hash, salt_len, &self.tbs, &self.signature).unwrap_or(false)
            }
            Signing::Unsupported => false,
        }
    }

    /// The contents of the extension `oid`, if present.
    pub(crate) fn extension(&self, oid: &str) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(id, _)| id == oid)
            .map(|(_, value)| value.as_slice())
    }
}

/// The three certificates of a PEM bundle, VCEK first (CCF's order: chip, SEV version, root).
pub(crate) fn split_endorsements(
    pem: &str,
) -> Result<(EndorsementCert, EndorsementCert, EndorsementCert), SnpError> {
    let blocks = cloister_crypto::parse_pem_blocks(pem).map_err(|e| SnpError::BadCertificate {
        index: 0,
        reason: e.to_string(),
    })?;
    let ders: Vec<&[u8]> = blocks
        .iter()
        .filter(|block| block.label == "CERTIFICATE")
        .map(|block| block.der.as_slice())
        .collect();
    let [vcek, ask, ark] = ders.as_slice() else {
        return Err(SnpError::EndorsementCount(ders.len()));
    };
    Ok((
        EndorsementCert::from_der(0, vcek)?,
        EndorsementCert::from_der(1, ask)?,
        EndorsementCert::from_der(2, ark)?,
    ))
}

fn hash_of(oid: &str) -> Option<HashAlg> {
    match oid {
        "2.16.840.1.101.3.4.2.1" => Some(HashAlg::Sha256),
        "2.16.840.1.101.3.4.2.2" => Some(HashAlg::Sha384),
        "2.16.840.1.101.3.4.2.3" => Some(HashAlg::Sha512),
        _ => None,
    }
}
