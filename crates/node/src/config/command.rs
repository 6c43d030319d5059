//! `command`: whether the node starts a new service, joins one, or recovers one
//! (spec/ccf-api.md §6–7). File paths stay paths: the CLI reads the files.
//!
//! CCF parses whichever of `start`, `join` and `recover` are present, whatever the type (its
//! test configurations carry all three), and its schema checks only the one matching the type.
//! Cloister reads and checks every one present, and keeps the one the type selects.

use super::error::ConfigError;
use super::reader::{Fields, Section, config_enum};

config_enum! {
    /// `command.type`.
    pub enum CommandType {
        Start = "Start",
        Join = "Join",
        Recover = "Recover",
    }
}

/// The `command` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Start and Recover write the service certificate here; Join reads it as its trust anchor.
    pub service_certificate_file: String,
    pub kind: CommandKind,
}

impl Command {
    /// The value of `command.type`.
    pub fn command_type(&self) -> CommandType {
        match self.kind {
            CommandKind::Start(_) => CommandType::Start,
            CommandKind::Join(_) => CommandType::Join,
            CommandKind::Recover(_) => CommandType::Recover,
        }
    }
}

/// What the node does at startup, with the options of that command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandKind {
    Start(StartCommand),
    Join(JoinCommand),
    Recover(RecoverCommand),
}

impl Section for Command {
    const FIELDS: &'static [&'static str] = &[
        "type",
        "service_certificate_file",
        "start",
        "join",
        "recover",
    ];

    fn read(fields: &Fields<'_>) -> Result<Command, ConfigError> {
        let command_type = fields.required_choice("type", CommandType::CHOICES)?;
        let start: Option<StartCommand> = fields.read_optional_section("start")?;
        let join: Option<JoinCommand> = fields.read_optional_section("join")?;
        let recover: Option<RecoverCommand> = fields.read_optional_section("recover")?;
        let kind = match command_type {
            CommandType::Start => start.map(CommandKind::Start),
            CommandType::Join => join.map(CommandKind::Join),
            CommandType::Recover => recover.map(CommandKind::Recover),
        };
        // The schema requires `start` for Start and `join` for Join. It does not require
        // `recover` for Recover, but `recover.previous_service_identity_file` is required and has
        // no default, so a Recover node cannot do without the section either.
        let kind = kind.ok_or_else(|| fields.missing(&command_type.as_str().to_lowercase()))?;
        Ok(Command {
            service_certificate_file: fields
                .string("service_certificate_file")?
                .unwrap_or_else(|| "service_cert.pem".to_owned()),
            kind,
        })
    }
}

/// `command.start`: the genesis of a new service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartCommand {
    /// The founding members (status Accepted at genesis).
    pub members: Vec<Member>,
    /// Constitution sources, concatenated in this order into `public:ccf.gov.constitution`.
    pub constitution_files: Vec<String>,
    pub service_configuration: ServiceConfiguration,
    pub initial_service_certificate_validity_days: u64,
    /// A distinguished name, `"CN=CCF Service"` by default.
    pub service_subject_name: String,
    /// CWT claims of the COSE ledger signatures; set once, at service start.
    pub cose_signatures: Option<CoseSignatures>,
}

impl Section for StartCommand {
    const FIELDS: &'static [&'static str] = &[
        "members",
        "constitution_files",
        "service_configuration",
        "initial_service_certificate_validity_days",
        "service_subject_name",
        "cose_signatures",
    ];

    fn read(fields: &Fields<'_>) -> Result<StartCommand, ConfigError> {
        let members = fields
            .read_list("members")?
            .ok_or_else(|| fields.missing("members"))?;
        let constitution_files = fields
            .strings("constitution_files")?
            .ok_or_else(|| fields.missing("constitution_files"))?;
        Ok(StartCommand {
            members,
            constitution_files,
            service_configuration: fields.read_section("service_configuration")?,
            initial_service_certificate_validity_days: fields
                .integer("initial_service_certificate_validity_days", 1)?
                .unwrap_or(1),
            service_subject_name: fields
                .string("service_subject_name")?
                .unwrap_or_else(|| "CN=CCF Service".to_owned()),
            cose_signatures: fields.read_optional_section("cose_signatures")?,
        })
    }
}

config_enum! {
    /// `recovery_role` of a founding member.
    pub enum RecoveryRole {
        /// No recovery share.
        NonParticipant = "NonParticipant",
        /// A share counting towards the recovery threshold.
        Participant = "Participant",
        /// A full recovery key.
        Owner = "Owner",
    }
}

/// One entry of `command.start.members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's X.509 certificate (PEM).
    pub certificate_file: String,
    /// The member's RSA public key (PEM); members with one are recovery members.
    pub encryption_public_key_file: Option<String>,
    /// Free-form member data (JSON).
    pub data_json_file: Option<String>,
    pub recovery_role: Option<RecoveryRole>,
}

impl Section for Member {
    const FIELDS: &'static [&'static str] = &[
        "certificate_file",
        "encryption_public_key_file",
        "data_json_file",
        "recovery_role",
    ];

    fn read(fields: &Fields<'_>) -> Result<Member, ConfigError> {
        Ok(Member {
            certificate_file: fields.required_string("certificate_file")?,
            encryption_public_key_file: fields.nullable_string("encryption_public_key_file")?,
            data_json_file: fields.nullable_string("data_json_file")?,
            recovery_role: fields.choice("recovery_role", RecoveryRole::CHOICES)?,
        })
    }
}

config_enum! {
    /// How membership changes of the consensus are applied.
    pub enum ReconfigurationType {
        OneTransaction = "OneTransaction",
        TwoTransaction = "TwoTransaction",
    }
}

