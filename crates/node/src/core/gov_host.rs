//! What the constitution may ask of the node while `apply` runs (`ccf.network.*`), and the node
//! actions it requests (`ccf.node.*`), applied in the same transaction where CCF does so.

use cloister_crypto::{CertificateSigningRequest, issue_from_csr};
use cloister_gov::{GovHost, NodeAction};
use cloister_kv::Tx;
use cloister_types::ApiError;
use serde_json::Value;

use crate::identity::ServiceIdentity;
use crate::tables::{SERVICE_INFO, SINGLETON_KEY};

/// The node's side of `ccf.network.*`.
#[derive(Debug)]
pub struct NodeGovHost<'a> {
    pub latest_ledger_secret_seqno: u64,
    /// Endorses joining nodes' certificates.
    pub service: &'a ServiceIdentity,
    /// Wall-clock seconds (certificate validity starts here when `valid_from` is not given).
    pub now_unix: i64,
}

impl GovHost for NodeGovHost<'_> {
    fn generate_endorsed_certificate(
        &mut self,
        csr_pem: &str,
        valid_from: &str,
        validity_days: u64,
    ) -> Result<String, String> {
        let fail = |why: String| format!("ccf.network.generateEndorsedCertificate: {why}");
        let csr = CertificateSigningRequest::from_pem(csr_pem).map_err(|e| fail(e.to_string()))?;
        let not_before = if valid_from.is_empty() {
            self.now_unix
        } else {
            parse_x509_time(valid_from)
                .ok_or_else(|| fail(format!("bad valid_from {valid_from:?}")))?
        };
        let not_after = validity_end(not_before, validity_days)
            .ok_or_else(|| fail(format!("bad validity period {validity_days} days")))?;
        let cert = issue_from_csr(
            &csr,
            not_before,
            not_after,
            &self.service.key,
            &self.service.cert,
        )
        .map_err(|e| fail(e.to_string()))?;
        Ok(cert.to_pem())
    }

    fn generate_network_certificate(
        &mut self,
        _valid_from: &str,
        _validity_days: u64,
    ) -> Result<String, String> {
        Err("ccf.network.generateNetworkCertificate: service certificate renewal is not supported yet".to_owned())
    }

    fn latest_ledger_secret_seqno(&self) -> u64 {
        self.latest_ledger_secret_seqno
    }
}

/// The last second of a validity period of `days` days from `not_before`: CCF's
/// `compute_cert_valid_to_string` (RFC 5280's notAfter is inclusive, so one second less).
pub fn validity_end(not_before: i64, days: u64) -> Option<i64> {
    let seconds = i64::try_from(days).ok()?.checked_mul(SECONDS_PER_DAY)?;
    not_before.checked_add(seconds)?.checked_sub(1)
}

const SECONDS_PER_DAY: i64 = 86_400;

