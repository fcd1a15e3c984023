//! The one JSON error shape every endpoint answers with, and the table that maps
//! each stage's errors to an HTTP status and a stable code (see the `status` module).

mod codes;
mod status;

pub use codes::{reference, Code};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// A client-facing error: `{"error": {"code", "message", "details"?, "hint"?}}`.
///
/// Only errors meant for clients become an `ApiError`; internal detail is logged
/// where it happens and replaced by a generic message here.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// A stable, machine-readable code such as `insufficient_scope`.
    pub code: Code,
    /// A sentence for a human reading the response.
    pub message: String,
    /// Structured detail (a list of violations, the candidates of an ambiguity, ...).
    pub details: Option<Value>,
    /// What the client can do about it.
    pub hint: Option<String>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl ApiError {
    /// An error with the given code (answered with the code's status) and message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            code,
            message: message.into(),
            details: None,
            hint: None,
        }
    }

    /// Adds structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Adds a hint telling the client what to do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// 400 `invalid_request`: the request itself is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidRequest, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }

    /// 409 `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Code::Conflict, message)
    }

    /// 422 `unprocessable`: well-formed but refused.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(Code::Unprocessable, message)
    }

    /// 500 `internal`: a fault of ours. The cause must already be logged.
    pub fn internal() -> Self {
        Self::new(
            Code::Internal,
            "an internal error occurred; it has been logged",
        )
    }

    /// 503 `database_unavailable`.
    pub fn database_unavailable() -> Self {
        Self::new(
            Code::DatabaseUnavailable,
            "the database is not reachable right now; retry shortly",
        )
    }

    /// 503 `write_outcome_unknown`: the connection failed while a write committed, so
    /// nobody here knows whether it took effect.
    pub fn write_outcome_unknown() -> Self {
        Self::new(
            Code::WriteOutcomeUnknown,
            "the database connection failed while the write committed: it may or may not have taken effect",
        )
        .with_hint("read the rows to find out; send a new Idempotency-Key to write again")
    }

    /// Whether the error may mean that the connection it came from is gone (or going:
    /// a backend that ends itself answers its last statement before it closes the
    /// socket), so that the connection must not serve another request.
    pub fn may_have_lost_the_connection(&self) -> bool {
        matches!(
            self.code,
            Code::DatabaseUnavailable | Code::WriteOutcomeUnknown
        )
    }

    /// Whether a vault call's answer may come from a cached collection that another
    /// replica dropped and created again: its storage is gone (not found) or its
    /// schema is not the collection's any more (validation refused). Neither wrote.
    pub fn may_mean_a_stale_collection(&self) -> bool {
        matches!(self.code, Code::NotFound | Code::ValidationFailed)
    }

    /// Renders the error as the JSON body, for places that need bytes rather than a response.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(Envelope {
            error: Body {
                code: self.code.as_str(),
                message: &self.message,
                details: self.details.as_ref(),
                hint: self.hint.as_deref(),
            },
        })
        .unwrap_or(Value::Null)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code.as_str(),
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.to_json())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Every 503 is passing (a busy sandbox or compiler, a database coming
            // back): a client may try again shortly.
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

/// The result type of every handler.
pub type ApiResult<T> = Result<T, ApiError>;
