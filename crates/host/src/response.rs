//! Turning the handler's [`HostResponse`] and the host's own errors into hyper responses.

use bytes::Bytes;
use cloister_types::ApiError;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::handler::HostResponse;

pub(crate) type ResponseBody = Full<Bytes>;

/// The handler's answer. A status hyper cannot send as a final answer, or a header that is
/// not valid HTTP, is a handler bug: the client gets a 500 `InternalError` instead of a
/// malformed response. `content-length` comes from the body; the handler's framing headers
/// are dropped so they cannot contradict it.
pub(crate) fn from_host(response: HostResponse) -> Response<ResponseBody> {
    match build(response) {
        Ok(response) => response,
        Err(reason) => {
            tracing::warn!(%reason, "handler produced an invalid response");
            from_error(&ApiError::new(
                500,
                "InternalError",
                format!("Invalid response: {reason}"),
            ))
        }
    }
}

/// CCF's JSON error answer.
pub(crate) fn from_error(error: &ApiError) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::from(error.body())));
    *response.status_mut() =
        StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn build(response: HostResponse) -> Result<Response<ResponseBody>, String> {
    let status = StatusCode::from_u16(response.status).map_err(|e| e.to_string())?;
    if status.is_informational() {
        return Err(format!("{status} is not a final status"));
    }
    let mut built = Response::new(Full::new(Bytes::from(response.body)));
    *built.status_mut() = status;
    for (name, value) in response.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("{name:?}: {e}"))?;
        if name == http::header::CONTENT_LENGTH || name == http::header::TRANSFER_ENCODING {
            continue;
        }
        let value = HeaderValue::from_str(&value).map_err(|e| format!("{value:?}: {e}"))?;
        built.headers_mut().append(name, value);
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    fn body_of(response: Response<ResponseBody>) -> Vec<u8> {
        let body = response.into_body();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(body.collect())
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[test]
    fn handler_response_keeps_status_headers_and_body() {
        let response = from_host(HostResponse {
            status: 201,
            headers: vec![
                ("x-ms-ccf-transaction-id".into(), "2.42".into()),
                ("content-length".into(), "999".into()),
            ],
            body: b"{}".to_vec(),
        });
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["x-ms-ccf-transaction-id"], "2.42");
        assert!(response.headers().get("content-length").is_none());
        assert_eq!(body_of(response), b"{}");
    }

    #[test]
    fn invalid_handler_response_becomes_500_internal_error() {
        for bad in [
            HostResponse {
                status: 42,
                headers: vec![],
                body: vec![],
            },
            HostResponse {
                status: 101,
                headers: vec![],
                body: vec![],
            },
            HostResponse {
                status: 200,
                headers: vec![("bad name".into(), "v".into())],
                body: vec![],
            },
            HostResponse {
                status: 200,
                headers: vec![("x".into(), "line\nbreak".into())],
                body: vec![],
            },
        ] {
            let response = from_host(bad);
            assert_eq!(response.status(), 500);
            assert_eq!(response.headers()["content-type"], "application/json");
            let json = String::from_utf8(body_of(response)).unwrap();
            assert!(
                json.starts_with(
                    r#"{"error":{"code":"InternalError","message":"Invalid response: "#
                ),
                "{json}"
            );
        }
    }

    #[test]
    fn api_error_is_ccfs_json_body() {
        let error = ApiError::new(413, "RequestBodyTooLarge", "too big");
        let response = from_error(&error);
        assert_eq!(response.status(), 413);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(body_of(response), error.body());
    }
}
