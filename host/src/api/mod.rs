//! The HTTP surface: one router that every API joins, the shared state, and the
//! fallbacks that keep even unknown routes in the one JSON error shape.

pub mod admin;
pub mod extract;
pub mod health;
pub mod ingestion;
pub mod plugins;
pub mod row_authorizer;
pub mod rows;
pub mod tables;
pub mod vault;

use std::sync::Arc;

use axum::middleware::from_fn_with_state;

use axum::Router;

use crate::auth::Authenticator;
use crate::config::Settings;
use crate::error::{ApiError, Code};
use crate::plugins::PluginRuntime;
use crate::schema_cache::SchemaCaches;
use crate::server::metrics::Metrics;
use crate::server::middleware;
use crate::tenant::Tenancy;

/// Where customers reach PostgreSQL, for connection URIs.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Host name of the cluster for direct URIs.
    pub direct_host: String,
    /// Port of the cluster.
    pub direct_port: u16,
    /// The PgBouncer (transaction mode) for pooled URIs, if any.
    pub pooled: Option<(String, u16)>,
}

/// What every handler can reach: a cheap handle (one `Arc`), cloned per request by
/// the extractors and middleware.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// Wraps the services.
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
pub struct Services {
    /// The settings snapshot.
    pub settings: Arc<Settings>,
    /// Credential checks.
    pub auth: Arc<Authenticator>,
    /// Workspaces, pools, provisioning.
    pub tenancy: Tenancy,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Customer-facing database endpoints.
    pub endpoints: Arc<Endpoints>,
    /// The plugin runtime.
    pub plugins: Arc<PluginRuntime>,
    /// Each workspace's exposed schema.
    pub schema_caches: SchemaCaches,
    /// Scoped queries whose plans passed the check.
    pub approved_queries: crate::query::Approvals,
    /// Exact totals of Data API reads, reused while their table has no write.
    pub exact_counts: rows::ExactCounts,
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::routes())
        .merge(admin::routes())
        .merge(ingestion::routes())
        .merge(plugins::routes())
        .merge(rows::routes())
        .merge(tables::routes())
        .merge(vault::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), middleware::envelope))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this route does not accept that method",
    )
}
