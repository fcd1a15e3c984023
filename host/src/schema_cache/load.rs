//! Reading the schema cache from the live catalog, in one pipelined round trip.

use std::collections::HashMap;

use serde::Deserialize;

use super::types::{Column, ForeignKey, RelKind, Relation, SchemaCache, VersionSource};
use crate::names::TABLES_SCHEMA;

/// The schema version the cache is compared against.
pub const VERSION_QUERY: &str = "SELECT version FROM dl_meta.schema_state";

/// The version, whether the database has `dl_meta.schema_version()` yet (managed
/// schemas 2; a workspace upgraded in the background after start-up may not), and
/// the database's oid.
const LOAD_VERSION_QUERY: &str = "SELECT version, \
     to_regprocedure('dl_meta.schema_version()') IS NOT NULL, \
     (SELECT oid::int8 FROM pg_database WHERE datname = current_database()) \
     FROM dl_meta.schema_state";

const RELATIONS: &str = "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text,
    coalesce((SELECT json_agg(json_build_object(
                  'name', a.attname,
                  'sql_type', format_type(a.atttypid, a.atttypmod),
                  'cast_type', format_type(a.atttypid, NULL),
                  'nullable', NOT a.attnotnull,
                  'has_default', a.atthasdef OR a.attidentity <> '',
                  'generated', a.attgenerated <> '') ORDER BY a.attnum)
              FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]')::text,
    coalesce((SELECT json_agg(a.attname ORDER BY k.ord)
              FROM pg_constraint pk
              CROSS JOIN LATERAL unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE pk.conrelid = c.oid AND pk.contype = 'p'), '[]')::text,
    c.relkind IN ('r', 'p') AND NOT c.relrowsecurity AND NOT EXISTS (
        SELECT 1 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          AND t.typtype NOT IN ('b', 'e')),
    c.relkind = 'r' AND NOT c.relrowsecurity AND NOT c.relhassubclass
      AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
      AND EXISTS (
        SELECT 1 FROM pg_trigger t
        WHERE t.tgrelid = c.oid
          AND t.tgfoid = to_regprocedure('dl_meta.note_table_change()')
          AND t.tgtype = 60 AND t.tgenabled IN ('O', 'A')
          AND t.tgqual IS NULL AND cardinality(t.tgattr::int2[]) = 0)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('tenant_custom', 'workspace_tables', 'dl_resolved', 'dl_override')
  AND c.relkind IN ('r', 'v', 'm', 'p', 'f')";

const FOREIGN_KEYS: &str = "SELECT con.conname::text, con.conrelid::int8, con.confrelid::int8,
    (SELECT array_agg(a.attname::text ORDER BY k.ord)
       FROM unnest(con.conkey) WITH ORDINALITY AS k(n, ord)
       JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n),
    (SELECT array_agg(a.attname::text ORDER BY k.ord)
       FROM unnest(con.confkey) WITH ORDINALITY AS k(n, ord)
       JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'f'
  AND n.nspname IN ('tenant_custom', 'workspace_tables', 'dl_resolved', 'dl_override')";

#[derive(Deserialize)]
struct ColumnRow {
    name: String,
    sql_type: String,
    cast_type: String,
    nullable: bool,
    has_default: bool,
    generated: bool,
}

/// Loads a workspace's schema. `registry` maps physical names of Workspace Tables to
/// their table names; unregistered tables in `workspace_tables` are not exposed.
pub async fn load(
    client: &tokio_postgres::Client,
    registry: &HashMap<String, String>,
) -> Result<SchemaCache, tokio_postgres::Error> {
    let (version, relations, foreign_keys) = futures::try_join!(
        client.query_one(LOAD_VERSION_QUERY, &[]),
        client.query(RELATIONS, &[]),
        client.query(FOREIGN_KEYS, &[]),
    )?;
    let version_source = if version.get::<_, bool>(1) {
        VersionSource::Constant
    } else {
        VersionSource::Table
    };
    let database = version.get::<_, i64>(2) as u32;
    let version: i64 = version.get(0);
    let mut out = Vec::with_capacity(relations.len());
    for row in &relations {
        let schema: String = row.get(1);
        let name: String = row.get(2);
        let kind: String = row.get(3);
        let exposed = match schema.as_str() {
            TABLES_SCHEMA => match registry.get(&name) {
                Some(table_name) => table_name.clone(),
                None => continue,
            },
            "tenant_custom" => name.clone(),
            _ => format!("{schema}.{name}"),
        };
        let columns: Vec<ColumnRow> =
            serde_json::from_str(row.get::<_, &str>(4)).unwrap_or_default();
        let primary_key: Vec<String> =
            serde_json::from_str(row.get::<_, &str>(5)).unwrap_or_default();
        out.push(Relation {
            oid: row.get::<_, i64>(0) as u32,
            read_only: schema == "dl_resolved",
            schema,
            name,
            exposed,
            kind: if kind == "r" || kind == "p" || kind == "f" {
                RelKind::Table
            } else {
                RelKind::View
            },
            columns: columns
                .into_iter()
                .map(|c| Column {
                    name: c.name.into(),
                    sql_type: c.sql_type,
                    cast_type: c.cast_type.into(),
                    nullable: c.nullable,
                    has_default: c.has_default,
                    generated: c.generated,
                })
                .collect(),
            primary_key,
            context_free: row.get(6),
            changes_tracked: row.get(7),
        });
    }
    let foreign_keys = foreign_keys
        .iter()
        .map(|row| ForeignKey {
            name: row.get(0),
            from: row.get::<_, i64>(1) as u32,
            to: row.get::<_, i64>(2) as u32,
            from_columns: row.get::<_, Option<Vec<String>>>(3).unwrap_or_default(),
            to_columns: row.get::<_, Option<Vec<String>>>(4).unwrap_or_default(),
        })
        .collect();
    Ok(SchemaCache::new(
        version,
        version_source,
        database,
        out,
        foreign_keys,
    ))
}
