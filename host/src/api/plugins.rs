//! Installing plugins at run time: a workspace's own hooks (`plugins:admin`) and the
//! platform's defaults (admin token). A new plugin takes effect on the next request,
//! on every replica; requests in flight finish on the old one.

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::extract::{path_id, read_body};
use super::AppState;
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult, Code};
use crate::plugins::{PluginError, PluginFault, PluginKind};

/// Largest plugin accepted, in bytes.
pub const MAX_PLUGIN_BYTES: usize = 32 << 20;

/// The plugin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/workspaces/{ws}/plugins", get(list_workspace))
        .route(
            "/v1/workspaces/{ws}/plugins/{kind}",
            put(install_workspace).delete(remove_workspace),
        )
        .route("/v1/admin/plugins", get(list_platform))
        .route(
            "/v1/admin/plugins/{kind}",
            put(install_platform).delete(remove_platform),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstallParams {
    name: Option<String>,
}

fn kind(raw: &str) -> Result<PluginKind, ApiError> {
    PluginKind::parse(raw).ok_or_else(|| {
        ApiError::not_found(format!(
            "no plugin kind `{raw}`; kinds: {}",
            PluginKind::ALL.map(|k| k.as_str()).join(", ")
        ))
    })
}

fn install_error(error: PluginError) -> ApiError {
    match error.fault {
        PluginFault::Invalid(_)
        | PluginFault::Trap(_)
        | PluginFault::Deadline
        | PluginFault::Memory => ApiError::new(Code::InvalidPlugin, error.to_string()),
        _ => error.into(),
    }
}

async fn install(
    state: &AppState,
    kind: PluginKind,
    workspace: Option<Uuid>,
    name: Option<String>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/wasm")
        && !content_type.starts_with("application/octet-stream")
    {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send the component's bytes with Content-Type: application/wasm",
        ));
    }
    let name = name.unwrap_or_else(|| match workspace {
        Some(_) => format!("workspace:{kind}"),
        None => format!("platform:{kind}"),
    });
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::bad_request("`name` must be 1 to 200 characters"));
    }
    let bytes = read_body(request, MAX_PLUGIN_BYTES, false).await?;
    let info = state
        .plugins
        .install(kind, workspace, &name, bytes.to_vec())
        .await
        .map_err(install_error)?;
    tracing::info!(kind = %kind, ?workspace, name = %info.name, sha256 = %info.sha256, "plugin installed");
    Ok((StatusCode::CREATED, Json(json!(info))))
}

async fn install_workspace(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, raw_kind)): Path<(String, String)>,
    Query(params): Query<InstallParams>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let workspace = path_id(&ws, "workspace")?;
    principal.require(workspace, Scope::PluginsAdmin)?;
    state.tenancy.workspace(workspace).await?;
    install(
        &state,
        kind(&raw_kind)?,
        Some(workspace),
        params.name,
        request,
    )
    .await
}

async fn remove_workspace(
    State(state): State<AppState>,
    principal: Principal,
    Path((ws, raw_kind)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let workspace = path_id(&ws, "workspace")?;
    principal.require(workspace, Scope::PluginsAdmin)?;
    let kind = kind(&raw_kind)?;
    if state.plugins.uninstall(kind, Some(workspace)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "the workspace has no {kind} plugin of its own"
        )))
    }
}

async fn list_workspace(
    State(state): State<AppState>,
    principal: Principal,
    Path(ws): Path<String>,
) -> ApiResult<Json<Value>> {
    let workspace = path_id(&ws, "workspace")?;
    principal.require(workspace, Scope::PluginsAdmin)?;
    state.tenancy.workspace(workspace).await?;
    Ok(Json(
        json!({ "plugins": state.plugins.effective(Some(workspace)).await? }),
    ))
}

async fn install_platform(
    State(state): State<AppState>,
    principal: Principal,
    Path(raw_kind): Path<String>,
    Query(params): Query<InstallParams>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require_admin()?;
    install(&state, kind(&raw_kind)?, None, params.name, request).await
}

async fn remove_platform(
    State(state): State<AppState>,
    principal: Principal,
    Path(raw_kind): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require_admin()?;
    let kind = kind(&raw_kind)?;
    if state.plugins.uninstall(kind, None).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "no platform {kind} plugin is installed"
        )))
    }
}

async fn list_platform(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    principal.require_admin()?;
    Ok(Json(
        json!({ "plugins": state.plugins.effective(None).await? }),
    ))
}
