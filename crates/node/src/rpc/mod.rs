//! Endpoint dispatch, sans-IO: requests come in as values, responses go out as values
//! (ARCHITECTURE.md "The path of one write", steps 2–5). The host parses HTTP; this decides which
//! endpoint runs, who the caller is, and what the error is when none does.

mod auth;
mod cose_member_auth;
mod cose_user_auth;
mod jwt_auth;
mod path_template;
mod registry;
mod request;

pub use auth::{AuthPolicy, Caller, authenticate};
pub use cose_member_auth::MemberCoseIdentity;
pub use cose_user_auth::{UserCoseIdentity, WWW_AUTHENTICATE_COSE};
pub use jwt_auth::{JwtIdentity, WWW_AUTHENTICATE_JWT};
pub use path_template::{PathParams, PathTemplate};
pub(crate) use registry::allow_header;
pub use registry::{Endpoint, EndpointRegistry, Forwarding, Found, Mode, NotFound};
pub use request::{Request, Response};
