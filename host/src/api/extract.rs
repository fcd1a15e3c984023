//! Request extractors that answer in the one JSON error shape: the caller, a JSON
//! body under the size limit, and ids in paths.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Code};

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        Ok(state.auth.authenticate(header).await?)
    }
}

/// A JSON request body, read up to `max_body_bytes` and parsed into `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read_body(request, state.settings.http.max_body_bytes, true).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON bytes, naming the line and column of a syntax error and the field of
/// a shape error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; a JSON document is expected",
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if path == "." || path.is_empty() {
            format!("invalid JSON body: {inner}")
        } else {
            format!("invalid JSON body at `{path}`: {inner}")
        };
        ApiError::new(Code::InvalidBody, message)
    })
}

/// Reads a whole body under `limit` bytes (413 beyond it). With `require_json`, a
/// `Content-Type` other than JSON is refused with 415.
pub async fn read_body(
    request: Request,
    limit: usize,
    require_json: bool,
) -> Result<bytes::Bytes, ApiError> {
    if require_json {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                format!("Content-Type `{content_type}` is not accepted; send application/json"),
            ));
        }
    }
    if let Some(length) = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if length > limit {
            // A moderately oversized body is read and dropped first, so that a client
            // still writing it gets the 413 instead of a reset connection.
            if length <= limit.saturating_mul(DRAIN_FACTOR) {
                drain(request.into_body(), limit.saturating_mul(DRAIN_FACTOR)).await;
            }
            return Err(too_large(limit));
        }
    }
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|e| {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if over {
                too_large(limit)
            } else {
                ApiError::bad_request(format!("the request body could not be read: {e}"))
            }
        })
}

/// Bodies up to this many times the limit are drained before the 413.
const DRAIN_FACTOR: usize = 8;

/// Reads and drops up to `most` bytes of a body.
async fn drain(body: axum::body::Body, most: usize) {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            seen += data.len();
            if seen > most {
                break;
            }
        }
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        Code::PayloadTooLarge,
        format!("the request body exceeds the limit of {limit} bytes"),
    )
}

/// Parses an id from a path; anything that is not a UUID names nothing, so 404.
pub fn path_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("{what} `{raw}` does not exist")))
}

/// The provisioned workspace named in a path, after checking that `principal` holds
/// `scope` on it: 404 for a malformed id, 401/403 for the credential, 404/503 for
/// the workspace.
pub async fn scoped_workspace(
    state: &AppState,
    principal: &Principal,
    raw: &str,
    scope: crate::auth::Scope,
) -> Result<std::sync::Arc<crate::control::workspaces::Workspace>, ApiError> {
    let id = path_id(raw, "workspace")?;
    principal.require(id, scope)?;
    Ok(state.tenancy.ready_workspace(id).await?)
}
