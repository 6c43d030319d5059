//! The joining node's side of CCF's join protocol (spec/ccf-api.md §6): JoinIn as CCF 6 sends
//! it (`node_info_network`, a virtual-platform `quote_info`, the encryption key, the CSR), one
//! `POST /node/join` over TLS with the node's self-signed certificate as client certificate,
//! and JoinOut/NetworkInfo parsed into what a joiner needs to start: the service identity, its
//! endorsed certificate and the ledger secrets.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use cloister_crypto::{EcPublicKey, sha256};
use serde_json::{Value, json};

use crate::connection::{Client, Response};
use crate::error::ClientError;
use crate::gov::expect_success;

/// CCF's join path (on the node frontend).
pub const JOIN_PATH: &str = "/node/join";

/// The measurement CCF's virtual platform reports.
pub const VIRTUAL_MEASUREMENT: &str = "Insecure hard-coded virtual measurement v1";

/// Where the joining node listens: what JoinIn's `node_info_network` publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinAddresses {
    /// `host:port` other nodes reach this one at.
    pub node_to_node: String,
    /// RPC interfaces: (name, `host:port`).
    pub rpc_interfaces: Vec<(String, String)>,
}

/// What JoinIn carries besides the addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinRequest {
    pub addresses: JoinAddresses,
    /// PEM of the node's RSA encryption public key.
    pub public_encryption_key_pem: String,
    /// PEM of the CSR for the node's key (the key of its TLS certificate).
    pub csr_pem: String,
    /// Seqno of the snapshot the node starts from (0 without one).
    pub startup_seqno: u64,
    /// Hex host data for the virtual quote (CCF: SHA-256 of the package).
    pub host_data_hex: String,
    pub node_data: Value,
}

/// CCF's JoinIn JSON for a node whose key is `node_key` (the quote's report data binds it).
pub fn join_in(request: &JoinRequest, node_key: &EcPublicKey) -> Value {
    let interfaces: serde_json::Map<String, Value> = request
        .addresses
        .rpc_interfaces
        .iter()
        .map(|(name, address)| {
            let interface = json!({ "bind_address": address, "published_address": address });
            (name.clone(), interface)
        })
        .collect();
    let n2n = &request.addresses.node_to_node;
    json!({
        "node_info_network": {
            "node_to_node_interface": { "bind_address": n2n, "published_address": n2n },
            "rpc_interfaces": interfaces,
        },
        "quote_info": virtual_quote_info(node_key, &request.host_data_hex),
        "public_encryption_key": request.public_encryption_key_pem,
        "startup_seqno": request.startup_seqno,
        "certificate_signing_request": request.csr_pem,
        "node_data": request.node_data,
    })
}

/// CCF's virtual-platform `quote_info`: the quote is base64 of JSON {measurement, host_data,
/// report_data = base64 SHA-256 of the node's public key DER}; there are no endorsements.
pub fn virtual_quote_info(node_key: &EcPublicKey, host_data_hex: &str) -> Value {
    let quote = json!({
        "measurement": VIRTUAL_MEASUREMENT,
        "host_data": host_data_hex,
        "report_data": BASE64.encode(sha256(node_key.spki_der()).0),
    });
    json!({
        "format": "Insecure_Virtual",
        "quote": BASE64.encode(quote.to_string()),
        "endorsements": "",
    })
}

/// JoinOut: the node's status and, once Trusted, what it needs to take part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOut {
    /// `Pending`, `Trusted` or `Retired`.
    pub node_status: String,
    /// CCF leaves it out when answering an already trusted node while the service opens.
    pub node_id: Option<String>,
    pub network_info: Option<NetworkInfo>,
}

