//! Where the client connects: `https://host[:port]`, parsed once.

use std::net::IpAddr;

use rustls_pki_types::ServerName;

use crate::error::ClientError;

/// HTTPS's default port, used when the URL names none.
const HTTPS_PORT: u16 = 443;

/// A parsed base URL: what to dial, what to call the server in TLS, and the authority for the
/// `Host` header or HTTP/2 `:authority`.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Host to dial: a DNS name or an IP literal without brackets.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `host:port` as written in the URL (IPv6 keeps its brackets).
    pub(crate) authority: String,
    /// The name the server certificate must carry: an IP SAN for IP literals (CCF node
    /// certificates name nodes by IP), a DNS SAN otherwise.
    pub(crate) server_name: ServerName<'static>,
}

impl Target {
    /// Accepts `https://host`, `https://host:port` and either with a trailing `/`. Anything else
    /// (another scheme, a path, a query, user info) is refused: every request names its own
    /// path, and CCF serves only HTTPS (spec/ccf-api.md §0 "Transport").
    pub(crate) fn parse(url: &str) -> Result<Target, ClientError> {
        let invalid = |why: &str| ClientError::InvalidUrl {
            url: url.to_owned(),
            why: why.to_owned(),
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
        if uri.scheme_str() != Some("https") {
            return Err(invalid("the scheme must be https"));
        }
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("user info is not supported"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(invalid("the base URL must not carry a path or query"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        // `port_u16` is None both for "no port" and for one out of range: tell them apart.
        let names_port = !authority.as_str().ends_with(']') && authority.as_str().contains(':');
        let port = match (names_port, authority.port_u16()) {
            (_, Some(port)) => port,
            (false, None) => HTTPS_PORT,
            (true, None) => return Err(invalid("the port is not a number below 65536")),
        };
        let server_name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::from(ip),
            Err(_) => ServerName::try_from(host.clone())
                .map_err(|_| invalid("the host is neither an IP address nor a DNS name"))?,
        };
        Ok(Target {
            host,
            port,
            authority: authority.as_str().to_owned(),
            server_name,
        })
    }

    /// `host:port` for messages.
    pub(crate) fn address(&self) -> String {
        self.authority.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_urls_name_the_server_by_ip() {
        let target = Target::parse("https://127.0.0.1:8000").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("127.0.0.1", 8000));
        assert_eq!(target.authority, "127.0.0.1:8000");
        assert!(matches!(target.server_name, ServerName::IpAddress(_)));
    }

    #[test]
    fn ipv6_brackets_are_kept_in_the_authority_only() {
        let target = Target::parse("https://[::1]:8443/").unwrap();
        assert_eq!(target.host, "::1");
        assert_eq!(target.authority, "[::1]:8443");
        assert!(matches!(target.server_name, ServerName::IpAddress(_)));
    }

    #[test]
    fn dns_names_default_to_port_443() {
        let target = Target::parse("https://ccf.example").unwrap();
        assert_eq!(target.port, 443);
        assert!(matches!(target.server_name, ServerName::DnsName(_)));
    }

    #[test]
    fn other_schemes_paths_and_garbage_are_refused() {
        for url in [
            "http://127.0.0.1:8000",
            "127.0.0.1:8000",
            "https://127.0.0.1:8000/app",
            "https://127.0.0.1:8000/?x=1",
            "https://user@127.0.0.1:8000",
            "https://",
            "",
            "https://127.0.0.1:99999",
        ] {
            assert!(
                matches!(Target::parse(url), Err(ClientError::InvalidUrl { .. })),
                "{url} was accepted"
            );
        }
    }
}
