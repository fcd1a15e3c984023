//! Resolving the layers: flags (with their `PLINTH_*` variables) over the file over
//! defaults, each value checked once.

use std::path::PathBuf;
use std::time::Duration;

use super::{
    invalid, ConfigError, FileConfig, HttpSettings, JwtSettings, LogFormat, PluginLimits,
    PluginLimitsSection, PluginSettings, PoolSettings, Settings, TenantLimits, TlsSettings,
    DEFAULT_DATA_DIR, DEFAULT_LISTEN,
};
use crate::cli::ServeArgs;

impl Settings {
    /// Resolves flags (with their environment variables) over the config file over defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Self::from_layers(args, file)
    }

    pub(super) fn from_layers(args: &ServeArgs, file: FileConfig) -> Result<Self, ConfigError> {
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
pub(super) const MAX_WORKERS: usize = 1024;

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
