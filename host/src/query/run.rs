//! Running a checked scoped query: in one transaction on the workspace's API pool,
//! with the tenant context set (so row-level security applies), an empty
//! `search_path`, a statement timeout and a row cap. Before a statement first runs,
//! its plan is inspected: every relation it scans must be one of the workspace's
//! tables. It is inspected again only when the workspace's schema has changed since
//! (see [`super::approved`]).
//!
//! Rows are built as JSON by PostgreSQL, one array per row, then paired with the
//! column names: `bigint` and `numeric` become strings (their digits survive
//! JavaScript clients), other numbers JSON numbers, `bytea` a `\x...` hex string,
//! timestamps ISO 8601 strings, `json`/`jsonb` nested JSON.

use std::fmt::Write as _;
use std::sync::Arc;

use deadpool_postgres::ClientWrapper;
use postgres_types::Type;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Row, Statement};
use uuid::Uuid;

use super::approved::{Approval, Approvals};
use super::guard::refuse;
use super::guard::{Checked, StatementKind};
use super::QueryError;
use crate::error::Code;
use crate::names::TABLES_SCHEMA;
use crate::sql::quote_ident;
use crate::tenant::{prepare_bounded, Tx};

/// Most rows a scoped query returns; more sets `truncated`.
pub const MAX_ROWS: usize = 10_000;

/// The rendered response body.
pub struct QueryResult {
    /// `{columns, rows, row_count, truncated}` as JSON text.
    pub body: String,
}

/// Reads the workspace's schema version in the query's transaction.
const SCHEMA_VERSION: &str = "SELECT version FROM dl_meta.schema_state";

/// Runs `checked` in `tx`, the transaction that carries the tenant context.
///
/// A statement `approvals` knows at the workspace's current schema version runs at
/// once, prepared on the connection: the settings and the version read go out in
/// one write, then the statement with the `COMMIT`. Any other is checked first (the
/// settings, the version, the plan inspection and the statement's description go
/// out in one write) and runs unnamed, so that a statement seen once is not left
/// prepared; its approval is recorded for the next time.
pub async fn run(
    tx: &Tx<'_>,
    checked: &Checked,
    timeout_ms: u64,
    approvals: &Approvals,
    workspace: Uuid,
) -> Result<QueryResult, QueryError> {
    let client = tx.client();
    let settings =
        format!("SET LOCAL statement_timeout = {timeout_ms}; SET LOCAL search_path = ''");
    let (approval, first) = match approvals.get(workspace, &checked.sql) {
        Some(known) => {
            let (set, version) =
                futures::join!(client.batch_execute(&settings), schema_version(client));
            set.map_err(QueryError::from)?;
            if version? == known.version {
                return run_approved(tx, checked, &known).await;
            }
            approve(client, checked).await?
        }
        None => {
            let (set, approved) =
                futures::join!(client.batch_execute(&settings), approve(client, checked));
            set.map_err(QueryError::from)?;
            approved?
        }
    };
    let approval = Arc::new(approval);
    approvals.insert(workspace, &checked.sql, Arc::clone(&approval));
    let ran = if approval.columns.is_empty() {
        Ran::Affected(tx.finish(client.execute(&first, &[])).await?)
    } else {
        // The unnamed statement: parsed, bound and run in one exchange.
        Ran::Rows(tx.finish(client.query_typed(&approval.runs, &[])).await?)
    };
    render(&approval, checked.kind, ran)
}

/// Runs an approved statement, prepared on the connection after its first run there.
async fn run_approved(
    tx: &Tx<'_>,
    checked: &Checked,
    approval: &Approval,
) -> Result<QueryResult, QueryError> {
    let client = tx.client();
    let statement = prepare_bounded(client, &approval.runs, &[])
        .await
        .map_err(|error| planning_error(error, checked))?;
    let ran = if approval.columns.is_empty() {
        Ran::Affected(tx.finish(client.execute(&statement, &[])).await?)
    } else {
        Ran::Rows(tx.finish(client.query(&statement, &[])).await?)
    };
    render(approval, checked.kind, ran)
}

