//! The request and response values NodeCore works with (the host converts HTTP to and from them).

use cloister_types::ApiError;

/// One HTTP request, as the host hands it over. Header names are lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub method: String,
    /// The path without the query string, percent-encoding kept.
    pub path: String,
    /// The raw query string (without `?`).
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// DER of the TLS client certificate, when the caller presented one.
    pub client_cert_der: Option<Vec<u8>>,
    /// Whether it arrived over HTTP/2 (CCF does not forward those to the primary).
    pub http2: bool,
}

impl Request {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of query parameter `name`, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| percent_decode(value))
    }
}

/// One HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A 200 with a JSON body.
    pub fn json(body: &serde_json::Value) -> Response {
        Response::with_body(200, "application/json", body.to_string().into_bytes())
    }

    pub fn with_body(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body,
        }
    }

    /// CCF's error answer: the status and `{"error": {"code", "message", "details"?}}`.
    pub fn error(error: &ApiError) -> Response {
        Response::with_body(error.status, "application/json", error.body())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// `%xx` decoding (and `+` as space, as form-encoded query strings use it). Invalid escapes are
/// kept as they are.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_found_and_decoded() {
        let request = Request {
            query: "transaction_id=2.15&x=a%2Fb&flag".to_owned(),
            ..Request::default()
        };
        assert_eq!(
            request.query_param("transaction_id").as_deref(),
            Some("2.15")
        );
        assert_eq!(request.query_param("x").as_deref(), Some("a/b"));
        assert_eq!(request.query_param("flag").as_deref(), Some(""));
        assert_eq!(request.query_param("missing"), None);
    }

    #[test]
    fn percent_decoding_keeps_invalid_escapes() {
        assert_eq!(percent_decode("%2Ffoo%zz%"), "/foo%zz%");
    }
}
