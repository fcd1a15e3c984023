//! The tenant transaction: every request's database work runs in one transaction on
//! the workspace's pool, as the API role, after the tenant context is set with
//! `set_config(..., true)` so that row-level security policies can read it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

use deadpool_postgres::ClientWrapper;

use crate::auth::Principal;
use crate::control::workspaces::Workspace;
use crate::schema_cache::VersionSource;

use super::work::{WorkError, WorkFailure};
use super::{PoolKind, Tenancy, TenantError};

/// Whether the transaction may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `READ ONLY`.
    ReadOnly,
    /// Reads and writes.
    ReadWrite,
}

/// Who is asking, for which workspace.
#[derive(Debug, Clone, Copy)]
pub struct TenantContext<'a> {
    /// The (provisioned) workspace.
    pub workspace: &'a Workspace,
    /// The authenticated caller.
    pub principal: &'a Principal,
}

/// Sets the four settings of the tenant context for this transaction only.
const SET_CONTEXT: &str = "SELECT set_config('app.tenant_id', $1, true), \
     set_config('app.workspace_id', $2, true), \
     set_config('app.user_id', $3, true), \
     set_config('request.jwt.claims', $4, true)";

/// The future a transaction body returns.
pub type TxFuture<'t, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 't>>;

/// The transaction a body of [`Tenancy::run`] runs in.
pub struct Tx<'t> {
    client: &'t ClientWrapper,
    ended: AtomicBool,
}

impl<'t> Tx<'t> {
    /// The connection, inside the transaction.
    pub fn client(&self) -> &'t ClientWrapper {
        self.client
    }

    /// Runs the body's last statement with `COMMIT` in the same write, a round trip
    /// fewer. Should the statement fail, PostgreSQL answers the `COMMIT` of the
    /// aborted transaction by rolling it back, and the statement's error is the
    /// answer; a `COMMIT` that fails after it is [`WorkError::Commit`].
    pub async fn finish<T>(
        &self,
        last: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, WorkError> {
        self.ended.store(true, Ordering::Relaxed);
        let (value, commit) = futures::join!(last, self.client.batch_execute("COMMIT"));
        let value = value?;
        commit.map_err(WorkError::Commit)?;
        Ok(value)
    }

    fn ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }
}

impl Tenancy {
    /// Runs `body` in one transaction for `ctx`, committing when it succeeds and
    /// rolling back when it fails, unless the body ended it with [`Tx::finish`].
    /// `BEGIN`, the tenant context and the body's first statements go out in one
    /// write: `BEGIN` cannot fail on a live connection, and a context that fails
    /// aborts the transaction, so nothing of the body runs without it. A request
    /// cancelled midway is rolled back (see [`Session`]).
    pub async fn run<T, E, F>(
        &self,
        ctx: TenantContext<'_>,
        access: Access,
        body: F,
    ) -> Result<T, E>
    where
        E: WorkFailure,
        F: for<'t> FnOnce(&'t Tx<'t>) -> TxFuture<'t, T, E>,
    {
        let session = self
            .session(ctx.workspace)
            .await
            .map_err(|error| E::from(error.into()))?;
        let tx = Tx {
            client: session.client(),
            ended: AtomicBool::new(false),
        };
        let outcome = run_in(&tx, ctx, access, body).await;
        let client = session.client();
        if tx.ended() {
            match &outcome {
                Ok(_) => session.release(),
                Err(error) => session.release_after(error),
            }
            return outcome;
        }
        match outcome {
            Ok(value) => {
                client
                    .batch_execute("COMMIT")
                    .await
                    .map_err(|error| E::from(WorkError::Commit(error)))?;
                session.release();
                Ok(value)
            }
            Err(error) => {
                if client.batch_execute("ROLLBACK").await.is_ok() {
                    session.release();
                }
                Err(error)
            }
        }
    }
}

