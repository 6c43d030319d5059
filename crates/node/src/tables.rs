//! Names and keys of CCF's built-in tables (spec/ccf-internals.md §2.8, spec/ccf-api.md §5).

/// Key of every single-value table: 8 zero bytes (CCF's legacy "key 0 as u64").
pub const SINGLETON_KEY: [u8; 8] = [0; 8];

pub const SIGNATURES: &str = "public:ccf.internal.signatures";
pub const COSE_SIGNATURES: &str = "public:ccf.internal.cose_signatures";
pub const TREE: &str = "public:ccf.internal.tree";
pub const SNAPSHOT_EVIDENCE: &str = "public:ccf.internal.snapshot_evidence";
pub const NODES_INFO: &str = "public:ccf.gov.nodes.info";
pub const NODES_ENDORSED_CERTIFICATES: &str = "public:ccf.gov.nodes.endorsed_certificates";
pub const SERVICE_INFO: &str = "public:ccf.gov.service.info";
pub const SERVICE_CONFIG: &str = "public:ccf.gov.service.config";
pub const USERS_CERTS: &str = "public:ccf.gov.users.certs";
pub const USERS_INFO: &str = "public:ccf.gov.users.info";
pub const MEMBERS_CERTS: &str = "public:ccf.gov.members.certs";
pub const MEMBERS_INFO: &str = "public:ccf.gov.members.info";
pub const MEMBERS_ACKS: &str = "public:ccf.gov.members.acks";
pub const MEMBERS_ENCRYPTION_PUBLIC_KEYS: &str = "public:ccf.gov.members.encryption_public_keys";
pub const CONSTITUTION: &str = "public:ccf.gov.constitution";
