//! The admin API (bearer = platform admin token): workspaces and their API keys.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{path_id, JsonBody};
use super::AppState;
use crate::auth::{api_key, Principal, Scope};
use crate::error::{ApiError, ApiResult};

/// The admin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/admin/workspaces",
            get(list_workspaces).post(create_workspace),
        )
        .route("/v1/admin/workspaces/{id}", get(get_workspace))
        .route(
            "/v1/admin/workspaces/{id}/api-keys",
            get(list_keys).post(create_key),
        )
        .route(
            "/v1/admin/workspaces/{id}/api-keys/{key_id}",
            delete(revoke_key),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWorkspace {
    name: String,
    tenant_id: Option<String>,
}

fn workspace_json(ws: &crate::control::workspaces::Workspace) -> Value {
    json!({
        "id": ws.id,
        "name": ws.name,
        "tenant_id": ws.tenant_id,
        "status": ws.status,
        "provisioned": ws.is_ready(),
        "created_at": ws.created_at,
    })
}

async fn create_workspace(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<NewWorkspace>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require_admin()?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request("`name` must be 1 to 200 characters"));
    }
    let tenant_id = match body.tenant_id {
        Some(t) => {
            let valid = !t.is_empty()
                && t.len() <= 200
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
            if !valid {
                return Err(ApiError::bad_request(
                    "`tenant_id` must be 1 to 200 characters of letters, digits, `-`, `_`, `.`, `:`",
                ));
            }
            t
        }
        None => format!("tnt_{}", uuid::Uuid::new_v4().simple()),
    };
    let ws = state
        .tenancy
        .control
        .create_workspace(name, &tenant_id)
        .await?;
    tracing::info!(workspace_id = %ws.id, "workspace created");
    Ok((StatusCode::CREATED, Json(workspace_json(&ws))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_workspaces(
    State(state): State<AppState>,
    principal: Principal,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    let Query(page) = page.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = page.limit.unwrap_or(100);
    let offset = page.offset.unwrap_or(0);
    if !(1..=1000).contains(&limit) || offset < 0 {
        return Err(ApiError::bad_request(
            "`limit` must be 1 to 1000 and `offset` at least 0",
        ));
    }
    let (items, total) = state.tenancy.control.list_workspaces(limit, offset).await?;
    Ok(Json(json!({
        "items": items.iter().map(workspace_json).collect::<Vec<_>>(),
        "total": total,
        "limit": limit,
        "offset": offset,
    })))
}

async fn get_workspace(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    let id = path_id(&id, "workspace")?;
    let ws = state.tenancy.workspace(id).await?;
    Ok(Json(workspace_json(&ws)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    scopes: Vec<String>,
}

async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewKey>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require_admin()?;
    let workspace_id = path_id(&id, "workspace")?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request("`name` must be 1 to 200 characters"));
    }
    if body.scopes.is_empty() {
        return Err(ApiError::bad_request(
            "`scopes` must name at least one scope",
        ));
    }
    let unknown: Vec<&String> = body
        .scopes
        .iter()
        .filter(|s| Scope::parse(s).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(format!(
            "unknown scopes: {}",
            unknown
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_details(json!({
            "unknown": unknown,
            "known": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        })));
    }
    let mut scopes: Vec<String> = body.scopes.clone();
    scopes.sort();
    scopes.dedup();
    state.tenancy.workspace(workspace_id).await?;
    let key = api_key::generate();
    let summary = state
        .tenancy
        .control
        .insert_api_key(
            workspace_id,
            name,
            &key.lookup_id,
            &key.secret_hash,
            &scopes,
        )
        .await?;
    tracing::info!(%workspace_id, key_id = %summary.id, "API key created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": summary.id,
            "name": summary.name,
            "key": key.plaintext,
            "scopes": summary.scopes,
            "created_at": summary.created_at,
        })),
    ))
}

async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    let workspace_id = path_id(&id, "workspace")?;
    state.tenancy.workspace(workspace_id).await?;
    let keys = state.tenancy.control.list_api_keys(workspace_id).await?;
    Ok(Json(json!({ "items": keys })))
}

async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    principal.require_admin()?;
    let workspace_id = path_id(&id, "workspace")?;
    let key_id = path_id(&key_id, "API key")?;
    if !state.auth.revoke_key(workspace_id, key_id).await? {
        return Err(ApiError::not_found(format!(
            "API key `{key_id}` does not exist"
        )));
    }
    tracing::info!(%workspace_id, %key_id, "API key revoked");
    Ok(StatusCode::NO_CONTENT)
}
