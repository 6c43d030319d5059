//! One request on one session: enforce CCF's limits, read the body, call the handler.

use std::sync::Arc;

use cloister_types::ApiError;
use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use tokio::sync::Notify;

use crate::config::AppProtocol;
use crate::handler::{HostRequest, RequestHandler};
use crate::limits::{self, BodyError, RequestLimits};
use crate::response::{self, ResponseBody};

/// What every request of one interface shares.
pub(crate) struct Interface {
    pub(crate) name: String,
    pub(crate) app_protocol: AppProtocol,
    pub(crate) limits: RequestLimits,
    pub(crate) handler: Arc<dyn RequestHandler>,
}

/// What every request of one session (TLS connection) shares.
pub(crate) struct Session {
    pub(crate) interface: Arc<Interface>,
    pub(crate) id: u64,
    /// Admitted over the soft cap: every answer is 503 `SessionCapExhausted`.
    pub(crate) capped: bool,
    pub(crate) client_cert_der: Option<Vec<u8>>,
    /// Signalled when the session must close after the current answer (CCF closes the
    /// session after a 413, a 431 and the soft-cap 503).
    pub(crate) close: Arc<Notify>,
    /// Set with `close`: the stream lingers when dropped (see `linger`).
    pub(crate) linger: Arc<std::sync::atomic::AtomicBool>,
}

impl Session {
    pub(crate) async fn respond(&self, request: Request<Incoming>) -> Response<ResponseBody> {
        if self.capped {
            return self.answer_and_close(&limits::session_cap_exhausted());
        }
        let limits = &self.interface.limits;
        let checked = limits::check_headers(request.headers(), limits)
            .and_then(|()| limits::check_declared_length(request.headers(), limits));
        if let Err(error) = checked {
            return self.answer_and_close(&error);
        }
        let (parts, body) = request.into_parts();
        let body = match limits::read_body(body, limits).await {
            Ok(body) => body,
            Err(BodyError::TooLarge(error)) => return self.answer_and_close(&error),
            Err(BodyError::Transport(reason)) => {
                tracing::debug!(session = self.id, %reason, "request body not received");
                let error = ApiError::new(
                    400,
                    "InvalidInput",
                    format!("Unable to read the request body: {reason}"),
                );
                return self.answer_and_close(&error);
            }
        };
        let request = HostRequest {
            session_id: self.id,
            interface: self.interface.name.clone(),
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers,
            body,
            client_cert_der: self.client_cert_der.clone(),
            http2: parts.version == http::Version::HTTP_2,
        };
        response::from_host(self.interface.handler.handle(request).await)
    }

    fn answer_and_close(&self, error: &ApiError) -> Response<ResponseBody> {
        tracing::debug!(session = self.id, %error, "closing session after error");
        self.linger
            .store(true, std::sync::atomic::Ordering::Release);
        self.close.notify_one();
        let mut response = response::from_error(error);
        // HTTP/2 forbids connection-specific headers; there the GOAWAY sent on close says it.
        if self.interface.app_protocol == AppProtocol::Http1 {
            response
                .headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
