//! `POST /api/v2/ingestion/records/{people|companies}`: base records as NDJSON (one
//! object per line with `identity_key`, `status`, `identity_payload`, `raw_payload`),
//! streamed — never the whole body in memory — into a staging table with binary COPY,
//! then upserted into `dl_cache` by identity key. All or nothing: a bad line rolls
//! everything back and names the line.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

use super::credential_workspace;
use crate::api::AppState;
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult, Code};
use crate::sql;
use crate::tenant::{PoolKind, TenantError};

/// Longest accepted line, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Longest identity key, in characters.
pub const MAX_IDENTITY_KEY_CHARS: usize = 512;

/// One line of the body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BaseRecord {
    identity_key: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    identity_payload: Option<Value>,
    #[serde(default)]
    raw_payload: Option<Value>,
}

fn table(kind: &str) -> Result<&'static str, ApiError> {
    match kind {
        "people" => Ok("person_enrichments"),
        "companies" => Ok("company_enrichments"),
        other => Err(ApiError::not_found(format!(
            "no record kind `{other}`; use `people` or `companies`"
        ))),
    }
}

fn line_error(line: u64, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        Code::InvalidRecord,
        format!("line {line}: {message}; nothing was loaded"),
    )
    .with_details(json!({ "line": line }))
}

fn object_or_empty(value: Option<Value>, field: &str, line: u64) -> Result<Value, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(json!({})),
        Some(Value::Object(map)) => Ok(Value::Object(map)),
        Some(_) => Err(line_error(line, format!("`{field}` must be a JSON object"))),
    }
}

fn parse_line(bytes: &[u8], line: u64) -> Result<(String, String, Value, Value), ApiError> {
    let record: BaseRecord = serde_json::from_slice(bytes).map_err(|e| line_error(line, e))?;
    let key = record.identity_key.trim().to_owned();
    if key.is_empty() || key.chars().count() > MAX_IDENTITY_KEY_CHARS {
        return Err(line_error(
            line,
            format!("`identity_key` must be 1 to {MAX_IDENTITY_KEY_CHARS} characters"),
        ));
    }
    let status = record.status.unwrap_or_else(|| "active".into());
    Ok((
        key,
        status,
        object_or_empty(record.identity_payload, "identity_payload", line)?,
        object_or_empty(record.raw_payload, "raw_payload", line)?,
    ))
}

/// Loads NDJSON base records.
pub(in crate::api) async fn load(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(kind): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let workspace_id = credential_workspace(&principal, &headers, Scope::IngestionAdmin)?;
    let table = table(&kind)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(
        essence,
        "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
    ) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send one JSON object per line with Content-Type: application/x-ndjson",
        ));
    }
    let workspace = state.tenancy.ready_workspace(workspace_id).await?;
    let started = Instant::now();
    let pool = state.tenancy.pool(&workspace, PoolKind::Admin).await?;
    let mut client = pool.get().await.map_err(TenantError::from)?;
    let tx = client.transaction().await.map_err(ApiError::from_db)?;
    tx.batch_execute(sql::records::CREATE_STAGING)
        .await
        .map_err(ApiError::from_db)?;
    let sink = tx
        .copy_in(sql::records::COPY_STAGING)
        .await
        .map_err(ApiError::from_db)?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[Type::TEXT, Type::TEXT, Type::JSONB, Type::JSONB, Type::INT8],
    );
    futures::pin_mut!(writer);

    let mut stream = body.into_data_stream();
    let mut pending: Vec<u8> = Vec::new();
    let mut line: u64 = 0;
    let mut received: i64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        pending.extend_from_slice(&chunk);
        let mut consumed = 0;
        while let Some(offset) = pending[consumed..].iter().position(|b| *b == b'\n') {
            line += 1;
            let raw = &pending[consumed..consumed + offset];
            consumed += offset + 1;
            write_line(writer.as_mut(), raw, line, &mut received).await?;
        }
        pending.drain(..consumed);
        if pending.len() > MAX_LINE_BYTES {
            return Err(line_error(
                line + 1,
                format!("the line is longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
    }
    if !pending.is_empty() {
        write_line(writer.as_mut(), &pending, line + 1, &mut received).await?;
    }
    writer.finish().await.map_err(ApiError::from_db)?;
    let upserted = tx
        .execute(&sql::records::upsert_from_staging(table), &[])
        .await
        .map_err(ApiError::from_db)?;
    tx.commit().await.map_err(ApiError::from_db)?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(%workspace_id, kind, received, upserted, seconds, "base records loaded");
    Ok(Json(json!({
        "kind": kind,
        "received": received,
        "upserted": upserted,
        "seconds": seconds,
        "rows_per_second": if seconds > 0.0 { received as f64 / seconds } else { 0.0 },
    })))
}

/// Parses one line and copies it into staging; blank lines are skipped.
async fn write_line(
    writer: std::pin::Pin<&mut BinaryCopyInWriter>,
    raw: &[u8],
    line: u64,
    received: &mut i64,
) -> Result<(), ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let (key, status, identity, raw_payload) = parse_line(raw, line)?;
    *received += 1;
    writer
        .write(&[&key, &status, &identity, &raw_payload, &*received])
        .await
        .map_err(ApiError::from_db)
}
