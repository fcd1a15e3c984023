//! A real PostgreSQL server owned by a test: `initdb` into a temp dir, `postgres` on
//! a fixed free port, and the power to crash and restart it on that same port.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::procs;

/// The superuser password of test clusters.
const PASSWORD: &str = "plinth-test-superuser";

/// A PostgreSQL server for tests.
pub struct TestPostgres {
    /// Port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
    child: Mutex<Option<Child>>,
}

fn bindir() -> PathBuf {
    let out = Command::new("pg_config").arg("--bindir").output();
    if let Ok(out) = out {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries must be installed (/usr/lib/postgresql)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("no PostgreSQL server binaries found")
}

fn as_postgres(command: &mut Command) {
    if let Some((uid, gid)) = procs::postgres_user() {
        command.uid(uid).gid(gid);
    }
}

fn chown_to_postgres(path: &std::path::Path) {
    if let Some((uid, gid)) = procs::postgres_user() {
        nix::unistd::chown(
            path,
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
        )
        .expect("chown to postgres");
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestPostgres {
    /// Initialises and starts a new cluster; panics with the server log if it cannot.
    pub fn start() -> Self {
        let dir = super::temp_dir("pg");
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        chown_to_postgres(&data);
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        chown_to_postgres(&pwfile);
        let mut initdb = Command::new(bindir().join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdout(Stdio::null());
        as_postgres(&mut initdb);
        let out = initdb.output().expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let server = Self {
            port: free_port(),
            dir,
            child: Mutex::new(None),
        };
        server.launch();
        server
    }

    fn launch(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("postgres.log"))
            .unwrap();
        let mut command = Command::new(bindir().join("postgres"));
        command
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string()])
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
            ])
            .args(["-c", "max_connections=400", "-c", "fsync=off"])
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        as_postgres(&mut command);
        let child = procs::spawn(command).expect("spawn postgres");
        *self.child.lock().unwrap() = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            let ok = std::process::Command::new(bindir().join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return;
            }
            if started.elapsed() > Duration::from_secs(60) {
                panic!(
                    "test PostgreSQL did not start:\n{}",
                    std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The superuser URL.
    pub fn url(&self) -> String {
        format!(
            "postgresql://postgres:{PASSWORD}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// A URL for `database` as the superuser.
    pub fn db_url(&self, database: &str) -> String {
        format!(
            "postgresql://postgres:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// The superuser password.
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// Crashes the server (immediate shutdown: no checkpoint, crash recovery on start).
    pub fn crash(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            procs::signal(child.id(), nix::sys::signal::Signal::SIGQUIT);
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&self) {
        self.launch();
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.crash();
    }
}
