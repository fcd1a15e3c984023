//! The PostgreSQL Data API (seed 001): `/v1/postgres/{ws}/rows/{table}[/{key}]`.
//! Each handler reads as the request's path: authorize the scope, resolve the
//! workspace, parse the query string with the workspace's filter parser, then let
//! [`run::Rows`] plan, authorize rows, build the statement, run it and hand back
//! JSON that PostgreSQL built.

mod exact_counts;
mod idempotency;
mod prefer;
mod run;

use std::sync::Arc;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

pub use exact_counts::{CountKey, Counted, ExactCounts};
use idempotency::{at_most_once, Answer};
pub use prefer::Prefer;
pub use run::{Page, Rows, Written, ESTIMATE_THRESHOLD};

use super::extract::{path_id, read_body};
use super::AppState;
use crate::auth::{Principal, Scope};
use crate::control::workspaces::Workspace;
use crate::error::{ApiError, ApiResult};
use crate::plugins::filter_types::Query;

/// The Data API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/postgres/{ws}/rows/{table}",
            get(list).post(insert).patch(update).delete(remove),
        )
        .route(
            "/v1/postgres/{ws}/rows/{table}/{key}",
            get(get_one).patch(update_one).delete(remove_one),
        )
}

/// What every Data API request starts from.
struct Call {
    workspace: Arc<Workspace>,
    query: Arc<Query>,
}

/// Checks the scope, resolves the workspace and parses the query string.
async fn prepare(
    state: &AppState,
    principal: &Principal,
    workspace: &str,
    scope: Scope,
    raw_query: Option<String>,
) -> Result<Call, ApiError> {
    let workspace_id = path_id(workspace, "workspace")?;
    principal.require(workspace_id, scope)?;
    let workspace = state.tenancy.ready_workspace(workspace_id).await?;
    let raw = raw_query.unwrap_or_default();
    let query = match state.plugins.parse_query(workspace_id, &raw).await? {
        Ok(query) => query,
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!(
                    "{} (in `{}` at position {})",
                    e.message, e.parameter, e.position
                ),
            )
            .with_details(json!({ "parameter": e.parameter, "position": e.position })))
        }
    };
    Ok(Call { workspace, query })
}

fn json_response(status: StatusCode, body: String) -> Answer {
    Answer {
        status,
        body: body.into_bytes(),
    }
}

/// The one element of a JSON array text, if it has exactly one.
fn only_element(array: &str) -> Option<&str> {
    let inner = array.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
    (!inner.is_empty()).then_some(inner)
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let call = prepare(&state, &principal, &ws, Scope::PostgresRead, raw).await?;
    let prefer = Prefer::from_headers(&headers);
    let page = Rows::new(&state, &call.workspace, &principal)
        .read(&table, &call.query, prefer.count, None)
        .await?;
    let limit = call
        .query
        .limit
        .map(|l| l as i64)
        .unwrap_or(crate::plan::DEFAULT_LIMIT);
    let offset = call.query.offset.unwrap_or(0) as i64;
    let body = format!(
        "{{\"data\":{},\"pagination\":{{\"limit\":{limit},\"offset\":{offset},\"total\":{},\"hasMore\":{}}}}}",
        page.data,
        page.total,
        offset + page.len < page.total
    );
    Ok(json_response(StatusCode::OK, body).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table, key)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let call = prepare(&state, &principal, &ws, Scope::PostgresRead, raw).await?;
    let page = Rows::new(&state, &call.workspace, &principal)
        .read(
            &table,
            &call.query,
            crate::plan::CountMode::None,
            Some(&key),
        )
        .await?;
    let row = only_element(&page.data)
        .ok_or_else(|| ApiError::not_found(format!("no row of `{table}` has key `{key}`")))?;
    Ok(json_response(StatusCode::OK, format!("{{\"data\":{row}}}")).into_response())
}

/// Reads a write's body as UTF-8 JSON text under the size limit.
async fn body_text(state: &AppState, request: Request) -> Result<String, ApiError> {
    let bytes = read_body(request, state.settings.http.max_body_bytes, true).await?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::bad_request("the body is not UTF-8"))
}

fn request_line(
    method: &Method,
    ws: &str,
    table: &str,
    key: Option<&str>,
    raw: &Option<String>,
) -> String {
    format!(
        "{method} /v1/postgres/{ws}/rows/{table}{}?{}",
        key.map(|k| format!("/{k}")).unwrap_or_default(),
        raw.as_deref().unwrap_or("")
    )
}

