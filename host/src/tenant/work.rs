//! The transaction shapes of the Data API's statements, each answering typed rows
//! ([`FromRow`]) and a [`WorkError`]:
//!
//! - [`read_in_context`]: `BEGIN READ ONLY`, the tenant context with the schema
//!   version, the statement and `COMMIT`, pipelined in one write;
//! - [`read_in_context_then`]: the same with a second statement beside the first and
//!   a step after both, before `COMMIT` (an estimate and its count);
//! - [`read_context_free`]: one statement in its own implicit transaction, whose row
//!   carries the schema version (on a lane connection, or batched: `tenant::batch`);
//! - [`write_in_context`]: `BEGIN`, the context with the version and the statement
//!   pipelined, then `COMMIT` unless the caller refuses the row.
//!
//! Each checks the schema version the statement was planned against and answers
//! [`Versioned::Stale`] when it moved; the caller plans again, at most
//! [`STALE_SCHEMA_ATTEMPTS`] times.

use std::future::Future;

use deadpool_postgres::ClientWrapper;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::transaction::{set_context_with_version, TenantContext};
use super::TenantError;
use crate::cluster::is_connection_error;
use crate::schema_cache::VersionSource;
use crate::sql::statement::{FromRow, Statement};

/// How many times a request plans and runs before a schema that keeps moving under
/// it is answered as unavailable.
pub const STALE_SCHEMA_ATTEMPTS: usize = 3;

/// The schema version a statement was planned against, and where the server reads it.
#[derive(Debug, Clone, Copy)]
pub struct SchemaStamp {
    /// The version the plan's schema cache has.
    pub version: i64,
    /// Where the workspace keeps it.
    pub source: VersionSource,
}

/// An answer, or word that the schema moved since the statement was planned (the
/// transaction is then rolled back).
#[derive(Debug)]
pub enum Versioned<T> {
    /// The schema is the one planned against.
    Current(T),
    /// It moved: plan again with a fresh schema.
    Stale,
}

/// The row of the context statement: its fifth column is the schema version.
struct ContextRow {
    version: i64,
}

impl FromRow for ContextRow {
    fn from_row(row: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            version: row.try_get(4)?,
        })
    }
}

/// What a write did with its transaction.
#[derive(Debug)]
pub enum Settled<R> {
    /// Committed.
    Committed(R),
    /// Rolled back because the caller refused the row.
    Refused(R),
}

/// Why tenant work failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// No connection to the workspace database.
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// A statement failed.
    #[error(transparent)]
    Database(#[from] tokio_postgres::Error),
    /// The `COMMIT` failed: the write's outcome may be unknown.
    #[error("commit failed: {0}")]
    Commit(tokio_postgres::Error),
}

impl WorkError {
    /// Whether the connection the work ran on may be gone (or going): it must not
    /// serve another request.
    pub fn may_have_lost_the_connection(&self) -> bool {
        match self {
            Self::Tenant(error) => matches!(error, TenantError::Unavailable(_)),
            Self::Database(error) | Self::Commit(error) => is_connection_error(error),
        }
    }

    /// Whether the statement named a relation or column the database does not have
    /// (any more): the plan's schema may be stale.
    pub fn is_stale_schema(&self) -> bool {
        let Self::Database(error) = self else {
            return false;
        };
        matches!(
            error.code(),
            Some(c) if *c == SqlState::UNDEFINED_COLUMN
                || *c == SqlState::UNDEFINED_TABLE
                || *c == SqlState::UNDEFINED_OBJECT
        )
    }
}

/// An error a transaction's body may answer with: it can carry a [`WorkError`], and
/// says whether the connection may be lost (then it is closed, not pooled).
pub trait WorkFailure: From<WorkError> {
    /// Whether the connection may have been lost with this error.
    fn may_have_lost_the_connection(&self) -> bool;
}

/// The four context settings, bound as the context statement's parameters.
fn context_values(settings: &[String; 4]) -> [&(dyn ToSql + Sync); 4] {
    [&settings[0], &settings[1], &settings[2], &settings[3]]
}

/// The context statement (with the version as `stamp` says to read it) and `main`,
/// prepared once per connection.
async fn prepare(
    client: &ClientWrapper,
    stamp: SchemaStamp,
    main: &Statement,
) -> Result<(tokio_postgres::Statement, tokio_postgres::Statement), tokio_postgres::Error> {
    let context = client
        .prepare_cached(set_context_with_version(stamp.source))
        .await?;
    let main = client
        .prepare_typed_cached(&main.text, &main.types())
        .await?;
    Ok((context, main))
}

