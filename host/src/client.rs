//! The operator subcommands (`plinth workspace ...`, `plinth key ...`): thin clients
//! of a running server's admin API, so an operator needs no curl.

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::cli::{ClientArgs, KeyCommand, WorkspaceCommand};

struct AdminClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl AdminClient {
    fn new(args: &ClientArgs) -> anyhow::Result<Self> {
        let token = match &args.admin_token {
            Some(token) => token.clone(),
            None => {
                let path = args.data_dir.join("admin-token");
                std::fs::read_to_string(&path)
                    .with_context(|| {
                        format!(
                            "no --admin-token given and {} cannot be read",
                            path.display()
                        )
                    })?
                    .trim()
                    .to_owned()
            }
        };
        Ok(Self {
            base: args.url.trim_end_matches('/').to_owned(),
            token,
            http: reqwest::Client::new(),
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let message = value["error"]["message"].as_str().unwrap_or(&text);
            bail!("{status}: {message}");
        }
        Ok(value)
    }
}

fn print(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// Runs `plinth workspace ...`.
pub async fn workspace(command: WorkspaceCommand) -> anyhow::Result<()> {
    match command {
        WorkspaceCommand::Create {
            name,
            tenant_id,
            client,
        } => {
            let c = AdminClient::new(&client)?;
            let body = json!({ "name": name, "tenant_id": tenant_id });
            print(
                &c.send(reqwest::Method::POST, "/v1/admin/workspaces", Some(body))
                    .await?,
            );
        }
        WorkspaceCommand::List { client } => {
            let c = AdminClient::new(&client)?;
            print(
                &c.send(reqwest::Method::GET, "/v1/admin/workspaces", None)
                    .await?,
            );
        }
        WorkspaceCommand::Show { id, client } => {
            let c = AdminClient::new(&client)?;
            print(
                &c.send(
                    reqwest::Method::GET,
                    &format!("/v1/admin/workspaces/{id}"),
                    None,
                )
                .await?,
            );
        }
    }
    Ok(())
}

/// Runs `plinth key ...`.
pub async fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create {
            workspace,
            name,
            scopes,
            client,
        } => {
            let c = AdminClient::new(&client)?;
            let body = json!({ "name": name, "scopes": scopes });
            let path = format!("/v1/admin/workspaces/{workspace}/api-keys");
            print(&c.send(reqwest::Method::POST, &path, Some(body)).await?);
        }
        KeyCommand::Revoke {
            workspace,
            key_id,
            client,
        } => {
            let c = AdminClient::new(&client)?;
            let path = format!("/v1/admin/workspaces/{workspace}/api-keys/{key_id}");
            c.send(reqwest::Method::DELETE, &path, None).await?;
            println!("revoked {key_id}");
        }
    }
    Ok(())
}
