//! Data Vault collections and the vault audit trail, in the control database.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{ControlDb, ControlError};

/// A collection as registered.
#[derive(Debug, Clone)]
pub struct CollectionEntry {
    /// Owning workspace.
    pub workspace_id: Uuid,
    /// Client-facing name.
    pub name: String,
    /// `postgres` or `clickhouse`.
    pub engine: String,
    /// Storage (table) name.
    pub storage_name: String,
    /// Free text.
    pub description: Option<String>,
    /// The JSON Schema documents must satisfy.
    pub json_schema: Value,
    /// The flattened fields (`[{path, field_type, required, indexed}]`).
    pub fields: Value,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "workspace_id, name, engine, storage_name, description, json_schema, fields, created_at";

impl CollectionEntry {
    fn from_row(row: &Row) -> Self {
        Self {
            workspace_id: row.get(0),
            name: row.get(1),
            engine: row.get(2),
            storage_name: row.get(3),
            description: row.get(4),
            json_schema: row.get(5),
            fields: row.get(6),
            created_at: row.get(7),
        }
    }

    /// Whether `other` is this very collection, not one created again under its
    /// name: each creation gets storage of its own, and a collection is never
    /// altered in place.
    pub fn is_the_same(&self, other: &Self) -> bool {
        self.storage_name == other.storage_name && self.created_at == other.created_at
    }
}

/// One audited action.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// Workspace.
    pub workspace_id: Uuid,
    /// Who (`key:<id>`, `user:<sub>`, `admin`).
    pub actor: &'a str,
    /// `vault.query`, `vault.record.create`, `vault.collection.drop`, ...
    pub action: &'a str,
    /// The collection.
    pub collection: &'a str,
    /// The document, when one is concerned.
    pub document_id: Option<&'a str>,
    /// The HTTP status the action ended with (success below 400).
    pub status: u16,
}

/// An audit record as read back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    /// Sequence number.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which collection.
    pub collection: String,
    /// Which document, if one.
    pub document_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// The HTTP status of the answer.
    pub status: i32,
}

/// Which audit records to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<String>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
    /// Page size.
    pub limit: i64,
    /// Records skipped.
    pub offset: i64,
}

impl ControlDb {
    /// Every collection of a workspace, by name.
    pub async fn collections(&self, workspace: Uuid) -> Result<Vec<CollectionEntry>, ControlError> {
        let client = self.client().await?;
        Ok(client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM vault_collections WHERE workspace_id = $1 ORDER BY name"
                ),
                &[&workspace],
            )
            .await?
            .iter()
            .map(CollectionEntry::from_row)
            .collect())
    }

    /// One collection.
    pub async fn collection(
        &self,
        workspace: Uuid,
        name: &str,
    ) -> Result<Option<CollectionEntry>, ControlError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM vault_collections WHERE workspace_id = $1 AND name = $2"
            ))
            .await?;
        Ok(client
            .query_opt(&statement, &[&workspace, &name])
            .await?
            .map(|row| CollectionEntry::from_row(&row)))
    }

    /// Registers a collection; false when the name is taken.
    pub async fn insert_collection(&self, entry: &CollectionEntry) -> Result<bool, ControlError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "INSERT INTO vault_collections
                   (workspace_id, name, engine, storage_name, description, json_schema, fields)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &entry.workspace_id,
                    &entry.name,
                    &entry.engine,
                    &entry.storage_name,
                    &entry.description,
                    &entry.json_schema,
                    &entry.fields,
                ],
            )
            .await?
            == 1)
    }

    /// Forgets a collection; false when it was not there.
    pub async fn delete_collection(
        &self,
        workspace: Uuid,
        name: &str,
    ) -> Result<bool, ControlError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "DELETE FROM vault_collections WHERE workspace_id = $1 AND name = $2",
                &[&workspace, &name],
            )
            .await?
            == 1)
    }

    /// Appends to the audit trail; returns once the record is committed (records of
    /// concurrent requests are committed together, see `group_commit`).
    pub async fn audit(&self, entry: AuditEntry<'_>) -> Result<(), ControlError> {
        self.audit_log.write(entry.into()).await
    }

    /// A page of a workspace's audit records, newest first, and how many match.
    pub async fn audit_records(
        &self,
        workspace: Uuid,
        filter: &AuditFilter,
    ) -> Result<(Vec<AuditRecord>, i64), ControlError> {
        let client = self.client().await?;
        let conditions = "workspace_id = $1 AND ($2::text IS NULL OR action = $2)
             AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)";
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&workspace, &filter.action, &filter.since, &filter.until];
        let total: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM vault_audit WHERE {conditions}"),
                &params,
            )
            .await?
            .get(0);
        let rows = client
            .query(
                &format!(
                    "SELECT id, at, actor, action, collection, document_id, outcome, status
                     FROM vault_audit WHERE {conditions} ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6"
                ),
                &[&workspace, &filter.action, &filter.since, &filter.until, &filter.limit, &filter.offset],
            )
            .await?;
        Ok((
            rows.iter()
                .map(|r| AuditRecord {
                    id: r.get(0),
                    at: r.get(1),
                    actor: r.get(2),
                    action: r.get(3),
                    collection: r.get(4),
                    document_id: r.get(5),
                    outcome: r.get(6),
                    status: r.get(7),
                })
                .collect(),
            total,
        ))
    }
}
