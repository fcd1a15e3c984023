//! The middleware every request passes ([`envelope`]): request id, API version,
//! deadline, a handler's panic as a 500, the JSON error shape, metrics and an
//! access-log line.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use tracing::Instrument;

use crate::api::AppState;
use crate::error::{ApiError, Code};

/// The header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";
/// The header selecting the API version.
pub const API_VERSION: &str = "x-api-version";
/// The API versions this server speaks.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["2024-01-01"];

/// The one middleware every request passes, in this order: a request id (a sane
/// incoming `X-Request-Id`, or a new one) that the log lines carry and the response
/// echoes; the `X-API-Version` check; the request deadline (504 past it); a
/// handler's panic answered as a 500 (see [`unless_it_panics`]); the JSON error
/// shape for any error a framework answered in plain text; the metrics and the
/// access-log line. One layer rather than five: the router puts each layer around
/// every route, as a boxed service cloned and a future boxed per request, and on a
/// primary-key read they showed as a tenth of the host's CPU.
pub async fn envelope(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    let method = request.method().clone();
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let span = tracing::info_span!("request", request_id = %id, method = %method, %route);
    let mut response = match unsupported_api_version(&request) {
        Some(refusal) => refusal,
        None => {
            let limit = state.settings.http.request_timeout;
            let answered = tokio::time::timeout(limit, unless_it_panics(next.run(request)))
                .instrument(span.clone())
                .await;
            match answered {
                Ok(response) => as_json_error(response).await,
                Err(_) => ApiError::new(
                    Code::RequestTimeout,
                    format!("the request did not finish within {} s", limit.as_secs()),
                )
                .into_response(),
            }
        }
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .observe(route, &method, status, elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The response of `handler`, or if it panics the one JSON error shape's 500 (the
/// panic's message goes to the log, never to the client); the server, the
/// connection and every other request carry on.
pub async fn unless_it_panics(handler: impl Future<Output = Response>) -> Response {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            tracing::error!(panic = message, "a handler panicked; answered 500");
            ApiError::internal().into_response()
        }
    }
}

/// A random (v4) UUID from the thread's userspace generator: `Uuid::new_v4` asks the
/// kernel for every one, a system call per request.
fn new_request_id() -> String {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    // Encoded into a stack buffer: `to_string` goes through the formatting machinery.
    id.hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

/// The refusal of an `X-API-Version` other than the supported ones (absent is
/// accepted).
fn unsupported_api_version(request: &Request) -> Option<Response> {
    let value = request.headers().get(API_VERSION)?;
    let supported = value
        .to_str()
        .map(|v| SUPPORTED_API_VERSIONS.contains(&v.trim()))
        .unwrap_or(false);
    if supported {
        return None;
    }
    Some(
        ApiError::new(
            Code::UnsupportedApiVersion,
            format!(
                "X-API-Version `{}` is not supported; supported versions: {}",
                String::from_utf8_lossy(value.as_bytes()),
                SUPPORTED_API_VERSIONS.join(", ")
            ),
        )
        .with_details(serde_json::json!({ "supported": SUPPORTED_API_VERSIONS }))
        .into_response(),
    )
}

/// Rewrites an error response that is not already JSON (a framework rejection, say)
/// into the one JSON error shape, keeping its status and headers.
async fn as_json_error(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let message = String::from_utf8_lossy(&text).trim().to_owned();
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        message
    };
    let code = match status {
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => Code::Unprocessable,
        s if s.is_server_error() => Code::Internal,
        _ => Code::InvalidRequest,
    };
    // The framework's own status stays (a 408 or 431, say): only the body is ours.
    let error = ApiError {
        status,
        ..ApiError::new(code, message)
    };
    let mut rewritten = error.into_response();
    for (name, value) in parts.headers.iter() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_handler_that_panics_is_answered_with_the_json_500() {
        let response = unless_it_panics(async {
            if std::hint::black_box(true) {
                panic!("the handler's own bug");
            }
            StatusCode::OK.into_response()
        })
        .await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["error"]["code"], "internal");
        assert!(
            !body.to_string().contains("the handler's own bug"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_handler_that_answers_is_untouched() {
        let response = unless_it_panics(async { StatusCode::CREATED.into_response() }).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}
