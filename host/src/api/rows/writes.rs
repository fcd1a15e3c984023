//! The Data API's writes over HTTP: `POST`, `PATCH` and `DELETE` on a table or one
//! row, each run at most once per `Idempotency-Key` through one dispatcher over the
//! verb, and answered with the count (and the rows, when asked) of what it wrote.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::idempotency::at_most_once;
use super::{json_response, only_element, prepare, Prefer, Rows, WriteVerb};
use crate::api::extract::read_body;
use crate::api::AppState;
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};

/// `POST`, `PATCH` and `DELETE` on `rows/{table}`.
pub(super) async fn on_table(
    State(state): State<AppState>,
    method: Method,
    principal: Principal,
    Path((ws, table)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> ApiResult<Response> {
    let target = Target {
        ws,
        table,
        key: None,
        raw,
    };
    write_rows(state, principal, method, target, request).await
}

/// `PATCH` and `DELETE` on `rows/{table}/{key}`.
pub(super) async fn on_row(
    State(state): State<AppState>,
    method: Method,
    principal: Principal,
    Path((ws, table, key)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> ApiResult<Response> {
    let target = Target {
        ws,
        table,
        key: Some(key),
        raw,
    };
    write_rows(state, principal, method, target, request).await
}

/// What a write addresses: the workspace, the table, a row's key on a single-row
/// route, and the raw query string.
struct Target {
    ws: String,
    table: String,
    key: Option<String>,
    raw: Option<String>,
}

impl Target {
    /// The request line the idempotency record fingerprints.
    fn request_line(&self, method: &Method) -> String {
        format!(
            "{method} /v1/postgres/{}/rows/{}{}?{}",
            self.ws,
            self.table,
            self.key
                .as_ref()
                .map(|k| format!("/{k}"))
                .unwrap_or_default(),
            self.raw.as_deref().unwrap_or("")
        )
    }

    fn no_row(&self, key: &str) -> ApiError {
        ApiError::not_found(format!("no row of `{}` has key `{key}`", self.table))
    }
}

/// The one path of every write: scope and query string, the body, then the write
/// at most once per idempotency key, answered as its verb answers.
async fn write_rows(
    state: AppState,
    principal: Principal,
    method: Method,
    target: Target,
    request: Request,
) -> ApiResult<Response> {
    let headers = request.headers().clone();
    let call = prepare(
        &state,
        &principal,
        &target.ws,
        Scope::PostgresWrite,
        target.raw.clone(),
    )
    .await?;
    let prefer = Prefer::from_headers(&headers);
    let body = match method {
        Method::DELETE => String::new(),
        _ => body_text(&state, request).await?,
    };
    let line = target.request_line(&method);
    let key = target.key.as_deref();
    let (verb, represent) = match method {
        Method::POST => (
            WriteVerb::Insert {
                body: &body,
                resolution: prefer.resolution,
            },
            prefer.representation != Some(false),
        ),
        Method::PATCH => (
            WriteVerb::Update {
                body: &body,
                whole_table: prefer.whole_table,
                single_key: key,
            },
            key.is_some() || prefer.representation == Some(true),
        ),
        _ => (
            WriteVerb::Delete {
                whole_table: prefer.whole_table,
                single_key: key,
            },
            prefer.representation == Some(true),
        ),
    };
    at_most_once(
        &state,
        call.workspace.id,
        &principal,
        &headers,
        &line,
        body.as_bytes(),
        || async {
            let written = Rows::new(&state, &call.workspace, &principal)
                .write(&target.table, &call.query, verb, represent)
                .await?;
            let (status, counted) = match verb {
                WriteVerb::Insert { .. } => (StatusCode::CREATED, "inserted"),
                WriteVerb::Update { .. } => (StatusCode::OK, "updated"),
                WriteVerb::Delete { .. } => (StatusCode::OK, "deleted"),
            };
            let count = written.count;
            let body = match (key, verb) {
                (Some(k), WriteVerb::Update { .. }) => {
                    let row = only_element(&written.data).ok_or_else(|| target.no_row(k))?;
                    format!("{{\"data\":{row},\"{counted}\":{count}}}")
                }
                (Some(k), WriteVerb::Delete { .. }) if count == 0 => {
                    return Err(target.no_row(k));
                }
                _ if represent => format!("{{\"data\":{},\"{counted}\":{count}}}", written.data),
                _ => format!("{{\"{counted}\":{count}}}"),
            };
            Ok(json_response(status, body))
        },
    )
    .await
}

/// Reads a write's body as UTF-8 JSON text under the size limit.
async fn body_text(state: &AppState, request: Request) -> Result<String, ApiError> {
    let bytes = read_body(request, state.settings.http.max_body_bytes, true).await?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::bad_request("the body is not UTF-8"))
}
