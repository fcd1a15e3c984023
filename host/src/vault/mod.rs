//! The Data Vault (seed 003): schema-validated document collections on several
//! engines behind one API. A request is checked here (names, schema, filter, JSON
//! Schema validation by the workspace's validation-policy plugin), then the
//! engine-specific work runs in the engine's adapter component with the one
//! capability the host grants it for that call; every action is audited.
//!
//! - [`spec`]: request shapes; [`schema`]: JSON Schema ↔ fields; [`filter`]: the
//!   portable filter.

pub mod filter;
pub mod schema;
pub mod spec;

use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Principal;
use crate::control::vault::{AuditEntry, CollectionEntry};
use crate::control::workspaces::Workspace;
use crate::error::ApiError;
use crate::plugins::validation_types::{Operation, Target, TargetKind, Verdict};
use crate::plugins::vault::{AdapterFuture, Capability, HttpEndpoint, SqlSession};
use crate::plugins::vault_types::{Collection, EngineError};
use crate::plugins::PluginRuntime;
use crate::tables::validate::is_valid_name;
use crate::tenant::{names, PoolKind, Tenancy, TenantError};

use schema::Field;
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

/// The error code of a document the collection's schema refuses.
const VALIDATION_FAILED: &str = "validation_failed";

fn no_collection(name: &str) -> ApiError {
    ApiError::not_found(format!("collection `{name}` does not exist"))
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
            StatusCode::BAD_GATEWAY,
            "engine_unavailable",
            format!("the {engine} engine is unavailable: {m}"),
        )
        .with_details(json!({ "engine": engine })),
        EngineError::Failed(m) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "engine_failed",
            format!("the {engine} engine failed: {m}"),
        )
        .with_details(json!({ "engine": engine })),
    }
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
            Err(error)
                if error.status == StatusCode::NOT_FOUND || error.code == VALIDATION_FAILED =>
            {
                error
            }
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

    /// Runs one adapter call for `engine` with its capability, committing the
    /// capability's transaction when the adapter succeeds.
    async fn engine<R, F>(&self, engine: &str, call: F) -> Result<R, ApiError>
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

    fn clickhouse_endpoint(&self) -> Result<HttpEndpoint, ApiError> {
        let base = self.clickhouse_url.ok_or_else(no_clickhouse)?;
        Ok(HttpEndpoint {
            base: base.trim_end_matches('/').to_owned(),
            database: names::database(self.workspace.id),
            client: http_client().clone(),
        })
    }

    /// Creates the workspace's ClickHouse database when it is missing.
    async fn ensure_clickhouse_database(&self) -> Result<(), ApiError> {
        let endpoint = self.clickhouse_endpoint()?;
        let unavailable = |message: String| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "engine_unavailable",
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

    /// `GET collections`: name, engine, document count, description.
    pub async fn list(&self) -> Result<Value, ApiError> {
        let mut out = Vec::new();
        for entry in self.tenancy.control.collections(self.workspace.id).await? {
            let collection = wit_collection(&entry);
            let count = self
                .engine(&entry.engine, move |store, guest| {
                    Box::pin(async move { guest.call_count(store, &collection).await })
                })
                .await?;
            out.push(json!({
                "name": entry.name,
                "engine": entry.engine,
                "document_count": count,
                "description": entry.description,
            }));
        }
        Ok(json!({ "collections": out }))
    }

    /// `GET collections/{name}/schema`.
    pub async fn schema(&self, name: &str) -> Result<Value, ApiError> {
        let entry = self.entry(name).await?;
        let fields: Vec<Value> = schema::from_stored(&entry.fields)
            .iter()
            .map(schema::describe)
            .collect();
        Ok(json!({
            "name": entry.name,
            "engine": entry.engine,
            "fields": fields,
            "raw_schema": entry.json_schema,
        }))
    }

    /// `POST collections/{name}/query`.
    async fn run_query(
        &self,
        entry: &CollectionEntry,
        body: &QueryBody,
    ) -> Result<QueryPage, ApiError> {
        let limit = body.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(ApiError::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = body.offset.unwrap_or(0);
        let fields = schema::from_stored(&entry.fields);
        let known = |path: &str| -> bool {
            match path.strip_suffix(".*") {
                Some(parent) => fields
                    .iter()
                    .any(|f| f.spec.path.starts_with(&format!("{parent}."))),
                None => fields.iter().any(|f| f.spec.path == path),
            }
        };
        let request = filter::build(
            body.filter.as_ref(),
            body.sort.as_deref().unwrap_or(&[]),
            body.projection.as_deref(),
            limit,
            offset,
            &known,
        )
        .map_err(|e| ApiError::bad_request(e.0))?;
        let collection = wit_collection(entry);
        let page = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move { guest.call_query(store, &collection, &request).await })
            })
            .await?;
        let items: Vec<Box<RawValue>> = page
            .items
            .into_iter()
            .map(|text| RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned()))
            .collect();
        let next = offset as u64 + items.len() as u64;
        let has_more = next < page.total;
        Ok(QueryPage {
            items,
            total: page.total,
            has_more,
            next_offset: has_more.then_some(next),
        })
    }

    /// `GET collections/{name}/count`.
    pub async fn count(&self, name: &str) -> Result<Value, ApiError> {
        self.on_collection(name, |entry| async move { self.run_count(&entry).await })
            .await
    }

    async fn run_count(&self, entry: &CollectionEntry) -> Result<Value, ApiError> {
        let collection = wit_collection(entry);
        let count = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move { guest.call_count(store, &collection).await })
            })
            .await?;
        Ok(json!({ "count": count }))
    }

    async fn validate(
        &self,
        entry: &CollectionEntry,
        operation: Operation,
        record: &Value,
    ) -> Result<String, ApiError> {
        let Value::Object(map) = record else {
            return Err(ApiError::bad_request("record must be a JSON object"));
        };
        if map.contains_key("_id") {
            return Err(ApiError::bad_request(
                "record must not carry `_id`: the vault assigns it",
            ));
        }
        let document = record.to_string();
        let schema = entry.json_schema.to_string();
        let key = format!("{}:{}", entry.name, entry.created_at.timestamp_micros());
        let target = Target {
            kind: TargetKind::Collection,
            name: entry.name.clone(),
        };
        let verdict = self
            .plugins
            .validate_document(
                self.workspace.id,
                &target,
                operation,
                &key,
                &schema,
                &document,
            )
            .await?;
        match verdict {
            Verdict::Accept => Ok(document),
            Verdict::Reject(violations) => {
                let list: Vec<Value> = violations
                    .iter()
                    .map(|v| json!({ "path": v.path, "message": v.message }))
                    .collect();
                let summary = violations
                    .iter()
                    .take(3)
                    .map(|v| {
                        format!(
                            "{}: {}",
                            if v.path.is_empty() { "/" } else { &v.path },
                            v.message
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    VALIDATION_FAILED,
                    format!("the record does not match the collection's schema: {summary}"),
                )
                .with_details(json!({ "violations": list })))
            }
        }
    }

    /// `POST collections/{name}`: 201 with the stored document.
    async fn run_create_record(
        &self,
        entry: &CollectionEntry,
        id: &str,
        record: &Value,
    ) -> Result<Value, ApiError> {
        let document = self.validate(entry, Operation::Create, record).await?;
        let collection = wit_collection(entry);
        let doc_id = id.to_owned();
        let stored = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move {
                    guest
                        .call_insert(store, &collection, &doc_id, &document)
                        .await
                })
            })
            .await?;
        Ok(json!({ "document": serde_json::from_str::<Value>(&stored).unwrap_or(Value::Null) }))
    }

    /// `PUT collections/{name}/{id}`: the replaced document, or 404.
    async fn run_update_record(
        &self,
        entry: &CollectionEntry,
        id: &str,
        record: &Value,
    ) -> Result<Value, ApiError> {
        let document = self.validate(entry, Operation::Update, record).await?;
        let collection = wit_collection(entry);
        let doc_id = id.to_owned();
        let stored = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move {
                    guest
                        .call_update(store, &collection, &doc_id, &document)
                        .await
                })
            })
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "document `{id}` does not exist in `{}`",
                    entry.name
                ))
            })?;
        Ok(json!({ "document": serde_json::from_str::<Value>(&stored).unwrap_or(Value::Null) }))
    }

    /// `DELETE collections/{name}/{id}`: 204, or 404.
    async fn run_delete_record(&self, entry: &CollectionEntry, id: &str) -> Result<(), ApiError> {
        let collection = wit_collection(entry);
        let doc_id = id.to_owned();
        let deleted = self
            .engine(&entry.engine, move |store, guest| {
                Box::pin(async move { guest.call_delete(store, &collection, &doc_id).await })
            })
            .await?;
        if !deleted {
            return Err(ApiError::not_found(format!(
                "document `{id}` does not exist in `{}`",
                entry.name
            )));
        }
        Ok(())
    }

    /// `POST collections`: 201 with the collection.
    async fn run_create_collection(&self, spec: CollectionSpec) -> Result<Value, ApiError> {
        if !is_valid_name(&spec.name) {
            return Err(ApiError::bad_request(format!(
                "schema.name `{}` must match ^[a-z][a-z0-9_]{{0,62}}$",
                spec.name
            )));
        }
        let engine = match (spec.engine.as_deref(), spec.connection.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                return Err(ApiError::bad_request(
                    "schema.engine and schema.connection disagree",
                ))
            }
            (Some(e), _) | (None, Some(e)) => e.to_owned(),
            (None, None) => "postgres".to_owned(),
        };
        if !ENGINES.contains(&engine.as_str()) {
            return Err(ApiError::bad_request(format!(
                "engine `{engine}` is not one of {}",
                ENGINES.join(", ")
            )));
        }
        if engine == "clickhouse" {
            self.ensure_clickhouse_database().await?;
        }
        let (json_schema, fields) = match (spec.json_schema, spec.fields) {
            (Some(schema), None) => {
                let fields = schema::flatten(&schema)
                    .map_err(|e| ApiError::bad_request(format!("schema.json_schema: {e}")))?;
                (schema, fields)
            }
            (None, Some(native)) => {
                let mut fields = Vec::new();
                for (i, f) in native.iter().enumerate() {
                    if f.name.split('.').any(|s| !schema::is_field_segment(s)) {
                        return Err(ApiError::bad_request(format!(
                            "schema.fields[{i}].name `{}`: names are letters, digits and _ (dots nest)",
                            f.name
                        )));
                    }
                    let field_type = schema::parse_field_type(&f.field_type).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "schema.fields[{i}].field_type `{}` is not one of text, integer, number, boolean, json, timestamp",
                            f.field_type
                        ))
                    })?;
                    fields.push(Field {
                        spec: crate::plugins::vault_types::FieldSpec {
                            path: f.name.clone(),
                            field_type,
                            required: f.required,
                            indexed: f.indexed,
                        },
                        description: f.description.clone(),
                    });
                }
                (schema::from_fields(&fields), fields)
            }
            _ => {
                return Err(ApiError::bad_request(
                    "give exactly one of schema.json_schema and schema.fields",
                ))
            }
        };
        let entry = CollectionEntry {
            workspace_id: self.workspace.id,
            name: spec.name.clone(),
            engine: engine.clone(),
            storage_name: format!("c_{}", &Uuid::new_v4().simple().to_string()[..16]),
            description: spec.description,
            json_schema,
            fields: schema::to_stored(&fields),
            created_at: chrono::Utc::now(),
        };
        if !self.tenancy.control.insert_collection(&entry).await? {
            return Err(ApiError::conflict(format!(
                "a collection named `{}` already exists",
                entry.name
            )));
        }
        let collection = wit_collection(&entry);
        let created = self
            .engine(&engine, move |store, guest| {
                Box::pin(async move { guest.call_create_collection(store, &collection).await })
            })
            .await;
        if let Err(error) = created {
            if let Err(e) = self
                .tenancy
                .control
                .delete_collection(self.workspace.id, &entry.name)
                .await
            {
                tracing::error!(error = %e, "could not forget a collection whose storage failed");
            }
            self.tenancy
                .collections
                .forget(self.workspace.id, &entry.name)
                .await;
            return Err(error);
        }
        Ok(json!({
            "name": entry.name,
            "engine": entry.engine,
            "document_count": 0,
            "description": entry.description,
        }))
    }

    /// `DELETE collections/{name}`: drops the storage and forgets the collection.
    async fn run_drop_collection(&self, name: &str) -> Result<(), ApiError> {
        let entry = self.entry(name).await?;
        let collection = wit_collection(&entry);
        self.engine(&entry.engine, move |store, guest| {
            Box::pin(async move { guest.call_drop_collection(store, &collection).await })
        })
        .await?;
        self.tenancy
            .control
            .delete_collection(self.workspace.id, name)
            .await?;
        self.tenancy
            .collections
            .forget(self.workspace.id, name)
            .await;
        Ok(())
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
