//! Settings: flags over `PLINTH_*` variables over the TOML file over defaults,
//! validated once at start-up into an immutable [`Settings`] snapshot.

mod file;
mod resolve;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use file::{FileConfig, PluginLimitsSection};
pub use resolve::default_workers;

/// Default listen address of the bootstrapping contract.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = ".plinth";

/// A configuration problem found before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for Plinth.
    #[error("invalid config file {path}: {message}")]
    ParseFile {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// One setting has a bad value.
    #[error("invalid setting {name}: {message}")]
    Invalid {
        /// The setting, as its variable name.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn invalid(name: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        message: message.into(),
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// Bearer JWT verification settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// HS256 shared secret.
    pub secret: Option<String>,
    /// PEM or JWKS file of RS256/ES256 public keys.
    pub public_keys: Option<PathBuf>,
    /// The claim naming the workspace.
    pub workspace_claim: String,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
}

/// HTTPS certificate and key.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// HTTP limits.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest JSON request body.
    pub max_body_bytes: usize,
    /// Time to receive request headers (and the idle keep-alive limit).
    pub header_timeout: Duration,
    /// Longest a request may run.
    pub request_timeout: Duration,
    /// Bounded wait for in-flight requests at shutdown.
    pub shutdown_grace: Duration,
}

/// Workspace pool limits.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Ceiling on server connections across all pools.
    pub max_server_connections: usize,
    /// Connections per workspace pool.
    pub workspace_pool_size: usize,
    /// Idle time after which pools and connections close.
    pub idle: Duration,
    /// Wait for a pooled connection.
    pub checkout_timeout: Duration,
    /// `statement_timeout` of tenant statements, in milliseconds.
    pub statement_timeout_ms: u64,
}

/// Bounds on each workspace's login roles, set in PostgreSQL itself so that they
/// hold for customer connections Plinth never sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantLimits {
    /// `CONNECTION LIMIT` of each customer login role (read, runtime).
    pub connection_limit: u32,
    /// `statement_timeout` of every login role, in milliseconds.
    pub statement_timeout_ms: u64,
    /// `idle_in_transaction_session_timeout` of every login role, in milliseconds.
    pub idle_in_transaction_ms: u64,
    /// `temp_file_limit` of every login role, in kB (set by a superuser only).
    pub temp_file_limit_kb: u64,
}

impl Default for TenantLimits {
    fn default() -> Self {
        Self {
            connection_limit: 20,
            statement_timeout_ms: 60_000,
            idle_in_transaction_ms: 60_000,
            temp_file_limit_kb: 1 << 20,
        }
    }
}

/// Sandbox limits of one plugin kind.
#[derive(Debug, Clone, Copy)]
pub struct PluginLimits {
    /// Time the guest may run in one call; time it spends waiting (for a worker
    /// thread, or on its engine) is not counted, and a wall-clock ceiling of
    /// [`crate::plugins::clock::WALL_CEILING_FACTOR`] times this (at least 1 s)
    /// bounds the call as a whole.
    pub deadline: Duration,
    /// Linear-memory ceiling of one instance.
    pub memory_bytes: usize,
    /// Instances of this kind that may run at once.
    pub max_instances: u32,
}

/// Limits per plugin kind.
#[derive(Debug, Clone)]
pub struct PluginSettings {
    /// Filter parser.
    pub filter: PluginLimits,
    /// Validation policy.
    pub validation: PluginLimits,
    /// Row authorizer.
    pub authorizer: PluginLimits,
    /// Vault engine adapters.
    pub vault: PluginLimits,
}

impl PluginSettings {
    /// The same `limits` for every plugin kind (benchmarks and tests).
    pub fn uniform(limits: PluginLimits) -> Self {
        Self {
            filter: limits,
            validation: limits,
            authorizer: limits,
            vault: limits,
        }
    }
}

/// The validated settings of one `plinth serve` process; never mutated after start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Compiled plugin artifacts (by default `plugins/` in the data directory).
    pub plugin_cache_dir: PathBuf,
    /// External cluster; `None` runs the embedded PostgreSQL.
    pub database_url: Option<String>,
    /// Admin token given by the operator (else generated).
    pub admin_token: Option<String>,
    /// File with the password-encryption key (else generated in the data dir).
    pub secret_key_file: Option<PathBuf>,
    /// JWT verification.
    pub jwt: JwtSettings,
    /// HTTPS.
    pub tls: Option<TlsSettings>,
    /// External PgBouncer.
    pub pooler_addr: Option<String>,
    /// Host name in revealed URIs.
    pub public_host: Option<String>,
    /// ClickHouse HTTP endpoint.
    pub clickhouse_url: Option<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// HTTP limits.
    pub http: HttpSettings,
    /// Pool limits.
    pub pools: PoolSettings,
    /// Bounds on each workspace's login roles.
    pub tenants: TenantLimits,
    /// Plugin limits.
    pub plugins: PluginSettings,
    /// How long idempotency records are kept.
    pub idempotency_ttl: Duration,
    /// Threads of the async runtime that serve requests (see [`default_workers`]).
    pub workers: usize,
}
