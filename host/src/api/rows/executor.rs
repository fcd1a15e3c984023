//! Running Data API requests: the schema cache (reloaded when the workspace's schema
//! version moved), the row authorizer for every relation touched, and one transaction
//! whose statements are pipelined — BEGIN, the tenant context, the statement and, for
//! reads, COMMIT go out together.

use std::collections::HashMap;
use std::sync::Arc;

use deadpool_postgres::ClientWrapper;
use futures::FutureExt;
use tokio_postgres::error::SqlState;

use super::exact_counts::{CountKey, Counted};
use crate::api::row_authorizer::{denied, RowAuthorizer};
use crate::api::AppState;
use crate::auth::Principal;
use crate::control::workspaces::Workspace;
use crate::error::ApiError;
use crate::plan::read::ReadPlan;
use crate::plan::write::{returned_relations, DeletePlan, InsertPlan, UpdatePlan};
use crate::plan::{self, Grants, PlanError, Shape, WriteGrants};
use crate::plugins::authorizer_types::Action;
use crate::plugins::filter_types::Query;
use crate::plugins::{PluginError, PluginFault, PluginKind};
use crate::schema_cache::{self, Relation, SchemaCache};
use crate::sql::rows::{self as statements, Statement};
use crate::tenant::{set_context_with_version, Session, TenantContext, TenantError, Turn};

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

/// Rows a write touched.
pub struct Written {
    /// JSON array text of the returned rows.
    pub data: String,
    /// How many.
    pub count: i64,
}

/// One request's access to a workspace's rows.
pub struct Rows<'a> {
    state: &'a AppState,
    workspace: &'a Workspace,
    principal: &'a Principal,
}

/// A read's exact count that may be answered from [`super::ExactCounts`]: its key, and the
/// count remembered under it, if any.
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

enum Outcome<T> {
    Done(T),
    Stale,
}

fn authorizer_fault(message: String) -> ApiError {
    PluginError::new(
        PluginKind::RowAuthorizer,
        "row-authorizer",
        PluginFault::BadOutput(message),
    )
    .into()
}

fn is_stale_schema(error: &tokio_postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(c) if *c == SqlState::UNDEFINED_COLUMN || *c == SqlState::UNDEFINED_TABLE || *c == SqlState::UNDEFINED_OBJECT
    )
}

impl<'a> Rows<'a> {
    /// Access for `principal` to `workspace`.
    pub fn new(state: &'a AppState, workspace: &'a Workspace, principal: &'a Principal) -> Self {
        Self {
            state,
            workspace,
            principal,
        }
    }

