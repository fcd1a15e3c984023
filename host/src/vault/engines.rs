//! The engines behind the vault: an adapter call with the one capability it is
//! granted (a SQL session on the workspace database, or ClickHouse's HTTP endpoint),
//! and how an engine's failure is answered.

use std::sync::Arc;

use serde_json::json;

use crate::error::{ApiError, Code};
use crate::names;
use crate::plugins::vault::{AdapterFuture, Capability, HttpEndpoint, SqlSession};
use crate::plugins::vault_types::EngineError;
use crate::tenant::{PoolKind, TenantError};

use super::Vault;

impl Vault<'_> {
    /// Runs one adapter call for `engine` with its capability, committing the
    /// capability's transaction when the adapter succeeds.
    pub(super) async fn engine<R, F>(&self, engine: &str, call: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: for<'s> FnOnce(
                &'s mut wasmtime::Store<crate::plugins::state::HostState>,
                &'s crate::plugins::vault::AdapterGuest,
            ) -> AdapterFuture<'s, Result<R, EngineError>>
            + Send
            + 'static,
    {
        let capability = match engine {
            "postgres" => {
                let down =
                    |message: String| engine_error("postgres", EngineError::Unavailable(message));
                let pool = match self.tenancy.pool(self.workspace, PoolKind::Vault).await {
                    Ok(pool) => pool,
                    Err(TenantError::Unavailable(message)) => return Err(down(message)),
                    Err(other) => return Err(other.into()),
                };
                let client = pool.get().await.map_err(|e| down(e.to_string()))?;
                Capability::Sql(Box::new(SqlSession::new(client)))
            }
            "clickhouse" => Capability::Http(Arc::new(self.clickhouse_endpoint()?)),
            other => {
                return Err(ApiError::bad_request(format!(
                    "the `{other}` engine is not available"
                )))
            }
        };
        let (answer, capability) = self
            .plugins
            .call_adapter(engine, self.workspace.id, capability, call)
            .await?;
        let commit = answer.is_ok();
        if let Some(Capability::Sql(session)) = capability {
            let settle = if commit {
                ApiError::from_commit
            } else {
                ApiError::from_db
            };
            session.finish(commit).await.map_err(settle)?;
        }
        answer.map_err(|e| engine_error(engine, e))
    }

    pub(super) fn clickhouse_endpoint(&self) -> Result<HttpEndpoint, ApiError> {
        let base = self.clickhouse_url.ok_or_else(no_clickhouse)?;
        Ok(HttpEndpoint {
            base: base.trim_end_matches('/').to_owned(),
            database: names::database(self.workspace.id),
            client: http_client().clone(),
        })
    }

    /// Creates the workspace's ClickHouse database when it is missing.
    pub(super) async fn ensure_clickhouse_database(&self) -> Result<(), ApiError> {
        let endpoint = self.clickhouse_endpoint()?;
        let unavailable = |message: String| {
            ApiError::new(
                Code::EngineUnavailable,
                format!("the clickhouse engine is unavailable: {message}"),
            )
            .with_details(json!({ "engine": "clickhouse" }))
        };
        let response = endpoint
            .client
            .post(format!("{}/", endpoint.base))
            .body(format!(
                "CREATE DATABASE IF NOT EXISTS {}",
                endpoint.database
            ))
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(unavailable(text.trim().to_owned()));
        }
        Ok(())
    }
}

fn no_clickhouse() -> ApiError {
    ApiError::bad_request(
        "no ClickHouse endpoint is configured (PLINTH_CLICKHOUSE_URL); clickhouse collections are unavailable",
    )
}

/// The HTTP client of every engine endpoint.
fn http_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

fn engine_error(engine: &str, error: EngineError) -> ApiError {
    match error {
        EngineError::Invalid(m) => ApiError::bad_request(m),
        EngineError::NotFound(m) => ApiError::not_found(m),
        EngineError::Conflict(m) => ApiError::conflict(m),
        EngineError::Unavailable(m) => ApiError::new(
            Code::EngineUnavailable,
            format!("the {engine} engine is unavailable: {m}"),
        )
        .with_details(json!({ "engine": engine })),
        EngineError::Failed(m) => ApiError::new(
            Code::EngineFailed,
            format!("the {engine} engine failed: {m}"),
        )
        .with_details(json!({ "engine": engine })),
    }
}
