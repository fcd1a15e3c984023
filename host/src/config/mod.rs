//! Settings: flags over `PLINTH_*` variables over the TOML file over defaults,
//! validated once at start-up into an immutable [`Settings`] snapshot.

mod file;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use file::{FileConfig, PluginLimitsSection};

use crate::cli::ServeArgs;

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

impl Settings {
    /// Resolves flags (with their environment variables) over the config file over defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Self::from_layers(args, file)
    }

    fn from_layers(args: &ServeArgs, file: FileConfig) -> Result<Self, ConfigError> {
        let listen_text = pick(args.listen.clone(), file.listen, DEFAULT_LISTEN.to_owned());
        let listen = listen_text
            .parse()
            .map_err(|_| invalid("PLINTH_LISTEN", format!("`{listen_text}` is not host:port")))?;
        let data_dir = pick(
            args.data_dir.clone(),
            file.data_dir,
            PathBuf::from(DEFAULT_DATA_DIR),
        );
        let plugin_cache_dir = args
            .plugin_cache_dir
            .clone()
            .or(file.plugin_cache_dir)
            .unwrap_or_else(|| data_dir.join("plugins"));
        let database_url = non_empty(args.database_url.clone().or(file.database_url));
        let admin_token = non_empty(args.admin_token.clone().or(file.admin_token));
        if let Some(token) = &admin_token {
            if token.len() < 16 {
                return Err(invalid(
                    "PLINTH_ADMIN_TOKEN",
                    "must be at least 16 characters",
                ));
            }
        }
        let jwt = JwtSettings {
            secret: non_empty(args.jwt_secret.clone().or(file.jwt.secret)),
            public_keys: args.jwt_public_keys.clone().or(file.jwt.public_keys),
            workspace_claim: pick(
                args.jwt_workspace_claim.clone(),
                file.jwt.workspace_claim,
                "workspace_id".to_owned(),
            ),
            audience: args.jwt_audience.clone().or(file.jwt.audience),
            issuer: args.jwt_issuer.clone().or(file.jwt.issuer),
        };
        let tls = match (
            args.tls_cert.clone().or(file.tls.cert),
            args.tls_key.clone().or(file.tls.key),
        ) {
            (Some(cert), Some(key)) => Some(TlsSettings { cert, key }),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "PLINTH_TLS_CERT",
                    "a certificate and a key must be given together",
                ))
            }
        };
        let log_format =
            match pick(args.log_format.clone(), file.log_format, "human".into()).as_str() {
                "human" => LogFormat::Human,
                "json" => LogFormat::Json,
                other => {
                    return Err(invalid(
                        "PLINTH_LOG_FORMAT",
                        format!("`{other}` is neither `human` nor `json`"),
                    ))
                }
            };
        let http = HttpSettings {
            max_body_bytes: pick(args.max_body_bytes, file.http.max_body_bytes, 10 << 20),
            header_timeout: secs(pick(
                args.header_timeout_secs,
                file.http.header_timeout_secs,
                30,
            )),
            request_timeout: secs(pick(
                args.request_timeout_secs,
                file.http.request_timeout_secs,
                60,
            )),
            shutdown_grace: secs(pick(
                args.shutdown_grace_secs,
                file.http.shutdown_grace_secs,
                20,
            )),
        };
        if http.max_body_bytes < 1024 {
            return Err(invalid("PLINTH_MAX_BODY_BYTES", "must be at least 1024"));
        }
        let workers = pick(
            args.workers,
            file.workers,
            default_workers(database_url.is_none()),
        );
        if !(1..=MAX_WORKERS).contains(&workers) {
            return Err(invalid(
                "PLINTH_WORKERS",
                format!("must be between 1 and {MAX_WORKERS}"),
            ));
        }
        let pools = PoolSettings {
            max_server_connections: pick(
                args.max_server_connections,
                file.pools.max_server_connections,
                64,
            ),
            workspace_pool_size: pick(args.workspace_pool_size, file.pools.workspace_pool_size, 16),
            idle: secs(pick(args.pool_idle_secs, file.pools.idle_secs, 300)),
            checkout_timeout: Duration::from_millis(pick(
                args.pool_checkout_timeout_ms,
                file.pools.checkout_timeout_ms,
                5000,
            )),
            statement_timeout_ms: pick(
                args.statement_timeout_ms,
                file.pools.statement_timeout_ms,
                30_000,
            ),
        };
        if pools.max_server_connections < 4 {
            return Err(invalid(
                "PLINTH_MAX_SERVER_CONNECTIONS",
                "must be at least 4",
            ));
        }
        if pools.workspace_pool_size == 0
            || pools.workspace_pool_size > pools.max_server_connections
        {
            return Err(invalid(
                "PLINTH_WORKSPACE_POOL_SIZE",
                "must be between 1 and PLINTH_MAX_SERVER_CONNECTIONS",
            ));
        }
        let defaults = TenantLimits::default();
        let tenants = TenantLimits {
            connection_limit: pick(
                args.tenant_connection_limit,
                file.tenants.connection_limit,
                defaults.connection_limit,
            ),
            statement_timeout_ms: pick(
                args.tenant_statement_timeout_ms,
                file.tenants.statement_timeout_ms,
                defaults.statement_timeout_ms,
            ),
            idle_in_transaction_ms: pick(
                args.tenant_idle_in_transaction_ms,
                file.tenants.idle_in_transaction_ms,
                defaults.idle_in_transaction_ms,
            ),
            temp_file_limit_kb: pick(
                args.tenant_temp_file_limit_kb,
                file.tenants.temp_file_limit_kb,
                defaults.temp_file_limit_kb,
            ),
        };
        if tenants.connection_limit == 0 || tenants.statement_timeout_ms == 0 {
            return Err(invalid(
                "PLINTH_TENANT_CONNECTION_LIMIT",
                "tenant limits must be positive",
            ));
        }
        let plugins = PluginSettings {
            filter: plugin_limits(file.plugins.filter, 50, 16 << 20, 64)?,
            // A fresh instance compiles the schema on its first call (~20 ms idle); a
            // wall-clock deadline must leave room for a loaded machine.
            validation: plugin_limits(file.plugins.validation, 1000, 64 << 20, 32)?,
            authorizer: plugin_limits(file.plugins.authorizer, 50, 16 << 20, 64)?,
            vault: plugin_limits(file.plugins.vault, 30_000, 64 << 20, 32)?,
        };
        Ok(Self {
            listen,
            data_dir,
            plugin_cache_dir,
            database_url,
            admin_token,
            secret_key_file: args.secret_key_file.clone().or(file.secret_key_file),
            jwt,
            tls,
            pooler_addr: non_empty(args.pooler_addr.clone().or(file.pooler_addr)),
            public_host: non_empty(args.public_host.clone().or(file.public_host)),
            clickhouse_url: non_empty(args.clickhouse_url.clone().or(file.clickhouse_url)),
            log_format,
            http,
            pools,
            tenants,
            plugins,
            idempotency_ttl: secs(pick(
                args.idempotency_ttl_secs,
                file.idempotency_ttl_secs,
                86_400,
            )),
            workers,
        })
    }
}

