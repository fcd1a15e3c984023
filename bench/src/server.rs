//! Starting the release `plinth serve` on an embedded cluster in a temp dir, and the
//! few admin calls the harness needs (workspace, provisioning, keys, URIs).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};
use serde_json::{json, Value};

/// A running server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    admin_token: String,
    http: reqwest::Client,
}

/// The connection limit of the bench workspace's customer roles.
const BENCH_CONNECTION_LIMIT: &str = "200";

impl Server {
    /// Starts `binary serve` with its data in `data_dir`, logging at `log` (the
    /// `PLINTH_LOG` filter).
    pub fn start(binary: &Path, data_dir: &Path, log: &str) -> anyhow::Result<Self> {
        let mut child = crate::session::own_session(&mut Command::new(binary))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("PLINTH_LOG", log)
            // The ceilings connect as the workspace's runtime role with as many
            // clients as the highest concurrency (and PostGraphile's pool beside
            // them): more than a customer role's default connection limit.
            .env("PLINTH_TENANT_CONNECTION_LIMIT", BENCH_CONNECTION_LIMIT)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let Some(line) = lines.next() else {
                bail!("plinth exited before listening");
            };
            let line = line?;
            if let Some(address) = line.split("listening on ").nth(1) {
                break address.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let admin_token = std::fs::read_to_string(data_dir.join("admin-token"))?
            .trim()
            .to_owned();
        Ok(Self {
            child,
            base,
            admin_token,
            http: reqwest::Client::new(),
        })
    }

    /// The process id (for CPU accounting).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        workspace: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(&body);
        if let Some(ws) = workspace {
            request = request.header("X-Workspace-Id", ws);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {body}");
        }
        Ok(body)
    }

    /// Creates and provisions a workspace; returns its id.
    pub async fn workspace(&self) -> anyhow::Result<String> {
        let created = self
            .call(
                reqwest::Method::POST,
                "/v1/admin/workspaces",
                None,
                json!({"name": "bench"}),
            )
            .await?;
        let id = created["id"].as_str().context("workspace id")?.to_owned();
        self.call(
            reqwest::Method::POST,
            "/api/v2/ingestion/provision",
            Some(&id),
            json!({}),
        )
        .await?;
        Ok(id)
    }

    /// An API key with these scopes.
    pub async fn key(&self, workspace: &str, scopes: &[&str]) -> anyhow::Result<String> {
        let body = self
            .call(
                reqwest::Method::POST,
                &format!("/v1/admin/workspaces/{workspace}/api-keys"),
                None,
                json!({"name": "bench", "scopes": scopes}),
            )
            .await?;
        Ok(body["key"].as_str().context("key")?.to_owned())
    }

    /// The runtime role's direct (not pooled) URI.
    pub async fn runtime_uri(&self, workspace: &str) -> anyhow::Result<String> {
        let body = self
            .call(
                reqwest::Method::POST,
                "/api/v2/ingestion/connection-uris/reveal",
                Some(workspace),
                json!({"kind": "runtime", "pooled": false}),
            )
            .await?;
        Ok(body["uri"].as_str().context("uri")?.to_owned())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM, so the embedded PostgreSQL is stopped too.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// The Cargo profile `plinth` is measured in: release with fat LTO and one codegen
/// unit (see the workspace's `Cargo.toml`), the build to deploy.
const PROFILE: &str = "release-lto";

/// Builds the `plinth` binary in [`PROFILE`] and returns its path. Its dependencies
/// are compiled once more for that profile (the first time: about 20 minutes on two
/// cores, most of it the final link); the harness itself stays in plain release.
pub fn build_plinth() -> anyhow::Result<PathBuf> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // `cargo run` gave the harness its own package's variables. Build scripts that
    // read them (ring's does) would see a change from a build by hand and compile
    // again, and with them the whole LTO link: leave them out.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || matches!(
                &*name,
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            )
        {
            cargo.env_remove(&*name);
        }
    }
    let status = cargo
        .args([
            "build",
            "--profile",
            PROFILE,
            "-p",
            "plinth",
            "--bin",
            "plinth",
        ])
        .status()?;
    if !status.success() {
        bail!("cargo build --profile {PROFILE} failed");
    }
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let binary = PathBuf::from(target).join(PROFILE).join("plinth");
    if !binary.exists() {
        bail!("{} was not built", binary.display());
    }
    Ok(binary)
}

/// A loopback port nobody listens on now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
