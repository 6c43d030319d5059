//! One RPC interface's configuration: CCF's `network.rpc_interfaces.<name>` with its
//! `http_configuration` (spec/ccf-api.md §7), sizes already converted to bytes.

use crate::error::HostError;

/// CCF's `max_open_sessions_soft` default: above it, new sessions get one 503.
pub const MAX_OPEN_SESSIONS_SOFT_DEFAULT: usize = 1000;
/// CCF's `max_open_sessions_hard` default: above it, new connections are dropped.
pub const MAX_OPEN_SESSIONS_HARD_DEFAULT: usize = 1010;
/// CCF's `http_configuration.max_body_size` default, `"1MB"`.
pub const MAX_BODY_SIZE_BYTES_DEFAULT: usize = 1024 * 1024;
/// CCF's `http_configuration.max_header_size` default, `"16KB"` (per header name or value).
pub const MAX_HEADER_SIZE_BYTES_DEFAULT: usize = 16 * 1024;
/// CCF's `http_configuration.max_headers_count` default.
pub const MAX_HEADERS_COUNT_DEFAULT: usize = 256;
/// CCF's `http_configuration.max_concurrent_streams_count` default (HTTP/2 only).
pub const MAX_CONCURRENT_STREAMS_COUNT_DEFAULT: u32 = 100;

/// The HTTP version an interface speaks (CCF's `app_protocol`); it also picks the TLS ALPN
/// protocol the interface offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppProtocol {
    /// `"HTTP1"`, CCF's default: HTTP/1.1, ALPN `http/1.1`.
    #[default]
    Http1,
    /// `"HTTP2"`: HTTP/2 only, ALPN `h2`.
    Http2,
}

impl AppProtocol {
    /// Parses CCF's configuration value (`"HTTP1"` or `"HTTP2"`).
    pub fn from_ccf_name(name: &str) -> Result<AppProtocol, HostError> {
        match name {
            "HTTP1" => Ok(AppProtocol::Http1),
            "HTTP2" => Ok(AppProtocol::Http2),
            other => Err(HostError::UnknownAppProtocol(other.to_owned())),
        }
    }

    /// The TLS ALPN protocol id this interface offers.
    pub fn alpn_id(self) -> &'static [u8] {
        match self {
            AppProtocol::Http1 => b"http/1.1",
            AppProtocol::Http2 => b"h2",
        }
    }
}

/// One listening RPC interface. [`RpcInterfaceConfig::new`] gives CCF's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcInterfaceConfig {
    /// The interface's name (CCF's conventional one is `primary_rpc_interface`); handed to the
    /// handler with every request.
    pub name: String,
    /// `host:port` to listen on; port 0 picks a free port.
    pub bind_address: String,
    pub app_protocol: AppProtocol,
    pub max_open_sessions_soft: usize,
    pub max_open_sessions_hard: usize,
    pub max_body_size_bytes: usize,
    /// Limit on each header name and each header value, as CCF's parser applies it.
    pub max_header_size_bytes: usize,
    pub max_headers_count: usize,
    /// HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS`.
    pub max_concurrent_streams_count: u32,
}

impl RpcInterfaceConfig {
    /// An interface with CCF 6's defaults (HTTP/1.1, 1000/1010 sessions, 1MB bodies, 16KB
    /// headers, 256 headers).
    pub fn new(name: impl Into<String>, bind_address: impl Into<String>) -> RpcInterfaceConfig {
        RpcInterfaceConfig {
            name: name.into(),
            bind_address: bind_address.into(),
            app_protocol: AppProtocol::Http1,
            max_open_sessions_soft: MAX_OPEN_SESSIONS_SOFT_DEFAULT,
            max_open_sessions_hard: MAX_OPEN_SESSIONS_HARD_DEFAULT,
            max_body_size_bytes: MAX_BODY_SIZE_BYTES_DEFAULT,
            max_header_size_bytes: MAX_HEADER_SIZE_BYTES_DEFAULT,
            max_headers_count: MAX_HEADERS_COUNT_DEFAULT,
            max_concurrent_streams_count: MAX_CONCURRENT_STREAMS_COUNT_DEFAULT,
        }
    }

    /// Refuses limits that would make every request fail, or that HTTP/2 cannot express.
    pub fn validate(&self) -> Result<(), HostError> {
        let invalid = |what: &str| Err(HostError::InvalidConfig(format!("{what} ({self:?})")));
        if self.max_headers_count == 0 {
            return invalid("max_headers_count must be at least 1");
        }
        if self.max_header_size_bytes == 0 {
            return invalid("max_header_size must be at least 1 byte");
        }
        if self.max_concurrent_streams_count == 0 {
            return invalid("max_concurrent_streams_count must be at least 1");
        }
        // HTTP/2 carries the header list bound in a u32 setting; see limits::header_list_bytes_max.
        if self.max_header_size_bytes > (u32::MAX as usize) / 8 {
            return invalid("max_header_size is too large");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_protocol_names_are_ccfs() {
        assert_eq!(
            AppProtocol::from_ccf_name("HTTP1").unwrap(),
            AppProtocol::Http1
        );
        assert_eq!(
            AppProtocol::from_ccf_name("HTTP2").unwrap(),
            AppProtocol::Http2
        );
        assert!(matches!(
            AppProtocol::from_ccf_name("QUIC"),
            Err(HostError::UnknownAppProtocol(name)) if name == "QUIC"
        ));
        assert_eq!(AppProtocol::Http2.alpn_id(), b"h2");
        assert_eq!(AppProtocol::default().alpn_id(), b"http/1.1");
    }

    #[test]
    fn defaults_are_ccf_6s() {
        let config = RpcInterfaceConfig::new("primary_rpc_interface", "127.0.0.1:0");
        assert_eq!(config.app_protocol, AppProtocol::Http1);
        assert_eq!(
            (config.max_open_sessions_soft, config.max_open_sessions_hard),
            (1000, 1010)
        );
        assert_eq!(config.max_headers_count, 256);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn zero_header_limits_are_refused() {
        let mut config = RpcInterfaceConfig::new("i", "127.0.0.1:0");
        config.max_headers_count = 0;
        assert!(matches!(
            config.validate(),
            Err(HostError::InvalidConfig(_))
        ));
        let mut config = RpcInterfaceConfig::new("i", "127.0.0.1:0");
        config.max_header_size_bytes = 0;
        assert!(matches!(
            config.validate(),
            Err(HostError::InvalidConfig(_))
        ));
    }
}
