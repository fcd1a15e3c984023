//! The PostgreSQL Data API (seed 001): `/v1/postgres/{ws}/rows/{table}[/{key}]`.
//! Each handler reads as the request's path: authorize the scope, resolve the
//! workspace, parse the query string with the workspace's filter parser, then let
//! [`run::Rows`] plan, authorize rows, build the statement, run it and hand back
//! JSON that PostgreSQL built.

mod exact_counts;
mod idempotency;
mod prefer;
mod run;
mod writes;

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

pub use exact_counts::{CountKey, Counted, ExactCounts};
use idempotency::Answer;
pub use prefer::Prefer;
pub use run::{Page, Rows, WriteVerb, Written, ESTIMATE_THRESHOLD};

use super::extract::path_id;
use super::AppState;
use crate::auth::{Principal, Scope};
use crate::control::workspaces::Workspace;
use crate::error::{ApiError, ApiResult, Code};
use crate::request::Query;

/// The Data API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/postgres/{ws}/rows/{table}",
            get(list)
                .post(writes::on_table)
                .patch(writes::on_table)
                .delete(writes::on_table),
        )
        .route(
            "/v1/postgres/{ws}/rows/{table}/{key}",
            get(get_one).patch(writes::on_row).delete(writes::on_row),
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
                Code::InvalidQuery,
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
