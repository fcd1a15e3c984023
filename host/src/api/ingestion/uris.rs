//! Connection URIs: metadata without secrets, reveal, and password rotation.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::credential_workspace;
use crate::api::extract::JsonBody;
use crate::api::AppState;
use crate::auth::{Principal, Scope};
use crate::control::roles::RoleKind;
use crate::error::{ApiError, ApiResult, Code};
use crate::names;

pub(super) async fn metadata(
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
pub(super) struct RevealRequest {
    kind: String,
    #[serde(default)]
    pooled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RotateRequest {
    kind: String,
}

fn customer_kind(kind: &str) -> Result<RoleKind, ApiError> {
    RoleKind::parse_customer(kind).ok_or_else(|| {
        ApiError::bad_request(format!("`kind` must be `read` or `runtime`, not `{kind}`"))
    })
}

pub(super) async fn reveal(
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
                Code::PoolerUnavailable,
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

pub(super) async fn rotate(
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
