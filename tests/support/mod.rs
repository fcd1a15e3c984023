//! Test support: real PostgreSQL servers, real `plinth serve` processes, an HTTP
//! client, and fixtures. Nothing here is mocked; every service is started on a free
//! port in a temp dir and fails loudly if it cannot start.

#![allow(dead_code, unused_imports)]

pub mod api;
pub mod clickhouse;
pub mod pg;
pub mod pgbouncer;
pub mod procs;
pub mod server;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

pub use api::{Api, Resp};
pub use pg::TestPostgres;
pub use server::{Plinth, ServerOptions};

/// A fresh directory for one test, reachable by the unprivileged database user.
pub fn temp_dir(label: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let base = base_dir();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = base.join(format!("{label}-{n}"));
    std::fs::create_dir_all(&dir).expect("create test dir");
    chmod(&dir, 0o755);
    dir
}

fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `/tmp/plinth-tests/<pid>`, created once; directories of test runs that are gone
/// are removed first.
fn base_dir() -> &'static PathBuf {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let root = std::env::temp_dir().join("plinth-tests");
        std::fs::create_dir_all(&root).expect("create test root");
        chmod(&root, 0o755);
        if let Ok(entries) = std::fs::read_dir(&root) {
            for entry in entries.flatten() {
                let pid = entry.file_name().to_string_lossy().parse::<u32>().ok();
                if let Some(pid) = pid {
                    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = std::fs::remove_dir_all(entry.path());
                    }
                }
            }
        }
        let dir = root.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("create test base");
        chmod(&dir, 0o755);
        dir
    })
}

/// The compiled-plugin cache every server and in-process runtime of this run shares
/// (unless a test gives its own), so the built-ins are compiled once per run rather
/// than once per server: compiling them costs seconds of CPU that would otherwise
/// starve the tests running beside it.
pub fn plugin_cache_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| temp_dir("plugin-cache-shared"))
}

/// A PostgreSQL cluster shared by the tests of this run that do not need their own.
pub fn shared_cluster() -> &'static TestPostgres {
    static CLUSTER: OnceLock<TestPostgres> = OnceLock::new();
    CLUSTER.get_or_init(TestPostgres::start)
}

/// The HS256 secret of the shared server.
pub const JWT_SECRET: &str = "plinth-test-secret-0123456789abcdef";

/// A `plinth serve` on the shared cluster, with JWTs enabled, shared by tests that
/// only need workspaces of their own.
pub fn shared() -> &'static Plinth {
    static SERVER: OnceLock<Plinth> = OnceLock::new();
    SERVER.get_or_init(|| {
        let keys = jwt_keys();
        Plinth::start(ServerOptions {
            database_url: Some(shared_cluster().url()),
            env: vec![
                ("PLINTH_JWT_SECRET".into(), JWT_SECRET.into()),
                (
                    "PLINTH_JWT_PUBLIC_KEYS".into(),
                    keys.public_pem.display().to_string(),
                ),
                ("PLINTH_MAX_BODY_BYTES".into(), "1048576".into()),
            ],
            ..Default::default()
        })
    })
}

/// A ClickHouse shared by the vault tests.
pub fn shared_clickhouse() -> &'static clickhouse::TestClickHouse {
    static CLICKHOUSE: OnceLock<clickhouse::TestClickHouse> = OnceLock::new();
    CLICKHOUSE.get_or_init(clickhouse::TestClickHouse::start)
}

/// A `plinth serve` on the shared cluster with `PLINTH_CLICKHOUSE_URL` set.
pub fn with_clickhouse() -> &'static Plinth {
    static SERVER: OnceLock<Plinth> = OnceLock::new();
    SERVER.get_or_init(|| {
        Plinth::start(ServerOptions {
            database_url: Some(shared_cluster().url()),
            env: vec![(
                "PLINTH_CLICKHOUSE_URL".into(),
                shared_clickhouse().url.clone(),
            )],
            ..Default::default()
        })
    })
}

/// RSA and EC key pairs for RS256/ES256 tokens, generated once with openssl.
pub struct JwtKeys {
    /// PKCS#8 private RSA key.
    pub rsa_private: PathBuf,
    /// PKCS#8 private EC P-256 key.
    pub ec_private: PathBuf,
    /// Both public keys in one PEM file.
    pub public_pem: PathBuf,
    /// A JWKS file with both public keys (kids `rsa-1`, `ec-1`).
    pub jwks: PathBuf,
}