/// `BEGIN READ ONLY`, the context with the version, `main` and `COMMIT`, in one write.
pub async fn read_in_context<R: FromRow>(
    client: &ClientWrapper,
    ctx: TenantContext<'_>,
    stamp: SchemaStamp,
    main: &Statement,
) -> Result<Versioned<R>, WorkError> {
    let (context, prepared) = prepare(client, stamp, main).await?;
    let settings = ctx.settings();
    let settings = context_values(&settings);
    let values = main.values();
    let (begin, version, row, commit) = futures::join!(
        client.batch_execute("BEGIN READ ONLY"),
        client.query_one(&context, &settings),
        client.query_one(&prepared, &values),
        client.batch_execute("COMMIT"),
    );
    begin?;
    if ContextRow::from_row(&version?)?.version != stamp.version {
        return Ok(Versioned::Stale);
    }
    let row = R::from_row(&row?)?;
    commit?;
    Ok(Versioned::Current(row))
}

/// `BEGIN READ ONLY`, the context with the version, `main` and `beside` in one
/// write; then `then` with both answers, and `COMMIT`.
pub async fn read_in_context_then<R, X, T, Then>(
    client: &ClientWrapper,
    ctx: TenantContext<'_>,
    stamp: SchemaStamp,
    main: &Statement,
    beside: impl Future<Output = Result<X, tokio_postgres::Error>>,
    then: impl FnOnce(R, X) -> Then,
) -> Result<Versioned<T>, WorkError>
where
    R: FromRow,
    Then: Future<Output = Result<T, tokio_postgres::Error>>,
{
    let (context, prepared) = prepare(client, stamp, main).await?;
    let settings = ctx.settings();
    let settings = context_values(&settings);
    let values = main.values();
    let (begin, version, row, beside) = futures::join!(
        client.batch_execute("BEGIN READ ONLY"),
        client.query_one(&context, &settings),
        client.query_one(&prepared, &values),
        beside,
    );
    begin?;
    if ContextRow::from_row(&version?)?.version != stamp.version {
        client.batch_execute("ROLLBACK").await?;
        return Ok(Versioned::Stale);
    }
    let answer = then(R::from_row(&row?)?, beside?).await?;
    client.batch_execute("COMMIT").await?;
    Ok(Versioned::Current(answer))
}

/// `main` alone, in its own implicit transaction: no `BEGIN`, context or `COMMIT`,
/// so that `client` may be a shared lane connection. `main`'s row carries the schema
/// version ([`FromRow::schema_version`]); with `beside`, both run together.
pub async fn read_context_free<R, X>(
    client: &ClientWrapper,
    stamp: SchemaStamp,
    main: &Statement,
    beside: impl Future<Output = Result<X, tokio_postgres::Error>>,
) -> Result<Versioned<(R, X)>, WorkError>
where
    R: FromRow,
{
    let prepared = client
        .prepare_typed_cached(&main.text, &main.types())
        .await?;
    let values = main.values();
    let (row, beside) = futures::join!(client.query_one(&prepared, &values), beside);
    let row = R::from_row(&row?)?;
    Ok(match current(&row, stamp) {
        true => Versioned::Current((row, beside?)),
        false => Versioned::Stale,
    })
}

/// Whether a row that carries the schema version carries the planned one.
pub fn current<R: FromRow>(row: &R, stamp: SchemaStamp) -> bool {
    row.schema_version()
        .is_none_or(|version| version == stamp.version)
}

/// `BEGIN`, the context with the version and `main` in one write; then `COMMIT`, or
/// `ROLLBACK` when `accept` refuses the row.
pub async fn write_in_context<R: FromRow>(
    client: &ClientWrapper,
    ctx: TenantContext<'_>,
    stamp: SchemaStamp,
    main: &Statement,
    accept: impl FnOnce(&R) -> bool,
) -> Result<Versioned<Settled<R>>, WorkError> {
    let (context, prepared) = prepare(client, stamp, main).await?;
    let settings = ctx.settings();
    let settings = context_values(&settings);
    let values = main.values();
    let (begin, version, row) = futures::join!(
        client.batch_execute("BEGIN"),
        client.query_one(&context, &settings),
        client.query_one(&prepared, &values),
    );
    begin?;
    let context = match version.and_then(|row| ContextRow::from_row(&row)) {
        Ok(context) => context,
        Err(error) => {
            client.batch_execute("ROLLBACK").await?;
            return Err(error.into());
        }
    };
    if context.version != stamp.version {
        client.batch_execute("ROLLBACK").await?;
        return Ok(Versioned::Stale);
    }
    let row = match row.and_then(|row| R::from_row(&row)) {
        Ok(row) => row,
        Err(error) => {
            client.batch_execute("ROLLBACK").await?;
            return Err(error.into());
        }
    };
    if !accept(&row) {
        client.batch_execute("ROLLBACK").await?;
        return Ok(Versioned::Current(Settled::Refused(row)));
    }
    client
        .batch_execute("COMMIT")
        .await
        .map_err(WorkError::Commit)?;
    Ok(Versioned::Current(Settled::Committed(row)))
}