/// JoinOut's `network_info`.
#[derive(Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    pub service_cert_pem: String,
    pub service_key_pem: String,
    pub endorsed_cert_pem: Option<String>,
    /// (start seqno, raw secret), in seqno order.
    pub ledger_secrets: Vec<(u64, [u8; 32])>,
    pub service_status: Option<String>,
    pub public_only: bool,
    pub last_recovered_signed_idx: u64,
    /// (issuer, subject) of the COSE root signatures.
    pub cose_signatures_config: Option<(String, String)>,
}

impl std::fmt::Debug for NetworkInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never prints the service key or the ledger secrets.
        f.debug_struct("NetworkInfo")
            .field("service_status", &self.service_status)
            .field(
                "ledger_secret_starts",
                &self.ledger_secrets.iter().map(|s| s.0).collect::<Vec<_>>(),
            )
            .field("has_endorsed_cert", &self.endorsed_cert_pem.is_some())
            .finish_non_exhaustive()
    }
}

/// Parses JoinOut as CCF 6 writes it.
pub fn parse_join_out(body: &[u8]) -> Result<JoinOut, String> {
    let out: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let node_status = text(&out, "node_status")?.ok_or("no node_status")?;
    let node_id = text(&out, "node_id")?;
    let network_info = match out.get("network_info") {
        None | Some(Value::Null) => None,
        Some(info) => Some(parse_network_info(info)?),
    };
    Ok(JoinOut {
        node_status,
        node_id,
        network_info,
    })
}

fn parse_network_info(info: &Value) -> Result<NetworkInfo, String> {
    let identity = info.get("identity").ok_or("network_info has no identity")?;
    let cose = match info.get("cose_signatures_config") {
        None | Some(Value::Null) => None,
        Some(config) => Some((
            text(config, "issuer")?.unwrap_or_default(),
            text(config, "subject")?.unwrap_or_default(),
        )),
    };
    Ok(NetworkInfo {
        service_cert_pem: text(identity, "cert")?.ok_or("identity has no cert")?,
        service_key_pem: text(identity, "priv_key")?.ok_or("identity has no priv_key")?,
        endorsed_cert_pem: text(info, "endorsed_certificate")?,
        ledger_secrets: parse_ledger_secrets(info.get("ledger_secrets").unwrap_or(&Value::Null))?,
        service_status: text(info, "service_status")?,
        public_only: info["public_only"].as_bool().unwrap_or(false),
        last_recovered_signed_idx: info["last_recovered_signed_idx"].as_u64().unwrap_or(0),
        cose_signatures_config: cose,
    })
}

/// CCF's `LedgerSecretsMap`: nlohmann writes a map with integer keys as `[[seqno, secret], …]`;
/// an object keyed by the seqno's decimal text is read too. Each secret is
/// `{raw_key: base64, previous_secret_stored_version?}`.
fn parse_ledger_secrets(value: &Value) -> Result<Vec<(u64, [u8; 32])>, String> {
    let pairs: Vec<(u64, &Value)> = match value {
        Value::Array(entries) => entries
            .iter()
            .map(|entry| match entry.as_array().map(Vec::as_slice) {
                Some([seqno, secret]) => Ok((
                    seqno
                        .as_u64()
                        .ok_or("a ledger secret seqno is not a number")?,
                    secret,
                )),
                _ => Err("a ledger secret is not a [seqno, secret] pair".to_owned()),
            })
            .collect::<Result<_, String>>()?,
        Value::Object(entries) => entries
            .iter()
            .map(|(seqno, secret)| {
                let seqno = seqno
                    .parse::<u64>()
                    .map_err(|e| format!("seqno {seqno:?}: {e}"))?;
                Ok((seqno, secret))
            })
            .collect::<Result<_, String>>()?,
        _ => return Err("ledger_secrets is neither a list nor a map".into()),
    };
    let mut secrets = Vec::with_capacity(pairs.len());
    for (seqno, secret) in pairs {
        let raw = secret["raw_key"]
            .as_str()
            .ok_or_else(|| format!("ledger secret {seqno} has no raw_key"))?;
        let bytes = BASE64
            .decode(raw)
            .map_err(|e| format!("ledger secret {seqno}: {e}"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("ledger secret {seqno} has {} bytes, not 32", b.len()))?;
        secrets.push((seqno, key));
    }
    secrets.sort_by_key(|(seqno, _)| *seqno);
    Ok(secrets)
}

fn text(value: &Value, field: &str) -> Result<Option<String>, String> {
    match value.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{field} is not a string")),
    }
}

