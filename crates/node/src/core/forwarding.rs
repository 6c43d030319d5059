//! Forwarding (spec/ccf-api.md §0, ARCHITECTURE.md step 3): a backup hands a request that may
//! write to the primary over the node-to-node channel and answers its client with the
//! primary's response; the primary runs forwarded requests as its own.

use cloister_types::{ApiError, NodeId};

use crate::core::execute::Dispatch;
use crate::core::{NodeCore, Output, SessionId};
use crate::peer_wire::{PeerMessage, encode};
use crate::rpc::{Request, Response};

/// A forwarded request not answered within this long gets an error (the primary may be gone).
pub const FORWARD_TIMEOUT_MS: u64 = 5_000;

/// Forwarded requests awaiting an answer, at most this many (then new ones are refused).
pub const FORWARDS_PENDING_MAX: usize = 10_000;

/// A request this node forwarded.
#[derive(Debug, Clone)]
pub(crate) struct PendingForward {
    session: SessionId,
    to: NodeId,
    sent_ms: u64,
}

impl NodeCore {
    /// Sends `request` to the primary, or answers at once when that is impossible.
    pub(crate) fn forward(&mut self, session: SessionId, request: Request) {
        let primary = self.primary.clone().filter(|id| *id != self.node.id);
        let refusal = match primary {
            None => Some(unknown_primary()),
            Some(_) if request.http2 => Some(http2_refused()),
            Some(_) if self.forwards.len() >= FORWARDS_PENDING_MAX => Some(busy()),
            Some(_) => None,
        };
        if let Some(response) = refusal {
            self.outputs
                .push_back(Output::Respond { session, response });
            return;
        }
        let Some(to) = primary else { return };
        self.next_forward_id += 1;
        let id = self.next_forward_id;
        self.forwards.insert(
            id,
            PendingForward {
                session,
                to: to.clone(),
                sent_ms: self.now_ms,
            },
        );
        let bytes = encode(&PeerMessage::Forward { id, request });
        self.outputs.push_back(Output::SendPeer { to, bytes });
    }

    /// The primary runs a request a backup forwarded, and sends the response back.
    pub(crate) fn execute_forwarded(&mut self, from: NodeId, id: u64, request: &Request) {
        let response = match self.execute(request) {
            Dispatch::Respond(response) => response,
            // This node is not the primary (any more): no forwarding chains.
            Dispatch::Forward => unknown_primary(),
        };
        let bytes = encode(&PeerMessage::ForwardResponse { id, response });
        self.outputs.push_back(Output::SendPeer { to: from, bytes });
    }

    /// The primary answered a forwarded request.
    pub(crate) fn on_forward_response(&mut self, from: &NodeId, id: u64, response: Response) {
        let Some(pending) = self.forwards.get(&id) else {
            return;
        };
        if pending.to != *from {
            return; // only the node it was sent to may answer it
        }
        let session = pending.session;
        self.forwards.remove(&id);
        self.outputs
            .push_back(Output::Respond { session, response });
    }

    /// Answers forwarded requests that waited too long.
    pub(crate) fn expire_forwards(&mut self) {
        let now = self.now_ms;
        let expired: Vec<u64> = self
            .forwards
            .iter()
            .filter(|(_, pending)| now.saturating_sub(pending.sent_ms) >= FORWARD_TIMEOUT_MS)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(pending) = self.forwards.remove(&id) {
                self.outputs.push_back(Output::Respond {
                    session: pending.session,
                    response: forward_timed_out(),
                });
            }
        }
    }

    /// The primary changed: requests forwarded to the old one may never be answered.
    pub(crate) fn fail_forwards_on_role_change(&mut self) {
        let primary = self.primary.clone();
        let orphaned: Vec<u64> = self
            .forwards
            .iter()
            .filter(|(_, pending)| Some(&pending.to) != primary.as_ref())
            .map(|(id, _)| *id)
            .collect();
        for id in orphaned {
            if let Some(pending) = self.forwards.remove(&id) {
                self.outputs.push_back(Output::Respond {
                    session: pending.session,
                    response: forward_timed_out(),
                });
            }
        }
    }
}

/// CCF's answer when a backup does not know the primary.
fn unknown_primary() -> Response {
    Response::error(&ApiError::new(
        503,
        "InternalError",
        "RPC could not be forwarded to unknown primary.",
    ))
}

/// CCF does not forward requests that arrived over HTTP/2.
fn http2_refused() -> Response {
    Response::error(&ApiError::new(
        501,
        "NotImplemented",
        "Request cannot be forwarded to primary on HTTP/2 interface.",
    ))
}

fn busy() -> Response {
    Response::error(&ApiError::new(
        503,
        "ServiceUnavailable",
        "Too many requests are waiting for the primary. Retry later.",
    ))
}

fn forward_timed_out() -> Response {
    Response::error(&ApiError::new(
        503,
        "InternalError",
        "The primary did not answer the forwarded request (it may have changed); \
         the request may or may not have been executed.",
    ))
}
