//! The vault audit trail's writes, committed in groups (see [`super::group_commit`]):
//! each request waits for its own record, and a batch the database refuses (a record
//! of a workspace deleted meanwhile) is written again record by record, so that one
//! refusal loses no other record.

use deadpool_postgres::Pool;
use uuid::Uuid;

use super::group_commit::{each, GroupCommit, Writer};
use super::vault::AuditEntry;
use super::ControlError;

/// Appends one record. A lone record goes out this way: PostgreSQL keeps one generic
/// plan for it, where it plans [`APPEND`] anew for every run.
const APPEND_ONE: &str = "INSERT INTO vault_audit (workspace_id, actor, action, collection, document_id, outcome, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Appends records in one statement, in their order.
const APPEND: &str = "INSERT INTO vault_audit (workspace_id, actor, action, collection, document_id, outcome, status)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int4[])";

/// An owned [`AuditEntry`].
pub struct Record {
    workspace_id: Uuid,
    actor: String,
    action: String,
    collection: String,
    document_id: Option<String>,
    status: u16,
}

impl From<AuditEntry<'_>> for Record {
    fn from(entry: AuditEntry<'_>) -> Self {
        Self {
            workspace_id: entry.workspace_id,
            actor: entry.actor.to_owned(),
            action: entry.action.to_owned(),
            collection: entry.collection.to_owned(),
            document_id: entry.document_id.map(str::to_owned),
            status: entry.status,
        }
    }
}

/// The audit trail's writer.
pub type AuditLog = GroupCommit<Appender>;

/// Appends audit records through a control-database pool.
pub struct Appender {
    pool: Pool,
}

impl Appender {
    /// Appends through `pool`.
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

impl Writer for Appender {
    type Record = Record;

    async fn write(&self, records: &[&Record]) -> Vec<Result<(), ControlError>> {
        match append(&self.pool, records).await {
            Err(error) if records.len() > 1 && !error.is_unavailable() => {
                let mut outcomes = Vec::with_capacity(records.len());
                for record in records.chunks(1) {
                    outcomes.push(append(&self.pool, record).await);
                }
                outcomes
            }
            outcome => each(outcome, records.len()),
        }
    }
}

/// One statement appending `records`.
async fn append(pool: &Pool, records: &[&Record]) -> Result<(), ControlError> {
    let client = pool.get().await?;
    if let [record] = records {
        let statement = client.prepare_cached(APPEND_ONE).await?;
        client
            .execute(
                &statement,
                &[
                    &record.workspace_id,
                    &record.actor,
                    &record.action,
                    &record.collection,
                    &record.document_id,
                    &outcome(record),
                    &i32::from(record.status),
                ],
            )
            .await?;
        return Ok(());
    }
    let statement = client.prepare_cached(APPEND).await?;
    let records = records.iter();
    let workspaces: Vec<Uuid> = records.clone().map(|r| r.workspace_id).collect();
    let actors: Vec<&str> = records.clone().map(|r| r.actor.as_str()).collect();
    let actions: Vec<&str> = records.clone().map(|r| r.action.as_str()).collect();
    let collections: Vec<&str> = records.clone().map(|r| r.collection.as_str()).collect();
    let documents: Vec<Option<&str>> = records.clone().map(|r| r.document_id.as_deref()).collect();
    let outcomes: Vec<&str> = records.clone().map(|r| outcome(r)).collect();
    let statuses: Vec<i32> = records.map(|r| i32::from(r.status)).collect();
    client
        .execute(
            &statement,
            &[
                &workspaces,
                &actors,
                &actions,
                &collections,
                &documents,
                &outcomes,
                &statuses,
            ],
        )
        .await?;
    Ok(())
}

/// The record's `outcome` column.
fn outcome(record: &Record) -> &'static str {
    if record.status < 400 {
        "success"
    } else {
        "failure"
    }
}
