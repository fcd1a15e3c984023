//! The live schema of a Workspace Table, read from the catalog on every request so
//! that it is always the current state, DDL made outside Plinth included.

use serde::Serialize;

use crate::names::TABLES_SCHEMA;

use super::validate::ColumnType;

/// A column as the catalog reports it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveColumn {
    /// Name.
    pub name: String,
    /// Storage-reported type (`integer`, `timestamp with time zone`, ...).
    pub data_type: String,
    /// Whether nulls are allowed.
    pub is_nullable: bool,
    /// Default expression text, or null.
    pub default: Option<String>,
}

/// An index or a constraint: its name and definition.
#[derive(Debug, Clone, Serialize)]
pub struct Definition {
    /// Name.
    pub name: String,
    /// Full definition (`CREATE INDEX ...`, `UNIQUE (a, b)`).
    pub definition: String,
}

/// A table's live schema.
#[derive(Debug, Clone, Serialize)]
pub struct LiveSchema {
    /// Columns in order.
    pub columns: Vec<LiveColumn>,
    /// Indexes by name.
    pub indexes: Vec<Definition>,
    /// Constraints by name.
    pub constraints: Vec<Definition>,
}

const COLUMNS: &str = "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),
       NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum";

const INDEXES: &str = "SELECT ic.relname::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2
ORDER BY ic.relname";

const CONSTRAINTS: &str = "SELECT con.conname::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2
ORDER BY con.conname";

/// Reads a table's live schema; `None` when the physical table is gone.
pub async fn live_schema(
    client: &impl deadpool_postgres::GenericClient,
    physical: &str,
) -> Result<Option<LiveSchema>, tokio_postgres::Error> {
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&TABLES_SCHEMA, &physical];
    let (columns, indexes, constraints) = futures::try_join!(
        client.query(COLUMNS, &params),
        client.query(INDEXES, &params),
        client.query(CONSTRAINTS, &params),
    )?;
    if columns.is_empty() {
        let exists = client
            .query_opt(
                "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relname = $2",
                &params,
            )
            .await?;
        if exists.is_none() {
            return Ok(None);
        }
    }
    let definitions = |rows: Vec<tokio_postgres::Row>| {
        rows.iter()
            .map(|r| Definition {
                name: r.get(0),
                definition: r.get(1),
            })
            .collect()
    };
    Ok(Some(LiveSchema {
        columns: columns
            .iter()
            .map(|r| LiveColumn {
                name: r.get(0),
                data_type: r.get(1),
                is_nullable: r.get(2),
                default: r.get(3),
            })
            .collect(),
        indexes: definitions(indexes),
        constraints: definitions(constraints),
    }))
}

/// The managed type of a column now (it may have changed since creation); `Err`
/// with the storage type when Workspace Tables does not manage it, `Ok(None)` when
/// there is no such column.
pub async fn column_type(
    client: &impl deadpool_postgres::GenericClient,
    physical: &str,
    column: &str,
) -> Result<Option<Result<ColumnType, String>>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            "SELECT format_type(a.atttypid, NULL)
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3
               AND a.attnum > 0 AND NOT a.attisdropped",
            &[&TABLES_SCHEMA, &physical, &column],
        )
        .await?;
    Ok(row.map(|row| {
        let storage: String = row.get(0);
        let managed = match storage.as_str() {
            "text" => ColumnType::Text,
            "integer" => ColumnType::Int,
            "bigint" => ColumnType::Bigint,
            "numeric" => ColumnType::Numeric,
            "boolean" => ColumnType::Boolean,
            "uuid" => ColumnType::Uuid,
            "timestamp with time zone" => ColumnType::Timestamptz,
            "date" => ColumnType::Date,
            "time without time zone" => ColumnType::Time,
            "jsonb" => ColumnType::Jsonb,
            "bytea" => ColumnType::Bytea,
            _ => return Err(storage),
        };
        Ok(managed)
    }))
}

/// Whether `index` is an index of this table.
pub async fn has_index(
    client: &impl deadpool_postgres::GenericClient,
    physical: &str,
    index: &str,
) -> Result<bool, tokio_postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM pg_index i
             JOIN pg_class ic ON ic.oid = i.indexrelid
             JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND ic.relname = $3",
            &[&TABLES_SCHEMA, &physical, &index],
        )
        .await?
        .is_some())
}
