//! The vault engine-adapter worlds: the capabilities the host grants an adapter for
//! the length of one call (a SQL session on the workspace database as its vault
//! role, inside one transaction; or HTTP to the one configured engine endpoint), and
//! the call path that binds a capability, runs the adapter and settles the
//! transaction by its answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use postgres_types::{FromSql, ToSql, Type};
use uuid::Uuid;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::Store;

use super::bindings::plinth::vault::http;
use super::bindings::plinth::vault::sql;
use super::registry::Exports;
use super::state::HostState;
use super::{PluginError, PluginFault, PluginKind, PluginRuntime};
use crate::tenant::prepare_bounded;

/// Longest engine HTTP exchange.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest engine HTTP answer handed to an adapter.
const MAX_HTTP_BODY: usize = 64 << 20;

/// A pooled connection for one adapter call, in one transaction. The `BEGIN` goes
/// out with the adapter's first statement, in the same write (a round trip fewer
/// per call); a call that sends no statement opens no transaction. Dropped without
/// [`SqlSession::finish`] (the adapter trapped, or the request was cancelled), its
/// transaction is rolled back off the request's path and the connection pooled
/// again (see [`roll_back_and_pool`](crate::tenant::roll_back_and_pool)).
pub struct SqlSession {
    client: Option<deadpool_postgres::Object>,
    begun: bool,
}

impl SqlSession {
    /// A session on `client`; nothing is sent yet.
    pub fn new(client: deadpool_postgres::Object) -> Self {
        Self {
            client: Some(client),
            begun: false,
        }
    }

    /// Runs the statement `send` starts on the connection, inside the transaction:
    /// the first one pipelined behind the `BEGIN`. `None` once the session has ended.
    async fn run<'c, T, F>(
        &'c mut self,
        send: impl FnOnce(&'c deadpool_postgres::ClientWrapper) -> F,
    ) -> Option<Result<T, tokio_postgres::Error>>
    where
        F: Future<Output = Result<T, tokio_postgres::Error>> + 'c,
    {
        let client = self.client.as_deref()?;
        if self.begun {
            return Some(send(client).await);
        }
        self.begun = true;
        // In one write: BEGIN cannot fail on a live connection, and on a lost one
        // the statement behind it fails as well.
        let (begin, statement) = futures::join!(client.batch_execute("BEGIN"), send(client));
        Some(begin.and(statement))
    }

    /// Commits (or rolls back) and returns the connection to its pool.
    pub async fn finish(mut self, commit: bool) -> Result<(), tokio_postgres::Error> {
        let Some(client) = self.client.take() else {
            return Ok(());
        };
        if !self.begun {
            return Ok(());
        }
        let outcome = client
            .batch_execute(if commit { "COMMIT" } else { "ROLLBACK" })
            .await;
        if outcome.is_err() {
            drop(deadpool_postgres::Object::take(client));
        }
        outcome
    }
}

impl Drop for SqlSession {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if self.begun {
                crate::tenant::roll_back_and_pool(client);
            }
        }
    }
}

/// The one engine endpoint an HTTP adapter may reach, pinned to one database.
pub struct HttpEndpoint {
    /// `http://host:port`, no trailing slash.
    pub base: String,
    /// The database every request runs in (`database=` is added by the host).
    pub database: String,
    /// The shared client.
    pub client: reqwest::Client,
}

/// What an adapter may reach during one call.
pub enum Capability {
    /// SQL on the workspace database as its vault role.
    Sql(Box<SqlSession>),
    /// HTTP to the configured engine endpoint.
    Http(Arc<HttpEndpoint>),
}

/// Adds the `sql` and `http` imports to the adapters' linker.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    sql::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    http::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    Ok(())
}

fn sql_error(error: &tokio_postgres::Error) -> sql::SqlError {
    match error.as_db_error() {
        Some(db) => sql::SqlError {
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
        },
        None => sql::SqlError {
            code: String::new(),
            message: "the database could not be reached".to_owned(),
        },
    }
}

