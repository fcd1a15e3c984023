//! The embedded PostgreSQL: `initdb` on first start, then the server as a child
//! process on a free loopback port, stopped with Plinth.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};

use super::binaries::RESERVED_CONNECTIONS_SINCE;
use super::{free_loopback_port, log_tail, ChildUser, EmbeddedError, PgBinaries};

/// How long the server gets to accept connections after it is spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a fast shutdown may take before the server is killed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);
/// The superuser that `initdb` creates.
pub const SUPERUSER: &str = "postgres";
/// The server's `max_connections`.
const MAX_CONNECTIONS: u32 = 300;
/// The most connection slots Plinth keeps for its own pools, so that tenants keep at
/// least the rest (`superuser_reserved_connections`, 3, is kept besides).
const MAX_RESERVED: u32 = 200;

/// A running embedded PostgreSQL server.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    child: tokio::process::Child,
    port: u16,
    password: String,
    pgdata: PathBuf,
    log: PathBuf,
}

impl EmbeddedPostgres {
    /// Initialises (first time) and starts the server under `data_dir/pg`. On
    /// PostgreSQL 16 and later, `reserved` connection slots (at most 200 of 300) are
    /// kept for roles granted `pg_use_reserved_connections`, which Plinth gives its
    /// own pools' roles and no tenant's.
    pub async fn start(data_dir: &Path, reserved: u32) -> Result<Self, EmbeddedError> {
        let binaries = PgBinaries::locate()?;
        let major = binaries.major_version()?;
        let user = ChildUser::for_database_servers()?;
        user.ensure_reachable(data_dir)?;
        let pgdata = data_dir.join("pg");
        let password = superuser_password(data_dir)?;
        if !pgdata.join("PG_VERSION").exists() {
            initdb(&binaries, &user, data_dir, &pgdata, &password).await?;
        }
        clear_stale_lock(&pgdata).await;
        let port = free_loopback_port()?;
        let log = data_dir.join("postgres.log");
        let log_file = std::fs::File::create(&log)
            .map_err(EmbeddedError::io(format!("creating {}", log.display())))?;
        let mut command = tokio::process::Command::new(&binaries.postgres);
        command
            .arg("-D")
            .arg(&pgdata)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", &format!("max_connections={MAX_CONNECTIONS}")])
            .args(["-c", "password_encryption=scram-sha-256"])
            .stdin(Stdio::null())
            .stdout(
                log_file
                    .try_clone()
                    .map_err(EmbeddedError::io("opening the PostgreSQL log"))?,
            )
            .stderr(log_file)
            .kill_on_drop(false);
        if major >= RESERVED_CONNECTIONS_SINCE {
            let reserved = reserved.min(MAX_RESERVED);
            command.args(["-c", &format!("reserved_connections={reserved}")]);
        } else {
            tracing::warn!(
                major,
                "PostgreSQL {major} cannot keep connections for Plinth's own pools \
                 (reserved_connections needs {RESERVED_CONNECTIONS_SINCE}): tenants' \
                 direct connections together can take every slot"
            );
        }
        user.apply(&mut command);
        stop_with_parent(&mut command);
        let child = command.spawn().map_err(|e| EmbeddedError::Command {
            what: "starting postgres",
            detail: e.to_string(),
        })?;
        let mut server = Self {
            child,
            port,
            password,
            pgdata,
            log,
        };
        server.wait_ready().await?;
        tracing::info!(port, "embedded PostgreSQL is up");
        Ok(server)
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser's password (never logged).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// A `postgresql://` URL of the superuser.
    pub fn superuser_url(&self) -> String {
        format!(
            "postgresql://{SUPERUSER}:{}@127.0.0.1:{}/postgres",
            self.password, self.port
        )
    }

    /// The data directory of the cluster (`<data-dir>/pg`).
    pub fn pgdata(&self) -> &Path {
        &self.pgdata
    }

    async fn wait_ready(&mut self) -> Result<(), EmbeddedError> {
        let started = Instant::now();
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.port)
            .user(SUPERUSER)
            .password(&self.password)
            .dbname("postgres")
            .connect_timeout(Duration::from_secs(2));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(EmbeddedError::NotReady {
                    what: "PostgreSQL",
                    detail: format!("it exited with {status}:\n{}", log_tail(&self.log, 15)),
                });
            }
            if let Ok((client, connection)) = config.connect(tokio_postgres::NoTls).await {
                drop(client);
                drop(connection);
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(EmbeddedError::NotReady {
                    what: "PostgreSQL",
                    detail: log_tail(&self.log, 15),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fast shutdown (SIGINT), escalating to SIGKILL after a bounded wait.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGINT,
            );
        }
        match tokio::time::timeout(SHUTDOWN_TIMEOUT, self.child.wait()).await {
            Ok(_) => tracing::info!("embedded PostgreSQL stopped"),
            Err(_) => {
                tracing::warn!("embedded PostgreSQL did not stop in time; killing it");
                let _ = self.child.kill().await;
            }
        }
    }
}

