//! The command line: `plinth serve` and the operator subcommands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Plinth: a PostgreSQL database per workspace, four APIs over it, extended by Wasm plugins.
#[derive(Debug, Parser)]
#[command(name = "plinth", version, about, long_about = None)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(Box<ServeArgs>),
    /// Manage workspaces through a running server's admin API.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Manage API keys through a running server's admin API.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// Settings of `plinth serve`. Each flag also reads a `PLINTH_*` variable and a key
/// of the config file; flags win over the environment, which wins over the file.
#[derive(Debug, Default, Args)]
#[command(
    after_help = "Secrets (admin token, JWT secret) are best given by environment variable or \
config file: flags are visible to other users in the process list."
)]
pub struct ServeArgs {
    /// TOML configuration file; every key mirrors a flag below.
    #[arg(long, env = "PLINTH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080].
    #[arg(long, env = "PLINTH_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the embedded PostgreSQL, the admin token and compiled plugins
    /// [default: ./.plinth].
    #[arg(long, env = "PLINTH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Directory of compiled plugin artifacts, which replicas and restarts may share
    /// [default: DATA_DIR/plugins].
    #[arg(long, env = "PLINTH_PLUGIN_CACHE_DIR")]
    pub plugin_cache_dir: Option<PathBuf>,
    /// An existing PostgreSQL cluster (a superuser, or a role with CREATEDB and
    /// CREATEROLE) instead of the embedded one.
    #[arg(long, env = "PLINTH_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The platform admin token; generated into DATA_DIR/admin-token when unset.
    #[arg(long, env = "PLINTH_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// File holding the 32-byte key (hex) that encrypts stored database passwords;
    /// generated into DATA_DIR/secret-key when unset.
    #[arg(long, env = "PLINTH_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// HS256 secret for bearer JWTs.
    #[arg(long, env = "PLINTH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM or JWKS file with the RS256/ES256 public keys for bearer JWTs.
    #[arg(long, env = "PLINTH_JWT_PUBLIC_KEYS")]
    pub jwt_public_keys: Option<PathBuf>,
    /// JWT claim that names the workspace [default: workspace_id].
    #[arg(long, env = "PLINTH_JWT_WORKSPACE_CLAIM")]
    pub jwt_workspace_claim: Option<String>,
    /// Required JWT audience (`aud`), if any.
    #[arg(long, env = "PLINTH_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Required JWT issuer (`iss`), if any.
    #[arg(long, env = "PLINTH_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(long, env = "PLINTH_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "PLINTH_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// `host:port` of an external PgBouncer (transaction mode) for pooled URIs; unset in
    /// embedded mode, Plinth runs its own PgBouncer when `pgbouncer` is installed.
    #[arg(long, env = "PLINTH_POOLER_ADDR")]
    pub pooler_addr: Option<String>,
    /// Host name put in revealed connection URIs [default: the database's host].
    #[arg(long, env = "PLINTH_PUBLIC_HOST")]
    pub public_host: Option<String>,
    /// ClickHouse HTTP endpoint for `clickhouse` vault collections.
    #[arg(long, env = "PLINTH_CLICKHOUSE_URL")]
    pub clickhouse_url: Option<String>,
    /// Log format: `human` or `json` [default: human].
    #[arg(long, env = "PLINTH_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Largest accepted JSON request body, in bytes [default: 10485760].
    #[arg(long, env = "PLINTH_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Time a client has to send request headers, also the idle keep-alive limit [default: 30].
    #[arg(long, env = "PLINTH_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// Longest a request may run before it is answered 504 [default: 60].
    #[arg(long, env = "PLINTH_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: Option<u64>,
    /// How long shutdown waits for in-flight requests [default: 20].
    #[arg(long, env = "PLINTH_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// Threads that serve requests [default: half the available cores with the
    /// embedded PostgreSQL, which runs on the same cores; all of them with
    /// --database-url].
    #[arg(long, env = "PLINTH_WORKERS")]
    pub workers: Option<usize>,
    /// Ceiling on the server connections Plinth opens to PostgreSQL, all workspaces
    /// together; the embedded PostgreSQL 16+ reserves as many slots (at most 200)
    /// that no tenant can take [default: 64].
    #[arg(long, env = "PLINTH_MAX_SERVER_CONNECTIONS")]
    pub max_server_connections: Option<usize>,
    /// Connections one workspace pool may hold [default: 16].
    #[arg(long, env = "PLINTH_WORKSPACE_POOL_SIZE")]
    pub workspace_pool_size: Option<usize>,
    /// Seconds after which an idle pool, or an idle connection, is closed [default: 300].
    #[arg(long, env = "PLINTH_POOL_IDLE_SECS")]
    pub pool_idle_secs: Option<u64>,
    /// How long a request waits for a pooled connection [default: 5000].
    #[arg(long, env = "PLINTH_POOL_CHECKOUT_TIMEOUT_MS")]
    pub pool_checkout_timeout_ms: Option<u64>,
    /// `statement_timeout` of tenant statements [default: 30000].
    #[arg(long, env = "PLINTH_STATEMENT_TIMEOUT_MS")]
    pub statement_timeout_ms: Option<u64>,
    /// Concurrent connections each customer login role of a workspace (read,
    /// runtime) may open to the cluster [default: 20].
    #[arg(long, env = "PLINTH_TENANT_CONNECTION_LIMIT")]
    pub tenant_connection_limit: Option<u32>,
    /// `statement_timeout` of every workspace login role, customer URIs
    /// included [default: 60000].
    #[arg(long, env = "PLINTH_TENANT_STATEMENT_TIMEOUT_MS")]
    pub tenant_statement_timeout_ms: Option<u64>,
    /// `idle_in_transaction_session_timeout` of every workspace login role
    /// [default: 60000].
    #[arg(long, env = "PLINTH_TENANT_IDLE_IN_TRANSACTION_MS")]
    pub tenant_idle_in_transaction_ms: Option<u64>,
    /// `temp_file_limit` of every workspace login role, in kB; applied when Plinth
    /// administers the cluster as a superuser [default: 1048576, 1 GiB].
    #[arg(long, env = "PLINTH_TENANT_TEMP_FILE_LIMIT_KB")]
    pub tenant_temp_file_limit_kb: Option<u64>,
    /// How long an Idempotency-Key is remembered [default: 86400].
    #[arg(long, env = "PLINTH_IDEMPOTENCY_TTL_SECS")]
    pub idempotency_ttl_secs: Option<u64>,
}