/// One `POST /node/join` to `target_url` (`https://host:port`), trusting only the service
/// certificate and presenting the node's self-signed certificate. A 308 from a backup is
/// followed once, to the `location` it names.
pub async fn join_once(
    target_url: &str,
    service_cert_pem: &str,
    node_cert_pem: &str,
    node_key_pem: &str,
    join_in: &Value,
) -> Result<JoinOut, ClientError> {
    let body = join_in.to_string().into_bytes();
    let identity = Some((node_cert_pem, node_key_pem));
    let client = Client::new(target_url, service_cert_pem, identity)?;
    let mut response = client
        .post(JOIN_PATH, "application/json", body.clone())
        .await?;
    if response.status == 308 {
        let primary = redirect_base(&response)?;
        let client = Client::new(&primary, service_cert_pem, identity)?;
        response = client.post(JOIN_PATH, "application/json", body).await?;
    }
    let response = expect_success(response, "POST", JOIN_PATH)?;
    parse_join_out(&response.body).map_err(|why| ClientError::UnexpectedResponse {
        path: JOIN_PATH.to_owned(),
        why,
    })
}

/// `https://host:port` of a 308's `location: https://host:port/node/join`.
fn redirect_base(response: &Response) -> Result<String, ClientError> {
    let unexpected = |why: String| ClientError::UnexpectedResponse {
        path: JOIN_PATH.to_owned(),
        why,
    };
    let location = response
        .header("location")
        .ok_or_else(|| unexpected("308 without a location".into()))?;
    let authority = location
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .filter(|authority| !authority.is_empty())
        .ok_or_else(|| unexpected(format!("308 to {location:?}")))?;
    Ok(format!("https://{authority}"))
}

#[cfg(test)]
mod tests {
    use cloister_crypto::{Curve, EcKeyPair, SeededEntropy};

    use super::*;

