//! CCF's `isValidX509CertChain(chain, trusted)`: the first certificate of `chain` is the
//! target, the rest are intermediates; the chain is valid when signatures lead from the target
//! through CA intermediates to a certificate of `trusted` (any trusted certificate is an
//! anchor, as with OpenSSL's partial-chain verification). Validity periods are checked against
//! `now_unix` when the caller has a clock (sans-IO: the time is an input).

use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::{ASN1Time, FromDer};

use crate::pem::parse_pem_blocks;

fn certificates_der(pem: &str) -> Option<Vec<Vec<u8>>> {
    let blocks = parse_pem_blocks(pem).ok()?;
    let ders: Vec<Vec<u8>> = blocks
        .into_iter()
        .filter(|block| block.label == "CERTIFICATE")
        .map(|block| block.der)
        .collect();
    (!ders.is_empty()).then_some(ders)
}

fn parse_all(ders: &[Vec<u8>]) -> Option<Vec<X509Certificate<'_>>> {
    ders.iter()
        .map(|der| match X509Certificate::from_der(der) {
            Ok((&[], cert)) => Some(cert),
            _ => None,
        })
        .collect()
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    match cert.basic_constraints() {
        Ok(Some(constraints)) => constraints.value.ca,
        // A version 1 certificate has no extensions and may act as a CA, as OpenSSL allows.
        Ok(None) => cert.version().0 == 0,
        Err(_) => false,
    }
}

fn issued_by(child: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    child.issuer().as_raw() == issuer.subject().as_raw()
        && is_ca(issuer)
        && child.verify_signature(Some(issuer.public_key())).is_ok()
}

fn current_at(cert: &X509Certificate<'_>, now: Option<ASN1Time>) -> bool {
    now.is_none_or(|now| cert.validity().is_valid_at(now))
}

/// Whether `chain_pem` (target first, then intermediates) leads to a certificate of
/// `trusted_pem`. Anything unparsable, or an empty list, is simply invalid.
pub fn verify_cert_chain(chain_pem: &str, trusted_pem: &str, now_unix: Option<i64>) -> bool {
    let (Some(chain_ders), Some(trusted_ders)) =
        (certificates_der(chain_pem), certificates_der(trusted_pem))
    else {
        return false;
    };
    let (Some(chain), Some(trusted)) = (parse_all(&chain_ders), parse_all(&trusted_ders)) else {
        return false;
    };
    let now = match now_unix.map(ASN1Time::from_timestamp) {
        Some(Ok(now)) => Some(now),
        Some(Err(_)) => return false,
        None => None,
    };
    let mut current = 0;
    let mut used = vec![false; chain.len()];
    used[0] = true;
    // Every step uses up one intermediate, so the walk ends.
    loop {
        let cert = &chain[current];
        if !current_at(cert, now) {
            return false;
        }
        if trusted_ders.contains(&chain_ders[current]) {
            return true;
        }
        if trusted
            .iter()
            .any(|anchor| issued_by(cert, anchor) && current_at(anchor, now))
        {
            return true;
        }
        let next = (0..chain.len()).find(|&i| !used[i] && issued_by(cert, &chain[i]));
        match next {
            Some(i) => {
                used[i] = true;
                current = i;
            }
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecdsa::{Curve, EcKeyPair};
    use crate::entropy::SeededEntropy;
    use crate::x509::{CertificateSpec, issue_endorsed, issue_self_signed};

    fn spec(cn: &str, is_ca: bool) -> CertificateSpec {
        CertificateSpec {
            subject_cn: cn.into(),
            sans: Vec::new(),
            not_before_unix: 1_000_000,
            not_after_unix: 2_000_000,
            is_ca,
        }
    }

    #[test]
    fn chains_verify_to_any_anchor_and_fail_otherwise() {
        let mut entropy = SeededEntropy::from_seed(21);
        let root_key = EcKeyPair::generate(Curve::P384, &mut entropy).unwrap();
        let mid_key = EcKeyPair::generate(Curve::P256, &mut entropy).unwrap();
        let leaf_key = EcKeyPair::generate(Curve::P256, &mut entropy).unwrap();
        let root = issue_self_signed(&root_key, &spec("root", true)).unwrap();
        let mid =
            issue_endorsed(&mid_key.public_key(), &spec("mid", true), &root_key, &root).unwrap();
        let leaf =
            issue_endorsed(&leaf_key.public_key(), &spec("leaf", false), &mid_key, &mid).unwrap();
        let chain = format!("{}{}", leaf.to_pem(), mid.to_pem());
        assert!(verify_cert_chain(&chain, &root.to_pem(), None));
        assert!(verify_cert_chain(&chain, &root.to_pem(), Some(1_500_000)));
        assert!(!verify_cert_chain(&chain, &root.to_pem(), Some(2_500_000)));
        assert!(verify_cert_chain(&leaf.to_pem(), &mid.to_pem(), None));
        assert!(!verify_cert_chain(&leaf.to_pem(), &root.to_pem(), None));
        let other = EcKeyPair::generate(Curve::P384, &mut entropy).unwrap();
        let other_root = issue_self_signed(&other, &spec("root", true)).unwrap();
        assert!(!verify_cert_chain(&chain, &other_root.to_pem(), None));
        // A non-CA certificate cannot issue.
        let fake =
            issue_endorsed(&leaf_key.public_key(), &spec("x", false), &leaf_key, &leaf).unwrap();
        let chain = format!("{}{}{}", fake.to_pem(), leaf.to_pem(), mid.to_pem());
        assert!(!verify_cert_chain(&chain, &root.to_pem(), None));
        assert!(!verify_cert_chain("", &root.to_pem(), None));
        assert!(!verify_cert_chain(&leaf.to_pem(), "", None));
    }
}
