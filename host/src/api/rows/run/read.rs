//! `GET rows/{table}`: plan → authorize → statement → run → page. A read of
//! context-free relations runs as one statement (batched with concurrent requests
//! running the same one, or on the workspace's lane); any other read runs in a
//! transaction that sets the tenant context.

use std::sync::Arc;

use deadpool_postgres::ClientWrapper;
use futures::FutureExt;

use super::grants::authorizer_fault;
use super::{stamp, Rows};
use crate::api::rows::exact_counts::{CountKey, Counted};
use crate::error::ApiError;
use crate::plan::read::ReadPlan;
use crate::plan::{self};
use crate::request::Query;
use crate::schema_cache::SchemaCache;
use crate::sql::rows::{self as statements, PageRow, TotalCell};
use crate::sql::statement::{FromRow, Statement};
use crate::tenant::work::{self, Versioned, WorkError, STALE_SCHEMA_ATTEMPTS};
use crate::tenant::{Session, TenantError, Turn};

/// Above this many estimated rows, `count=estimated` answers the estimate.
pub const ESTIMATE_THRESHOLD: i64 = 1_000;

/// A page of rows: the JSON array, its length, and the total.
pub struct Page {
    /// JSON array text.
    pub data: String,
    /// Rows in the page.
    pub len: i64,
    /// All matching rows.
    pub total: i64,
}

/// A read's exact count that may be answered from [`crate::api::rows::ExactCounts`]:
/// its key, and the count remembered under it, if any.
struct ReusableCount {
    key: Arc<CountKey>,
    known: Option<Counted>,
}

impl ReusableCount {
    /// The write counter sent with the read: the remembered one, or -1 (a sum of
    /// counters is never negative) so that the count runs.
    fn known_changes(&self) -> i64 {
        self.known.map_or(-1, |k| k.changes)
    }
}

/// One run of a read: its answer, and the session it ran in, if it took one (to be
/// released, or to reload the schema in when the answer is stale).
struct Attempt {
    ran: Result<Versioned<Page>, WorkError>,
    session: Option<Session>,
}

