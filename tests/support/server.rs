//! `plinth serve` as a real process: started on port 0, its address read from the
//! `listening on` line, stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{procs, Api};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_plinth");

/// How to start a server.
#[derive(Default, Clone)]
pub struct ServerOptions {
    /// An external cluster; `None` runs the embedded PostgreSQL.
    pub database_url: Option<String>,
    /// A data directory to reuse; a fresh one when `None`.
    pub data_dir: Option<PathBuf>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Extra arguments after `serve`.
    pub args: Vec<String>,
}

/// A running `plinth serve`.
pub struct Plinth {
    /// `http://127.0.0.1:PORT` (or https).
    pub base: String,
    /// The admin token.
    pub admin_token: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Its stderr log.
    pub log: PathBuf,
    child: Mutex<Option<Child>>,
}

impl Plinth {
    /// Starts a server, panicking with its log if it does not come up.
    pub fn start(options: ServerOptions) -> Self {
        Self::try_start(options).unwrap_or_else(|log| panic!("plinth did not start:\n{log}"))
    }

    /// Starts a server; `Err` holds its stderr when it exits or stalls. The first
    /// server of the run to come up fills the shared plugin cache while the others
    /// wait for it, so that they load the built-ins instead of compiling them too.
    pub fn try_start(options: ServerOptions) -> Result<Self, String> {
        static CACHE_WARM: Mutex<bool> = Mutex::new(false);
        let mut warm = CACHE_WARM.lock().unwrap_or_else(|p| p.into_inner());
        if *warm {
            drop(warm);
            return Self::spawn(options);
        }
        let started = Self::spawn(options);
        *warm = started.is_ok();
        started
    }

    fn spawn(options: ServerOptions) -> Result<Self, String> {
        let data_dir = options
            .data_dir
            .clone()
            .unwrap_or_else(|| super::temp_dir("plinth").join("data"));
        let log = data_dir
            .parent()
            .unwrap()
            .join(format!("plinth-{}.log", super::now_nanos()));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&data_dir)
            .args(&options.args)
            .env("PLINTH_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("PLINTH_LOG", "info,plinth=debug")
            .env("PLINTH_PLUGIN_CACHE_DIR", super::plugin_cache_dir())
            .env_remove("PLINTH_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        if let Some(url) = &options.database_url {
            command.arg("--database-url").arg(url);
        }
        for (key, value) in &options.env {
            command.env(key, value);
        }
        let mut child = procs::spawn(command).map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(pos) = line.find("listening on ") {
                    let _ = tx.send(line[pos + "listening on ".len()..].trim().to_owned());
                }
            }
        });
        let started = Instant::now();
        let base = loop {
            if let Ok(base) = rx.recv_timeout(Duration::from_millis(100)) {
                break base;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "exited with {status}:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
            if started.elapsed() > Duration::from_secs(180) {
                let _ = child.kill();
                return Err(format!(
                    "no `listening on` line within 180 s:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ));
            }
        };
        let admin_token = options
            .env
            .iter()
            .find(|(k, _)| k == "PLINTH_ADMIN_TOKEN")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| ADMIN_TOKEN.to_owned());
        Ok(Self {
            base,
            admin_token,
            data_dir,
            log,
            child: Mutex::new(Some(child)),
        })
    }

    /// A client with the admin token.
    pub fn admin(&self) -> Api {
        Api::new(&self.base).with_token(&self.admin_token)
    }

    /// A client without credentials.
    pub fn anonymous(&self) -> Api {
        Api::new(&self.base)
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.lock().unwrap().as_ref().map(|c| c.id())
    }

    /// SIGTERM, then waits for the exit (killing after 60 s).
    pub fn terminate(&self) -> Option<ExitStatus> {
        let mut guard = self.child.lock().unwrap();
        let mut child = guard.take()?;
        procs::signal(child.id(), nix::sys::signal::Signal::SIGTERM);
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                return child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: a crash.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Plinth {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// The admin token every test server is started with unless a test sets one.
pub const ADMIN_TOKEN: &str = "plinth-test-admin-token-0123456789";
