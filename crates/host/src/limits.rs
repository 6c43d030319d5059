//! CCF's per-request limits (`http_configuration`, spec/ccf-api.md §0 and §7), checked by the
//! host before the handler sees anything, with CCF's error codes and messages
//! (`src/http/http_parser.h`: 431 `RequestHeaderTooLarge`, 413 `RequestBodyTooLarge`).
//!
//! hyper applies its own, coarser bounds while parsing (the HTTP/1 read buffer, a header count,
//! the HTTP/2 header list size). They are set above CCF's limits so that a request breaking a
//! CCF limit reaches these checks and gets CCF's JSON body; only a request far beyond them is
//! refused by hyper itself, with a bare 431.

use bytes::Bytes;
use cloister_types::ApiError;
use http::HeaderMap;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;

use crate::config::RpcInterfaceConfig;

/// hyper's HTTP/1 default read buffer (8 KiB + 400 KiB); never go below it.
const HYPER_HEAD_BYTES_DEFAULT: usize = 8192 + 4096 * 100;

/// The limits of one interface, in bytes and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestLimits {
    pub(crate) body_bytes_max: usize,
    pub(crate) header_bytes_max: usize,
    pub(crate) headers_count_max: usize,
}

impl RequestLimits {
    pub(crate) fn of(config: &RpcInterfaceConfig) -> RequestLimits {
        RequestLimits {
            body_bytes_max: config.max_body_size_bytes,
            header_bytes_max: config.max_header_size_bytes,
            headers_count_max: config.max_headers_count,
        }
    }

    /// hyper's bound on a whole request head (HTTP/1 buffer, HTTP/2 header list): room for
    /// several headers at CCF's per-header limit, so a single oversize header reaches
    /// [`check_headers`].
    pub(crate) fn hyper_head_bytes_max(&self) -> usize {
        self.header_bytes_max
            .saturating_mul(4)
            .saturating_add(64 * 1024)
            .max(HYPER_HEAD_BYTES_DEFAULT)
    }

    /// hyper's bound on the number of HTTP/1 headers: above CCF's, so that "too many headers"
    /// is answered by [`check_headers`].
    pub(crate) fn hyper_headers_count_max(&self) -> usize {
        self.headers_count_max.saturating_mul(2).max(100)
    }
}

/// Why a request body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over `max_body_size`: answer 413 and close.
    TooLarge(ApiError),
    /// The connection failed while the body was arriving.
    Transport(String),
}

/// CCF's header limits: at most `max_headers_count` headers, and each name and each value at
/// most `max_header_size` bytes.
pub(crate) fn check_headers(headers: &HeaderMap, limits: &RequestLimits) -> Result<(), ApiError> {
    let max = limits.header_bytes_max;
    if headers.len() > limits.headers_count_max {
        return Err(header_too_large(format!(
            "Too many headers (max number allowed: {})",
            limits.headers_count_max
        )));
    }
    for (name, value) in headers {
        if name.as_str().len() > max {
            return Err(header_too_large(format!(
                "Header key for '{name}' is too large (max size allowed: {max})"
            )));
        }
        if value.len() > max {
            return Err(header_too_large(format!(
                "Header value for '{name}' is too large (max size allowed: {max})"
            )));
        }
    }
    Ok(())
}

/// Refuses at once a body whose `content-length` already says it is too large, rather than
/// reading it first (as CCF's parser does on headers-complete).
pub(crate) fn check_declared_length(
    headers: &HeaderMap,
    limits: &RequestLimits,
) -> Result<(), ApiError> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    match declared {
        Some(length) if length > limits.body_bytes_max as u64 => Err(body_too_large(format!(
            "HTTP message body is too large (Content-Length: {length}, max size allowed: {})",
            limits.body_bytes_max
        ))),
        _ => Ok(()),
    }
}

/// Reads the whole body, stopping as soon as it passes `max_body_size` (a body of exactly the
/// limit is accepted, as CCF's `>` check).
pub(crate) async fn read_body<B>(body: B, limits: &RequestLimits) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limits.body_bytes_max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge(body_too_large(format!(
                "HTTP request body is too large (max size allowed: {})",
                limits.body_bytes_max
            ))))
        }
        Err(error) => Err(BodyError::Transport(error.to_string())),
    }
}

/// 503 for a session over `max_open_sessions_soft` (`src/enclave/rpc_sessions.h`).
pub(crate) fn session_cap_exhausted() -> ApiError {
    ApiError::new(
        503,
        "SessionCapExhausted",
        "Service is currently busy and unable to serve new connections",
    )
}