impl Rows<'_> {
    /// Reads a page (or, with `single_key`, one row).
    pub async fn read(
        &self,
        table: &str,
        query: &Query,
        count: plan::CountMode,
        single_key: Option<&str>,
    ) -> Result<Page, ApiError> {
        let mut schema = self.schema().await?;
        for attempt in 1..=STALE_SCHEMA_ATTEMPTS {
            let (_, mut plan) = self
                .plan_with(&mut schema, table, &|schema, relation| {
                    plan::read::plan(schema, relation, query, count, single_key)
                })
                .await?;
            let relations = plan.relations();
            let grants = self.read_grants(&relations).await?;
            plan.apply_grants(&grants).map_err(authorizer_fault)?;
            let reuse = self.reusable_count(&schema, &plan);
            let reuse = reuse.as_ref();
            let Attempt { ran, session } = if relations.iter().all(|r| r.context_free) {
                self.context_free_read(&schema, &plan, reuse).await?
            } else {
                self.read_in_session(&schema, &plan, reuse).boxed().await?
            };
            match ran {
                Ok(Versioned::Current(page)) => {
                    if let Some(session) = session {
                        session.release();
                    }
                    return Ok(page);
                }
                Ok(Versioned::Stale) => {}
                Err(e) if attempt < STALE_SCHEMA_ATTEMPTS && e.is_stale_schema() => {}
                Err(e) => return Err(e.into()),
            }
            schema = self.reload_after_stale(session).boxed().await?;
        }
        Err(ApiError::database_unavailable())
    }

    /// A read of context-free relations only: batched with concurrent requests
    /// running the same statement when it asks no estimate (see `tenant::batch`),
    /// else on the workspace's lane, else in a session of its own.
    async fn context_free_read(
        &self,
        schema: &SchemaCache,
        plan: &ReadPlan,
        reuse: Option<&ReusableCount>,
    ) -> Result<Attempt, ApiError> {
        let pool = self.state.tenancy.api_pool(self.workspace).await?;
        let known_changes = reuse.map(ReusableCount::known_changes);
        let statement = statements::read(plan, Some(schema.version_source), known_changes);
        let (statement, _leading) = if plan.count.wants_estimate() {
            (statement, None)
        } else {
            let batch = || statements::read_batch(plan, Some(schema.version_source), known_changes);
            // Reads batch with those of the same text and page window, which their
            // batch statement passes as plain parameters (`BatchStatement::shared`).
            let key = format!("{}\n{}:{}", statement.text, plan.limit, plan.offset);
            let turn = pool
                .read_turn(&key, statement, batch)
                .await
                .map_err(|_| ApiError::database_unavailable())?;
            match turn {
                Turn::Row(row) => {
                    let ran = PageRow::from_row(&row)
                        .map(|row| self.exact_page(row, schema, reuse))
                        .map_err(WorkError::from);
                    return Ok(Attempt { ran, session: None });
                }
                Turn::Own(statement, leading) => (statement, leading),
            }
        };
        if let Some(shared) = pool.shared().await.map_err(TenantError::from)? {
            let ran = self
                .run_context_free(shared.client(), schema, plan, reuse, &statement)
                .await;
            return Ok(Attempt { ran, session: None });
        }
        let session = self.state.tenancy.session(self.workspace).await?;
        let ran = self
            .run_context_free(session.client(), schema, plan, reuse, &statement)
            .await;
        Ok(Attempt {
            ran,
            session: Some(session),
        })
    }

    /// The page of a context-free read that asked no estimate, unless it carries
    /// another schema version than the plan's.
    fn exact_page(
        &self,
        row: PageRow,
        schema: &SchemaCache,
        reuse: Option<&ReusableCount>,
    ) -> Versioned<Page> {
        if !work::current(&row, stamp(schema)) {
            return Versioned::Stale;
        }
        Versioned::Current(Page {
            total: self.exact_total(row.total, reuse),
            data: row.data,
            len: row.len,
        })
    }

    /// Runs `statement`, a context-free read (see
    /// [`crate::schema_cache::Relation::context_free`]): no BEGIN, tenant context or
    /// COMMIT, a quarter of the statements the server would otherwise run for a
    /// primary-key read. `client` may be a shared lane connection.
    async fn run_context_free(
        &self,
        client: &ClientWrapper,
        schema: &SchemaCache,
        plan: &ReadPlan,
        reuse: Option<&ReusableCount>,
        statement: &Statement,
    ) -> Result<Versioned<Page>, WorkError> {
        let stamp = stamp(schema);
        if !plan.count.wants_estimate() {
            let ran = work::read_context_free(client, stamp, statement, async { Ok(()) }).await?;
            return Ok(match ran {
                Versioned::Current((row, ())) => self.exact_page(row, schema, reuse),
                Versioned::Stale => Versioned::Stale,
            });
        }
        let ran = work::read_context_free(client, stamp, statement, estimate(client, plan)).await?;
        let Versioned::Current((row, estimate)) = ran else {
            return Ok(Versioned::Stale);
        };
        let row: PageRow = row;
        let total = estimated_total(client, plan, estimate).await?;
        Ok(Versioned::Current(Page {
            data: row.data,
            len: row.len,
            total,
        }))
    }

    /// A read that needs the tenant context, in a transaction of its own session.
    async fn read_in_session(
        &self,
        schema: &SchemaCache,
        plan: &ReadPlan,
        reuse: Option<&ReusableCount>,
    ) -> Result<Attempt, ApiError> {
        let session = self.state.tenancy.session(self.workspace).await?;
        let client = session.client();
        let statement = statements::read(plan, None, reuse.map(ReusableCount::known_changes));
        let (ctx, stamp) = (self.context(), stamp(schema));
        let ran = if plan.count.wants_estimate() {
            let count = |row: PageRow, estimate| async move {
                let total = estimated_total(client, plan, estimate).await?;
                Ok(Page {
                    data: row.data,
                    len: row.len,
                    total,
                })
            };
            let estimate = estimate(client, plan);
            work::read_in_context_then(client, ctx, stamp, &statement, estimate, count).await
        } else {
            work::read_in_context::<PageRow>(client, ctx, stamp, &statement)
                .await
                .map(|ran| match ran {
                    Versioned::Current(row) => Versioned::Current(Page {
                        total: self.exact_total(row.total, reuse),
                        data: row.data,
                        len: row.len,
                    }),
                    Versioned::Stale => Versioned::Stale,
                })
        };
        Ok(Attempt {
            ran,
            session: Some(session),
        })
    }

    /// The remembered count the read may reuse: an exact count of one relation whose
    /// writes are counted (see [`crate::api::rows::ExactCounts`]).
    fn reusable_count(&self, schema: &SchemaCache, plan: &ReadPlan) -> Option<ReusableCount> {
        let count = statements::reusable_count(plan)?;
        let key = Arc::new(CountKey {
            workspace: self.workspace.id,
            database: schema.database,
            schema_version: schema.version,
            text: count.text,
            params: count.params,
        });
        let known = self.state.exact_counts.get(&key);
        Some(ReusableCount { key, known })
    }

    /// The read's exact total: the count itself, or with a [`ReusableCount`], `NULL`
    /// when the remembered count still holds or else the count and the relation's
    /// write counter, which are remembered. Called once the read's schema version
    /// has been checked.
    fn exact_total(&self, total: TotalCell, reuse: Option<&ReusableCount>) -> i64 {
        let Some(reuse) = reuse else {
            return match total {
                TotalCell::Count(count) => count.unwrap_or(0),
                TotalCell::Reusable(_) => 0,
            };
        };
        match (total, reuse.known) {
            (TotalCell::Reusable(Some([total, changes])), _) => {
                self.state
                    .exact_counts
                    .record(reuse.key.clone(), Counted { changes, total });
                total
            }
            (_, Some(known)) => {
                self.state.exact_counts.reused();
                known.total
            }
            // The statement answers NULL only for the counter it was sent, which
            // came from a remembered count.
            (_, None) => 0,
        }
    }
}

/// The planner's row estimate for the read's filter.
async fn estimate(client: &ClientWrapper, plan: &ReadPlan) -> Result<i64, tokio_postgres::Error> {
    let explain = statements::estimate(plan);
    let statement = client
        .prepare_typed_cached(&explain.text, &explain.types())
        .await?;
    let plan_json: serde_json::Value = client
        .query_one(&statement, &explain.values())
        .await?
        .try_get(0)?;
    Ok(plan_json[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(0.0) as i64)
}

/// The estimate when it is above [`ESTIMATE_THRESHOLD`], else the exact count.
async fn estimated_total(
    client: &ClientWrapper,
    plan: &ReadPlan,
    estimated: i64,
) -> Result<i64, tokio_postgres::Error> {
    if estimated > ESTIMATE_THRESHOLD {
        return Ok(estimated);
    }
    let count = statements::count(plan);
    let statement = client
        .prepare_typed_cached(&count.text, &count.types())
        .await?;
    client
        .query_one(&statement, &count.values())
        .await?
        .try_get(0)
}
