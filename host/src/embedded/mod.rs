//! Child database servers that `plinth serve` runs itself: the embedded PostgreSQL
//! and, when installed, a PgBouncer in front of it. Both refuse to run as root, so
//! when Plinth is root they run as the unprivileged `postgres` system user.

mod binaries;
mod pgbouncer;
mod postgres;
mod unprivileged;

pub use binaries::{find_binary, PgBinaries};
pub use pgbouncer::{EmbeddedPgBouncer, PgBouncerSpec};
pub use postgres::{write_private, EmbeddedPostgres, SUPERUSER};
pub use unprivileged::ChildUser;

use std::path::PathBuf;

/// Why a child server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The PostgreSQL server binaries are not installed.
    #[error("PostgreSQL server binaries not found (looked in PATH, `pg_config --bindir` and /usr/lib/postgresql/*/bin): install them, e.g. `apt-get install postgresql`, or pass --database-url")]
    BinariesMissing,
    /// Running as root but there is no unprivileged user to run the server as.
    #[error("running as root, but the system user `postgres` does not exist to run PostgreSQL as: create it (`useradd --system postgres`) or run Plinth as a normal user")]
    NoUnprivilegedUser,
    /// The unprivileged user cannot reach the data directory.
    #[error("the data directory {path} is not reachable by the `postgres` user because {blocker} has mode {mode:o}; choose a --data-dir outside it or grant o+x on it")]
    Unreachable {
        /// The data directory.
        path: PathBuf,
        /// The directory on the way that blocks.
        blocker: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A command failed.
    #[error("{what} failed: {detail}")]
    Command {
        /// Which step.
        what: &'static str,
        /// Its output or the error.
        detail: String,
    },
    /// The server did not come up.
    #[error("{what} did not become ready: {detail}")]
    NotReady {
        /// Which server.
        what: &'static str,
        /// The end of its log.
        detail: String,
    },
    /// File-system trouble.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

impl EmbeddedError {
    fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// Picks a free loopback TCP port.
pub fn free_loopback_port() -> Result<u16, EmbeddedError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(EmbeddedError::io("binding a free loopback port"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(EmbeddedError::io("reading the bound port"))
}

/// The last `lines` lines of a log file, for error messages.
pub(crate) fn log_tail(path: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