/// `BEGIN`, the context and `body`, pipelined on the transaction's connection.
async fn run_in<'t, T, E, F>(
    tx: &'t Tx<'t>,
    ctx: TenantContext<'_>,
    access: Access,
    body: F,
) -> Result<T, E>
where
    E: WorkFailure,
    F: FnOnce(&'t Tx<'t>) -> TxFuture<'t, T, E>,
{
    let client = tx.client();
    let db = |error: tokio_postgres::Error| E::from(WorkError::Database(error));
    let statement = client.prepare_cached(SET_CONTEXT).await.map_err(db)?;
    let settings = ctx.settings();
    let settings: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&settings[0], &settings[1], &settings[2], &settings[3]];
    let begin = match access {
        Access::ReadOnly => "START TRANSACTION READ ONLY",
        Access::ReadWrite => "BEGIN",
    };
    let (begun, context, value) = futures::join!(
        client.batch_execute(begin),
        client.query_one(&statement, &settings),
        body(tx),
    );
    begun.map_err(db)?;
    context.map_err(db)?;
    value
}

/// The tenant context and the schema version, in one statement: the Data API's
/// first statement of every transaction. The version is read as `source` says
/// (the constant where the workspace has it, so no execution scans a table for it).
pub fn set_context_with_version(source: VersionSource) -> &'static str {
    static STATEMENTS: LazyLock<[String; 2]> = LazyLock::new(|| {
        [VersionSource::Table, VersionSource::Constant]
            .map(|source| format!("{SET_CONTEXT}, {}", source.expression()))
    });
    match source {
        VersionSource::Table => &STATEMENTS[0],
        VersionSource::Constant => &STATEMENTS[1],
    }
}

impl TenantContext<'_> {
    /// The values of the four settings, in the order of the context statements.
    pub fn settings(&self) -> [String; 4] {
        [
            self.workspace.tenant_id.clone(),
            self.workspace.id.to_string(),
            self.principal.user_id(),
            self.principal.claims.to_string(),
        ]
    }
}

/// A pooled API-role connection for statements the caller pipelines itself. If it is
/// dropped before [`Session::release`] (a request cancelled mid-transaction), its
/// transaction is rolled back before the connection goes back to the pool, so no
/// transaction leaks into the next request.
pub struct Session {
    client: Option<deadpool_postgres::Object>,
}

impl Session {
    /// The connection.
    pub fn client(&self) -> &deadpool_postgres::ClientWrapper {
        self.client
            .as_deref()
            .unwrap_or_else(|| unreachable!("a session's client is present until it is dropped"))
    }

    /// Returns the connection to the pool; only after its transaction has ended.
    pub fn release(mut self) {
        drop(self.client.take());
    }

    /// Returns the connection to the pool after its transaction ended in `error`,
    /// unless the error may mean the connection is lost: then it is closed instead.
    /// A backend that ends itself (terminated, or shut down mid-commit) sends its
    /// error before it closes the socket, so the connection does not yet look
    /// closed to the pool, and the next request to take it would fail too.
    pub fn release_after(mut self, error: &impl WorkFailure) {
        if let Some(object) = self.client.take() {
            if error.may_have_lost_the_connection() {
                drop(deadpool_postgres::Object::take(object));
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(object) = self.client.take() {
            roll_back_and_pool(object);
        }
    }
}

/// Ends an abandoned connection's transaction off the caller's path and pools the
/// connection again: a request cancelled mid-transaction (the client went away) or
/// a plugin that trapped inside one should not cost a new connection (a backend and
/// a SCRAM exchange). The `ROLLBACK` queues behind whatever is still in flight.
/// Should it fail, or no runtime be left to send it, the connection is detached
/// from its pool and closes with its transaction.
pub fn roll_back_and_pool(object: deadpool_postgres::Object) {
    let detach = |object| drop(deadpool_postgres::Object::take(object));
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                if object.batch_execute("ROLLBACK").await.is_err() {
                    detach(object);
                }
            });
        }
        Err(_) => detach(object),
    }
}

impl Tenancy {
    /// A session on the workspace's API pool.
    pub async fn session(&self, workspace: &Workspace) -> Result<Session, TenantError> {
        let pool = self.pool(workspace, PoolKind::Api).await?;
        let client = pool.get().await?;
        Ok(Session {
            client: Some(client),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_statement_reads_the_version_as_its_source_says() {
        for source in [VersionSource::Table, VersionSource::Constant] {
            let sql = set_context_with_version(source);
            assert!(sql.ends_with(source.expression()), "{sql}");
            assert!(sql.contains("set_config('request.jwt.claims', $4, true), "));
        }
    }
}
