//! The PostgreSQL Data API (seed 001), one file per feature, over a fixture of real
//! tables and rows created by the workspace's runtime role.

mod authorizer;
mod concurrency;
mod embedding;
mod errors;
mod exact_counts;
mod idempotency;
mod injection;
mod logic;
mod managed;
mod operators;
mod ordering;
mod pagination;
mod plans;
mod property;
mod rls;
mod select;
mod writes;

use serde_json::Value;

use crate::support::{self, Api, Resp, Workspace};

/// A provisioned workspace with the fixture tables, and clients on it.
pub struct Fixture {
    /// The workspace.
    pub ws: Workspace,
    /// A key with `postgres:read` and `postgres:write`.
    pub api: Api,
    /// The runtime role's connection, for setup and for checking effects.
    pub db: tokio_postgres::Client,
}

impl Fixture {
    /// A fresh workspace with the fixture.
    pub async fn new(name: &str) -> Self {
        Self::on(support::shared(), name).await
    }

    /// A fresh workspace with the fixture on `server`.
    pub async fn on(server: &support::Plinth, name: &str) -> Self {
        let ws = Workspace::provisioned(server, name).await;
        let db = support::try_connect(&ws.reveal("runtime", false).await)
            .await
            .unwrap();
        db.batch_execute(include_str!("fixture.sql"))
            .await
            .expect("fixture");
        let api = ws.key(&["postgres:read", "postgres:write"]).await;
        Self { ws, api, db }
    }

    /// `GET rows/{table}?{query}`.
    pub async fn get(&self, table: &str, query: &str) -> Resp {
        self.api.get(&self.path(table, query)).await
    }

    /// The path of a table with a query string.
    pub fn path(&self, table: &str, query: &str) -> String {
        if query.is_empty() {
            format!("/v1/postgres/{}/rows/{table}", self.ws.id)
        } else {
            format!("/v1/postgres/{}/rows/{table}?{query}", self.ws.id)
        }
    }

    /// The client with an Idempotency-Key.
    pub fn writer(&self, key: &str) -> Api {
        self.api.with_header("Idempotency-Key", key)
    }

    /// `ids` of the rows a GET returns, in order (must succeed).
    pub async fn ids(&self, table: &str, query: &str) -> Vec<i64> {
        let resp = self.get(table, query).await;
        assert_eq!(resp.status, 200, "{table}?{query}: {}", resp.body);
        ids(&resp.body["data"])
    }
}

/// The `id` of each row of a JSON array.
pub fn ids(rows: &Value) -> Vec<i64> {
    rows.as_array()
        .unwrap_or_else(|| panic!("not an array: {rows}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap_or_else(|| panic!("no id in {r}")))
        .collect()
}

/// A fresh unique Idempotency-Key.
pub fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}
