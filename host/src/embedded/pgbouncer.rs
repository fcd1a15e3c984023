//! The embedded PgBouncer: transaction pooling in front of the embedded cluster, so
//! that pooled connection URIs work out of the box. Clients authenticate with their
//! own SCRAM credentials, which PgBouncer looks up in `pg_shadow` on every login, so a
//! rotated password takes effect at once.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::postgres::{write_private, SUPERUSER};
use super::{find_binary, free_loopback_port, log_tail, ChildUser, EmbeddedError};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// What the PgBouncer fronts.
#[derive(Debug, Clone)]
pub struct PgBouncerSpec {
    /// Plinth's data directory; the bouncer's files go in `<data-dir>/pgbouncer`.
    pub data_dir: PathBuf,
    /// Port of the PostgreSQL server on 127.0.0.1.
    pub server_port: u16,
    /// Password of the superuser that runs the `auth_query`.
    pub superuser_password: String,
}

/// A running PgBouncer child.
#[derive(Debug)]
pub struct EmbeddedPgBouncer {
    child: tokio::process::Child,
    port: u16,
}

impl EmbeddedPgBouncer {
    /// Starts PgBouncer when the binary is installed; `Ok(None)` when it is not.
    pub async fn start(spec: &PgBouncerSpec) -> Result<Option<Self>, EmbeddedError> {
        let Some(binary) = find_binary("pgbouncer").or_else(|| {
            let fallback = Path::new("/usr/sbin/pgbouncer");
            fallback.is_file().then(|| fallback.to_owned())
        }) else {
            tracing::info!("pgbouncer is not installed: pooled connection URIs are unavailable (apt-get install pgbouncer)");
            return Ok(None);
        };
        let user = ChildUser::for_database_servers()?;
        let dir = spec.data_dir.join("pgbouncer");
        std::fs::create_dir_all(&dir).map_err(EmbeddedError::io("creating the pgbouncer dir"))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(EmbeddedError::io("chmod the pgbouncer dir"))?;
        user.chown(&dir)?;
        let port = free_loopback_port()?;
        let userlist = dir.join("userlist.txt");
        write_private(
            &userlist,
            &format!("\"{SUPERUSER}\" \"{}\"\n", spec.superuser_password),
        )?;
        user.chown(&userlist)?;
        let ini = dir.join("pgbouncer.ini");
        write_private(&ini, &config_text(spec.server_port, port, &userlist))?;
        user.chown(&ini)?;
        let log = dir.join("pgbouncer.log");
        let log_file =
            std::fs::File::create(&log).map_err(EmbeddedError::io("creating the pgbouncer log"))?;
        let mut command = tokio::process::Command::new(binary);
        command
            .arg(&ini)
            .stdin(Stdio::null())
            .stdout(
                log_file
                    .try_clone()
                    .map_err(EmbeddedError::io("opening the pgbouncer log"))?,
            )
            .stderr(log_file)
            .kill_on_drop(true);
        user.apply(&mut command);
        // SAFETY: see `postgres::stop_with_parent`; prctl only affects the child.
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                    .map_err(std::io::Error::from)
            });
        }
        let mut child = command.spawn().map_err(|e| EmbeddedError::Command {
            what: "starting pgbouncer",
            detail: e.to_string(),
        })?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(EmbeddedError::NotReady {
                    what: "PgBouncer",
                    detail: format!("it exited with {status}:\n{}", log_tail(&log, 10)),
                });
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(EmbeddedError::NotReady {
                    what: "PgBouncer",
                    detail: log_tail(&log, 10),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tracing::info!(port, "embedded PgBouncer is up (transaction pooling)");
        Ok(Some(Self { child, port }))
    }

    /// The port clients connect to on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the bouncer (SIGINT: immediate shutdown).
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGINT,
            );
        }
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

fn config_text(server_port: u16, listen_port: u16, userlist: &Path) -> String {
    format!(
        "[databases]\n\
         * = host=127.0.0.1 port={server_port}\n\
         \n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {listen_port}\n\
         unix_socket_dir =\n\
         auth_type = scram-sha-256\n\
         auth_file = {userlist}\n\
         auth_user = {SUPERUSER}\n\
         auth_query = SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = $1\n\
         pool_mode = transaction\n\
         max_client_conn = 2000\n\
         default_pool_size = 10\n\
         server_reset_query =\n\
         ignore_startup_parameters = extra_float_digits,options,application_name\n",
        userlist = userlist.display()
    )
}