fn no_capability() -> sql::SqlError {
    sql::SqlError {
        code: "42501".to_owned(),
        message: "this adapter has no SQL capability in this call".to_owned(),
    }
}

/// The declared types and the values of bound parameters.
fn split(owned: &[(Box<dyn ToSql + Sync + Send>, Type)]) -> (Vec<Type>, Vec<&(dyn ToSql + Sync)>) {
    owned
        .iter()
        .map(|(value, ty)| (ty.clone(), value.as_ref() as &(dyn ToSql + Sync)))
        .unzip()
}

/// Owned bind values with their declared types (statements cast as they need).
fn bind(params: &[sql::Value]) -> Vec<(Box<dyn ToSql + Sync + Send>, Type)> {
    params
        .iter()
        .map(|p| -> (Box<dyn ToSql + Sync + Send>, Type) {
            match p {
                sql::Value::Null => (Box::new(None::<String>), Type::TEXT),
                sql::Value::Boolean(b) => (Box::new(*b), Type::BOOL),
                sql::Value::Integer(i) => (Box::new(*i), Type::INT8),
                sql::Value::Number(n) => (Box::new(*n), Type::FLOAT8),
                sql::Value::Text(t) | sql::Value::Json(t) => (Box::new(t.clone()), Type::TEXT),
            }
        })
        .collect()
}

/// A `json` or `jsonb` value's text as PostgreSQL sent it: `query-json` hands rows
/// to the adapter as JSON text, so parsing them into a tree only to print them
/// again would be wasted (postgres-types' `Json<T>` always deserialises). SQL
/// `NULL` is `null`.
struct JsonText(String);

/// The only `jsonb` binary format version PostgreSQL has.
const JSONB_VERSION: u8 = 1;

