//! JavaScript endpoints as `set_js_app` stores them in `public:ccf.gov.endpoints`: key
//! `"<METHOD> <path>"`, value the JSON of CCF's `EndpointProperties` with `js_module` prefixed
//! by `/` (spec/ccf-js.md §1.2, §1.3; spec/ccf-api.md §5).

use cloister_kv::Tx;
use serde_json::{Map, Value};

use crate::error::JsError;

/// `"<METHOD> <path>"` → endpoint properties (JSON).
pub const ENDPOINTS_TABLE: &str = "public:ccf.gov.endpoints";

/// How an endpoint reads and writes the store (spec/ccf-js.md §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointMode {
    /// `"readwrite"`: application tables read-write.
    ReadWrite,
    /// `"readonly"`: every table read-only; the transaction still commits.
    ReadOnly,
    /// `"historical"`: read-only, against the state at `x-ms-ccf-transaction-id`.
    Historical,
}

/// Whether a backup forwards the request to the primary (spec/ccf-js.md §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardingRequired {
    Always,
    /// Only sessions that were forwarded before.
    Sometimes,
    Never,
}

/// Where to redirect when the node interface has redirections configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectionStrategy {
    None,
    ToPrimary,
    ToBackup,
}

/// One entry of `authn_policies`: a policy name, or `{"all_of": [names]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthnPolicy {
    Named(String),
    AllOf(Vec<String>),
}

/// The properties of one JavaScript endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointProperties {
    /// The module's key in `public:ccf.gov.modules`, e.g. `/endpoints/log.js`.
    pub js_module: String,
    /// The exported function that handles the request.
    pub js_function: String,
    pub mode: EndpointMode,
    pub forwarding_required: ForwardingRequired,
    pub redirection_strategy: RedirectionStrategy,
    /// Tried in order; empty means unauthenticated (`request.caller` is `null`).
    pub authn_policies: Vec<AuthnPolicy>,
    /// OpenAPI Operation object, merged into `GET /app/api` as it is.
    pub openapi: Option<Value>,
    pub openapi_hidden: bool,
    /// `interpreter_reuse.key` (Cloister runs every request in a fresh interpreter).
    pub interpreter_reuse_key: Option<String>,
}

/// One row of [`ENDPOINTS_TABLE`].
#[derive(Debug, Clone, PartialEq)]
pub struct JsEndpoint {
    /// Upper case, e.g. `POST`.
    pub method: String,
    /// The path template without the `/app` prefix, e.g. `/log/{id}`.
    pub path: String,
    pub properties: EndpointProperties,
}

/// Every JavaScript endpoint in `tx`, in key order.
pub fn js_endpoints(tx: &mut Tx) -> Result<Vec<JsEndpoint>, JsError> {
    tx.iter(ENDPOINTS_TABLE)
        .into_iter()
        .map(|(key, value)| {
            let key = String::from_utf8_lossy(&key).into_owned();
            let invalid = |reason: String| JsError::Endpoint {
                key: key.clone(),
                reason,
            };
            let (method, path) = key
                .split_once(' ')
                .ok_or_else(|| invalid("the key is not \"<METHOD> <path>\"".to_owned()))?;
            let properties = EndpointProperties::from_json(&value).map_err(invalid)?;
            Ok(JsEndpoint {
                method: method.to_owned(),
                path: path.to_owned(),
                properties,
            })
        })
        .collect()
}

