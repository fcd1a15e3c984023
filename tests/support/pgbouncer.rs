//! A real PgBouncer in transaction mode in front of a test cluster, as an operator
//! would run it: clients authenticate with their own SCRAM credentials, looked up in
//! `pg_shadow` by `auth_query` on every login.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{pg::TestPostgres, procs};

/// A running PgBouncer.
pub struct TestPgBouncer {
    /// Port on 127.0.0.1.
    pub port: u16,
    child: Mutex<Option<Child>>,
}

impl TestPgBouncer {
    /// Starts PgBouncer in front of `pg`; panics with its log if it cannot.
    pub fn start(pg: &TestPostgres) -> Self {
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("pgbouncer must be installed (cargo xtask test installs it)");
        let dir = super::temp_dir("pgbouncer");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(
            dir.join("userlist.txt"),
            format!("\"postgres\" \"{}\"\n", pg.password()),
        )
        .unwrap();
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host=127.0.0.1 port={}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
                 unix_socket_dir =\nauth_type = scram-sha-256\nauth_file = {}\nauth_user = postgres\n\
                 auth_query = SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = $1\n\
                 pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 5\n\
                 ignore_startup_parameters = extra_float_digits,options,application_name\n",
                pg.port,
                dir.join("userlist.txt").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("pgbouncer.log")).unwrap();
        if let Some((uid, gid)) = procs::postgres_user() {
            for f in ["", "userlist.txt", "pgbouncer.ini", "pgbouncer.log"] {
                let path = dir.join(f);
                nix::unistd::chown(
                    &path,
                    Some(nix::unistd::Uid::from_raw(uid)),
                    Some(nix::unistd::Gid::from_raw(gid)),
                )
                .unwrap();
            }
        }
        let mut command = Command::new(binary);
        command
            .arg(dir.join("pgbouncer.ini"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null());
        if let Some((uid, gid)) = procs::postgres_user() {
            command.uid(uid).gid(gid);
        }
        let child = procs::spawn(command).expect("spawn pgbouncer");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "pgbouncer did not start:\n{}",
                std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            child: Mutex::new(Some(child)),
        }
    }
}

impl Drop for TestPgBouncer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