/// The key pairs of this run.
pub fn jwt_keys() -> &'static JwtKeys {
    static KEYS: OnceLock<JwtKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = temp_dir("jwt-keys");
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl must be installed for the JWT tests");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        run(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem"]);
        run(&["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub.pem"]);
        run(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.pem"]);
        run(&["pkey", "-in", "ec.pem", "-pubout", "-out", "ec.pub.pem"]);
        let public = format!(
            "{}{}",
            std::fs::read_to_string(dir.join("rsa.pub.pem")).unwrap(),
            std::fs::read_to_string(dir.join("ec.pub.pem")).unwrap()
        );
        std::fs::write(dir.join("public.pem"), public).unwrap();
        // JWKS: modulus and exponent of the RSA key, coordinates of the EC key.
        let modulus = run(&["rsa", "-in", "rsa.pem", "-noout", "-modulus"]);
        let modulus = String::from_utf8(modulus).unwrap();
        let modulus = hex::decode(modulus.trim().trim_start_matches("Modulus=")).unwrap();
        let ec_der = run(&["pkey", "-in", "ec.pem", "-pubout", "-outform", "DER"]);
        let point = &ec_der[ec_der.len() - 65..];
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwks = serde_json::json!({ "keys": [
            { "kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig", "n": b64(&modulus), "e": "AQAB" },
            { "kty": "EC", "kid": "ec-1", "alg": "ES256", "use": "sig", "crv": "P-256",
              "x": b64(&point[1..33]), "y": b64(&point[33..65]) }
        ]});
        std::fs::write(dir.join("jwks.json"), jwks.to_string()).unwrap();
        JwtKeys {
            rsa_private: dir.join("rsa.pem"),
            ec_private: dir.join("ec.pem"),
            public_pem: dir.join("public.pem"),
            jwks: dir.join("jwks.json"),
        }
    })
}

/// A workspace created through the admin API, with helpers for keys.
#[derive(Clone)]
pub struct Workspace {
    /// Its id.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// Admin client of the server it lives on.
    pub admin: Api,
}

impl Workspace {
    /// Its database's name as seed 000 spells it: `ws_` and the id's 32 hex digits.
    pub fn database(&self) -> String {
        format!("ws_{}", self.id.replace('-', ""))
    }

