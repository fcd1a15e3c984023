//! Customer data access (seed 000): status, provisioning, connection-URI metadata,
//! reveal and rotate. The workspace comes from the credential; the admin token names
//! it with `X-Workspace-Id`.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::extract::JsonBody;
use super::AppState;
use crate::auth::{AuthError, Principal, Scope};
use crate::control::roles::RoleKind;
use crate::error::{ApiError, ApiResult};
use crate::tenant::names;

/// Header by which the admin token names a workspace.
pub const WORKSPACE_HEADER: &str = "x-workspace-id";

/// The ingestion routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/ingestion/status", get(status))
        .route("/api/v2/ingestion/provision", post(provision))
        .route("/api/v2/ingestion/connection-uris/metadata", get(metadata))
        .route("/api/v2/ingestion/connection-uris/reveal", post(reveal))
        .route("/api/v2/ingestion/connection-uris/rotate", post(rotate))
}

/// The workspace a credential acts on, checked for `scope`.
pub fn credential_workspace(
    principal: &Principal,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<Uuid, ApiError> {
    let workspace = if principal.is_admin() {
        let raw = headers
            .get(WORKSPACE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(AuthError::NoWorkspace(
                "the admin token must name the workspace with an X-Workspace-Id header",
            ))?;
        Uuid::parse_str(raw.trim()).map_err(|_| {
            ApiError::bad_request(format!("X-Workspace-Id `{raw}` is not a workspace id"))
        })?
    } else {
        principal
            .workspace_id
            .ok_or(AuthError::NoWorkspace("this credential names no workspace"))?
    };
    principal.require(workspace, scope)?;
    Ok(workspace)
}

async fn status_body(state: &AppState, workspace_id: Uuid) -> ApiResult<Value> {
    let ws = state.tenancy.workspace(workspace_id).await?;
    let db = state.tenancy.database_state(&ws).await?;
    let plane_status = if db.missing && ws.plane_status == "active" {
        "failed"
    } else {
        ws.plane_status.as_str()
    };
    let message = if db.missing {
        Some("the workspace database is missing (dropped outside Plinth); POST /api/v2/ingestion/provision recreates it")
    } else if ws.plane_status == "unprovisioned" {
        Some("not provisioned yet; POST /api/v2/ingestion/provision creates the database")
    } else {
        None
    };
    Ok(json!({
        "workspace_id": ws.id,
        "tenant_id": ws.tenant_id,
        "provisioned": db.provisioned,
        "plane_status": plane_status,
        "ready": db.provisioned && plane_status == "active",
        "database": ws.database_name,
        "message": message,
    }))
}

async fn status(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let workspace_id = credential_workspace(&principal, &headers, Scope::IngestionRead)?;
    Ok(Json(status_body(&state, workspace_id).await?))
}

async fn provision(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let workspace_id = credential_workspace(&principal, &headers, Scope::IngestionAdmin)?;
    state.tenancy.workspace(workspace_id).await?;
    state.tenancy.provision(workspace_id).await?;
    Ok(Json(status_body(&state, workspace_id).await?))
}

async fn metadata(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let workspace_id = credential_workspace(&principal, &headers, Scope::IngestionAdmin)?;
    let ws = state.tenancy.ready_workspace(workspace_id).await?;
    let endpoints = &state.endpoints;
    Ok(Json(json!({
        "workspace_id": ws.id,
        "project": ws.tenant_id,
        "host": endpoints.direct_host,
        "port": endpoints.direct_port,
        "database": ws.database_name,
        "roles": {
            "read": names::role(ws.id, RoleKind::Read),
            "runtime": names::role(ws.id, RoleKind::Runtime),
        },
        "pooled": endpoints.pooled.as_ref().map(|(host, port)| json!({
            "host": host,
            "port": port,
            "pool_mode": "transaction",
        })),
        "sslmode": "disable",
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevealRequest {
    kind: String,
    #[serde(default)]
    pooled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateRequest {
    kind: String,
}

fn customer_kind(kind: &str) -> Result<RoleKind, ApiError> {
    RoleKind::parse_customer(kind).ok_or_else(|| {
        ApiError::bad_request(format!("`kind` must be `read` or `runtime`, not `{kind}`"))
    })
}

async fn reveal(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RevealRequest>,
) -> ApiResult<impl IntoResponse> {
    let workspace_id = credential_workspace(&principal, &headers, Scope::IngestionAdmin)?;
    let kind = customer_kind(&body.kind)?;
    let ws = state.tenancy.ready_workspace(workspace_id).await?;
    let (host, port) = if body.pooled {
        state.endpoints.pooled.clone().ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "pooler_unavailable",
                "no PgBouncer is configured for pooled connection URIs",
            )
            .with_hint("set PLINTH_POOLER_ADDR, or install pgbouncer for the embedded one")
        })?
    } else {
        (
            state.endpoints.direct_host.clone(),
            state.endpoints.direct_port,
        )
    };
    let (user, password) = state.tenancy.login(workspace_id, kind).await?;
    let database = ws.database_name.clone().unwrap_or_default();
    tracing::info!(%workspace_id, kind = kind.as_str(), pooled = body.pooled, "connection URI revealed");
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "kind": kind.as_str(),
            "pooled": body.pooled,
            "uri": format!("postgresql://{user}:{password}@{host}:{port}/{database}?sslmode=disable"),
            "host": host,
            "port": port,
            "database": database,
            "user": user,
        })),
    ))
}

async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RotateRequest>,
) -> ApiResult<Json<Value>> {
    let workspace_id = credential_workspace(&principal, &headers, Scope::IngestionAdmin)?;
    let kind = customer_kind(&body.kind)?;
    state.tenancy.ready_workspace(workspace_id).await?;
    state.tenancy.rotate_password(workspace_id, kind).await?;
    tracing::info!(%workspace_id, kind = kind.as_str(), "password rotated");
    let stored = state.tenancy.control.role(workspace_id, kind).await?;
    Ok(Json(json!({
        "kind": kind.as_str(),
        "user": names::role(workspace_id, kind),
        "rotated_at": stored.map(|s| s.rotated_at),
    })))
}
