//! Ids and wire enums shared by every Cloister crate.
//!
//! Newtypes rather than aliases (STYLE.md): a `View` can never be passed where a `SeqNo` is
//! expected. Names and textual forms follow CCF (spec/ccf-api.md §2, spec/ccf-internals.md §0).
#![forbid(unsafe_code)]

mod api_error;
mod ids;
mod tx;

pub use api_error::{ApiError, ErrorDetail};
pub use ids::{EntityIdError, MemberId, NodeId, UserId};
pub use tx::{SeqNo, TxId, TxIdParseError, TxStatus, View};
