//! `network`: the node-to-node interface, the RPC interfaces clients connect to, and ACME
//! (spec/ccf-api.md §7; CCF's `NodeInfoNetwork` and `http::ParserConfiguration`).

use std::collections::BTreeMap;

use super::error::ConfigError;
use super::reader::{Fields, Section, config_enum};

/// The `network` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub node_to_node_interface: NodeToNodeInterface,
    /// Interfaces by name, in name order. CCF calls the first one the main interface (its
    /// published address is the default subject alternative name of the node certificate).
    pub rpc_interfaces: BTreeMap<String, RpcInterface>,
    pub acme: Option<Acme>,
}

impl Section for Network {
    const FIELDS: &'static [&'static str] = &["node_to_node_interface", "rpc_interfaces", "acme"];

    fn read(fields: &Fields<'_>) -> Result<Network, ConfigError> {
        fields.required("node_to_node_interface")?;
        let rpc_interfaces = fields
            .read_named("rpc_interfaces")?
            .ok_or_else(|| fields.missing("rpc_interfaces"))?;
        Ok(Network {
            node_to_node_interface: fields.read_section("node_to_node_interface")?,
            rpc_interfaces,
            acme: fields.read_optional_section("acme")?,
        })
    }
}

/// `network.node_to_node_interface`: where other nodes reach this one (Raft and channel
/// messages, not HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeToNodeInterface {
    /// `host:port` to listen on.
    pub bind_address: String,
    /// `host:port` other nodes are told; defaults to `bind_address`.
    pub published_address: String,
}

impl Section for NodeToNodeInterface {
    const FIELDS: &'static [&'static str] = &["bind_address", "published_address"];

    fn read(fields: &Fields<'_>) -> Result<NodeToNodeInterface, ConfigError> {
        let bind_address = fields.required_string("bind_address")?;
        let published_address = fields
            .string("published_address")?
            .unwrap_or_else(|| bind_address.clone());
        Ok(NodeToNodeInterface {
            bind_address,
            published_address,
        })
    }
}

config_enum! {
    /// `protocol` of an RPC interface (the schema types it as a free string; CCF knows these).
    pub enum TransportProtocol {
        Tcp = "tcp",
        /// Experimental in CCF.
        Udp = "udp",
    }
}

config_enum! {
    /// `app_protocol` of an RPC interface.
    pub enum AppProtocol {
        Http1 = "HTTP1",
        Http2 = "HTTP2",
    }
}

/// One entry of `network.rpc_interfaces`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcInterface {
    /// `host:port` to listen on.
    pub bind_address: String,
    /// `host:port` clients are told; defaults to `bind_address`.
    pub published_address: String,
    pub protocol: TransportProtocol,
    pub app_protocol: AppProtocol,
    /// Above this many sessions, new clients get 503 `SessionCapExhausted`.
    pub max_open_sessions_soft: u64,
    /// Above this many sessions, new connections are dropped before the TLS handshake.
    pub max_open_sessions_hard: u64,
    pub http_configuration: HttpConfiguration,
    pub endorsement: Endorsement,
    /// Regular expressions of the paths served here; `None` serves every path.
    pub accepted_endpoints: Option<Vec<String>>,
    pub forwarding_timeout_ms: u64,
    /// Opt-in operator endpoints (`"SnapshotRead"`, …). Not in the 6.0.17 schema, which leaves
    /// RPC interfaces open to extra fields, but read by CCF 6's `NetInterface`.
    pub enabled_operator_features: Vec<String>,
    /// Redirect instead of forwarding, when present.
    pub redirections: Option<Redirections>,
}

impl RpcInterface {
    /// CCF's default `max_open_sessions_soft`.
    pub const DEFAULT_MAX_OPEN_SESSIONS_SOFT: u64 = 1000;
    /// CCF's default `max_open_sessions_hard`.
    pub const DEFAULT_MAX_OPEN_SESSIONS_HARD: u64 = 1010;
    /// CCF's default `forwarding_timeout_ms`.
    pub const DEFAULT_FORWARDING_TIMEOUT_MS: u64 = 3000;
}