/// The schema version, from a statement prepared once per connection.
async fn schema_version(client: &ClientWrapper) -> Result<i64, QueryError> {
    let statement = client
        .prepare_cached(SCHEMA_VERSION)
        .await
        .map_err(QueryError::from)?;
    read_version(client, &statement).await
}

async fn read_version(client: &ClientWrapper, statement: &Statement) -> Result<i64, QueryError> {
    let row = client
        .query_one(statement, &[])
        .await
        .map_err(QueryError::from)?;
    row.try_get(0).map_err(QueryError::from)
}

/// Checks `checked`'s plan and describes its result; returns the approval and the
/// statement as prepared. The version is read before the plan is inspected, in the
/// same write: DDL committed between the two can only make the approval older than
/// the catalog it checked (and so checked again next time), never newer.
async fn approve(
    client: &ClientWrapper,
    checked: &Checked,
) -> Result<(Approval, Statement), QueryError> {
    let version = client
        .prepare_cached(SCHEMA_VERSION)
        .await
        .map_err(QueryError::from)?;
    let (version, inspected, statement) = futures::join!(
        read_version(client, &version),
        inspect_plan(client, checked),
        client.prepare(&checked.sql),
    );
    inspected?;
    let statement = statement.map_err(|error| planning_error(error, checked))?;
    if let Some(column) = statement
        .columns()
        .iter()
        .find(|c| super::types::is_catalog_type_oid(c.type_().oid()))
    {
        return Err(QueryError::from(refuse(
            Code::TypeNotAllowed,
            format!(
                "the column `{}` is of the OID-alias type `{}`",
                column.name(),
                column.type_().name()
            ),
        )));
    }
    let version = version?;
    let mut columns: Vec<(String, Type)> = statement
        .columns()
        .iter()
        .map(|c| (c.name().to_owned(), c.type_().clone()))
        .collect();
    if checked.hidden_check {
        // The authorizer's check runs in the statement but is never rendered; with
        // nothing else returned the statement answers its row count.
        columns.pop();
    }
    let runs = if columns.is_empty() {
        checked.sql.clone()
    } else {
        wrap(&checked.sql, &columns)
    };
    let approval = Approval {
        version,
        columns,
        runs,
    };
    Ok((approval, statement))
}

/// What running a statement gave.
enum Ran {
    /// The rows, each one JSON array, of a statement with result columns.
    Rows(Vec<Row>),
    /// The rows affected by one without.
    Affected(u64),
}

/// The response body: `{columns, rows, row_count}`, and `truncated` past the cap.
fn render(approval: &Approval, kind: StatementKind, ran: Ran) -> Result<QueryResult, QueryError> {
    let rows = match ran {
        Ran::Affected(affected) => {
            let row_count = match kind {
                StatementKind::Select => 0,
                _ => affected,
            };
            return Ok(QueryResult {
                body: format!("{{\"columns\":[],\"rows\":[],\"row_count\":{row_count}}}"),
            });
        }
        Ran::Rows(rows) => rows,
    };
    let truncated = rows.len() > MAX_ROWS;
    let mut body = String::with_capacity(64 + rows.len() * 64);
    body.push_str("{\"columns\":");
    let names: Vec<&str> = approval.columns.iter().map(|(n, _)| n.as_str()).collect();
    body.push_str(&serde_json::to_string(&names).map_err(|_| QueryError::Internal)?);
    body.push_str(",\"rows\":[");
    let keys: Vec<String> = names
        .iter()
        .map(|n| serde_json::to_string(n).unwrap_or_else(|_| "\"?\"".to_owned()))
        .collect();
    let mut count = 0usize;
    for (i, row) in rows.iter().take(MAX_ROWS).enumerate() {
        let text: &str = row.try_get(0).map_err(QueryError::from)?;
        let values: Vec<&RawValue> = serde_json::from_str(text).map_err(|error| {
            tracing::error!(%error, "the database built a row that is not a JSON array");
            QueryError::Internal
        })?;
        if i > 0 {
            body.push(',');
        }
        body.push('{');
        for (j, (key, value)) in keys.iter().zip(values).enumerate() {
            if j > 0 {
                body.push(',');
            }
            let _ = write!(body, "{key}:{}", value.get());
        }
        body.push('}');
        count += 1;
    }
    let _ = write!(body, "],\"row_count\":{count}");
    if truncated {
        let _ = write!(body, ",\"truncated\":true,\"max_rows\":{MAX_ROWS}");
    }
    body.push('}');
    Ok(QueryResult { body })
}
/// Wraps the statement so that each row comes back as one JSON array, and at most
/// one row more than [`MAX_ROWS`] (which tells that there were more).
fn wrap(sql: &str, columns: &[(String, Type)]) -> String {
    let aliases: Vec<String> = (1..=columns.len()).map(|i| format!("c{i}")).collect();
    let values: Vec<String> = columns
        .iter()
        .zip(&aliases)
        .map(|((_, ty), alias)| {
            if *ty == Type::INT8 || *ty == Type::NUMERIC || *ty == Type::MONEY {
                format!("to_jsonb(r.{alias}::text)")
            } else {
                format!("to_jsonb(r.{alias})")
            }
        })
        .collect();
    format!(
        "WITH r({}) AS ({sql}) SELECT to_json(ARRAY[{}]::jsonb[])::text FROM r LIMIT {}",
        aliases.join(", "),
        values.join(", "),
        MAX_ROWS + 1
    )
}

