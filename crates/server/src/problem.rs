//! Errors as `application/problem+json` (RFC 9457), carrying dacu's stable code. One
//! table maps each code's kind to its HTTP status; the service's own refusals (auth,
//! limits, backpressure) have codes of their own here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dacu_core::error::Kind;
use dacu_core::Rejection;
use serde::Serialize;

/// The HTTP status of a rejection, by its kind: the one place this is decided.
pub fn status_of(kind: Kind) -> StatusCode {
    match kind {
        Kind::InvalidRequest => StatusCode::BAD_REQUEST,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::Refused => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Limit => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::Capacity => StatusCode::INSUFFICIENT_STORAGE,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The service's own codes, beside the engine's (docs/api.md, "Errors").
pub mod codes {
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const FORBIDDEN: &str = "forbidden";
    pub const NOT_FOUND: &str = "not_found";
    pub const BAD_REQUEST: &str = "bad_request";
    pub const TOO_LARGE: &str = "too_large";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const BUSY: &str = "busy";
    pub const TIMEOUT: &str = "timeout";
    pub const NOT_YET: &str = "not_yet";
    pub const IDEMPOTENCY_IN_FLIGHT: &str = "idempotency_key_in_flight";
    pub const STOPPING: &str = "stopping";
    pub const NOT_LEADER: &str = "not_leader";
    pub const NO_LEADER: &str = "no_leader";
}

/// A problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:dacu:problem:CODE`.
    #[serde(rename = "type")]
    pub ty: String,
    /// What the code means.
    pub title: String,
    pub status: u16,
    /// What was wrong and what would be accepted.
    pub detail: String,
    /// The stable machine code (an engine code, or one of the service's).
    pub code: String,
    /// The code's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A JSON pointer to the offending field of the request body, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The request's id, as in the logs and the `X-Request-Id` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Seconds to wait before retrying (also sent as `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Problem {
        Problem {
            ty: format!("urn:dacu:problem:{code}"),
            title: status.canonical_reason().unwrap_or("error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_string(),
            kind: None,
            pointer: None,
            request_id: None,
            retry_after_s: None,
        }
    }

    /// An engine rejection, at the status of its kind.
    pub fn rejection(r: &Rejection) -> Problem {
        let kind = r.code.kind();
        Problem {
            title: r.code.meaning().to_string(),
            kind: Some(kind.as_str().to_string()),
            ..Problem::new(status_of(kind), r.code.as_str(), r.message.clone())
        }
    }

    pub fn retry_after(mut self, s: u64) -> Problem {
        self.retry_after_s = Some(s);
        self
    }

    pub fn at(mut self, pointer: impl Into<String>) -> Problem {
        self.pointer = Some(pointer.into());
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, detail)
    }

    pub fn busy(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, codes::BUSY, detail).retry_after(1)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry = self.retry_after_s;
        let mut res = (status, axum::Json(self)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(s) = retry {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res
    }
}

/// Where in a command object a rejection points: the first `field` its message names
/// that the object has.
pub fn pointer_in(obj: &serde_json::Value, message: &str) -> Option<String> {
    let fields = obj.as_object()?;
    message.split('`').skip(1).step_by(2).find(|f| fields.contains_key(*f)).map(|f| format!("/{f}"))
}
