//! The Data Vault (seed 003): schema-validated document collections on several
//! engines behind one API. A request is checked here (names, schema, filter, JSON
//! Schema validation by the workspace's validation-policy plugin), then the
//! engine-specific work runs in the engine's adapter component with the one
//! capability the host grants it for that call; every action is audited.
//!
//! - [`spec`]: request shapes; [`schema`]: JSON Schema ↔ fields; [`filter`]: the
//!   portable filter.

mod collections;
mod engines;
pub mod filter;
mod records;
pub mod schema;
pub mod spec;

use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Principal;
use crate::control::vault::{AuditEntry, CollectionEntry};
use crate::control::workspaces::Workspace;
use crate::error::ApiError;
use crate::plugins::vault_types::Collection;
use crate::plugins::PluginRuntime;
use crate::tenant::Tenancy;

use spec::{CollectionSpec, QueryBody};

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 500;
/// The engines.
pub const ENGINES: [&str; 2] = ["postgres", "clickhouse"];

/// One page of a query's answer. The documents are kept as the adapter wrote them
/// (checked to be JSON, not parsed into a tree); one that is not JSON is `null`.
#[derive(Serialize)]
pub struct QueryPage {
    items: Vec<Box<RawValue>>,
    total: u64,
    has_more: bool,
    next_offset: Option<u64>,
}

/// The vault of one workspace, for one caller.
pub struct Vault<'a> {
    tenancy: &'a Tenancy,
    plugins: &'a PluginRuntime,
    workspace: &'a Workspace,
    actor: String,
    clickhouse_url: Option<&'a str>,
}

fn no_collection(name: &str) -> ApiError {
    ApiError::not_found(format!("collection `{name}` does not exist"))
}

fn wit_collection(entry: &CollectionEntry) -> Collection {
    Collection {
        name: entry.name.clone(),
        storage_name: entry.storage_name.clone(),
        fields: schema::from_stored(&entry.fields)
            .into_iter()
            .map(|f| f.spec)
            .collect(),
    }
}

impl<'a> Vault<'a> {
    /// The vault of `workspace` for `principal`.
    pub fn new(
        tenancy: &'a Tenancy,
        plugins: &'a PluginRuntime,
        workspace: &'a Workspace,
        principal: &Principal,
        clickhouse_url: Option<&'a str>,
    ) -> Self {
        Self {
            tenancy,
            plugins,
            workspace,
            actor: principal.audit_label(),
            clickhouse_url,
        }
    }

    /// Records an action and its outcome, then hands the result back.
    async fn audited<T>(
        &self,
        action: &str,
        collection: &str,
        document: Option<&str>,
        result: Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let status = match &result {
            Ok(_) => 200,
            Err(error) => error.status.as_u16(),
        };
        let entry = AuditEntry {
            workspace_id: self.workspace.id,
            actor: &self.actor,
            action,
            collection,
            document_id: document,
            status,
        };
        if let Err(error) = self.tenancy.control.audit(entry).await {
            tracing::error!(%error, action, collection, "could not write a vault audit record");
        }
        result
    }

    async fn entry(&self, name: &str) -> Result<Arc<CollectionEntry>, ApiError> {
        self.tenancy
            .collections
            .get(self.workspace.id, name)
            .await?
            .ok_or_else(|| no_collection(name))
    }

    /// Runs `call` on the collection `name` as this process has it cached, and once
    /// more on the collection as the control database now has it when the answer may
    /// come from a record that another replica has since replaced.
    ///
    /// A collection dropped and created again on another replica is seen here only
    /// when that replica's notification arrives. Until then the cached record names
    /// storage that is gone (the engine answers 404) and a schema that is no longer
    /// the collection's (validation refuses). On either answer the record is read
    /// again; when it is another collection now, the cached one is forgotten and
    /// `call` runs on the new one. Neither answer wrote anything, so the second run
    /// cannot write twice; any other answer is final. (An update or delete of a
    /// document that is not there is a 404 too, and costs one such read.)
    async fn on_collection<T, F, Fut>(&self, name: &str, call: F) -> Result<T, ApiError>
    where
        F: Fn(Arc<CollectionEntry>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let cached = self.entry(name).await?;
        let refusal = match call(cached.clone()).await {
            Err(error) if error.may_mean_a_stale_collection() => error,
            answer => return answer,
        };
        let current = self
            .tenancy
            .control
            .collection(self.workspace.id, name)
            .await?;
        if current.as_ref().is_some_and(|c| c.is_the_same(&cached)) {
            return Err(refusal);
        }
        self.tenancy
            .collections
            .forget(self.workspace.id, name)
            .await;
        match current {
            Some(current) => call(Arc::new(current)).await,
            None => Err(no_collection(name)),
        }
    }
}

/// The audited operations: each records its action and outcome.
impl Vault<'_> {
    /// `POST collections/{name}/query`.
    pub async fn query(&self, name: &str, body: QueryBody) -> Result<QueryPage, ApiError> {
        let body = &body;
        let result = self
            .on_collection(
                name,
                |entry| async move { self.run_query(&entry, body).await },
            )
            .await;
        self.audited("vault.query", name, None, result).await
    }

    /// `POST collections/{name}`: 201 with the stored document.
    pub async fn create_record(&self, name: &str, record: Value) -> Result<Value, ApiError> {
        let id = Uuid::new_v4().to_string();
        let result = self
            .on_collection(name, |entry| {
                let (id, record) = (&id, &record);
                async move { self.run_create_record(&entry, id, record).await }
            })
            .await;
        let document = result.is_ok().then_some(id.as_str());
        self.audited("vault.record.create", name, document, result)
            .await
    }

    /// `PUT collections/{name}/{id}`: the replaced document, or 404.
    pub async fn update_record(
        &self,
        name: &str,
        id: &str,
        record: Value,
    ) -> Result<Value, ApiError> {
        let result = self
            .on_collection(name, |entry| {
                let record = &record;
                async move { self.run_update_record(&entry, id, record).await }
            })
            .await;
        self.audited("vault.record.update", name, Some(id), result)
            .await
    }

    /// `DELETE collections/{name}/{id}`: 204, or 404.
    pub async fn delete_record(&self, name: &str, id: &str) -> Result<(), ApiError> {
        let result = self
            .on_collection(name, |entry| async move {
                self.run_delete_record(&entry, id).await
            })
            .await;
        self.audited("vault.record.delete", name, Some(id), result)
            .await
    }

    /// `POST collections`: 201 with the collection.
    pub async fn create_collection(&self, spec: CollectionSpec) -> Result<Value, ApiError> {
        let name = spec.name.clone();
        let result = self.run_create_collection(spec).await;
        self.audited("vault.collection.create", &name, None, result)
            .await
    }

    /// `DELETE collections/{name}`: drops the storage and forgets the collection.
    pub async fn drop_collection(&self, name: &str) -> Result<(), ApiError> {
        let result = self.run_drop_collection(name).await;
        self.audited("vault.collection.drop", name, None, result)
            .await
    }
}
