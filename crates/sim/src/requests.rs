//! The requests the simulator's actors send, built as the real clients build them: COSE Sign1
//! governance messages (as `ccf_cose_sign1`), JoinIn for `POST /node/join` (CCF 6's shape with
//! a virtual-platform quote), the logging app's writes and reads, and `/node/tx` polls.

use cloister_crypto::cose::{Label, Value as Cbor};
use cloister_crypto::{Certificate, CertificateSigningRequest, EcKeyPair, cose, sha256};
use cloister_node::rpc::{Request, Response};
use cloister_types::{TxId, TxStatus};
use serde_json::{Value, json};

use crate::SimError;

/// The governance API version the requests name.
const GOV_API_VERSION: &str = "api-version=2024-07-01";

fn request(method: &str, path: &str, body: Vec<u8>, cert: Option<&Certificate>) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body,
        client_cert_der: cert.map(|c| c.der().to_vec()),
        http2: false,
    }
}

/// A governance POST of `path` with a COSE Sign1 body signed by `member`.
pub fn gov(
    member: &(EcKeyPair, Certificate),
    path: &str,
    msg_type: &str,
    proposal_id: Option<&str>,
    payload: &[u8],
    created_at: i64,
) -> Result<Request, SimError> {
    let member_id = hex::encode(sha256(member.1.der()).0);
    let mut protected = vec![
        (Label::Int(4), Cbor::Bytes(member_id.into_bytes())),
        (
            Label::Text("ccf.gov.msg.type".into()),
            Cbor::Text(msg_type.into()),
        ),
        (
            Label::Text("ccf.gov.msg.created_at".into()),
            Cbor::Integer(created_at.into()),
        ),
    ];
    if let Some(id) = proposal_id {
        protected.push((
            Label::Text("ccf.gov.msg.proposal_id".into()),
            Cbor::Text(id.into()),
        ));
    }
    let body = cose::sign1(&member.0, &protected, payload, false)?;
    let mut out = request("POST", path, body, None);
    out.query = if out.query.is_empty() {
        GOV_API_VERSION.to_owned()
    } else {
        format!("{}&{GOV_API_VERSION}", out.query)
    };
    out.headers = vec![("content-type".into(), "application/cose".into())];
    Ok(out)
}

/// The member's id (hex SHA-256 of its certificate).
pub fn member_id(member: &(EcKeyPair, Certificate)) -> String {
    hex::encode(sha256(member.1.der()).0)
}

/// `POST /node/join` from a node with `key` and self-signed `cert`, publishing `address`.
pub fn join(key: &EcKeyPair, cert: &Certificate, address: &str) -> Result<Request, SimError> {
    use base64::Engine;
    let public = key.public_key();
    let csr = CertificateSigningRequest::create(key, "CCF Node", &[])?;
    let quote = json!({
        "measurement": "Insecure hard-coded virtual measurement v1",
        "host_data": "",
        "report_data": base64::engine::general_purpose::STANDARD.encode(sha256(public.spki_der()).0),
    });
    let body = json!({
        "node_info_network": {
            "node_to_node_interface": { "bind_address": address, "published_address": address },
            "rpc_interfaces": {},
        },
        "quote_info": {
            "format": "Insecure_Virtual",
            "quote": base64::engine::general_purpose::STANDARD.encode(quote.to_string()),
            "endorsements": "",
        },
        // The node's own key stands in for the RSA encryption key (recovery is not simulated).
        "public_encryption_key": public.to_pem(),
        "startup_seqno": 0,
        "certificate_signing_request": csr.to_pem(),
    });
    Ok(request(
        "POST",
        "/node/join",
        body.to_string().into_bytes(),
        Some(cert),
    ))
}

/// A user's write of `msg` at `id` in the private logging table.
pub fn write(user: &Certificate, id: u64, msg: &str) -> Request {
    let body = json!({ "id": id, "msg": msg }).to_string().into_bytes();
    request("POST", "/app/log/private", body, Some(user))
}

/// A user's read of record `id`.
pub fn read(user: &Certificate, id: u64) -> Request {
    request(
        "GET",
        &format!("/app/log/private?id={id}"),
        Vec::new(),
        Some(user),
    )
}

/// `GET /node/tx` for `txid`.
pub fn tx_status(txid: TxId) -> Request {
    request(
        "GET",
        &format!("/node/tx?transaction_id={txid}"),
        Vec::new(),
        None,
    )
}

/// The response's JSON body (`Null` if it has none).
pub fn json_body(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

/// The `x-ms-ccf-transaction-id` of a response.
pub fn txid_of(response: &Response) -> Option<TxId> {
    response.header("x-ms-ccf-transaction-id")?.parse().ok()
}

/// The status a `/node/tx` answer reports.
pub fn status_of(response: &Response) -> Option<TxStatus> {
    if response.status != 200 {
        return None;
    }
    serde_json::from_value(json_body(response)["status"].clone()).ok()
}

/// A read's `msg`: `Some(None)` for 404 (no such record), `None` when the read failed.
pub fn read_result(response: &Response) -> Option<Option<String>> {
    match response.status {
        200 => json_body(response)["msg"]
            .as_str()
            .map(|m| Some(m.to_owned())),
        404 if json_body(response)["error"]["code"] == "ResourceNotFound" => Some(None),
        _ => None,
    }
}
