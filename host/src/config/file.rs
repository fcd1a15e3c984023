//! The TOML configuration file: every field optional, unknown keys refused.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ConfigError;

/// The configuration file as written by the operator (`plinth serve --config plinth.toml`).
///
/// Each field mirrors a `PLINTH_*` variable and a flag of `plinth serve`; those win
/// over the file. See `plinth serve --help` for the meaning of each.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `PLINTH_LISTEN`.
    pub listen: Option<String>,
    /// `PLINTH_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `PLINTH_PLUGIN_CACHE_DIR`.
    pub plugin_cache_dir: Option<PathBuf>,
    /// `PLINTH_DATABASE_URL`.
    pub database_url: Option<String>,
    /// `PLINTH_ADMIN_TOKEN`.
    pub admin_token: Option<String>,
    /// `PLINTH_SECRET_KEY_FILE`.
    pub secret_key_file: Option<PathBuf>,
    /// `PLINTH_POOLER_ADDR`.
    pub pooler_addr: Option<String>,
    /// `PLINTH_PUBLIC_HOST`.
    pub public_host: Option<String>,
    /// `PLINTH_CLICKHOUSE_URL`.
    pub clickhouse_url: Option<String>,
    /// `PLINTH_LOG_FORMAT`: `human` or `json`.
    pub log_format: Option<String>,
    /// `PLINTH_IDEMPOTENCY_TTL_SECS`.
    pub idempotency_ttl_secs: Option<u64>,
    /// `PLINTH_WORKERS`.
    pub workers: Option<usize>,
    /// Bearer JWT verification.
    #[serde(default)]
    pub jwt: JwtSection,
    /// HTTPS.
    #[serde(default)]
    pub tls: TlsSection,
    /// HTTP limits and timeouts.
    #[serde(default)]
    pub http: HttpSection,
    /// Workspace connection pools.
    #[serde(default)]
    pub pools: PoolSection,
    /// Plugin sandbox limits.
    #[serde(default)]
    pub plugins: PluginsSection,
    /// Bounds of each workspace's login roles in PostgreSQL.
    #[serde(default)]
    pub tenants: TenantsSection,
}

/// `[tenants]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantsSection {
    /// `PLINTH_TENANT_CONNECTION_LIMIT`.
    pub connection_limit: Option<u32>,
    /// `PLINTH_TENANT_STATEMENT_TIMEOUT_MS`.
    pub statement_timeout_ms: Option<u64>,
    /// `PLINTH_TENANT_IDLE_IN_TRANSACTION_MS`.
    pub idle_in_transaction_ms: Option<u64>,
    /// `PLINTH_TENANT_TEMP_FILE_LIMIT_KB`.
    pub temp_file_limit_kb: Option<u64>,
}

/// `[jwt]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSection {
    /// `PLINTH_JWT_SECRET`.
    pub secret: Option<String>,
    /// `PLINTH_JWT_PUBLIC_KEYS`.
    pub public_keys: Option<PathBuf>,
    /// `PLINTH_JWT_WORKSPACE_CLAIM`.
    pub workspace_claim: Option<String>,
    /// `PLINTH_JWT_AUDIENCE`.
    pub audience: Option<String>,
    /// `PLINTH_JWT_ISSUER`.
    pub issuer: Option<String>,
}

/// `[tls]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// `PLINTH_TLS_CERT`.
    pub cert: Option<PathBuf>,
    /// `PLINTH_TLS_KEY`.
    pub key: Option<PathBuf>,
}

/// `[http]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// `PLINTH_MAX_BODY_BYTES`.
    pub max_body_bytes: Option<usize>,
    /// `PLINTH_HEADER_TIMEOUT_SECS`.
    pub header_timeout_secs: Option<u64>,
    /// `PLINTH_REQUEST_TIMEOUT_SECS`.
    pub request_timeout_secs: Option<u64>,
    /// `PLINTH_SHUTDOWN_GRACE_SECS`.
    pub shutdown_grace_secs: Option<u64>,
}

/// `[pools]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSection {
    /// `PLINTH_MAX_SERVER_CONNECTIONS`.
    pub max_server_connections: Option<usize>,
    /// `PLINTH_WORKSPACE_POOL_SIZE`.
    pub workspace_pool_size: Option<usize>,
    /// `PLINTH_POOL_IDLE_SECS`.
    pub idle_secs: Option<u64>,
    /// `PLINTH_POOL_CHECKOUT_TIMEOUT_MS`.
    pub checkout_timeout_ms: Option<u64>,
    /// `PLINTH_STATEMENT_TIMEOUT_MS`.
    pub statement_timeout_ms: Option<u64>,
}

/// `[plugins]`: one table per plugin kind (`filter`, `validation`, `authorizer`, `vault`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsSection {
    /// Limits of the filter-parser world.
    pub filter: Option<PluginLimitsSection>,
    /// Limits of the validation-policy world.
    pub validation: Option<PluginLimitsSection>,
    /// Limits of the row-authorizer world.
    pub authorizer: Option<PluginLimitsSection>,
    /// Limits of the vault engine-adapter worlds.
    pub vault: Option<PluginLimitsSection>,
}

/// Limits for one plugin kind.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginLimitsSection {
    /// Time the guest may run in one call, in milliseconds (time spent waiting is
    /// not counted; the call's wall-clock ceiling is 20 times this, at least 1 s).
    pub deadline_ms: Option<u64>,
    /// Linear-memory ceiling of one instance, in bytes.
    pub memory_bytes: Option<usize>,
    /// Instances of this kind that may run at once.
    pub max_instances: Option<u32>,
}

impl FileConfig {
    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::ParseFile {
            path: path.to_owned(),
            message: source.to_string(),
        })
    }
}