async fn insert(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> ApiResult<Response> {
    let headers = request.headers().clone();
    let call = prepare(&state, &principal, &ws, Scope::PostgresWrite, raw.clone()).await?;
    let prefer = Prefer::from_headers(&headers);
    let body = body_text(&state, request).await?;
    let line = request_line(&Method::POST, &ws, &table, None, &raw);
    at_most_once(
        &state,
        call.workspace.id,
        &principal,
        &headers,
        &line,
        body.as_bytes(),
        || async {
            let written = Rows::new(&state, &call.workspace, &principal)
                .insert(
                    &table,
                    &call.query,
                    &body,
                    prefer.resolution,
                    prefer.representation != Some(false),
                )
                .await?;
            let body = if prefer.representation == Some(false) {
                format!("{{\"inserted\":{}}}", written.count)
            } else {
                format!(
                    "{{\"data\":{},\"inserted\":{}}}",
                    written.data, written.count
                )
            };
            Ok(json_response(StatusCode::CREATED, body))
        },
    )
    .await
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> ApiResult<Response> {
    update_rows(state, principal, ws, table, None, raw, request).await
}

async fn update_one(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table, key)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> ApiResult<Response> {
    update_rows(state, principal, ws, table, Some(key), raw, request).await
}

async fn update_rows(
    state: AppState,
    principal: Principal,
    ws: String,
    table: String,
    key: Option<String>,
    raw: Option<String>,
    request: Request,
) -> ApiResult<Response> {
    let headers = request.headers().clone();
    let call = prepare(&state, &principal, &ws, Scope::PostgresWrite, raw.clone()).await?;
    let prefer = Prefer::from_headers(&headers);
    let body = body_text(&state, request).await?;
    let line = request_line(&Method::PATCH, &ws, &table, key.as_deref(), &raw);
    at_most_once(
        &state,
        call.workspace.id,
        &principal,
        &headers,
        &line,
        body.as_bytes(),
        || async {
            let written = Rows::new(&state, &call.workspace, &principal)
                .update(
                    &table,
                    &call.query,
                    &body,
                    prefer.whole_table,
                    key.as_deref(),
                    key.is_some() || prefer.representation == Some(true),
                )
                .await?;
            let body = match &key {
                Some(k) => {
                    let row = only_element(&written.data).ok_or_else(|| {
                        ApiError::not_found(format!("no row of `{table}` has key `{k}`"))
                    })?;
                    format!("{{\"data\":{row},\"updated\":{}}}", written.count)
                }
                None if prefer.representation == Some(true) => {
                    format!(
                        "{{\"data\":{},\"updated\":{}}}",
                        written.data, written.count
                    )
                }
                None => format!("{{\"updated\":{}}}", written.count),
            };
            Ok(json_response(StatusCode::OK, body))
        },
    )
    .await
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    remove_rows(state, principal, ws, table, None, raw, headers).await
}

async fn remove_one(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table, key)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    remove_rows(state, principal, ws, table, Some(key), raw, headers).await
}

async fn remove_rows(
    state: AppState,
    principal: Principal,
    ws: String,
    table: String,
    key: Option<String>,
    raw: Option<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let call = prepare(&state, &principal, &ws, Scope::PostgresWrite, raw.clone()).await?;
    let prefer = Prefer::from_headers(&headers);
    let line = request_line(&Method::DELETE, &ws, &table, key.as_deref(), &raw);
    at_most_once(
        &state,
        call.workspace.id,
        &principal,
        &headers,
        &line,
        &[],
        || async {
            let written = Rows::new(&state, &call.workspace, &principal)
                .delete(
                    &table,
                    &call.query,
                    prefer.whole_table,
                    key.as_deref(),
                    prefer.representation == Some(true),
                )
                .await?;
            if let Some(k) = &key {
                if written.count == 0 {
                    return Err(ApiError::not_found(format!(
                        "no row of `{table}` has key `{k}`"
                    )));
                }
            }
            let body = if prefer.representation == Some(true) {
                format!(
                    "{{\"data\":{},\"deleted\":{}}}",
                    written.data, written.count
                )
            } else {
                format!("{{\"deleted\":{}}}", written.count)
            };
            Ok(json_response(StatusCode::OK, body))
        },
    )
    .await
}