/// The most worker threads accepted.
const MAX_WORKERS: usize = 1024;

/// Worker threads when none are configured: every available core for an external
/// cluster; half of them (at least one) for the embedded one, whose backends run on
/// the same cores and spend about as much CPU per request as the host. More workers
/// than that only contend with PostgreSQL: on two cores, one worker served
/// primary-key reads as fast as two with less CPU per request and half the p99
/// (bench/RESULTS.md).
pub fn default_workers(embedded: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if embedded {
        (cores / 2).max(1)
    } else {
        cores
    }
}

fn plugin_limits(
    section: Option<PluginLimitsSection>,
    deadline_ms: u64,
    memory_bytes: usize,
    max_instances: u32,
) -> Result<PluginLimits, ConfigError> {
    let section = section.unwrap_or_default();
    let limits = PluginLimits {
        deadline: Duration::from_millis(section.deadline_ms.unwrap_or(deadline_ms)),
        memory_bytes: section.memory_bytes.unwrap_or(memory_bytes),
        max_instances: section.max_instances.unwrap_or(max_instances),
    };
    if limits.deadline.is_zero() || limits.memory_bytes < (1 << 20) || limits.max_instances == 0 {
        return Err(invalid(
            "plugins",
            "deadline_ms must be > 0, memory_bytes >= 1 MiB and max_instances > 0",
        ));
    }
    Ok(limits)
}

fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_bootstrapping_contract() {
        let settings = Settings::from_layers(&ServeArgs::default(), FileConfig::default()).unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.data_dir, PathBuf::from(".plinth"));
        assert_eq!(settings.jwt.workspace_claim, "workspace_id");
        assert!(settings.database_url.is_none());
    }

    #[test]
    fn flags_win_over_the_file() {
        let file: FileConfig =
            toml::from_str("listen = \"127.0.0.1:9000\"\n[http]\nmax_body_bytes = 2048").unwrap();
        let args = ServeArgs {
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        let settings = Settings::from_layers(&args, file).unwrap();
        assert_eq!(settings.listen.port(), 0);
        assert_eq!(settings.http.max_body_bytes, 2048);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let err = toml::from_str::<FileConfig>("lisen = \"x\"").unwrap_err();
        assert!(err.to_string().contains("unknown field"));
    }

    #[test]
    fn workers_default_by_where_the_database_runs_and_are_bounded() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let embedded = Settings::from_layers(&ServeArgs::default(), FileConfig::default()).unwrap();
        assert_eq!(embedded.workers, (cores / 2).max(1));
        let external = ServeArgs {
            database_url: Some("postgresql://db.internal/postgres".into()),
            ..Default::default()
        };
        let external = Settings::from_layers(&external, FileConfig::default()).unwrap();
        assert_eq!(external.workers, cores);
        let file: FileConfig = toml::from_str("workers = 3").unwrap();
        let from_file = Settings::from_layers(&ServeArgs::default(), file).unwrap();
        assert_eq!(from_file.workers, 3);
        for refused in [0, MAX_WORKERS + 1] {
            let args = ServeArgs {
                workers: Some(refused),
                ..Default::default()
            };
            let err = Settings::from_layers(&args, FileConfig::default()).unwrap_err();
            assert!(err.to_string().contains("PLINTH_WORKERS"), "{err}");
        }
    }

    #[test]
    fn half_a_tls_pair_is_refused() {
        let args = ServeArgs {
            tls_cert: Some("cert.pem".into()),
            ..Default::default()
        };
        let err = Settings::from_layers(&args, FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains("together"));
    }
}