    /// A JoinOut written by hand to CCF 6's shape (node_frontend.h, serialization.h).
    const TRUSTED: &str = r#"{
        "node_status": "Trusted",
        "node_id": "6ae2c0e4a5d6b1d01bfc1c7ec0c3d0b3b09e0d5d44b0fcd3bcf4ed2b5e0f7e11",
        "network_info": {
            "public_only": false,
            "last_recovered_signed_idx": 0,
            "ledger_secrets": [
                [1, {"raw_key": "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="}],
                [42, {"raw_key": "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
                      "previous_secret_stored_version": 40}]
            ],
            "identity": {"cert": "-----BEGIN CERTIFICATE-----\nSERVICE\n", "priv_key": "-----BEGIN EC PRIVATE KEY-----\nKEY\n"},
            "service_status": "Open",
            "endorsed_certificate": "-----BEGIN CERTIFICATE-----\nNODE\n",
            "cose_signatures_config": {"issuer": "service.example.com", "subject": "ledger.signature"}
        }
    }"#;

    #[test]
    fn a_trusted_join_out_in_ccf_shape_parses() {
        let out = parse_join_out(TRUSTED.as_bytes()).unwrap();
        assert_eq!(out.node_status, "Trusted");
        assert_eq!(
            out.node_id.as_deref(),
            Some("6ae2c0e4a5d6b1d01bfc1c7ec0c3d0b3b09e0d5d44b0fcd3bcf4ed2b5e0f7e11")
        );
        let info = out.network_info.unwrap();
        assert_eq!(info.ledger_secrets, vec![(1, [1; 32]), (42, [2; 32])]);
        assert_eq!(
            info.service_cert_pem,
            "-----BEGIN CERTIFICATE-----\nSERVICE\n"
        );
        assert_eq!(
            info.service_key_pem,
            "-----BEGIN EC PRIVATE KEY-----\nKEY\n"
        );
        assert_eq!(
            info.endorsed_cert_pem.as_deref(),
            Some("-----BEGIN CERTIFICATE-----\nNODE\n")
        );
        assert_eq!(info.service_status.as_deref(), Some("Open"));
        assert!(!info.public_only);
        assert_eq!(
            info.cose_signatures_config,
            Some(("service.example.com".into(), "ledger.signature".into()))
        );
        // Debug output keeps the secrets out.
        assert!(!format!("{info:?}").contains("AQEB"));
    }

    #[test]
    fn pending_answers_and_malformed_secrets_are_told_apart() {
        let pending = parse_join_out(br#"{"node_status": "Pending", "node_id": "ab"}"#).unwrap();
        assert_eq!(pending.node_status, "Pending");
        assert_eq!(pending.network_info, None);
        let keyed = TRUSTED.replace(
            r#""ledger_secrets": ["#,
            r#""ledger_secrets": {"7": {"raw_key": "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="}}, "x": ["#,
        );
        let info = parse_join_out(keyed.as_bytes())
            .unwrap()
            .network_info
            .unwrap();
        assert_eq!(info.ledger_secrets, vec![(7, [3; 32])]);
        let short = TRUSTED.replace("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "AQEB");
        assert!(
            parse_join_out(short.as_bytes())
                .unwrap_err()
                .contains("not 32")
        );
        assert!(parse_join_out(b"{}").is_err());
        assert!(parse_join_out(br#"{"node_status": "Trusted", "network_info": {}}"#).is_err());
    }

    #[test]
    fn join_in_has_ccf_fields_and_a_virtual_quote_binding_the_key() {
        let key = EcKeyPair::generate(Curve::P384, &mut SeededEntropy::from_seed(1)).unwrap();
        let request = JoinRequest {
            addresses: JoinAddresses {
                node_to_node: "10.0.0.2:8001".into(),
                rpc_interfaces: vec![("primary_rpc_interface".into(), "10.0.0.2:8000".into())],
            },
            public_encryption_key_pem: "ENC".into(),
            csr_pem: "CSR".into(),
            startup_seqno: 0,
            host_data_hex: "ab".into(),
            node_data: json!({ "n": 1 }),
        };
        let body = join_in(&request, &key.public_key());
        let network = &body["node_info_network"];
        assert_eq!(
            network["node_to_node_interface"]["published_address"],
            "10.0.0.2:8001"
        );
        assert_eq!(
            network["rpc_interfaces"]["primary_rpc_interface"]["published_address"],
            "10.0.0.2:8000"
        );
        assert_eq!(body["certificate_signing_request"], "CSR");
        assert_eq!(body["public_encryption_key"], "ENC");
        assert_eq!(body["quote_info"]["format"], "Insecure_Virtual");
        let quote = BASE64
            .decode(body["quote_info"]["quote"].as_str().unwrap())
            .unwrap();
        let quote: Value = serde_json::from_slice(&quote).unwrap();
        assert_eq!(quote["measurement"], VIRTUAL_MEASUREMENT);
        let report = BASE64
            .decode(quote["report_data"].as_str().unwrap())
            .unwrap();
        assert_eq!(report, sha256(key.public_key().spki_der()).0);
    }

    #[test]
    fn a_redirect_names_the_primary() {
        let mut response = Response {
            status: 308,
            headers: http::HeaderMap::new(),
            body: Vec::new(),
        };
        assert!(redirect_base(&response).is_err());
        response.headers.insert(
            "location",
            "https://10.0.0.1:8000/node/join".parse().unwrap(),
        );
        assert_eq!(redirect_base(&response).unwrap(), "https://10.0.0.1:8000");
    }
}