/// Makes the kernel send SIGTERM to the child if Plinth dies without stopping it,
/// so a crash does not leave an orphaned server holding the data directory.
fn stop_with_parent(command: &mut tokio::process::Command) {
    // SAFETY: `prctl` is async-signal-safe and touches only the calling (child) process.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                .map_err(std::io::Error::from)
        });
    }
}

/// Reads the superuser password from `<data-dir>/postgres-password`, creating it once.
fn superuser_password(data_dir: &Path) -> Result<String, EmbeddedError> {
    let path = data_dir.join("postgres-password");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    let password = Alphanumeric.sample_string(&mut rand::rng(), 40);
    write_private(&path, &password)?;
    Ok(password)
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, contents: &str) -> Result<(), EmbeddedError> {
    std::fs::write(path, contents)
        .map_err(EmbeddedError::io(format!("writing {}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(EmbeddedError::io(format!("chmod {}", path.display())))
}

async fn initdb(
    binaries: &PgBinaries,
    user: &ChildUser,
    data_dir: &Path,
    pgdata: &Path,
    password: &str,
) -> Result<(), EmbeddedError> {
    tracing::info!(dir = %pgdata.display(), "initialising the embedded PostgreSQL cluster");
    if pgdata.exists() {
        // A previous initdb was interrupted: start over.
        std::fs::remove_dir_all(pgdata)
            .map_err(EmbeddedError::io(format!("removing {}", pgdata.display())))?;
    }
    std::fs::create_dir_all(pgdata)
        .map_err(EmbeddedError::io(format!("creating {}", pgdata.display())))?;
    std::fs::set_permissions(pgdata, std::fs::Permissions::from_mode(0o700))
        .map_err(EmbeddedError::io("chmod pgdata"))?;
    user.chown(pgdata)?;
    let pwfile = data_dir.join(".initdb-password");
    write_private(&pwfile, password)?;
    user.chown(&pwfile)?;
    let mut command = tokio::process::Command::new(&binaries.initdb);
    command
        .arg("-D")
        .arg(pgdata)
        .args([
            "-U",
            SUPERUSER,
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdin(Stdio::null());
    user.apply(&mut command);
    let output = command.output().await;
    let _ = std::fs::remove_file(&pwfile);
    let output = output.map_err(|e| EmbeddedError::Command {
        what: "initdb",
        detail: e.to_string(),
    })?;
    if !output.status.success() {
        return Err(EmbeddedError::Command {
            what: "initdb",
            detail: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

/// Deals with a `postmaster.pid` left by a crash. A dead pid is left to PostgreSQL,
/// which ignores it; a pid now used by an unrelated process would make PostgreSQL
/// refuse to start, so the file goes; a live orphaned server of this data directory
/// is shut down so that this process can own a fresh one.
async fn clear_stale_lock(pgdata: &Path) {
    let lock = pgdata.join("postmaster.pid");
    let Ok(text) = std::fs::read_to_string(&lock) else {
        return;
    };
    let Some(pid) = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    else {
        let _ = std::fs::remove_file(&lock);
        return;
    };
    match process_state(pid) {
        ProcessState::Gone => {
            tracing::warn!(pid, "removing the postmaster.pid of a crashed server");
            let _ = std::fs::remove_file(&lock);
        }
        ProcessState::Other => {
            tracing::warn!(
                pid,
                "removing a stale postmaster.pid that names an unrelated process"
            );
            let _ = std::fs::remove_file(&lock);
        }
        ProcessState::Postgres => {
            tracing::warn!(
                pid,
                "an orphaned PostgreSQL still runs on this data directory; stopping it"
            );
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGINT,
            );
            let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
            while lock.exists() && Instant::now() < deadline {
                if process_state(pid) == ProcessState::Gone {
                    let _ = std::fs::remove_file(&lock);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum ProcessState {
    /// No such process, or a zombie nobody has reaped.
    Gone,
    /// A live PostgreSQL server.
    Postgres,
    /// A live process of something else (the pid was reused).
    Other,
}

fn process_state(pid: i32) -> ProcessState {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return ProcessState::Gone;
    };
    // `pid (comm) state ...`: the state follows the last `)`.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    if matches!(state, Some('Z') | Some('X') | None) {
        return ProcessState::Gone;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if String::from_utf8_lossy(&cmdline).contains("postgres") {
        ProcessState::Postgres
    } else {
        ProcessState::Other
    }
}