impl<'a> FromSql<'a> for JsonText {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = if *ty == Type::JSONB {
            match raw.split_first() {
                Some((&JSONB_VERSION, text)) => text,
                _ => return Err("unsupported jsonb format version".into()),
            }
        } else {
            raw
        };
        Ok(JsonText(std::str::from_utf8(text)?.to_owned()))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(JsonText("null".to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

impl sql::Host for HostState {
    async fn query_json(
        &mut self,
        statement: String,
        params: Vec<sql::Value>,
    ) -> wasmtime::Result<Result<Vec<String>, sql::SqlError>> {
        let Some(Capability::Sql(session)) = &mut self.capability else {
            return Ok(Err(no_capability()));
        };
        let owned = bind(&params);
        let (types, values) = split(&owned);
        let rows = session
            .run(|client| async move {
                let statement = prepare_bounded(client, &statement, &types).await?;
                client.query(&statement, &values).await
            })
            .await;
        Ok(match rows {
            None => Err(no_capability()),
            Some(Ok(rows)) => Ok(rows
                .iter()
                .map(|row| match row.try_get::<_, JsonText>(0) {
                    Ok(JsonText(text)) => text,
                    Err(_) => "null".to_owned(),
                })
                .collect()),
            Some(Err(error)) => Err(sql_error(&error)),
        })
    }

    async fn execute(
        &mut self,
        statement: String,
        params: Vec<sql::Value>,
    ) -> wasmtime::Result<Result<u64, sql::SqlError>> {
        let Some(Capability::Sql(session)) = &mut self.capability else {
            return Ok(Err(no_capability()));
        };
        if params.is_empty() {
            // DDL and other statements without parameters: the simple protocol.
            let messages = session.run(|client| client.simple_query(&statement)).await;
            return Ok(match messages {
                None => Err(no_capability()),
                Some(Ok(messages)) => Ok(messages
                    .iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
                        _ => None,
                    })
                    .sum()),
                Some(Err(error)) => Err(sql_error(&error)),
            });
        }
        let owned = bind(&params);
        let (types, values) = split(&owned);
        let affected = session
            .run(|client| async move {
                let statement = prepare_bounded(client, &statement, &types).await?;
                client.execute(&statement, &values).await
            })
            .await;
        Ok(match affected {
            None => Err(no_capability()),
            Some(Ok(affected)) => Ok(affected),
            Some(Err(error)) => Err(sql_error(&error)),
        })
    }
}

impl http::Host for HostState {
    async fn send(
        &mut self,
        request: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        let Some(Capability::Http(endpoint)) = &self.capability else {
            return Ok(Err(http::HttpError::Refused(
                "this adapter has no HTTP capability in this call".into(),
            )));
        };
        let path = request.path_and_query;
        let (route, query) = path.split_once('?').unwrap_or((&path, ""));
        let pinned = ["database", "user", "password", "query_id"];
        if !route.starts_with('/')
            || route.starts_with("//")
            || route.contains('@')
            || route.contains("://")
            || query
                .split('&')
                .any(|p| pinned.contains(&p.split('=').next().unwrap_or("")))
        {
            return Ok(Err(http::HttpError::Refused(format!(
                "`{path}` does not stay on the engine endpoint and its database"
            ))));
        }
        let separator = if query.is_empty() { "?" } else { "&" };
        let url = format!(
            "{}{path}{separator}database={}",
            endpoint.base, endpoint.database
        );
        let builder = match request.method {
            http::Method::Get => endpoint.client.get(url),
            http::Method::Post => endpoint.client.post(url).body(request.body),
        };
        let response = match builder.timeout(HTTP_TIMEOUT).send().await {
            Ok(response) => response,
            Err(error) if error.is_timeout() => return Ok(Err(http::HttpError::Timeout)),
            Err(error) => return Ok(Err(http::HttpError::Unreachable(error.to_string()))),
        };
        let status = response.status().as_u16();
        match response.bytes().await {
            Ok(body) if body.len() <= MAX_HTTP_BODY => Ok(Ok(http::Response {
                status,
                body: body.to_vec(),
            })),
            Ok(_) => Ok(Err(http::HttpError::Refused(
                "the engine's answer is too large".into(),
            ))),
            Err(error) => Ok(Err(http::HttpError::Unreachable(error.to_string()))),
        }
    }
}

/// The exports of a vault engine adapter.
pub use super::bindings::exports::plinth::vault::adapter::Guest as AdapterGuest;

/// The boxed future of one adapter call.
pub type AdapterFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

impl PluginRuntime {
    /// Runs one call of the built-in adapter of `engine` for `workspace` with
    /// `capability` bound; returns the adapter's answer and the capability back
    /// (absent when the call trapped, in which case it has been dropped).
    pub async fn call_adapter<R, F>(
        &self,
        engine: &str,
        workspace: Uuid,
        capability: Capability,
        call: F,
    ) -> Result<(R, Option<Capability>), PluginError>
    where
        R: Send + 'static,
        F: for<'a> FnOnce(&'a mut Store<HostState>, &'a AdapterGuest) -> AdapterFuture<'a, R>
            + Send
            + 'static,
    {
        let name = match engine {
            "clickhouse" => super::builtin::CLICKHOUSE_ADAPTER_NAME,
            _ => super::builtin::POSTGRES_ADAPTER_NAME,
        };
        let plugin = self
            .registry
            .builtin_named(PluginKind::VaultAdapter, name)?;
        self.invoke(&plugin, Some(workspace), move |store, exports| {
            Box::pin(async move {
                let Exports::Vault(guest) = exports else {
                    return Err(wasmtime::Error::msg("not a vault adapter"));
                };
                store.data_mut().capability = Some(capability);
                let answer = call(store, guest).await;
                let capability = store.data_mut().capability.take();
                answer.map(|value| (value, capability))
            })
        })
        .await
        .map_err(|mut error| {
            if let PluginFault::Invalid(_) = error.fault {
                error.fault = PluginFault::Host("the vault adapter is not usable".into());
            }
            error
        })
    }
}

#[cfg(test)]
mod tests;