/// Unix seconds of an ASN.1 time as the constitution passes `valid_from`: UTCTime
/// `YYMMDDHHMMSSZ` (years 50–99 are 19xx, RFC 5280 §4.1.2.5.1) or GeneralizedTime
/// `YYYYMMDDHHMMSSZ`.
pub fn parse_x509_time(text: &str) -> Option<i64> {
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i64>().ok();
    let (year, rest) = match digits.len() {
        12 => {
            let yy = number(0..2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        14 => (number(0..4)?, 4),
        _ => return None,
    };
    let month = number(rest..rest + 2)?;
    let day = number(rest + 2..rest + 4)?;
    let hour = number(rest + 4..rest + 6)?;
    let minute = number(rest + 6..rest + 8)?;
    let second = number(rest + 8..rest + 10)?;
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| {
        days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Applies, inside the proposal's transaction, the actions CCF applies there; the others are
/// returned for the node to carry out after commit.
pub fn apply_in_transaction(
    tx: &mut Tx,
    actions: Vec<NodeAction>,
    service_cert_pem: &str,
) -> Result<Vec<NodeAction>, ApiError> {
    let mut later = Vec::new();
    for action in actions {
        match action {
            NodeAction::TransitionServiceToOpen {
                previous_identity_pem,
                next_identity_pem,
            } => {
                open_service(
                    tx,
                    previous_identity_pem.as_deref(),
                    &next_identity_pem,
                    service_cert_pem,
                )?;
            }
            other => later.push(other),
        }
    }
    Ok(later)
}

/// `transition_service_to_open` on a fresh service: the next identity must be this service's
/// certificate; the status becomes Open (spec/ccf-api.md §6).
fn open_service(
    tx: &mut Tx,
    previous: Option<&str>,
    next: &str,
    service_cert_pem: &str,
) -> Result<(), ApiError> {
    let failure = |message: &str| {
        ApiError::new(
            500,
            "InternalError",
            format!("Failed to apply(): {message}"),
        )
    };
    let raw = tx
        .get(SERVICE_INFO, &SINGLETON_KEY)
        .ok_or_else(|| failure("service information could not be found"))?;
    let mut info: Value = serde_json::from_slice(&raw).map_err(|e| failure(&e.to_string()))?;
    if info["status"] == "Recovering" || previous.is_some() {
        return Err(failure("service recovery is not supported yet"));
    }
    if next.trim() != service_cert_pem.trim() {
        return Err(failure(
            "next service identity does not match the current service certificate",
        ));
    }
    if info["status"] == "Open" {
        return Ok(());
    }
    info["status"] = Value::String("Open".to_owned());
    let bytes = crate::to_ccf_json(&info).map_err(|e| failure(&e.to_string()))?;
    tx.put(SERVICE_INFO, SINGLETON_KEY.to_vec(), bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use cloister_crypto::{Curve, EcKeyPair, SeededEntropy};
    use cloister_gov::ConstitutionEngine;
    use cloister_js::{DEFAULT_CONSTITUTION, QuickJsConstitution};
    use cloister_kv::{EntryFlags, LedgerSecrets, Store};
    use cloister_types::View;
    use serde_json::json;

    use super::*;
    use crate::identity::node_id_of;
    use crate::tables::{NODES_ENDORSED_CERTIFICATES, NODES_INFO, SERVICE_CONFIG};

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn x509_times_parse_as_ccf_writes_them() {
        assert_eq!(parse_x509_time("700101000000Z"), Some(0));
        assert_eq!(parse_x509_time("19700101000000Z"), Some(0));
        // 2022-01-01T12:00:00Z, the example of the constitution's docs.
        assert_eq!(parse_x509_time("220101120000Z"), Some(1_641_038_400));
        assert_eq!(parse_x509_time("20240229235959Z"), Some(1_709_251_199));
        assert_eq!(parse_x509_time("491231235959Z"), Some(2_524_607_999));
        for bad in [
            "",
            "220101120000",
            "2201011200Z",
            "20230229000000Z",
            "22013112000aZ",
        ] {
            assert_eq!(parse_x509_time(bad), None, "{bad}");
        }
        assert_eq!(validity_end(0, 1), Some(86_399));
        assert_eq!(validity_end(i64::MAX, 1), None);
    }

    /// A committed store holding the service configuration and one Pending node with a CSR.
    fn store_with_pending_node(node_key: &EcKeyPair) -> (Store, String) {
        let mut store = Store::new(LedgerSecrets::with_first([3; 32]));
        let mut tx = store.begin();
        let config =
            json!({ "recovery_threshold": 1, "maximum_node_certificate_validity_days": 30 });
        tx.put(SERVICE_CONFIG, SINGLETON_KEY, config.to_string());
        let csr =
            CertificateSigningRequest::create(node_key, "CCF Node", &["10.0.0.2".into()]).unwrap();
        let id = node_id_of(node_key.public_key().spki_der()).to_string();
        let info = json!({ "status": "Pending", "certificate_signing_request": csr.to_pem() });
        tx.put(NODES_INFO, id.clone().into_bytes(), info.to_string());
        store
            .commit(tx, View(2), None, EntryFlags::default())
            .unwrap();
        (store, id)
    }

    fn apply(
        tx: &mut Tx,
        host: &mut NodeGovHost<'_>,
        name: &str,
        args: Value,
    ) -> Result<(), String> {
        let proposal = json!({ "actions": [{ "name": name, "args": args }] }).to_string();
        let mut actions = Vec::new();
        QuickJsConstitution::new()
            .apply(
                tx,
                DEFAULT_CONSTITUTION,
                &proposal,
                "p1",
                host,
                &mut actions,
            )
            .map_err(|f| f.reason)
    }

    fn node_info(tx: &mut Tx, id: &str) -> Option<Value> {
        tx.get(NODES_INFO, id.as_bytes())
            .map(|raw| serde_json::from_slice(&raw).unwrap())
    }

    #[test]
    fn the_constitution_trusts_a_node_with_a_certificate_endorsed_from_its_csr() {
        let mut entropy = SeededEntropy::from_seed(5);
        let service = ServiceIdentity::generate(&mut entropy, NOW - 10, NOW + 1_000_000).unwrap();
        let node_key = EcKeyPair::generate(Curve::P384, &mut entropy).unwrap();
        let (store, id) = store_with_pending_node(&node_key);
        let mut host = NodeGovHost {
            latest_ledger_secret_seqno: 7,
            service: &service,
            now_unix: NOW,
        };
        let mut tx = store.begin();
        let args =
            json!({ "node_id": id, "valid_from": "20250101000000Z", "validity_period_days": 10 });
        apply(&mut tx, &mut host, "transition_node_to_trusted", args).unwrap();
        let info = node_info(&mut tx, &id).unwrap();
        assert_eq!(info["status"], "Trusted");
        assert_eq!(info["ledger_secret_seqno"], 7);
        let pem = tx.get(NODES_ENDORSED_CERTIFICATES, id.as_bytes()).unwrap();
        let cert =
            cloister_crypto::Certificate::from_pem(std::str::from_utf8(&pem).unwrap()).unwrap();
        cert.verify_issued_by(&service.key.public_key()).unwrap();
        assert_eq!(cert.public_key().unwrap(), node_key.public_key());
        let from = parse_x509_time("20250101000000Z").unwrap();
        assert_eq!(cert.validity_unix(), Ok((from, from + 10 * 86_400 - 1)));

        // More than the service's maximum is refused, as CCF does.
        let (store, id) = store_with_pending_node(&node_key);
        let mut tx = store.begin();
        let args =
            json!({ "node_id": id, "valid_from": "250101000000Z", "validity_period_days": 31 });
        let refused = apply(&mut tx, &mut host, "transition_node_to_trusted", args).unwrap_err();
        assert!(refused.contains("not allowed"), "{refused}");
    }

    #[test]
    fn remove_node_retires_a_trusted_node_and_forgets_a_pending_one() {
        let mut entropy = SeededEntropy::from_seed(6);
        let service = ServiceIdentity::generate(&mut entropy, NOW - 10, NOW + 1_000_000).unwrap();
        let node_key = EcKeyPair::generate(Curve::P384, &mut entropy).unwrap();
        let mut host = NodeGovHost {
            latest_ledger_secret_seqno: 1,
            service: &service,
            now_unix: NOW,
        };
        let (store, id) = store_with_pending_node(&node_key);
        let mut tx = store.begin();
        let trust = json!({ "node_id": id, "valid_from": "250101000000Z" });
        apply(&mut tx, &mut host, "transition_node_to_trusted", trust).unwrap();
        apply(&mut tx, &mut host, "remove_node", json!({ "node_id": id })).unwrap();
        assert_eq!(node_info(&mut tx, &id).unwrap()["status"], "Retired");
        // CCF 6 keeps the endorsed certificate until DELETE /node/network/nodes/{id}.
        assert!(tx.get(NODES_ENDORSED_CERTIFICATES, id.as_bytes()).is_some());

        let (store, id) = store_with_pending_node(&node_key);
        let mut tx = store.begin();
        apply(&mut tx, &mut host, "remove_node", json!({ "node_id": id })).unwrap();
        assert_eq!(node_info(&mut tx, &id), None);
    }

    #[test]
    fn endorsing_starts_now_without_valid_from_and_refuses_a_bad_csr() {
        let mut entropy = SeededEntropy::from_seed(7);
        let service = ServiceIdentity::generate(&mut entropy, NOW - 10, NOW + 1_000_000).unwrap();
        let node_key = EcKeyPair::generate(Curve::P256, &mut entropy).unwrap();
        let mut host = NodeGovHost {
            latest_ledger_secret_seqno: 1,
            service: &service,
            now_unix: NOW,
        };
        let csr = CertificateSigningRequest::create(&node_key, "n", &[]).unwrap();
        let pem = host
            .generate_endorsed_certificate(&csr.to_pem(), "", 1)
            .unwrap();
        let cert = cloister_crypto::Certificate::from_pem(&pem).unwrap();
        assert_eq!(cert.validity_unix(), Ok((NOW, NOW + 86_399)));
        assert!(
            host.generate_endorsed_certificate("garbage", "", 1)
                .is_err()
        );
        assert!(
            host.generate_endorsed_certificate(&csr.to_pem(), "yesterday", 1)
                .is_err()
        );
    }
}
