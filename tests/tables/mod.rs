//! Workspace Tables (seed 002): typed DDL and the scoped query, one file per feature.

mod alter;
mod attacks;
mod authorizer;
mod create;
mod data_api;
mod query;
mod schema;

use serde_json::{json, Value};

use crate::support::{self, Api, Resp, Workspace};

/// A provisioned workspace and a client with every Workspace Tables scope (and the
/// Data API's, to show tables are served at once).
pub struct Tables {
    /// The workspace.
    pub ws: Workspace,
    /// `workspace:view`, `workspace:update`, `postgres:read`, `postgres:write`.
    pub api: Api,
}

impl Tables {
    /// A fresh workspace.
    pub async fn new(name: &str) -> Self {
        let ws = Workspace::provisioned(support::shared(), name).await;
        let api = ws
            .key(&[
                "workspace:view",
                "workspace:update",
                "postgres:read",
                "postgres:write",
            ])
            .await;
        Self { ws, api }
    }

    /// `POST /tables`.
    pub async fn create(&self, body: Value) -> Resp {
        self.api
            .post(&format!("/v1/{}/tables", self.ws.id), body)
            .await
    }

    /// Creates a table that must succeed; returns its id.
    pub async fn create_ok(&self, body: Value) -> String {
        let resp = self.create(body).await;
        assert_eq!(resp.status, 201, "{}", resp.body);
        resp.body["id"].as_str().unwrap().to_owned()
    }

    /// `GET /tables/{id}`.
    pub async fn get(&self, id: &str) -> Resp {
        self.api
            .get(&format!("/v1/{}/tables/{id}", self.ws.id))
            .await
    }

    /// `PATCH /tables/{id}` with these actions.
    pub async fn alter(&self, id: &str, actions: Value) -> Resp {
        self.api
            .patch(
                &format!("/v1/{}/tables/{id}", self.ws.id),
                json!({ "actions": actions }),
            )
            .await
    }

    /// `POST /query`.
    pub async fn query(&self, sql: &str) -> Resp {
        self.api
            .post(&format!("/v1/{}/query", self.ws.id), json!({ "sql": sql }))
            .await
    }

    /// A query that must succeed.
    pub async fn query_ok(&self, sql: &str) -> Value {
        let resp = self.query(sql).await;
        assert_eq!(resp.status, 200, "{sql}: {}", resp.body);
        resp.body
    }
}

/// The names of a live schema's columns.
pub fn column_names(table: &Value) -> Vec<String> {
    table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// A live column by name.
pub fn column<'a>(table: &'a Value, name: &str) -> &'a Value {
    table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name} in {table}"))
}
