//! The vault scenarios' setup: a `postgres` collection of 10,000 documents created
//! through the API, and the SQL the postgres adapter runs, for the ceiling.

use std::path::Path;

use anyhow::{bail, Context};
use serde_json::json;

/// Documents loaded into the collection.
pub const DOCUMENTS: usize = 10_000;

/// The superuser's URI of the workspace database: the runtime URI's host, port and
/// database with the embedded cluster's superuser password from the data dir.
pub fn superuser_uri(runtime_uri: &str, data_dir: &Path) -> anyhow::Result<String> {
    let password = std::fs::read_to_string(data_dir.join("postgres-password"))
        .context("reading the embedded superuser password")?;
    let after_at = runtime_uri
        .rsplit_once('@')
        .map(|(_, rest)| rest)
        .context("a runtime URI with credentials")?;
    Ok(format!(
        "postgresql://postgres:{}@{after_at}",
        password.trim()
    ))
}

/// Creates the collection, loads the documents through the API, and returns the
/// collection's storage table name.
pub async fn load(base: &str, key: &str, ws: &str, superuser_uri: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::new();
    let collections = format!("{base}/v1/workspaces/{ws}/vault/collections");
    let response = http
        .post(&collections)
        .bearer_auth(key)
        .json(&json!({"schema": {"name": "items", "engine": "postgres", "json_schema": {
            "type": "object", "required": ["name", "category", "price"], "x-indexed": ["category"],
            "properties": {"name": {"type": "string"}, "category": {"type": "string"}, "price": {"type": "number"}}
        }}}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!(
            "creating the collection: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (http, url, key) = (http.clone(), format!("{collections}/items"), key.to_owned());
        tasks.push(tokio::spawn(async move {
            for i in (worker..DOCUMENTS).step_by(16) {
                let record = json!({"record": {
                    "name": format!("item {i}"),
                    "category": format!("cat{}", i % 50),
                    "price": ((i * 7919) % 10000) as f64 / 100.0,
                }});
                let response = http
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&record)
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!(
                        "loading a document: {}",
                        response.text().await.unwrap_or_default()
                    );
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let (client, connection) =
        tokio_postgres::connect(superuser_uri, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client.batch_execute("ANALYZE").await?;
    let row = client
        .query_one(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'vault'",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// What the adapter runs for `{"filter":{"category":"cat7"},"sort":["-price"],"limit":20}`:
/// the total and the page in one statement, in one transaction.
pub fn query_sql(table: &str) -> String {
    let filter = r#"(doc #> '{"category"}'::text[]) = '"cat7"'::jsonb"#;
    let order = r#"(doc #> '{"price"}'::text[]) DESC NULLS LAST, created_at, id"#;
    format!(
        "BEGIN;\n\
         SELECT j FROM (\
         SELECT 0::bigint AS k, to_jsonb(count(*)) AS j FROM \"vault\".\"{table}\" WHERE {filter} \
         UNION ALL \
         SELECT row_number() OVER (ORDER BY {order}), doc || jsonb_build_object('_id', id) \
         FROM (SELECT id, doc, created_at FROM \"vault\".\"{table}\" WHERE {filter} \
         ORDER BY {order} LIMIT 20 OFFSET 0) page\
         ) r ORDER BY k;\n\
         COMMIT;\n"
    )
}

/// What the adapter runs for one insert.
pub fn insert_sql(table: &str) -> String {
    format!(
        "BEGIN;\n\
         INSERT INTO \"vault\".\"{table}\" (id, doc) VALUES (gen_random_uuid()::text, \
         '{{\"name\": \"new item\", \"category\": \"cat3\", \"price\": 12.5}}'::jsonb) \
         RETURNING doc || jsonb_build_object('_id', id);\n\
         COMMIT;\n"
    )
}
