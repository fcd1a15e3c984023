//! The scoped-query scenario's data: a Workspace Table `sales` created through the
//! Tables API and filled with 100,000 rows straight into its physical table.

use anyhow::{bail, Context};
use serde_json::json;

/// Rows in `sales`.
pub const SALES: i64 = 100_000;

/// The statement clients send to `POST /v1/{ws}/query`.
pub const QUERY: &str =
    "SELECT id, region, amount FROM sales WHERE region = 'r7' ORDER BY amount DESC LIMIT 20";

/// Creates `sales`, loads it as the superuser, and returns its physical name.
pub async fn load(base: &str, key: &str, ws: &str, superuser_uri: &str) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/{ws}/tables"))
        .bearer_auth(key)
        .json(&json!({
            "table_name": "sales",
            "columns": [
                {"name": "id", "type": "bigint", "nullable": false},
                {"name": "region", "type": "text", "nullable": false},
                {"name": "amount", "type": "numeric", "nullable": false},
                {"name": "sold_at", "type": "timestamptz", "default": {"kind": "now"}}
            ],
            "primary_key": ["id"],
            "indexes": [{"columns": ["region"]}]
        }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!(
            "creating the sales table: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let entry: serde_json::Value = response.json().await?;
    let physical = entry["physical_name"]
        .as_str()
        .context("the created table's physical_name")?
        .to_owned();
    let (client, connection) =
        tokio_postgres::connect(superuser_uri, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "INSERT INTO workspace_tables.\"{physical}\" (id, region, amount, sold_at) \
             SELECT i, 'r' || (i % 50), ((i * 7919) % 100000) / 100.0, \
                    timestamptz '2026-01-01' + i * interval '1 minute' \
             FROM generate_series(1::bigint, {SALES}) i; \
             ANALYZE workspace_tables.\"{physical}\";"
        ))
        .await
        .context("loading the sales rows")?;
    Ok(physical)
}

/// The same statement on the physical table, with its rows rendered as JSON by
/// PostgreSQL, for pgbench.
pub fn ceiling_sql(physical: &str) -> String {
    let rewritten = QUERY.replace(
        "FROM sales",
        &format!("FROM workspace_tables.\"{physical}\""),
    );
    format!("SELECT coalesce(json_agg(q)::text, '[]') FROM ({rewritten}) q;\n")
}