impl Section for RpcInterface {
    const FIELDS: &'static [&'static str] = &[
        "bind_address",
        "published_address",
        "protocol",
        "app_protocol",
        "max_open_sessions_soft",
        "max_open_sessions_hard",
        "http_configuration",
        "endorsement",
        "accepted_endpoints",
        "forwarding_timeout_ms",
        "enabled_operator_features",
        "redirections",
    ];

    fn read(fields: &Fields<'_>) -> Result<RpcInterface, ConfigError> {
        let bind_address = fields.required_string("bind_address")?;
        let published_address = fields
            .string("published_address")?
            .unwrap_or_else(|| bind_address.clone());
        Ok(RpcInterface {
            bind_address,
            published_address,
            protocol: fields
                .choice("protocol", TransportProtocol::CHOICES)?
                .unwrap_or(TransportProtocol::Tcp),
            app_protocol: fields
                .choice("app_protocol", AppProtocol::CHOICES)?
                .unwrap_or(AppProtocol::Http1),
            max_open_sessions_soft: fields
                .integer("max_open_sessions_soft", 0)?
                .unwrap_or(Self::DEFAULT_MAX_OPEN_SESSIONS_SOFT),
            max_open_sessions_hard: fields
                .integer("max_open_sessions_hard", 0)?
                .unwrap_or(Self::DEFAULT_MAX_OPEN_SESSIONS_HARD),
            http_configuration: fields.read_section("http_configuration")?,
            endorsement: fields.read_section("endorsement")?,
            accepted_endpoints: fields.strings("accepted_endpoints")?,
            forwarding_timeout_ms: fields
                .integer("forwarding_timeout_ms", 0)?
                .unwrap_or(Self::DEFAULT_FORWARDING_TIMEOUT_MS),
            enabled_operator_features: fields
                .strings("enabled_operator_features")?
                .unwrap_or_default(),
            redirections: fields.read_optional_section("redirections")?,
        })
    }
}

/// `http_configuration` of an RPC interface: limits on each request, and HTTP/2 settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfiguration {
    /// A larger body closes the session (413 `RequestBodyTooLarge`).
    pub max_body_size_bytes: u64,
    /// A larger header key or value closes the session (431 `RequestHeaderTooLarge`).
    pub max_header_size_bytes: u64,
    pub max_headers_count: u64,
    /// HTTP/2 only.
    pub max_concurrent_streams_count: u64,
    /// HTTP/2 only: flow-control window per stream.
    pub initial_window_size_bytes: u64,
    /// HTTP/2 only.
    pub max_frame_size_bytes: u64,
}

impl Default for HttpConfiguration {
    /// CCF's defaults: 1MB, 16KB, 256 headers, 100 streams, 64KB, 16KB.
    fn default() -> HttpConfiguration {
        HttpConfiguration {
            max_body_size_bytes: 1024 * 1024,
            max_header_size_bytes: 16 * 1024,
            max_headers_count: 256,
            max_concurrent_streams_count: 100,
            initial_window_size_bytes: 64 * 1024,
            max_frame_size_bytes: 16 * 1024,
        }
    }
}

impl Section for HttpConfiguration {
    const FIELDS: &'static [&'static str] = &[
        "max_body_size",
        "max_header_size",
        "max_headers_count",
        "max_concurrent_streams_count",
        "initial_window_size",
        "max_frame_size",
    ];

    fn read(fields: &Fields<'_>) -> Result<HttpConfiguration, ConfigError> {
        let default = HttpConfiguration::default();
        Ok(HttpConfiguration {
            max_body_size_bytes: fields
                .size_bytes("max_body_size")?
                .unwrap_or(default.max_body_size_bytes),
            max_header_size_bytes: fields
                .size_bytes("max_header_size")?
                .unwrap_or(default.max_header_size_bytes),
            max_headers_count: fields
                .integer("max_headers_count", 0)?
                .unwrap_or(default.max_headers_count),
            max_concurrent_streams_count: fields
                .integer("max_concurrent_streams_count", 1)?
                .unwrap_or(default.max_concurrent_streams_count),
            initial_window_size_bytes: fields
                .size_bytes("initial_window_size")?
                .unwrap_or(default.initial_window_size_bytes),
            max_frame_size_bytes: fields
                .size_bytes("max_frame_size")?
                .unwrap_or(default.max_frame_size_bytes),
        })
    }
}

config_enum! {
    /// Who endorses the TLS certificate an RPC interface presents.
    pub enum Authority {
        /// The node's self-signed certificate.
        Node = "Node",
        /// The node certificate endorsed by the service identity.
        Service = "Service",
        /// A certificate from an ACME certificate authority.
        Acme = "ACME",
        /// No TLS at all.
        Unsecured = "Unsecured",
    }
}

/// `endorsement` of an RPC interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    pub authority: Authority,
    /// Name of an entry of `network.acme.configurations`; required when the authority is ACME.
    pub acme_configuration: Option<String>,
}

impl Default for Endorsement {
    fn default() -> Endorsement {
        Endorsement {
            authority: Authority::Service,
            acme_configuration: None,
        }
    }
}