/// The second line of defence: the plan may scan no relation outside the
/// workspace's tables (the guard should already have refused such a statement).
async fn inspect_plan(client: &ClientWrapper, checked: &Checked) -> Result<(), QueryError> {
    let explain = format!("EXPLAIN (VERBOSE, FORMAT JSON) {}", checked.sql);
    let rows = client
        .query_typed(&explain, &[])
        .await
        .map_err(|error| planning_error(error, checked))?;
    let plan: Value = match rows.first() {
        Some(row) => row.try_get(0).map_err(QueryError::from)?,
        None => {
            tracing::error!("EXPLAIN returned no plan");
            return Err(QueryError::Internal);
        }
    };
    let casts = super::types::plan_casts_to_catalog_types(&plan.to_string());
    if !casts.is_empty() {
        tracing::warn!(types = ?casts, "a scoped query passed the guard but its plan casts to OID-alias types");
        return Err(QueryError::from(refuse(
            Code::TypeNotAllowed,
            format!(
                "the statement casts to OID-alias types: {}",
                casts.join(", ")
            ),
        )));
    }
    let mut outside = Vec::new();
    scanned_outside(&plan, &mut outside);
    if outside.is_empty() {
        return Ok(());
    }
    tracing::warn!(relations = ?outside, "a scoped query passed the guard but its plan reads outside the workspace's tables");
    Err(QueryError::from(refuse(
        Code::TableNotAllowed,
        format!(
            "the statement reads relations outside the workspace's tables: {}",
            outside.join(", ")
        ),
    )))
}

/// An error planning the statement. A workspace table it names that does not exist
/// was dropped since the names were read (perhaps on another replica): that is the
/// guard's refusal, on which the caller reads the names again.
fn planning_error(error: tokio_postgres::Error, checked: &Checked) -> QueryError {
    let gone = error.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::UNDEFINED_TABLE
            && checked
                .physical
                .iter()
                .any(|name| db.message().contains(name.as_str()))
    });
    if gone {
        return refuse(
            Code::TableNotAllowed,
            "a table the statement names no longer exists",
        )
        .into();
    }
    error.into()
}

fn scanned_outside(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(relation)) = map.get("Relation Name") {
                let schema = map.get("Schema").and_then(Value::as_str).unwrap_or("");
                if schema != TABLES_SCHEMA {
                    out.push(format!("{}.{}", quote_ident(schema), quote_ident(relation)));
                }
            }
            for value in map.values() {
                scanned_outside(value, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| scanned_outside(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_numbers_are_wrapped_as_text() {
        let sql = wrap(
            "SELECT 1",
            &[("a".into(), Type::INT8), ("b".into(), Type::INT4)],
        );
        assert_eq!(
            sql,
            "WITH r(c1, c2) AS (SELECT 1) SELECT to_json(ARRAY[to_jsonb(r.c1::text), to_jsonb(r.c2)]::jsonb[])::text FROM r LIMIT 10001"
        );
    }
}
