//! Workspace Tables (seed 002): typed DDL over JSON. A request is checked by
//! [`validate`], turned into DDL text by [`ddl`], and run here in one transaction
//! in the workspace database as the workspace's owner role; [`catalog`] reads the
//! live schema back.
//!
//! The registry lives in the control database, so a change spans two databases.
//! The order of the two commits is chosen so that no replica can cache a schema that
//! misses a table: a create commits the registry entry first and the DDL second (the
//! DDL bumps the schema version, which makes every replica reload, by then with the
//! entry); a drop commits the DDL first. If the second commit fails, the first is
//! undone by a compensating statement.

mod alter;
pub mod catalog;
pub mod ddl;
pub mod spec;
pub mod validate;

use deadpool_postgres::{Object, Transaction};
use serde_json::json;
use uuid::Uuid;

use crate::control::registry::{self, TableEntry};
use crate::control::workspaces::Workspace;
use crate::error::{ApiError, Code};
use crate::names;
use crate::schema_cache::SchemaCaches;
use crate::sql::quote_ident;
use crate::tenant::{PoolKind, Tenancy};

use alter::{action_failed, apply, op_name};
use catalog::LiveSchema;
use validate::{ColumnType, ValidAction, ValidDefault, ValidTable, Violation};

/// How long DDL waits for a lock held by running queries before it gives up.
const LOCK_TIMEOUT: &str = "5s";
/// How long one DDL statement may run (a type change rewrites the table).
const DDL_TIMEOUT: &str = "120s";

/// The 400 answer for broken rules.
pub fn violations_error(violations: Vec<Violation>) -> ApiError {
    let message = violations
        .iter()
        .map(|v| format!("{} {}", v.field, v.rule))
        .collect::<Vec<_>>()
        .join("; ");
    let details: Vec<_> = violations
        .iter()
        .map(|v| json!({ "field": v.field, "rule": v.rule }))
        .collect();
    ApiError::new(Code::ValidationFailed, message).with_details(json!({ "violations": details }))
}

/// Workspace Tables of one workspace.
pub struct WorkspaceTables<'a> {
    tenancy: &'a Tenancy,
    schema_caches: &'a SchemaCaches,
    workspace: &'a Workspace,
}

impl<'a> WorkspaceTables<'a> {
    /// The tables of `workspace`.
    pub fn new(
        tenancy: &'a Tenancy,
        schema_caches: &'a SchemaCaches,
        workspace: &'a Workspace,
    ) -> Self {
        Self {
            tenancy,
            schema_caches,
            workspace,
        }
    }

    /// Every table, newest first.
    pub async fn list(&self) -> Result<Vec<TableEntry>, ApiError> {
        Ok(self.tenancy.control.tables(self.workspace.id).await?)
    }

    /// One table with its live schema, or 404.
    pub async fn get(&self, id: Uuid) -> Result<(TableEntry, LiveSchema), ApiError> {
        let entry = self.entry(id).await?;
        let pool = self.tenancy.pool(self.workspace, PoolKind::Api).await?;
        let client = pool.get().await.map_err(crate::tenant::TenantError::from)?;
        let schema = catalog::live_schema(&client, &entry.physical_name)
            .await
            .map_err(ApiError::from_db)?
            .ok_or_else(|| gone(&entry))?;
        Ok((entry, schema))
    }