impl Section for Endorsement {
    const FIELDS: &'static [&'static str] = &["authority", "acme_configuration"];

    fn read(fields: &Fields<'_>) -> Result<Endorsement, ConfigError> {
        // The schema marks `authority` required inside an `endorsement` object; the object
        // itself is optional and defaults to Service.
        if !fields.is_present() {
            return Ok(Endorsement::default());
        }
        let endorsement = Endorsement {
            authority: fields.required_choice("authority", Authority::CHOICES)?,
            acme_configuration: fields.string("acme_configuration")?,
        };
        // The schema's `oneOf`: an ACME authority needs a configuration name.
        if endorsement.authority == Authority::Acme && endorsement.acme_configuration.is_none() {
            return Err(fields.missing("acme_configuration"));
        }
        Ok(endorsement)
    }
}

/// `redirections` of an RPC interface: answer with a redirect, rather than forwarding, when a
/// request reaches the wrong kind of node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirections {
    /// For requests only a primary can serve, arriving at a backup.
    pub to_primary: Option<RedirectionResolver>,
    /// For requests a backup should serve, arriving at the primary.
    pub to_backup: Option<RedirectionResolver>,
}

impl Section for Redirections {
    const FIELDS: &'static [&'static str] = &["to_primary", "to_backup"];

    fn read(fields: &Fields<'_>) -> Result<Redirections, ConfigError> {
        Ok(Redirections {
            to_primary: fields.read_optional_section("to_primary")?,
            to_backup: fields.read_optional_section("to_backup")?,
        })
    }
}

config_enum! {
    /// The role named by a `NodeByRole` redirection.
    pub enum NodeRole {
        Primary = "primary",
        Backup = "backup",
    }
}

config_enum! {
    /// `kind` of a redirection resolver.
    pub enum RedirectionKind {
        NodeByRole = "NodeByRole",
        StaticAddress = "StaticAddress",
    }
}

/// How the `Location` of a redirect is chosen (the schema's `RedirectionResolver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectionResolver {
    /// The published address of a node with this role.
    NodeByRole { role: NodeRole },
    /// A fixed address.
    StaticAddress { address: String },
}

impl Section for RedirectionResolver {
    const FIELDS: &'static [&'static str] = &["kind", "target"];

    fn read(fields: &Fields<'_>) -> Result<RedirectionResolver, ConfigError> {
        match fields.required_choice("kind", RedirectionKind::CHOICES)? {
            RedirectionKind::NodeByRole => {
                let target = fields.section("target", &["role"])?;
                let role = target.choice("role", NodeRole::CHOICES)?;
                Ok(RedirectionResolver::NodeByRole {
                    role: role.unwrap_or(NodeRole::Primary),
                })
            }
            RedirectionKind::StaticAddress => {
                fields.required("target")?;
                let target = fields.section("target", &["address"])?;
                Ok(RedirectionResolver::StaticAddress {
                    address: target.required_string("address")?,
                })
            }
        }
    }
}

/// `network.acme`: ACME clients that obtain TLS certificates (Let's Encrypt and the like).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acme {
    pub configurations: BTreeMap<String, AcmeConfiguration>,
}

impl Section for Acme {
    const FIELDS: &'static [&'static str] = &["configurations"];

    fn read(fields: &Fields<'_>) -> Result<Acme, ConfigError> {
        Ok(Acme {
            configurations: fields.read_named("configurations")?.unwrap_or_default(),
        })
    }
}

/// One entry of `network.acme.configurations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeConfiguration {
    /// PEM root certificates of the CA.
    pub ca_certs: Vec<String>,
    pub directory_url: Option<String>,
    pub service_dns_name: Option<String>,
    pub alternative_names: Vec<String>,
    pub contact: Vec<String>,
    pub terms_of_service_agreed: bool,
    pub challenge_type: String,
    pub challenge_server_interface: Option<String>,
}

impl Section for AcmeConfiguration {
    const FIELDS: &'static [&'static str] = &[
        "ca_certs",
        "directory_url",
        "service_dns_name",
        "alternative_names",
        "contact",
        "terms_of_service_agreed",
        "challenge_type",
        "challenge_server_interface",
    ];

    fn read(fields: &Fields<'_>) -> Result<AcmeConfiguration, ConfigError> {
        Ok(AcmeConfiguration {
            ca_certs: fields.strings("ca_certs")?.unwrap_or_default(),
            directory_url: fields.string("directory_url")?,
            service_dns_name: fields.string("service_dns_name")?,
            alternative_names: fields.strings("alternative_names")?.unwrap_or_default(),
            contact: fields.strings("contact")?.unwrap_or_default(),
            terms_of_service_agreed: fields.boolean("terms_of_service_agreed")?.unwrap_or(false),
            challenge_type: fields
                .string("challenge_type")?
                .unwrap_or_else(|| "http-01".to_owned()),
            challenge_server_interface: fields.string("challenge_server_interface")?,
        })
    }
}
