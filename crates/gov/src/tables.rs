//! Names and keys of the governance tables this crate reads and writes (spec/ccf-api.md §5).
//! Keys of maps are the raw bytes of the id text; values are JSON unless noted.

/// Key of every single-value table: 8 zero bytes (CCF's legacy "key 0 as u64", spec §5).
pub const SINGLETON_KEY: [u8; 8] = [0; 8];

/// member_id → PEM certificate (raw bytes).
pub const MEMBERS_CERTS: &str = "public:ccf.gov.members.certs";
/// member_id → RSA public key PEM (raw bytes); present iff the member takes part in recovery.
pub const MEMBERS_ENCRYPTION_PUBLIC_KEYS: &str = "public:ccf.gov.members.encryption_public_keys";
/// member_id → `{status, member_data?, recovery_role?}`.
pub const MEMBERS_INFO: &str = "public:ccf.gov.members.info";
/// member_id → `{cose_sign1_req?, signed_req?, state_digest}`.
pub const MEMBERS_ACKS: &str = "public:ccf.gov.members.acks";
/// user_id → PEM certificate (raw bytes).
pub const USERS_CERTS: &str = "public:ccf.gov.users.certs";
/// user_id → `{user_data}`.
pub const USERS_INFO: &str = "public:ccf.gov.users.info";
/// proposal_id → the proposal exactly as signed (raw bytes).
pub const PROPOSALS: &str = "public:ccf.gov.proposals";
/// proposal_id → `{ballots, failure?, final_votes?, proposer_id, state, vote_failures?}`.
pub const PROPOSALS_INFO: &str = "public:ccf.gov.proposals_info";
/// member_id → JSON string: base64 of the member's last governance COSE_Sign1 envelope.
pub const COSE_HISTORY: &str = "public:ccf.gov.cose_history";
/// `"<created_at, 10 digits>:<hex sha256(signature)>"` → JSON string: the proposal id.
pub const COSE_RECENT_PROPOSALS: &str = "public:ccf.gov.cose_recent_proposals";
/// Singleton → JSON string: the constitution's JavaScript source.
pub const CONSTITUTION: &str = "public:ccf.gov.constitution";
/// Singleton → `{cert, status, …}`.
pub const SERVICE_INFO: &str = "public:ccf.gov.service.info";
/// Singleton → `{recovery_threshold, recent_cose_proposals_window_size?, …}`.
pub const SERVICE_CONFIG: &str = "public:ccf.gov.service.config";
