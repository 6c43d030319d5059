//! The one error type of the host crate.

/// Why the host could not set up or run an RPC interface. Errors from a single connection
/// (a failed handshake, a client that disconnects) are logged and end that connection only;
/// they never reach this type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The certificate chain PEM holds no `CERTIFICATE` block.
    #[error("the certificate chain PEM holds no CERTIFICATE block")]
    NoCertificate,
    /// The private key PEM holds no PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY` block.
    #[error("the private key PEM holds no PRIVATE KEY or EC PRIVATE KEY block")]
    NoPrivateKey,
    /// A PEM block could not be decoded (bad base64, unterminated block).
    #[error("malformed PEM: {0}")]
    MalformedPem(String),
    /// A certificate of the chain is not well-formed X.509.
    #[error("malformed certificate in the chain: {0}")]
    MalformedCertificate(String),
    /// rustls refused the TLS configuration (for example, the key does not match the
    /// certificate, or the key type is unsupported).
    #[error("TLS configuration refused: {0}")]
    Tls(#[from] rustls::Error),
    /// A socket operation (bind, local address) failed.
    #[error("{context}: {source}")]
    Io {
        /// What the host was doing.
        context: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// An `app_protocol` other than CCF's `HTTP1` or `HTTP2`.
    #[error("unknown app_protocol {0:?} (expected HTTP1 or HTTP2)")]
    UnknownAppProtocol(String),
    /// The interface configuration contradicts itself (for example a zero limit).
    #[error("invalid RPC interface configuration: {0}")]
    InvalidConfig(String),
}

impl HostError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> HostError {
        HostError::Io {
            context: context.into(),
            source,
        }
    }
}
