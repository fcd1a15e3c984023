//! The workspace's schema cache as a request sees it: loaded once for concurrent
//! misses, reloaded when the catalog moved, and planning retried once with a fresh
//! schema when the plan names something the cache lacks.

use std::collections::HashMap;
use std::sync::Arc;

use futures::FutureExt;

use super::Rows;
use crate::error::ApiError;
use crate::plan::PlanError;
use crate::schema_cache::{self, Relation, SchemaCache};
use crate::tenant::Session;

impl Rows<'_> {
    /// The workspace's schema cache; concurrent requests that find none read the
    /// catalog once.
    pub(super) async fn schema(&self) -> Result<Arc<SchemaCache>, ApiError> {
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
    pub(super) async fn reload(&self, session: &Session) -> Result<Arc<SchemaCache>, ApiError> {
        let schema = Arc::new(self.read_catalog(session).await?);
        self.state
            .schema_caches
            .put(self.workspace.id, schema.clone())
            .await;
        Ok(schema)
    }

    /// The schema again after a statement found it stale, in the statement's session
    /// if it had one.
    pub(super) async fn reload_after_stale(
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
    pub(super) async fn plan_with<P>(
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
}
