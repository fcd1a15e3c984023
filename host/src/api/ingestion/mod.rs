//! Customer data access (seed 000): status and provisioning, connection URIs, and
//! base-record loads. The workspace comes from the credential; the admin token names
//! it with `X-Workspace-Id`.

mod records;
mod status;
mod uris;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use uuid::Uuid;

use super::AppState;
use crate::auth::{AuthError, Principal, Scope};
use crate::error::ApiError;

/// Header by which the admin token names a workspace.
pub const WORKSPACE_HEADER: &str = "x-workspace-id";

/// The ingestion routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v2/ingestion/status", get(status::status))
        .route("/api/v2/ingestion/provision", post(status::provision))
        .route(
            "/api/v2/ingestion/connection-uris/metadata",
            get(uris::metadata),
        )
        .route(
            "/api/v2/ingestion/connection-uris/reveal",
            post(uris::reveal),
        )
        .route(
            "/api/v2/ingestion/connection-uris/rotate",
            post(uris::rotate),
        )
        .route("/api/v2/ingestion/records/{kind}", post(records::load))
}

/// The workspace a credential acts on, checked for `scope`: the one `X-Workspace-Id`
/// names (required with the admin token), else the credential's own. A workspace
/// credential naming another workspace is refused, not silently read as its own.
pub fn credential_workspace(
    principal: &Principal,
    headers: &HeaderMap,
    scope: Scope,
) -> Result<Uuid, ApiError> {
    let named = match headers.get(WORKSPACE_HEADER) {
        Some(value) => {
            let raw = value.to_str().unwrap_or("");
            Some(Uuid::parse_str(raw.trim()).map_err(|_| {
                ApiError::bad_request(format!("X-Workspace-Id `{raw}` is not a workspace id"))
            })?)
        }
        None => None,
    };
    let workspace = match (named, principal.is_admin()) {
        (Some(named), _) => named,
        (None, true) => {
            return Err(AuthError::NoWorkspace(
                "the admin token must name the workspace with an X-Workspace-Id header",
            )
            .into())
        }
        (None, false) => principal
            .workspace_id
            .ok_or(AuthError::NoWorkspace("this credential names no workspace"))?,
    };
    principal.require(workspace, scope)?;
    Ok(workspace)
}
