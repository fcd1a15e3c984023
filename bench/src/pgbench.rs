//! The raw ceiling: pgbench (`-M prepared`, a custom script) sending the same SQL
//! Plinth sends, producing the same JSON, straight to the same PostgreSQL.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::measure::{quantile_ms, Sample};

/// Runs `script` with pgbench at `clients` for `seconds` against `uri`.
pub fn run(
    uri: &str,
    script: &str,
    clients: u32,
    seconds: u32,
    dir: &Path,
) -> anyhow::Result<Sample> {
    let logs = dir.join(format!("pgbench-{clients}"));
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs)?;
    let path = dir.join("scenario.sql");
    std::fs::write(&path, script)?;
    let output = crate::session::own_session(&mut Command::new(pgbench_binary()))
        .args(["-n", "-M", "prepared", "-c", &clients.to_string(), "-j"])
        .arg(clients.clamp(1, 2).to_string())
        .args(["-T", &seconds.to_string(), "-l", "--log-prefix"])
        .arg(logs.join("log"))
        .arg("-f")
        .arg(&path)
        .arg(uri)
        .output()
        .context("running pgbench")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "pgbench failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let rate = text
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .with_context(|| format!("no tps in pgbench output:\n{text}"))?;
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(&logs)? {
        for line in std::fs::read_to_string(entry?.path())?.lines() {
            if let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|v| v.parse::<u64>().ok())
            {
                latencies.push(us);
            }
        }
    }
    latencies.sort_unstable();
    Ok(Sample {
        rate,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
    })
}

fn pgbench_binary() -> String {
    for dir in [
        "/usr/lib/postgresql/15/bin",
        "/usr/lib/postgresql/16/bin",
        "/usr/lib/postgresql/17/bin",
    ] {
        let path = format!("{dir}/pgbench");
        if Path::new(&path).exists() {
            return path;
        }
    }
    "pgbench".to_owned()
}

/// A pgbench client running `script` at a steady `rate` (transactions a second)
/// beside a measurement, stopped when dropped.
pub struct Beside {
    child: std::process::Child,
}

impl Beside {
    /// Starts it against `uri`.
    pub fn start(uri: &str, script: &str, rate: u32, dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("beside.sql");
        std::fs::write(&path, script)?;
        let child = crate::session::own_session(&mut Command::new(pgbench_binary()))
            .args(["-n", "-M", "prepared", "-c", "1", "-R", &rate.to_string()])
            .args(["-T", "36000", "-f"])
            .arg(&path)
            .arg(uri)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting pgbench beside the measurement")?;
        Ok(Self { child })
    }
}

impl Drop for Beside {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