    async fn entry(&self, id: Uuid) -> Result<TableEntry, ApiError> {
        self.tenancy
            .control
            .table(self.workspace.id, id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("table `{id}` does not exist")))
    }

    /// Creates a table: 201's entry, 409 for a taken name, 400 for a literal default
    /// PostgreSQL does not accept for its type.
    pub async fn create(&self, mut spec: ValidTable) -> Result<TableEntry, ApiError> {
        let physical = format!("wt_{}", &Uuid::new_v4().simple().to_string()[..20]);
        let mut client = self.ddl_client().await?;
        let tx = ddl_transaction(&mut client, self.workspace.id).await?;
        for (i, column) in spec.columns.iter_mut().enumerate() {
            let field = format!("columns[{i}].default.value");
            canonicalise(&tx, column.column_type, &mut column.default, &field).await?;
        }
        let mut control = self.tenancy.control.client().await?;
        let control_tx = control.transaction().await.map_err(control_error)?;
        let entry =
            registry::tx::insert(&control_tx, self.workspace.id, &spec.table_name, &physical)
                .await
                .map_err(control_error)?
                .ok_or_else(|| {
                    ApiError::conflict(format!(
                        "a table named `{}` already exists in this workspace",
                        spec.table_name
                    ))
                })?;
        for statement in ddl::create_table(&physical, &spec) {
            tx.batch_execute(&statement)
                .await
                .map_err(ApiError::from_db)?;
        }
        control_tx.commit().await.map_err(control_error)?;
        if let Err(error) = tx.commit().await {
            self.undo_registration(&entry).await;
            return Err(ApiError::from_db(error));
        }
        self.forget_names().await;
        Ok(entry)
    }

    async fn undo_registration(&self, entry: &TableEntry) {
        let result = async {
            let client = self.tenancy.control.client().await?;
            registry::tx::delete(&client, entry.workspace_id, entry.id)
                .await
                .map_err(crate::control::ControlError::from)
        }
        .await;
        if let Err(error) = result {
            tracing::error!(%error, table = %entry.id, "could not undo the registration of a table whose DDL failed");
        }
    }

    /// Applies `actions` in order in one transaction; on the first failure nothing
    /// is kept and the error names the action.
    pub async fn alter(&self, id: Uuid, actions: Vec<ValidAction>) -> Result<TableEntry, ApiError> {
        let entry = self.entry(id).await?;
        let mut client = self.ddl_client().await?;
        let tx = ddl_transaction(&mut client, self.workspace.id).await?;
        let lock = format!(
            "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            ddl::table(&entry.physical_name)
        );
        if let Err(error) = tx.batch_execute(&lock).await {
            if error
                .as_db_error()
                .is_some_and(|e| e.code() == &tokio_postgres::error::SqlState::UNDEFINED_TABLE)
            {
                return Err(gone(&entry));
            }
            return Err(ApiError::from_db(error));
        }
        for (i, action) in actions.into_iter().enumerate() {
            let op = op_name(&action);
            apply(&tx, &entry.physical_name, action)
                .await
                .map_err(|reason| action_failed(i, op, reason))?;
        }
        let mut control = self.tenancy.control.client().await?;
        let control_tx = control.transaction().await.map_err(control_error)?;
        let touched = registry::tx::touch(&control_tx, self.workspace.id, id)
            .await
            .map_err(control_error)?
            .ok_or_else(|| ApiError::not_found(format!("table `{id}` does not exist")))?;
        tx.commit().await.map_err(ApiError::from_db)?;
        control_tx.commit().await.map_err(control_error)?;
        self.schema_caches.invalidate(self.workspace.id).await;
        Ok(touched)
    }

    /// Drops a table and its entry together; 404 when there is none.
    pub async fn drop_table(&self, id: Uuid) -> Result<(), ApiError> {
        let entry = self.entry(id).await?;
        let mut client = self.ddl_client().await?;
        let tx = ddl_transaction(&mut client, self.workspace.id).await?;
        let mut control = self.tenancy.control.client().await?;
        let control_tx = control.transaction().await.map_err(control_error)?;
        if !registry::tx::delete(&control_tx, self.workspace.id, id)
            .await
            .map_err(control_error)?
        {
            return Err(ApiError::not_found(format!("table `{id}` does not exist")));
        }
        let drop = format!("DROP TABLE IF EXISTS {}", ddl::table(&entry.physical_name));
        tx.batch_execute(&drop).await.map_err(ApiError::from_db)?;
        tx.commit().await.map_err(ApiError::from_db)?;
        if let Err(error) = control_tx.commit().await {
            // The table is gone; its entry stays until the next drop, which finds no
            // table (`IF EXISTS`) and removes it.
            tracing::error!(%error, table = %id, "a table was dropped but its registry entry could not be removed");
            return Err(control_error(error));
        }
        self.forget_names().await;
        Ok(())
    }

    /// Drops this process's cached schema and table names of the workspace after a
    /// create or drop (the control database's trigger tells the other replicas).
    async fn forget_names(&self) {
        self.schema_caches.invalidate(self.workspace.id).await;
        self.tenancy.table_names.forget(self.workspace.id).await;
    }

    async fn ddl_client(&self) -> Result<Object, ApiError> {
        let pool = self.tenancy.pool(self.workspace, PoolKind::Admin).await?;
        Ok(pool.get().await.map_err(crate::tenant::TenantError::from)?)
    }
}

/// Opens a DDL transaction as the workspace's owner role, with lock and statement
/// time limits.
async fn ddl_transaction(
    client: &mut Object,
    workspace: Uuid,
) -> Result<Transaction<'_>, ApiError> {
    let tx = client.transaction().await.map_err(ApiError::from_db)?;
    tx.batch_execute(&format!(
        "SET LOCAL ROLE {}; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; SET LOCAL statement_timeout = '{DDL_TIMEOUT}'",
        quote_ident(&names::owner_role(workspace))
    ))
    .await
    .map_err(ApiError::from_db)?;
    Ok(tx)
}

/// Has PostgreSQL check a literal default against its type, as a bound parameter,
/// and replaces it with PostgreSQL's canonical text.
async fn canonicalise(
    tx: &Transaction<'_>,
    ty: ColumnType,
    default: &mut Option<ValidDefault>,
    field: &str,
) -> Result<(), ApiError> {
    let Some(ValidDefault::Literal(Some(text))) = default else {
        return Ok(());
    };
    match tx.query_one(&ddl::canonical_literal(ty), &[&*text]).await {
        Ok(row) => {
            *text = row.get(0);
            Ok(())
        }
        Err(error) => match error.as_db_error() {
            Some(db) if db.code().code().starts_with("22") => {
                Err(violations_error(vec![Violation {
                    field: field.to_owned(),
                    rule: format!("must be a valid {} value: {}", ty.sql(), db.message()),
                }]))
            }
            _ => Err(ApiError::from_db(error)),
        },
    }
}

fn gone(entry: &TableEntry) -> ApiError {
    ApiError::not_found(format!(
        "table `{}` is registered but its storage is gone (dropped outside Plinth); delete it to clear the entry",
        entry.table_name
    ))
}

fn control_error(error: tokio_postgres::Error) -> ApiError {
    ApiError::from(crate::control::ControlError::from(error))
}
