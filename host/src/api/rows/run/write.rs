//! Inserts, upserts, updates and deletes: plan → authorize (the write's action, an
//! upsert's update, reads of the embeds its returned rows carry) → statement → one
//! transaction with the tenant context, rolled back when a row breaks the
//! authorizer's checks.

use std::sync::Arc;

use super::grants::authorizer_fault;
use super::{stamp, Rows};
use crate::api::row_authorizer::denied;
use crate::error::ApiError;
use crate::plan::write::{returned_relations, ConflictAction, DeletePlan, InsertPlan, UpdatePlan};
use crate::plan::{self, PlanError, Shape, WriteGrants};
use crate::plugins::authorizer_types::Action;
use crate::request::Query;
use crate::schema_cache::{Relation, SchemaCache};
use crate::sql::rows::{self as statements, WriteRow};
use crate::sql::statement::Statement;
use crate::tenant::work::{self, Settled, Versioned, STALE_SCHEMA_ATTEMPTS};

/// Rows a write touched.
pub struct Written {
    /// JSON array text of the returned rows.
    pub data: String,
    /// How many.
    pub count: i64,
}

/// What [`Rows::write`] needs of each write plan.
trait WritePlan {
    /// The shape of the returned rows, if the response renders them.
    fn returning(&self) -> Option<&Shape>;
    /// Renders no returned rows (`return=minimal`: PostgreSQL does not render what
    /// nobody reads).
    fn return_nothing(&mut self);
    /// Whether the write may update existing rows through `ON CONFLICT`.
    fn updates_on_conflict(&self) -> bool {
        false
    }
    /// ANDs the authorizer's conditions into the plan.
    fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String>;
    /// The statement.
    fn statement(&self) -> Statement;
}

/// What a write does, by verb.
#[derive(Debug, Clone, Copy)]
pub enum WriteVerb<'r> {
    /// `POST`: insert the body's rows, or upsert them with a resolution.
    Insert {
        /// The JSON body (an object or an array of objects).
        body: &'r str,
        /// `Prefer: resolution=...`.
        resolution: Option<ConflictAction>,
    },
    /// `PATCH`: update the selected rows (or the one at `single_key`).
    Update {
        /// The JSON object of new values.
        body: &'r str,
        /// `Prefer: ... whole-table`: no filter is needed.
        whole_table: bool,
        /// The primary key of a single-row route.
        single_key: Option<&'r str>,
    },
    /// `DELETE`: delete the selected rows (or the one at `single_key`).
    Delete {
        /// `Prefer: ... whole-table`: no filter is needed.
        whole_table: bool,
        /// The primary key of a single-row route.
        single_key: Option<&'r str>,
    },
}

impl Rows<'_> {
    /// Writes as `verb` says; with `represent`, [`Written::data`] holds the written
    /// rows as JSON (otherwise `[]`).
    pub async fn write(
        &self,
        table: &str,
        query: &Query,
        verb: WriteVerb<'_>,
        represent: bool,
    ) -> Result<Written, ApiError> {
        match verb {
            WriteVerb::Insert { body, resolution } => {
                let make = |schema: &SchemaCache, relation: &Arc<Relation>| {
                    plan::write::insert(schema, relation, query, body, resolution)
                };
                self.write_plan(table, Action::Insert, represent, make)
                    .await
            }
            WriteVerb::Update {
                body,
                whole_table,
                single_key,
            } => {
                let make = |schema: &SchemaCache, relation: &Arc<Relation>| {
                    plan::write::update(schema, relation, query, body, whole_table, single_key)
                };
                self.write_plan(table, Action::Update, represent, make)
                    .await
            }
            WriteVerb::Delete {
                whole_table,
                single_key,
            } => {
                let make = |schema: &SchemaCache, relation: &Arc<Relation>| {
                    plan::write::delete(schema, relation, query, whole_table, single_key)
                };
                self.write_plan(table, Action::Delete, represent, make)
                    .await
            }
        }
    }

    /// The stages of every write, planned again when the schema moved under it.
    async fn write_plan<P: WritePlan>(
        &self,
        table: &str,
        action: Action,
        represent: bool,
        make: impl Fn(&SchemaCache, &Arc<Relation>) -> Result<P, PlanError>,
    ) -> Result<Written, ApiError> {
        let make = |schema: &SchemaCache, relation: &Arc<Relation>| {
            let mut plan = make(schema, relation)?;
            if !represent {
                plan.return_nothing();
            }
            Ok(plan)
        };
        let mut schema = self.schema().await?;
        for _ in 0..STALE_SCHEMA_ATTEMPTS {
            let (relation, mut plan) = self.plan_with(&mut schema, table, &make).await?;
            let embedded = returned_relations(plan.returning());
            let grants = self
                .write_grants(&relation, action, plan.updates_on_conflict(), &embedded)
                .await?;
            plan.apply_grants(&grants).map_err(authorizer_fault)?;
            let statement = plan.statement();
            let session = self.state.tenancy.session(self.workspace).await?;
            let ran = work::write_in_context(
                session.client(),
                self.context(),
                stamp(&schema),
                &statement,
                |row: &WriteRow| row.violations == 0,
            )
            .await
            .map_err(ApiError::from);
            match ran {
                Ok(Versioned::Current(Settled::Committed(row))) => {
                    session.release();
                    return Ok(Written {
                        data: row.data,
                        count: row.count,
                    });
                }
                Ok(Versioned::Current(Settled::Refused(row))) => {
                    session.release();
                    return Err(refused(&relation, row.violations));
                }
                Ok(Versioned::Stale) => {
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
}

/// The answer to a write whose rows break the authorizer's checks.
fn refused(relation: &Relation, violations: i64) -> ApiError {
    denied(format!(
        "{violations} row(s) would fall outside what the workspace's row authorizer allows on `{}` \
         (an upsert updates only existing rows the authorizer lets you update)",
        relation.exposed
    ))
}

impl WritePlan for InsertPlan {
    fn returning(&self) -> Option<&Shape> {
        self.returning.as_ref()
    }
    fn return_nothing(&mut self) {
        self.returning = None;
    }
    fn updates_on_conflict(&self) -> bool {
        InsertPlan::updates_on_conflict(self)
    }
    fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        InsertPlan::apply_grants(self, grants)
    }
    fn statement(&self) -> Statement {
        statements::insert(self)
    }
}

impl WritePlan for UpdatePlan {
    fn returning(&self) -> Option<&Shape> {
        self.returning.as_ref()
    }
    fn return_nothing(&mut self) {
        self.returning = None;
    }
    fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        UpdatePlan::apply_grants(self, grants)
    }
    fn statement(&self) -> Statement {
        statements::update(self)
    }
}

impl WritePlan for DeletePlan {
    fn returning(&self) -> Option<&Shape> {
        self.returning.as_ref()
    }
    fn return_nothing(&mut self) {
        self.returning = None;
    }
    fn apply_grants(&mut self, grants: &WriteGrants) -> Result<(), String> {
        DeletePlan::apply_grants(self, grants)
    }
    fn statement(&self) -> Statement {
        statements::delete(self)
    }
}