/// `command.start.service_configuration`, recorded in `public:ccf.gov.service.config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfiguration {
    /// 0 means: the number of recovery members (CCF sets it at genesis).
    pub recovery_threshold: u64,
    pub maximum_node_certificate_validity_days: u64,
    pub maximum_service_certificate_validity_days: u64,
    /// Replay protection window of COSE governance requests.
    pub recent_cose_proposals_window_size: u64,
    /// A field of CCF's `ServiceConfiguration` that the 6.0.17 schema does not list (CCF's own
    /// schema validation would refuse it); Cloister reads it so it can refuse TwoTransaction.
    pub reconfiguration_type: Option<ReconfigurationType>,
}

impl Default for ServiceConfiguration {
    /// What CCF uses when `service_configuration` is absent.
    fn default() -> ServiceConfiguration {
        ServiceConfiguration {
            recovery_threshold: 0,
            maximum_node_certificate_validity_days: 365,
            maximum_service_certificate_validity_days: 365,
            recent_cose_proposals_window_size: 100,
            reconfiguration_type: None,
        }
    }
}

impl Section for ServiceConfiguration {
    const FIELDS: &'static [&'static str] = &[
        "recovery_threshold",
        "maximum_node_certificate_validity_days",
        "maximum_service_certificate_validity_days",
        "recent_cose_proposals_window_size",
        "reconfiguration_type",
    ];

    fn read(fields: &Fields<'_>) -> Result<ServiceConfiguration, ConfigError> {
        let default = ServiceConfiguration::default();
        if !fields.is_present() {
            return Ok(default);
        }
        let recovery_threshold = fields
            .integer("recovery_threshold", 0)?
            .ok_or_else(|| fields.missing("recovery_threshold"))?;
        Ok(ServiceConfiguration {
            recovery_threshold,
            maximum_node_certificate_validity_days: fields
                .integer("maximum_node_certificate_validity_days", 1)?
                .unwrap_or(default.maximum_node_certificate_validity_days),
            maximum_service_certificate_validity_days: fields
                .integer("maximum_service_certificate_validity_days", 1)?
                .unwrap_or(default.maximum_service_certificate_validity_days),
            recent_cose_proposals_window_size: fields
                .integer("recent_cose_proposals_window_size", 1)?
                .unwrap_or(default.recent_cose_proposals_window_size),
            reconfiguration_type: fields
                .choice("reconfiguration_type", ReconfigurationType::CHOICES)?,
        })
    }
}

/// `command.start.cose_signatures`: CWT claims of COSE ledger signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSignatures {
    pub issuer: Option<String>,
    pub subject: Option<String>,
}

impl Section for CoseSignatures {
    const FIELDS: &'static [&'static str] = &["issuer", "subject"];

    fn read(fields: &Fields<'_>) -> Result<CoseSignatures, ConfigError> {
        Ok(CoseSignatures {
            issuer: fields.string("issuer")?,
            subject: fields.string("subject")?,
        })
    }
}

/// `command.join`: joining an existing service through one of its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinCommand {
    /// `host:port` of an RPC interface of a node of the service.
    pub target_rpc_address: String,
    /// Interval between join requests.
    pub retry_timeout_ms: u64,
    /// Follow a backup's 308 to the primary.
    pub follow_redirect: bool,
    /// Ask the target for a snapshot newer than the local one before joining.
    pub fetch_recent_snapshot: bool,
    pub fetch_snapshot_max_attempts: u64,
    pub fetch_snapshot_retry_interval_ms: u64,
}

impl Section for JoinCommand {
    const FIELDS: &'static [&'static str] = &[
        "target_rpc_address",
        "retry_timeout",
        "follow_redirect",
        "fetch_recent_snapshot",
        "fetch_snapshot_max_attempts",
        "fetch_snapshot_retry_interval",
    ];

    fn read(fields: &Fields<'_>) -> Result<JoinCommand, ConfigError> {
        Ok(JoinCommand {
            target_rpc_address: fields.required_string("target_rpc_address")?,
            retry_timeout_ms: fields.duration_ms("retry_timeout")?.unwrap_or(1000),
            follow_redirect: fields.boolean("follow_redirect")?.unwrap_or(true),
            fetch_recent_snapshot: fields.boolean("fetch_recent_snapshot")?.unwrap_or(true),
            fetch_snapshot_max_attempts: fields
                .integer("fetch_snapshot_max_attempts", 1)?
                .unwrap_or(3),
            fetch_snapshot_retry_interval_ms: fields
                .duration_ms("fetch_snapshot_retry_interval")?
                .unwrap_or(1000),
        })
    }
}

/// `command.recover`: disaster recovery of a service from its ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoverCommand {
    /// The certificate (PEM) of the service being recovered.
    pub previous_service_identity_file: String,
    pub initial_service_certificate_validity_days: u64,
    /// Unseal the ledger secrets from here instead of collecting recovery shares.
    pub previous_sealed_ledger_secret_location: Option<String>,
}

impl Section for RecoverCommand {
    const FIELDS: &'static [&'static str] = &[
        "previous_service_identity_file",
        "initial_service_certificate_validity_days",
        "previous_sealed_ledger_secret_location",
    ];

    fn read(fields: &Fields<'_>) -> Result<RecoverCommand, ConfigError> {
        Ok(RecoverCommand {
            previous_service_identity_file: fields
                .required_string("previous_service_identity_file")?,
            initial_service_certificate_validity_days: fields
                .integer("initial_service_certificate_validity_days", 1)?
                .unwrap_or(1),
            previous_sealed_ledger_secret_location: fields
                .string("previous_sealed_ledger_secret_location")?,
        })
    }
}