fn header_too_large(message: String) -> ApiError {
    ApiError::new(431, "RequestHeaderTooLarge", message)
}

fn body_too_large(message: String) -> ApiError {
    ApiError::new(413, "RequestBodyTooLarge", message)
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::HeaderValue;
    use http_body_util::Full;
    use hyper::body::Frame;
    use proptest::prelude::*;

    use super::*;

    const LIMITS: RequestLimits = RequestLimits {
        body_bytes_max: 100,
        header_bytes_max: 16,
        headers_count_max: 3,
    };

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let name = http::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.append(name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn headers_within_limits_pass() {
        let map = headers(&[("a", "1"), ("b", "0123456789abcdef"), ("c", "3")]);
        assert_eq!(check_headers(&map, &LIMITS), Ok(()));
    }

    #[test]
    fn one_header_too_many_is_431_with_ccfs_message() {
        let map = headers(&[("a", "1"), ("b", "2"), ("c", "3"), ("c", "4")]);
        let error = check_headers(&map, &LIMITS).unwrap_err();
        assert_eq!(
            (error.status, error.code.as_str()),
            (431, "RequestHeaderTooLarge")
        );
        assert_eq!(error.message, "Too many headers (max number allowed: 3)");
    }

    #[test]
    fn long_header_value_or_name_is_431_naming_the_header() {
        let map = headers(&[("x-big", "0123456789abcdefX")]);
        let error = check_headers(&map, &LIMITS).unwrap_err();
        assert_eq!(error.status, 431);
        assert_eq!(
            error.message,
            "Header value for 'x-big' is too large (max size allowed: 16)"
        );
        let map = headers(&[("x-very-long-header-name", "1")]);
        let error = check_headers(&map, &LIMITS).unwrap_err();
        assert!(
            error
                .message
                .starts_with("Header key for 'x-very-long-header-name'")
        );
    }

    #[test]
    fn declared_length_over_the_limit_is_413_before_reading() {
        let error =
            check_declared_length(&headers(&[("content-length", "101")]), &LIMITS).unwrap_err();
        assert_eq!(
            (error.status, error.code.as_str()),
            (413, "RequestBodyTooLarge")
        );
        assert!(check_declared_length(&headers(&[("content-length", "100")]), &LIMITS).is_ok());
        assert!(check_declared_length(&headers(&[]), &LIMITS).is_ok());
    }

    #[test]
    fn body_of_exactly_the_limit_is_read_whole() {
        let body = Full::new(Bytes::from(vec![7u8; 100]));
        let read = block_on(read_body(body, &LIMITS)).unwrap();
        assert_eq!(read.len(), 100);
    }

    #[test]
    fn streamed_body_past_the_limit_stops_with_413() {
        let body = Chunks((0..5).map(|_| Bytes::from(vec![0u8; 30])).collect());
        match block_on(read_body(body, &LIMITS)) {
            Err(BodyError::TooLarge(error)) => {
                assert_eq!(
                    (error.status, error.code.as_str()),
                    (413, "RequestBodyTooLarge")
                );
                assert_eq!(
                    error.message,
                    "HTTP request body is too large (max size allowed: 100)"
                );
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn hyper_bounds_sit_above_ccfs() {
        let defaults = RequestLimits::of(&RpcInterfaceConfig::new("i", "127.0.0.1:0"));
        assert!(defaults.hyper_head_bytes_max() > 2 * defaults.header_bytes_max);
        assert!(defaults.hyper_headers_count_max() > defaults.headers_count_max);
        assert!(LIMITS.hyper_head_bytes_max() >= HYPER_HEAD_BYTES_DEFAULT);
    }

    /// A body that arrives in several frames with no declared length (chunked / HTTP/2).
    struct Chunks(std::collections::VecDeque<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            std::task::Poll::Ready(self.0.pop_front().map(|chunk| Ok(Frame::data(chunk))))
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn header_check_accepts_exactly_what_fits(count in 0usize..6, len in 0usize..24) {
            let value = "v".repeat(len);
            let names = ["a", "b", "c", "d", "e", "f"];
            let pairs: Vec<(&str, &str)> =
                names[..count].iter().map(|n| (*n, value.as_str())).collect();
            let fits = count <= LIMITS.headers_count_max
                && (count == 0 || len <= LIMITS.header_bytes_max);
            prop_assert_eq!(check_headers(&headers(&pairs), &LIMITS).is_ok(), fits);
        }
    }
}
