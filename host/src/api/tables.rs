//! Workspace Tables (seed 002): `/v1/{workspace_id}/tables[/{table_id}]` and the
//! scoped query `/v1/{workspace_id}/query`. Each handler: check the scope, resolve
//! the workspace, validate the body, then hand over to [`crate::tables`] or
//! [`crate::query`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::extract::{path_id, scoped_workspace as workspace, JsonBody};
use super::AppState;
use crate::auth::{Principal, Scope};
use crate::control::workspaces::Workspace;
use crate::error::ApiError;
use crate::tables::spec::{AlterTable, CreateTable};
use crate::tables::{validate, violations_error, WorkspaceTables};

/// The Workspace Tables routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/{ws}/tables", post(create).get(list))
        .route(
            "/v1/{ws}/tables/{table}",
            get(describe).patch(alter).delete(remove),
        )
        .route("/v1/{ws}/query", post(query))
}

fn tables<'a>(state: &'a AppState, workspace: &'a Workspace) -> WorkspaceTables<'a> {
    WorkspaceTables::new(&state.tenancy, &state.schema_caches, workspace)
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(ws): Path<String>,
    JsonBody(request): JsonBody<CreateTable>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::WorkspaceUpdate).await?;
    let spec = validate::create(&request).map_err(violations_error)?;
    let entry = tables(&state, &workspace).create(spec).await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(ws): Path<String>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::WorkspaceView).await?;
    let items = tables(&state, &workspace).list().await?;
    Ok(Json(json!({ "items": items })).into_response())
}

fn table_id(raw: &str) -> Result<Uuid, ApiError> {
    path_id(raw, "table")
}

async fn describe(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::WorkspaceView).await?;
    let (entry, schema) = tables(&state, &workspace).get(table_id(&table)?).await?;
    let mut body = serde_json::to_value(&entry).map_err(|_| ApiError::internal())?;
    if let (Some(out), Ok(serde_json::Value::Object(live))) =
        (body.as_object_mut(), serde_json::to_value(&schema))
    {
        out.extend(live);
    }
    Ok(Json(body).into_response())
}

async fn alter(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table)): Path<(String, String)>,
    JsonBody(request): JsonBody<AlterTable>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::WorkspaceUpdate).await?;
    let id = table_id(&table)?;
    let actions = validate::alter(&request.actions).map_err(violations_error)?;
    let entry = tables(&state, &workspace).alter(id, actions).await?;
    Ok(Json(entry).into_response())
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, table)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::WorkspaceUpdate).await?;
    tables(&state, &workspace)
        .drop_table(table_id(&table)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /v1/{workspace_id}/query`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryRequest {
    sql: String,
}

async fn query(
    State(state): State<AppState>,
    principal: Principal,
    Path(ws): Path<String>,
    JsonBody(request): JsonBody<QueryRequest>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::WorkspaceUpdate).await?;
    let body = crate::query::execute(
        &state.tenancy,
        &state.plugins,
        &state.approved_queries,
        &workspace,
        &principal,
        &request.sql,
        state.settings.pools.statement_timeout_ms,
    )
    .await?;
    Ok((
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}