impl EndpointProperties {
    /// Parses the stored JSON. Optional fields take CCF's C++ defaults (`readwrite`, forwarding
    /// `always`, redirection `to_primary`); the error names the offending field.
    pub fn from_json(json: &[u8]) -> Result<EndpointProperties, String> {
        let value: Value = serde_json::from_slice(json).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(fields) = value else {
            return Err("not a JSON object".to_owned());
        };
        Ok(EndpointProperties {
            js_module: string(&fields, "js_module")?,
            js_function: string(&fields, "js_function")?,
            mode: choice(
                &fields,
                "mode",
                &[
                    ("readwrite", EndpointMode::ReadWrite),
                    ("readonly", EndpointMode::ReadOnly),
                    ("historical", EndpointMode::Historical),
                ],
                EndpointMode::ReadWrite,
            )?,
            forwarding_required: choice(
                &fields,
                "forwarding_required",
                &[
                    ("always", ForwardingRequired::Always),
                    ("sometimes", ForwardingRequired::Sometimes),
                    ("never", ForwardingRequired::Never),
                ],
                ForwardingRequired::Always,
            )?,
            redirection_strategy: choice(
                &fields,
                "redirection_strategy",
                &[
                    ("none", RedirectionStrategy::None),
                    ("to_primary", RedirectionStrategy::ToPrimary),
                    ("to_backup", RedirectionStrategy::ToBackup),
                ],
                RedirectionStrategy::ToPrimary,
            )?,
            authn_policies: policies(&fields)?,
            openapi: fields.get("openapi").filter(|v| !v.is_null()).cloned(),
            openapi_hidden: fields
                .get("openapi_hidden")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            interpreter_reuse_key: fields
                .get("interpreter_reuse")
                .and_then(|reuse| reuse.get("key"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

fn string(fields: &Map<String, Value>, name: &str) -> Result<String, String> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("{name} must be a string"))
}

fn choice<T: Copy>(
    fields: &Map<String, Value>,
    name: &str,
    allowed: &[(&str, T)],
    default: T,
) -> Result<T, String> {
    let Some(value) = fields.get(name).filter(|v| !v.is_null()) else {
        return Ok(default);
    };
    let text = value.as_str().unwrap_or_default();
    allowed
        .iter()
        .find(|(word, _)| *word == text)
        .map(|(_, choice)| *choice)
        .ok_or_else(|| {
            let words: Vec<&str> = allowed.iter().map(|(word, _)| *word).collect();
            format!("{name} must be one of {}", words.join(", "))
        })
}

fn policies(fields: &Map<String, Value>) -> Result<Vec<AuthnPolicy>, String> {
    let malformed =
        || "authn_policies must be an array of names or {\"all_of\": [names]}".to_owned();
    let Some(Value::Array(entries)) = fields.get("authn_policies") else {
        return Err(malformed());
    };
    entries
        .iter()
        .map(|entry| match entry {
            Value::String(name) => Ok(AuthnPolicy::Named(name.clone())),
            Value::Object(all) => match all.get("all_of") {
                Some(Value::Array(names)) => names
                    .iter()
                    .map(|name| name.as_str().map(str::to_owned).ok_or_else(malformed))
                    .collect::<Result<Vec<_>, _>>()
                    .map(AuthnPolicy::AllOf),
                _ => Err(malformed()),
            },
            _ => Err(malformed()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_properties_parse_with_ccf_defaults() {
        let json = br#"{"js_module":"/m.js","js_function":"f","authn_policies":["user_cert",{"all_of":["user_cert","jwt"]}],
            "interpreter_reuse":{"key":"k"},"openapi":{"responses":{}}}"#;
        let properties = EndpointProperties::from_json(json).unwrap();
        assert_eq!(properties.js_module, "/m.js");
        assert_eq!(properties.mode, EndpointMode::ReadWrite);
        assert_eq!(properties.forwarding_required, ForwardingRequired::Always);
        assert_eq!(
            properties.redirection_strategy,
            RedirectionStrategy::ToPrimary
        );
        assert_eq!(
            properties.authn_policies,
            vec![
                AuthnPolicy::Named("user_cert".into()),
                AuthnPolicy::AllOf(vec!["user_cert".into(), "jwt".into()])
            ]
        );
        assert_eq!(properties.interpreter_reuse_key.as_deref(), Some("k"));
        assert!(properties.openapi.is_some());
        assert!(!properties.openapi_hidden);
    }

    #[test]
    fn malformed_properties_name_the_field() {
        let no_function = br#"{"js_module":"/m.js","authn_policies":[]}"#;
        assert_eq!(
            EndpointProperties::from_json(no_function).unwrap_err(),
            "js_function must be a string"
        );
        let bad_mode =
            br#"{"js_module":"/m.js","js_function":"f","mode":"write","authn_policies":[]}"#;
        assert_eq!(
            EndpointProperties::from_json(bad_mode).unwrap_err(),
            "mode must be one of readwrite, readonly, historical"
        );
        let bad_policy =
            br#"{"js_module":"/m.js","js_function":"f","authn_policies":[{"any_of":[]}]}"#;
        assert!(
            EndpointProperties::from_json(bad_policy)
                .unwrap_err()
                .starts_with("authn_policies")
        );
        assert!(EndpointProperties::from_json(b"[]").is_err());
    }
}
