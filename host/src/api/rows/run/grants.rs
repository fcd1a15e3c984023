//! The row authorizer's answers for one request: what it may read of each relation
//! the plan touches, and for a write, what it may write (and update on conflict).

use std::collections::HashSet;
use std::sync::Arc;

use super::Rows;
use crate::api::row_authorizer::RowAuthorizer;
use crate::error::ApiError;
use crate::plan::{Grants, WriteGrants};
use crate::plugins::authorizer_types::Action;
use crate::plugins::{PluginError, PluginFault, PluginKind};
use crate::schema_cache::Relation;

/// The authorizer answered conditions the plan cannot hold (a column it lacks, say).
pub(super) fn authorizer_fault(message: String) -> ApiError {
    PluginError::new(
        PluginKind::RowAuthorizer,
        "row-authorizer",
        PluginFault::BadOutput(message),
    )
    .into()
}

impl Rows<'_> {
    async fn authorizer(&self) -> Result<RowAuthorizer<'_>, ApiError> {
        Ok(RowAuthorizer::resolve(&self.state.plugins, self.workspace, self.principal).await?)
    }

    /// Asks the row authorizer about reading each of `relations`, once per relation.
    pub(super) async fn read_grants(
        &self,
        relations: &[Arc<Relation>],
    ) -> Result<Grants, ApiError> {
        let authorizer = self.authorizer().await?;
        grants_to_read(&authorizer, relations).await
    }

    /// Asks the row authorizer about a write: `action` on the written relation,
    /// `update` too when an upsert may update existing rows, and reads of the
    /// relations its returned rows embed.
    pub(super) async fn write_grants(
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
        let embeds = grants_to_read(&authorizer, embedded).await?;
        Ok(WriteGrants {
            target,
            conflict_update,
            embeds,
        })
    }
}

/// `select` grants for each relation, asked once each; none with the built-in
/// allow-all authorizer.
async fn grants_to_read(
    authorizer: &RowAuthorizer<'_>,
    relations: &[Arc<Relation>],
) -> Result<Grants, ApiError> {
    let mut grants = Grants::default();
    if authorizer.allows_everything() {
        return Ok(grants);
    }
    let mut asked = HashSet::new();
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
