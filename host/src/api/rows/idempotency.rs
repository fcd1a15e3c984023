//! `Idempotency-Key` on every write: the first request's status and body are kept per
//! workspace and key; a retry with the same key and request gets them back without
//! writing again; the same key with another request is 422; a retry arriving while
//! the first still runs waits for it. A failure that wrote nothing and that a retry
//! may get past (the database unreachable, `retry_transaction`) is not kept, so the
//! retry runs.
//!
//! The record lives in the control database, the write in the workspace database: if
//! the process dies between the two commits, the key stays `pending` and answers 409
//! until it expires, rather than risking a second write; if the connection fails
//! during the commit, the key keeps the answer `write_outcome_unknown`.

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::api::AppState;
use crate::auth::Principal;
use crate::control::idempotency::KeyState;
use crate::error::{ApiError, Code};

/// The header.
pub const HEADER: &str = "idempotency-key";
/// Longest accepted key.
pub const MAX_KEY_CHARS: usize = 255;
/// How long a retry waits for the first request to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(30);
/// How often it looks.
const POLL: Duration = Duration::from_millis(20);

/// A write's answer: status and JSON body.
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// JSON body.
    pub body: Vec<u8>,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.body,
        )
            .into_response()
    }
}

fn key(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers.get(HEADER).ok_or_else(|| {
        ApiError::new(
            Code::IdempotencyKeyRequired,
            "writes need an Idempotency-Key header (any unique string up to 255 characters)",
        )
    })?;
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.chars().count() <= MAX_KEY_CHARS)
        .ok_or_else(|| {
            ApiError::bad_request("the Idempotency-Key must be 1 to 255 visible ASCII characters")
        })?;
    Ok(key.to_owned())
}

/// Runs `write` at most once per key and request.
pub async fn at_most_once<F, Fut>(
    state: &AppState,
    workspace: Uuid,
    principal: &Principal,
    headers: &HeaderMap,
    request_line: &str,
    body: &[u8],
    write: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Answer, ApiError>>,
{
    let key = key(headers)?;
    let mut hasher = Sha256::new();
    hasher.update(request_line.as_bytes());
    hasher.update([0]);
    hasher.update(principal.user_id().as_bytes());
    hasher.update([0]);
    hasher.update(body);
    let hash = hasher.finalize().to_vec();
    let control = &state.tenancy.control;
    let ttl = state.settings.idempotency_ttl;
    let started = Instant::now();
    loop {
        match control
            .claim_idempotency_key(workspace, &key, &hash, ttl)
            .await?
        {
            KeyState::Claimed => break,
            KeyState::Done { status, body } => {
                let mut response = Answer {
                    status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
                    body,
                }
                .into_response();
                response
                    .headers_mut()
                    .insert("idempotency-replayed", HeaderValue::from_static("true"));
                return Ok(response);
            }
            KeyState::Mismatch => {
                return Err(ApiError::new(
                    Code::IdempotencyKeyReused,
                    "this Idempotency-Key was used for a different request; use a new key",
                ))
            }
            KeyState::Pending => {
                if started.elapsed() > WAIT_FOR_FIRST {
                    return Err(ApiError::new(
                        Code::IdempotencyInProgress,
                        "a request with this Idempotency-Key has not finished (or its outcome is unknown); retry later",
                    ));
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
    match write().await {
        Ok(answer) => {
            control
                .finish_idempotency_key(workspace, &key, answer.status.as_u16(), &answer.body)
                .await?;
            Ok(answer.into_response())
        }
        Err(error) if remembered(&error) => {
            let body = serde_json::to_vec(&error.to_json()).unwrap_or_default();
            control
                .finish_idempotency_key(workspace, &key, error.status.as_u16(), &body)
                .await?;
            Err(error)
        }
        Err(error) => {
            // Nothing was written and a retry may succeed: let the retry run.
            if let Err(release) = control.release_idempotency_key(workspace, &key).await {
                tracing::warn!(error = %release, "could not release an idempotency key");
            }
            Err(error)
        }
    }
}

/// Whether a failed write's answer is kept for the key's retries: the client's own
/// errors, which a retry would meet again, and a commit whose outcome is unknown,
/// which a retry must not risk writing twice. Server-side failures before the commit
/// (nothing was written) and `retry_transaction` (a conflict that asks for the retry)
/// are not kept.
fn remembered(error: &ApiError) -> bool {
    if error.code == Code::WriteOutcomeUnknown {
        return true;
    }
    error.status.is_client_error() && error.code != Code::RetryTransaction
}