/// How a subcommand reaches the server.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Base URL of a running `plinth serve`.
    #[arg(long, env = "PLINTH_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Admin token; read from DATA_DIR/admin-token when unset.
    #[arg(long, env = "PLINTH_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Data directory holding the admin token file.
    #[arg(long, env = "PLINTH_DATA_DIR", default_value = ".plinth")]
    pub data_dir: PathBuf,
}

/// `plinth workspace ...`.
#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace (not yet provisioned).
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Owning tenant (organisation); generated when omitted.
        #[arg(long)]
        tenant_id: Option<String>,
        /// How to reach the server.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List workspaces.
    List {
        /// How to reach the server.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one workspace.
    Show {
        /// Workspace id.
        id: String,
        /// How to reach the server.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `plinth key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key for a workspace; the key is printed once.
    Create {
        /// Workspace id.
        #[arg(long)]
        workspace: String,
        /// A name to recognise the key by.
        #[arg(long)]
        name: String,
        /// A scope to grant (repeatable), e.g. `--scope postgres:read`.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// How to reach the server.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Revoke an API key at once, on every replica.
    Revoke {
        /// Workspace id.
        #[arg(long)]
        workspace: String,
        /// Key id (not the key itself).
        key_id: String,
        /// How to reach the server.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// The reference table of every `plinth serve` setting, generated from the flags'
/// documentation (so `docs/configuration.md`, which holds it, cannot drift: a test
/// compares them).
pub fn settings_reference() -> String {
    use clap::CommandFactory;
    let command = Cli::command();
    let mut out = String::from("| flag | variable | meaning |\n| --- | --- | --- |\n");
    let Some(serve) = command.find_subcommand("serve") else {
        return out;
    };
    for arg in serve.get_arguments() {
        let Some(long) = arg.get_long() else {
            continue;
        };
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_default();
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default()
            .replace('\n', " ")
            .replace('|', "\\|");
        out.push_str(&format!("| `--{long}` | {env} | {help} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    /// Where the generated table stands in `docs/configuration.md`.
    const BEGIN: &str =
        "<!-- generated from `plinth serve --help` by plinth::cli::settings_reference; \
PLINTH_UPDATE_DOCS=1 cargo test -p plinth --lib settings_reference rewrites it -->\n";
    const END: &str = "<!-- end of the generated table -->";

    #[test]
    fn the_settings_reference_in_the_docs_is_the_generated_one() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
        let doc = std::fs::read_to_string(&path).expect("docs/configuration.md");
        let generated = super::settings_reference();
        let (Some(start), Some(end)) = (doc.find(BEGIN), doc.find(END)) else {
            panic!("docs/configuration.md lacks the generated block's markers");
        };
        let current = &doc[start + BEGIN.len()..end];
        if current != generated {
            if std::env::var_os("PLINTH_UPDATE_DOCS").is_some() {
                let updated = format!("{}{BEGIN}{generated}{}", &doc[..start], &doc[end..]);
                std::fs::write(&path, updated).expect("write docs/configuration.md");
            } else {
                panic!(
                    "docs/configuration.md is out of date with the flags; run \
                     PLINTH_UPDATE_DOCS=1 cargo test -p plinth --lib settings_reference"
                );
            }
        }
    }
}
