//! The Data Vault (seed 003): `/v1/workspaces/{ws}/vault/collections...`. Each
//! handler checks the scope, resolves the provisioned workspace (503 when it is
//! not), reads its body and hands over to [`crate::vault::Vault`].

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::extract::{path_id, scoped_workspace as workspace, JsonBody};
use super::AppState;
use crate::auth::{Principal, Scope};
use crate::control::vault::AuditFilter;
use crate::control::workspaces::Workspace;
use crate::error::ApiError;
use crate::vault::spec::{CreateCollection, QueryBody, RecordBody};
use crate::vault::Vault;

/// The vault routes.
pub fn routes() -> Router<AppState> {
    let base = "/v1/workspaces/{ws}/vault/collections";
    Router::new()
        .route(base, get(list).post(create_collection))
        .route(
            &format!("{base}/{{name}}"),
            post(create_record).delete(drop_collection),
        )
        .route(&format!("{base}/{{name}}/schema"), get(schema))
        .route(&format!("{base}/{{name}}/query"), post(query))
        .route(&format!("{base}/{{name}}/count"), get(count))
        .route(
            &format!("{base}/{{name}}/{{id}}"),
            put(update_record).delete(delete_record),
        )
        .route("/v1/workspaces/{ws}/audit", get(audit))
}

/// `GET /v1/workspaces/{ws}/audit` query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditParams {
    action: Option<String>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The vault audit trail, newest first; `vault:ddl` (the workspace admin tier).
async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    Path(ws): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let id = path_id(&ws, "workspace")?;
    principal.require(id, Scope::VaultDdl)?;
    state.tenancy.workspace(id).await?;
    let params: AuditParams = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid audit query: {e}")))?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 500"));
    }
    let offset = params.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::bad_request("offset must not be negative"));
    }
    let filter = AuditFilter {
        action: params.action,
        since: params.since,
        until: params.until,
        limit,
        offset,
    };
    let (items, total) = state.tenancy.control.audit_records(id, &filter).await?;
    let next = offset + items.len() as i64;
    let has_more = next < total;
    Ok(Json(json!({
        "items": items,
        "total": total,
        "has_more": has_more,
        "next_offset": if has_more { Some(next) } else { None },
    }))
    .into_response())
}

fn vault<'a>(state: &'a AppState, workspace: &'a Workspace, principal: &Principal) -> Vault<'a> {
    Vault::new(
        &state.tenancy,
        &state.plugins,
        workspace,
        principal,
        state.settings.clickhouse_url.as_deref(),
    )
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(ws): Path<String>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultRead).await?;
    Ok(Json(vault(&state, &workspace, &principal).list().await?).into_response())
}

async fn schema(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultRead).await?;
    Ok(Json(vault(&state, &workspace, &principal).schema(&name).await?).into_response())
}

async fn query(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, name)): Path<(String, String)>,
    JsonBody(body): JsonBody<QueryBody>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultRead).await?;
    Ok(Json(
        vault(&state, &workspace, &principal)
            .query(&name, body)
            .await?,
    )
    .into_response())
}

async fn count(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultRead).await?;
    Ok(Json(vault(&state, &workspace, &principal).count(&name).await?).into_response())
}

async fn create_record(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, name)): Path<(String, String)>,
    JsonBody(body): JsonBody<RecordBody>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultWrite).await?;
    let document = vault(&state, &workspace, &principal)
        .create_record(&name, body.record)
        .await?;
    Ok((StatusCode::CREATED, Json(document)).into_response())
}

async fn update_record(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, name, id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<RecordBody>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultWrite).await?;
    let document = vault(&state, &workspace, &principal)
        .update_record(&name, &id, body.record)
        .await?;
    Ok(Json(document).into_response())
}

async fn delete_record(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultDelete).await?;
    vault(&state, &workspace, &principal)
        .delete_record(&name, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_collection(
    State(state): State<AppState>,
    principal: Principal,
    Path(ws): Path<String>,
    JsonBody(body): JsonBody<CreateCollection>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultDdl).await?;
    let created = vault(&state, &workspace, &principal)
        .create_collection(body.schema)
        .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn drop_collection(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let workspace = workspace(&state, &principal, &ws, Scope::VaultDdl).await?;
    vault(&state, &workspace, &principal)
        .drop_collection(&name)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
