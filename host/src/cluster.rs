//! The PostgreSQL cluster Plinth manages, and how to reach any of its databases
//! as its administrator or as a given role.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;

/// How long opening a server connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the cluster is and who administers it. Holds a password: never logged.
#[derive(Clone)]
pub struct Cluster {
    host: String,
    port: u16,
    admin_user: String,
    admin_password: Option<String>,
    maintenance_db: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("admin_user", &self.admin_user)
            .finish_non_exhaustive()
    }
}

/// A `--database-url` that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid database URL: {0}")]
pub struct ClusterUrlError(String);

impl Cluster {
    /// The embedded cluster: superuser `postgres` on 127.0.0.1.
    pub fn embedded(port: u16, password: &str) -> Self {
        Self {
            host: "127.0.0.1".into(),
            port,
            admin_user: crate::embedded::SUPERUSER.into(),
            admin_password: Some(password.to_owned()),
            maintenance_db: "postgres".into(),
        }
    }

    /// An external cluster from a `postgresql://` URL (TCP hosts only).
    pub fn from_url(url: &str) -> Result<Self, ClusterUrlError> {
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| ClusterUrlError(e.to_string()))?;
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            Some(_) => {
                return Err(ClusterUrlError(
                    "Unix-socket hosts are not supported; use host:port".into(),
                ))
            }
            None => "127.0.0.1".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let admin_user = config
            .get_user()
            .ok_or_else(|| ClusterUrlError("the URL must name a user".into()))?
            .to_owned();
        let admin_password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let maintenance_db = config.get_dbname().unwrap_or("postgres").to_owned();
        Ok(Self {
            host,
            port,
            admin_user,
            admin_password,
            maintenance_db,
        })
    }

    /// The host name of the cluster.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port of the cluster.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The administrator's role name.
    pub fn admin_user(&self) -> &str {
        &self.admin_user
    }

    /// The database that exists before Plinth creates any (`postgres` by default).
    pub fn maintenance_db(&self) -> &str {
        &self.maintenance_db
    }

    /// Connection settings for `dbname` as the administrator.
    pub fn admin_config(&self, dbname: &str) -> tokio_postgres::Config {
        let mut config = self.base(dbname);
        config.user(&self.admin_user);
        if let Some(password) = &self.admin_password {
            config.password(password);
        }
        config
    }

    /// Connection settings for `dbname` as `user` with `password`.
    pub fn role_config(&self, dbname: &str, user: &str, password: &str) -> tokio_postgres::Config {
        let mut config = self.base(dbname);
        config.user(user).password(password);
        config
    }

    fn base(&self, dbname: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .dbname(dbname)
            .application_name("plinth")
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30));
        config
    }

    /// Opens one administrator connection to `dbname`, driving it on a task.
    pub async fn connect_admin(
        &self,
        dbname: &str,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = self
            .admin_config(dbname)
            .connect(tokio_postgres::NoTls)
            .await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "administrator connection closed");
            }
        });
        Ok(client)
    }
}

/// A database error with the server's message (tokio-postgres alone says "db error").
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

/// True when the error means the server could not be reached or went away.
pub fn is_connection_error(error: &tokio_postgres::Error) -> bool {
    match error.code() {
        None => true,
        Some(code) => {
            let class = &code.code()[..2];
            matches!(class, "08" | "53" | "57") && *code != SqlState::QUERY_CANCELED
        }
    }
}
