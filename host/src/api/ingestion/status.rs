//! `GET /api/v2/ingestion/status` and `POST /api/v2/ingestion/provision`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};
use uuid::Uuid;

use super::credential_workspace;
use crate::api::AppState;
use crate::auth::{Principal, Scope};
use crate::error::ApiResult;

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

pub(super) async fn status(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let workspace_id = credential_workspace(&principal, &headers, Scope::IngestionRead)?;
    Ok(Json(status_body(&state, workspace_id).await?))
}

pub(super) async fn provision(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let workspace_id = credential_workspace(&principal, &headers, Scope::IngestionAdmin)?;
    state.tenancy.workspace(workspace_id).await?;
    state.tenancy.provision(workspace_id).await?;
    Ok(Json(status_body(&state, workspace_id).await?))
}
