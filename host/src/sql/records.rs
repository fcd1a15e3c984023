//! Statements of the base-record load: a staging table filled by binary COPY, then
//! one upsert into `dl_cache` keeping the last line of each identity key.

/// The session's staging table, dropped at commit.
pub const CREATE_STAGING: &str = "CREATE TEMP TABLE plinth_staging (
        identity_key     text NOT NULL,
        status           text NOT NULL,
        identity_payload jsonb NOT NULL,
        raw_payload      jsonb NOT NULL,
        seq              bigint NOT NULL
    ) ON COMMIT DROP";

/// The COPY that fills it (binary format: values never need escaping).
pub const COPY_STAGING: &str = "COPY pg_temp.plinth_staging
    (identity_key, status, identity_payload, raw_payload, seq) FROM STDIN (FORMAT binary)";

/// The upsert from staging into `dl_cache.<table>`; `table` is one of the two
/// enrichment tables, never client text.
pub fn upsert_from_staging(table: &'static str) -> String {
    format!(
        "INSERT INTO dl_cache.{table} AS t (identity_key, status, identity_payload, raw_payload, updated_at)
         SELECT DISTINCT ON (identity_key) identity_key, status, identity_payload, raw_payload, now()
         FROM pg_temp.plinth_staging
         ORDER BY identity_key, seq DESC
         ON CONFLICT (identity_key) DO UPDATE
         SET status = EXCLUDED.status,
             identity_payload = EXCLUDED.identity_payload,
             raw_payload = EXCLUDED.raw_payload,
             updated_at = EXCLUDED.updated_at"
    )
}
