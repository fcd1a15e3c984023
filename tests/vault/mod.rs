//! The Data Vault (seed 003). [`behaviour`] is one suite of behaviours run against
//! each engine; the other files cover what is engine-independent.

mod behaviour;
mod collections;

use serde_json::{json, Value};

use crate::support::{self, Api, Resp, Workspace};

/// A provisioned workspace and a client with every vault scope.
pub struct Vault {
    /// The workspace.
    pub ws: Workspace,
    /// `vault:read`, `vault:write`, `vault:delete`, `vault:ddl`.
    pub api: Api,
}

impl Vault {
    /// A fresh workspace on the shared server (no ClickHouse configured).
    pub async fn new(name: &str) -> Self {
        Self::on(support::shared(), name).await
    }

    /// A fresh workspace on `server`.
    pub async fn on(server: &support::Plinth, name: &str) -> Self {
        let ws = Workspace::provisioned(server, name).await;
        let api = ws
            .key(&["vault:read", "vault:write", "vault:delete", "vault:ddl"])
            .await;
        Self { ws, api }
    }

    /// `.../vault/collections{suffix}`.
    pub fn path(&self, suffix: &str) -> String {
        format!("/v1/workspaces/{}/vault/collections{suffix}", self.ws.id)
    }

    /// Creates a collection that must succeed.
    pub async fn collection(&self, schema: Value) -> Resp {
        let resp = self
            .api
            .post(&self.path(""), json!({ "schema": schema }))
            .await;
        assert_eq!(resp.status, 201, "{}", resp.body);
        resp
    }

    /// Creates a record that must succeed; returns its `_id`.
    pub async fn insert(&self, collection: &str, record: Value) -> String {
        let resp = self
            .api
            .post(
                &self.path(&format!("/{collection}")),
                json!({ "record": record }),
            )
            .await;
        assert_eq!(resp.status, 201, "{}", resp.body);
        resp.body["document"]["_id"].as_str().unwrap().to_owned()
    }

    /// Runs a query.
    pub async fn query(&self, collection: &str, body: Value) -> Resp {
        self.api
            .post(&self.path(&format!("/{collection}/query")), body)
            .await
    }
}