    fn context(&self) -> TenantContext<'_> {
        TenantContext {
            workspace: self.workspace,
            principal: self.principal,
        }
    }

    /// The workspace's schema cache; concurrent requests that find none read the
    /// catalog once.
    async fn schema(&self) -> Result<Arc<SchemaCache>, ApiError> {
        if let Some(schema) = self.state.schema_caches.get(self.workspace.id).await {
            return Ok(schema);
        }
        // Boxed: the loading future is large, and a hit should not carry it.
        self.load_schema().boxed().await
    }

    /// A miss: one catalog read for every request that misses it meanwhile.
    async fn load_schema(&self) -> Result<Arc<SchemaCache>, ApiError> {
        self.state
            .schema_caches
            .get_or_load(self.workspace.id, async {
                let session = self.state.tenancy.session(self.workspace).await?;
                let schema = self.read_catalog(&session).await?;
                session.release();
                Ok(Arc::new(schema))
            })
            .await
            .map_err(|shared: Arc<ApiError>| (*shared).clone())
    }

    /// Reads the catalog again and replaces the cached schema with it.
    async fn reload(&self, session: &Session) -> Result<Arc<SchemaCache>, ApiError> {
        let schema = Arc::new(self.read_catalog(session).await?);
        self.state
            .schema_caches
            .put(self.workspace.id, schema.clone())
            .await;
        Ok(schema)
    }

    /// The workspace's exposed relations, as the catalog has them now.
    async fn read_catalog(&self, session: &Session) -> Result<SchemaCache, ApiError> {
        let registry: HashMap<String, String> = self
            .state
            .tenancy
            .control
            .tables(self.workspace.id)
            .await?
            .into_iter()
            .map(|t| (t.physical_name, t.table_name))
            .collect();
        schema_cache::load(session.client(), &registry)
            .await
            .map_err(ApiError::from_db)
    }

    /// When a plan names something the cache lacks, the cache may be older than the
    /// catalog (DDL made directly): returns a fresh schema if the version moved.
    async fn fresher(&self, schema: &SchemaCache) -> Result<Option<Arc<SchemaCache>>, ApiError> {
        let session = self.state.tenancy.session(self.workspace).await?;
        let version: i64 = session
            .client()
            .query_one(schema_cache::VERSION_QUERY, &[])
            .await
            .map_err(ApiError::from_db)?
            .get(0);
        let fresh = if version != schema.version {
            Some(self.reload(&session).await?)
        } else {
            None
        };
        session.release();
        Ok(fresh)
    }

    /// Plans with the cached schema, retrying once with a fresh one when the plan
    /// names a relation or column the cache does not know.
    async fn plan_with<P>(
        &self,
        schema: &mut Arc<SchemaCache>,
        table: &str,
        make: &impl Fn(&SchemaCache, &Arc<Relation>) -> Result<P, PlanError>,
    ) -> Result<(Arc<Relation>, P), ApiError> {
        let attempt = |schema: &SchemaCache| -> Result<(Arc<Relation>, P), PlanError> {
            let relation =
                schema
                    .relation(table)
                    .cloned()
                    .ok_or_else(|| PlanError::UnknownRelation {
                        name: table.to_owned(),
                        suggestion: schema.nearest_relation(table).map(str::to_owned),
                    })?;
            let plan = make(schema, &relation)?;
            Ok((relation, plan))
        };
        match attempt(schema) {
            Ok(done) => Ok(done),
            Err(error @ (PlanError::UnknownRelation { .. } | PlanError::UnknownColumn { .. })) => {
                // Boxed, as every rare await here: a request's future is as large as
                // its largest await, and the common path should not carry this one.
                match self.fresher(schema).boxed().await? {
                    Some(fresh) => {
                        *schema = fresh;
                        Ok(attempt(schema)?)
                    }
                    None => Err(error.into()),
                }
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn authorizer(&self) -> Result<RowAuthorizer<'_>, ApiError> {
        RowAuthorizer::resolve(&self.state.plugins, self.workspace, self.principal).await
    }

    /// Asks the row authorizer about reading each relation, once per relation.
    async fn read_grants(
        authorizer: &RowAuthorizer<'_>,
        relations: &[Arc<Relation>],
    ) -> Result<Grants, ApiError> {
        let mut grants = Grants::default();
        if authorizer.allows_everything() {
            return Ok(grants);
        }
        let mut asked = std::collections::HashSet::new();
        for relation in relations {
            if asked.insert(relation.oid) {
                let decided = authorizer
                    .grants(&relation.schema, &relation.exposed, Action::Select)
                    .await?;
                grants.insert(relation.oid, decided);
            }
        }
        Ok(grants)
    }

    /// Asks the row authorizer about a write: `action` on the written relation,
    /// `update` too when an upsert may update existing rows, and reads of the
    /// relations its returned rows embed.
    async fn write_grants(
        &self,
        relation: &Relation,
        action: Action,
        updates_on_conflict: bool,
        embedded: &[Arc<Relation>],
    ) -> Result<WriteGrants, ApiError> {
        let authorizer = self.authorizer().await?;
        if authorizer.allows_everything() {
            return Ok(WriteGrants::default());
        }
        let ask = |action| authorizer.grants(&relation.schema, &relation.exposed, action);
        let target = ask(action).await?;
        let conflict_update = match updates_on_conflict {
            true => Some(ask(Action::Update).await?),
            false => None,
        };
        let embeds = Self::read_grants(&authorizer, embedded).await?;
        Ok(WriteGrants {
            target,
            conflict_update,
            embeds,
        })
    }

    /// Reads a page (or, with `single_key`, one row).
    pub async fn read(
        &self,
        table: &str,
        query: &Query,
        count: plan::CountMode,
        single_key: Option<&str>,
    ) -> Result<Page, ApiError> {
        let mut schema = self.schema().await?;
        for attempt in 0..3 {
            let (_, mut plan) = self
                .plan_with(&mut schema, table, &|schema, relation| {
                    plan::read::plan(schema, relation, query, count, single_key)
                })
                .await?;
            let relations = plan.relations();
            let grants = Self::read_grants(&self.authorizer().await?, &relations).await?;
            let context_free = relations.iter().all(|r| r.context_free);
            plan.apply_grants(&grants).map_err(authorizer_fault)?;
            let reuse = self.reusable_count(&schema, &plan);
            let reuse = reuse.as_ref();
            let (outcome, session) = if context_free {
                self.context_free_read(&schema, &plan, reuse).await?
            } else {
                let (outcome, session) =
                    self.read_in_session(&schema, &plan, reuse).boxed().await?;
                (outcome, Some(session))
            };
            match outcome {
                Ok(Outcome::Done(page)) => {
                    if let Some(session) = session {
                        session.release();
                    }
                    return Ok(page);
                }
                Ok(Outcome::Stale) => {}
                Err(e) if attempt < 2 && is_stale_schema(&e) => {}
                Err(e) => return Err(ApiError::from_db(e)),
            }
            schema = self.reload_after_stale(session).boxed().await?;
        }
        Err(ApiError::database_unavailable())
    }

    /// A read of context-free tables only: batched with concurrent requests running
    /// the same statement when it asks no estimate (see `tenant::batch`), else on the
    /// workspace's lane, else in a session of its own (returned, to be released).
    #[allow(clippy::type_complexity)]
    async fn context_free_read(
        &self,
        schema: &SchemaCache,
        plan: &ReadPlan,
        reuse: Option<&ReusableCount>,
    ) -> Result<
        (
            Result<Outcome<Page>, tokio_postgres::Error>,
            Option<Session>,
        ),
        ApiError,
    > {
        let pool = self.state.tenancy.api_pool(self.workspace).await?;
        let statement = self.context_free_statement(schema, plan, reuse);
        let (statement, _leading) = if plan.count.wants_estimate() {
            (statement, None)
        } else {
            let batch = || {
                statements::read_batch(
                    plan,
                    Some(schema.version_source),
                    reuse.map(ReusableCount::known_changes),
                )
            };
            // Reads batch with those of the same text and page window, which their
            // batch statement passes as plain parameters (`BatchStatement::shared`).
            let key = format!("{}\n{}:{}", statement.text, plan.limit, plan.offset);
            let turn = pool
                .read_turn(&key, statement, batch)
                .await
                .map_err(|_| ApiError::database_unavailable())?;
            match turn {
                Turn::Row(row) => return Ok((Ok(self.page_of(&row, schema, reuse)), None)),
                Turn::Own(statement, leading) => (statement, leading),
            }
        };
        if let Some(shared) = pool.shared().await.map_err(TenantError::from)? {
            let outcome = self
                .run_context_free_read(shared.client(), schema, plan, reuse, statement)
                .await;
            return Ok((outcome, None));
        }
        let session = self.state.tenancy.session(self.workspace).await?;
        let outcome = self
            .run_context_free_read(session.client(), schema, plan, reuse, statement)
            .await;
        Ok((outcome, Some(session)))
    }

    /// The statement of a read of context-free tables: one statement in its own
    /// implicit transaction, carrying the schema version.
    fn context_free_statement(
        &self,
        schema: &SchemaCache,
        plan: &ReadPlan,
        reuse: Option<&ReusableCount>,
    ) -> Statement {
        statements::read(
            plan,
            Some(schema.version_source),
            reuse.map(ReusableCount::known_changes),
        )
    }

    /// The page a context-free read answered without an estimate, or `Stale` when its
    /// schema version is not the cache's.
    fn page_of(
        &self,
        row: &tokio_postgres::Row,
        schema: &SchemaCache,
        reuse: Option<&ReusableCount>,
    ) -> Outcome<Page> {
        if row.get::<_, i64>(3) != schema.version {
            return Outcome::Stale;
        }
        Outcome::Done(Page {
            data: row.get(0),
            len: row.get(1),
            total: self.exact_total(row, reuse),
        })
    }

    /// A read in a session of its own: the read needs the tenant context.
    async fn read_in_session(
        &self,
        schema: &SchemaCache,
        plan: &ReadPlan,
        reuse: Option<&ReusableCount>,
    ) -> Result<(Result<Outcome<Page>, tokio_postgres::Error>, Session), ApiError> {
        let session = self.state.tenancy.session(self.workspace).await?;
        let outcome = self.run_read(&session, schema, plan, reuse).await;
        Ok((outcome, session))
    }

    /// The schema again after a read found it stale, in the read's session if it had one.
    async fn reload_after_stale(
        &self,
        session: Option<Session>,
    ) -> Result<Arc<SchemaCache>, ApiError> {
        let session = match session {
            Some(session) => session,
            None => self.state.tenancy.session(self.workspace).await?,
        };
        let schema = self.reload(&session).await?;
        session.release();
        Ok(schema)
    }

    /// Runs a read that needs the tenant context, in a transaction that sets it.
    async fn run_read(
        &self,
        session: &Session,
        schema: &SchemaCache,
        plan: &ReadPlan,
        reuse: Option<&ReusableCount>,
    ) -> Result<Outcome<Page>, tokio_postgres::Error> {
        let client = session.client();
        let statement = statements::read(plan, None, reuse.map(ReusableCount::known_changes));
        let context = client
            .prepare_cached(set_context_with_version(schema.version_source))
            .await?;
        let main = client
            .prepare_typed_cached(&statement.text, &statement.types())
            .await?;
        let settings = self.context().settings();
        let settings: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&settings[0], &settings[1], &settings[2], &settings[3]];
        let values = statement.values();
        if !plan.count.wants_estimate() {
            let (begin, version, page, commit) = futures::join!(
                client.batch_execute("BEGIN READ ONLY"),
                client.query_one(&context, &settings),
                client.query_one(&main, &values),
                client.batch_execute("COMMIT"),
            );
            begin?;
            if version?.get::<_, i64>(4) != schema.version {
                return Ok(Outcome::Stale);
            }
            let row = page?;
            commit?;
            return Ok(Outcome::Done(Page {
                data: row.get(0),
                len: row.get(1),
                total: self.exact_total(&row, reuse),
            }));
        }
        let (begin, version, page, estimate) = futures::join!(
            client.batch_execute("BEGIN READ ONLY"),
            client.query_one(&context, &settings),
            client.query_one(&main, &values),
            self.estimate(client, plan),
        );
        begin?;
        if version?.get::<_, i64>(4) != schema.version {
            client.batch_execute("ROLLBACK").await?;
            return Ok(Outcome::Stale);
        }
        let row = page?;
        let total = self.estimated_total(client, plan, estimate?).await?;
        client.batch_execute("COMMIT").await?;
        Ok(Outcome::Done(Page {
            data: row.get(0),
            len: row.get(1),
            total,
        }))
    }

    /// Runs `statement`, the [`Self::context_free_statement`] of a read of
    /// context-free tables only (see [`Relation::context_free`]): no BEGIN, tenant
    /// context or COMMIT, a quarter of the statements the server would otherwise run
    /// for a primary-key read. `client` may be a shared lane connection: nothing here
    /// leaves state on it.
    async fn run_context_free_read(
        &self,
        client: &ClientWrapper,
        schema: &SchemaCache,
        plan: &ReadPlan,
        reuse: Option<&ReusableCount>,
        statement: Statement,
    ) -> Result<Outcome<Page>, tokio_postgres::Error> {
        let main = client
            .prepare_typed_cached(&statement.text, &statement.types())
            .await?;
        let values = statement.values();
        if !plan.count.wants_estimate() {
            let row = client.query_one(&main, &values).await?;
            return Ok(self.page_of(&row, schema, reuse));
        }
        let (row, estimate) = futures::join!(
            client.query_one(&main, &values),
            self.estimate(client, plan)
        );
        let (row, estimate) = (row?, estimate?);
        if row.get::<_, i64>(3) != schema.version {
            return Ok(Outcome::Stale);
        }
        let total = self.estimated_total(client, plan, estimate).await?;
        Ok(Outcome::Done(Page {
            data: row.get(0),
            len: row.get(1),
            total,
        }))
    }

    /// The remembered count the read may reuse: an exact count of one relation whose
    /// writes are counted (see [`super::ExactCounts`]).
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

    /// The read's exact total, from its third column: the count itself, or with a
    /// [`ReusableCount`], `NULL` when the remembered count still holds or else the
    /// count and the table's write counter, which are remembered. Called once the
    /// read's schema version has been checked.
    fn exact_total(&self, row: &tokio_postgres::Row, reuse: Option<&ReusableCount>) -> i64 {
        let Some(reuse) = reuse else {
            return row.get::<_, Option<i64>>(2).unwrap_or(0);
        };
        match (row.get::<_, Option<Vec<i64>>>(2).as_deref(), reuse.known) {
            (Some(&[total, changes]), _) => {
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

    /// The planner's row estimate for the read's filter.
    async fn estimate(
        &self,
        client: &ClientWrapper,
        plan: &ReadPlan,
    ) -> Result<i64, tokio_postgres::Error> {
        let explain = statements::estimate(plan);
        let statement = client
            .prepare_typed_cached(&explain.text, &explain.types())
            .await?;
        let plan_json: serde_json::Value = client
            .query_one(&statement, &explain.values())
            .await?
            .get(0);
        Ok(plan_json[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(0.0) as i64)
    }

    /// The estimate when it is above [`ESTIMATE_THRESHOLD`], else the exact count.
    async fn estimated_total(
        &self,
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
        Ok(client.query_one(&statement, &count.values()).await?.get(0))
    }

    /// Runs a write statement: BEGIN, context and statement pipelined, then COMMIT
    /// unless the schema moved or a row breaks the authorizer's checks.
    async fn run_write(
        &self,
        session: &Session,
        schema: &SchemaCache,
        statement: &Statement,
        relation: &Relation,
    ) -> Result<Outcome<Written>, ApiError> {
        let client = session.client();
        let db = ApiError::from_db;
        let context = client
            .prepare_cached(set_context_with_version(schema.version_source))
            .await
            .map_err(db)?;
        let main = client
            .prepare_typed_cached(&statement.text, &statement.types())
            .await
            .map_err(db)?;
        let settings = self.context().settings();
        let settings: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
            [&settings[0], &settings[1], &settings[2], &settings[3]];
        let values = statement.values();
        let (begin, version, result) = futures::join!(
            client.batch_execute("BEGIN"),
            client.query_one(&context, &settings),
            client.query_one(&main, &values),
        );
        let rollback = || client.batch_execute("ROLLBACK");
        begin.map_err(db)?;
        let version = match version {
            Ok(v) => v.get::<_, i64>(4),
            Err(e) => {
                let _ = rollback().await;
                return Err(db(e));
            }
        };
        if version != schema.version {
            rollback().await.map_err(db)?;
            return Ok(Outcome::Stale);
        }
        let row = match result {
            Ok(row) => row,
            Err(e) => {
                rollback().await.map_err(db)?;
                return Err(db(e));
            }
        };
        let violations: i64 = row.get(2);
        if violations > 0 {
            rollback().await.map_err(db)?;
            return Err(denied(format!(
                "{violations} row(s) would fall outside what the workspace's row authorizer allows on `{}` \
                 (an upsert updates only existing rows the authorizer lets you update)",
                relation.exposed
            )));
        }
        client
            .batch_execute("COMMIT")
            .await
            .map_err(ApiError::from_commit)?;
        Ok(Outcome::Done(Written {
            data: row.get(0),
            count: row.get(1),
        }))
    }

    async fn write<P: WritePlan>(
        &self,
        table: &str,
        action: Action,
        make: impl Fn(&SchemaCache, &Arc<Relation>) -> Result<P, PlanError>,
        finish: impl Fn(&P) -> Statement,
    ) -> Result<Written, ApiError> {
        let mut schema = self.schema().await?;
        for _ in 0..3 {
            let (relation, mut plan) = self.plan_with(&mut schema, table, &make).await?;
            let embedded = returned_relations(plan.returning());
            let grants = self
                .write_grants(&relation, action, plan.updates_on_conflict(), &embedded)
                .await?;
            plan.apply_grants(&grants).map_err(authorizer_fault)?;
            let statement = finish(&plan);
            let session = self.state.tenancy.session(self.workspace).await?;
            match self
                .run_write(&session, &schema, &statement, &relation)
                .await
            {
                Ok(Outcome::Done(written)) => {
                    session.release();
                    return Ok(written);
                }
                Ok(Outcome::Stale) => {
                    schema = self.reload(&session).await?;
                    session.release();
                }
                Err(error) => {
                    session.release_after(&error);
                    return Err(error);
                }
            }
        }
        Err(ApiError::database_unavailable())
    }

    /// Inserts (or upserts) the body's rows; with `represent`, [`Written::data`] holds
    /// them as JSON (otherwise `[]`: PostgreSQL does not render what nobody reads).
    pub async fn insert(
        &self,
        table: &str,
        query: &Query,
        body: &str,
        resolution: Option<plan::write::ConflictAction>,
        represent: bool,
    ) -> Result<Written, ApiError> {
        self.write(
            table,
            Action::Insert,
            |schema, relation| {
                let mut plan = plan::write::insert(schema, relation, query, body, resolution)?;
                if !represent {
                    plan.returning = None;
                }
                Ok(plan)
            },
            statements::insert,
        )
        .await
    }

    /// Updates the selected rows (rendered as JSON with `represent`).
    pub async fn update(
        &self,
        table: &str,
        query: &Query,
        body: &str,
        whole_table: bool,
        single_key: Option<&str>,
        represent: bool,
    ) -> Result<Written, ApiError> {
        self.write(
            table,
            Action::Update,
            |schema, relation| {
                let mut plan =
                    plan::write::update(schema, relation, query, body, whole_table, single_key)?;
                if !represent {
                    plan.returning = None;
                }
                Ok(plan)
            },
            statements::update,
        )
        .await
    }

    /// Deletes the selected rows (rendered as JSON with `represent`).
    pub async fn delete(
        &self,
        table: &str,
        query: &Query,
        whole_table: bool,
        single_key: Option<&str>,
        represent: bool,
    ) -> Result<Written, ApiError> {
        self.write(
            table,
            Action::Delete,
            |schema, relation| {
                let mut plan =
                    plan::write::delete(schema, relation, query, whole_table, single_key)?;
                if !represent {
                    plan.returning = None;
                }
                Ok(plan)
            },
            statements::delete,
        )
        .await
    }
}

/// What [`Rows::write`] needs of each write plan.
trait WritePlan {
    /// The shape of the returned rows, if the response renders them.
    fn returning(&self) -> Option<&Shape>;
    /// Whether the write may update existing rows through `ON CONFLICT`.
    fn updates_on_conflict(&self) -> bool {
        false
    }
    /// ANDs the authorizer's conditions into the plan.
    fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String>;
}

impl WritePlan for InsertPlan {
    fn returning(&self) -> Option<&Shape> {
        self.returning.as_ref()
    }
    fn updates_on_conflict(&self) -> bool {
        InsertPlan::updates_on_conflict(self)
    }
    fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        InsertPlan::apply_grants(self, grants)
    }
}

impl WritePlan for UpdatePlan {
    fn returning(&self) -> Option<&Shape> {
        self.returning.as_ref()
    }
    fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        UpdatePlan::apply_grants(self, grants)
    }
}

impl WritePlan for DeletePlan {
    fn returning(&self) -> Option<&Shape> {
        self.returning.as_ref()
    }
    fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        DeletePlan::apply_grants(self, grants)
    }
}