    /// Creates a workspace (not provisioned).
    pub async fn create(server: &Plinth, name: &str) -> Self {
        let admin = server.admin();
        let resp = admin
            .post("/v1/admin/workspaces", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(resp.status, 201, "create workspace: {}", resp.body);
        Self {
            id: resp.body["id"].as_str().unwrap().to_owned(),
            tenant_id: resp.body["tenant_id"].as_str().unwrap().to_owned(),
            admin,
        }
    }

    /// Creates and provisions a workspace.
    pub async fn provisioned(server: &Plinth, name: &str) -> Self {
        let ws = Self::create(server, name).await;
        ws.provision().await;
        ws
    }

    /// Provisions it.
    pub async fn provision(&self) {
        let resp = self
            .admin
            .with_header("X-Workspace-Id", &self.id)
            .post("/api/v2/ingestion/provision", serde_json::json!({}))
            .await;
        assert_eq!(resp.status, 200, "provision: {}", resp.body);
    }

    /// A new API key with these scopes, as a client.
    pub async fn key(&self, scopes: &[&str]) -> Api {
        let (_, key) = self.key_with_id(scopes).await;
        self.admin.with_token(&key)
    }

    /// A new API key: its id and the key itself.
    pub async fn key_with_id(&self, scopes: &[&str]) -> (String, String) {
        let resp = self
            .admin
            .post(
                &format!("/v1/admin/workspaces/{}/api-keys", self.id),
                serde_json::json!({ "name": "test", "scopes": scopes }),
            )
            .await;
        assert_eq!(resp.status, 201, "create key: {}", resp.body);
        (
            resp.body["id"].as_str().unwrap().to_owned(),
            resp.body["key"].as_str().unwrap().to_owned(),
        )
    }

    /// A connection URI revealed by the admin token.
    pub async fn reveal(&self, kind: &str, pooled: bool) -> String {
        let resp = self
            .admin
            .with_header("X-Workspace-Id", &self.id)
            .post(
                "/api/v2/ingestion/connection-uris/reveal",
                serde_json::json!({ "kind": kind, "pooled": pooled }),
            )
            .await;
        assert_eq!(resp.status, 200, "reveal: {}", resp.body);
        resp.body["uri"].as_str().unwrap().to_owned()
    }

    /// The admin client acting on this workspace's ingestion endpoints.
    pub fn ingestion_admin(&self) -> Api {
        self.admin.with_header("X-Workspace-Id", &self.id)
    }

    /// An HS256 JWT for this workspace, valid for an hour.
    pub fn jwt(&self, subject: &str, scopes: &[&str]) -> String {
        hs256(serde_json::json!({
            "sub": subject,
            "workspace_id": self.id,
            "scope": scopes.join(" "),
            "exp": now() + 3600,
        }))
    }

    /// Installs the example owner-only row authorizer (`plugins/owner-authorizer`)
    /// for this workspace.
    pub async fn install_owner_authorizer(&self) {
        let admin = self.key(&["plugins:admin"]).await;
        let resp = admin
            .send_raw(
                reqwest::Method::PUT,
                &format!("/v1/workspaces/{}/plugins/row-authorizer", self.id),
                "application/wasm",
                std::fs::read(env!("PLINTH_PLUGIN_OWNER_AUTHORIZER")).expect("plugin built"),
            )
            .await;
        assert_eq!(
            resp.status, 201,
            "install the owner authorizer: {}",
            resp.body
        );
    }

    /// A client authenticated with a JWT for `subject`.
    pub fn jwt_client(&self, subject: &str, scopes: &[&str]) -> Api {
        self.admin.with_token(&self.jwt(subject, scopes))
    }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Signs claims with the shared HS256 secret.
pub fn hs256(claims: serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

/// Nanoseconds since the epoch, for unique names.
pub fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A direct connection to a test cluster (for fixtures and for checking effects).
pub async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// A superuser connection to the database of `workspace`, which lives on the shared
/// cluster (for DDL made outside Plinth and for checking effects).
pub async fn workspace_superuser(workspace: &Workspace) -> tokio_postgres::Client {
    let id = uuid::Uuid::parse_str(&workspace.id).expect("a workspace id");
    pg_connect(&shared_cluster().db_url(&plinth::names::database(id))).await
}

/// Makes every insert into `table` (schema-qualified) take a second and note which
/// backend ran it in the sequence `<schema>.slow_backend`, which keeps the number
/// through a rollback: for tests of a request abandoned mid-write.
pub async fn slow_inserts(client: &tokio_postgres::Client, schema: &str, table: &str) {
    client
        .batch_execute(&format!(
            "CREATE SEQUENCE {schema}.slow_backend;
             GRANT USAGE, UPDATE ON SEQUENCE {schema}.slow_backend TO PUBLIC;
             CREATE FUNCTION {schema}.slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 PERFORM setval('{schema}.slow_backend', pg_backend_pid());
                 PERFORM pg_sleep(1);
                 RETURN NEW;
             END $$;
             CREATE TRIGGER slow_insert BEFORE INSERT ON {table}
                 FOR EACH ROW EXECUTE FUNCTION {schema}.slow_insert();"
        ))
        .await
        .expect("the slow-insert trigger");
}

/// The state (`idle`, `active`, ...) of the backend that ran the last insert
/// [`slow_inserts`] slowed down, read through `observer`; `None` once it has closed.
pub async fn slow_backend_state(observer: &tokio_postgres::Client, schema: &str) -> Option<String> {
    let pid: i64 = observer
        .query_one(
            &format!("SELECT last_value FROM {schema}.slow_backend"),
            &[],
        )
        .await
        .expect("the recorded backend")
        .get(0);
    observer
        .query_opt(
            "SELECT state FROM pg_stat_activity WHERE pid = $1",
            &[&(pid as i32)],
        )
        .await
        .expect("pg_stat_activity")
        .map(|row| row.get(0))
}

/// Connects with a revealed URI; `Err` holds the server's message.
pub async fn try_connect(uri: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(uri, tokio_postgres::NoTls)
        .await
        .map_err(|e| {
            e.as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_else(|| e.to_string())
        })?;
    tokio::spawn(connection);
    Ok(client)
}

/// The server's message of a failed statement.
pub fn db_message(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map(|d| d.message().to_owned())
        .unwrap_or_else(|| error.to_string())
}
