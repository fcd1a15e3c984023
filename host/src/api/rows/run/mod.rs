//! Running Data API requests, stage by stage: the schema cache ([`schema`]), the row
//! authorizer's grants ([`grants`]), then the plan's statement in the transaction
//! shape `tenant::work` gives it ([`read`], [`write`]).

use crate::api::AppState;
use crate::auth::Principal;
use crate::control::workspaces::Workspace;
use crate::schema_cache::SchemaCache;
use crate::tenant::work::SchemaStamp;
use crate::tenant::TenantContext;

mod grants;
mod read;
mod schema;
mod write;

pub use read::{Page, ESTIMATE_THRESHOLD};
pub use write::{WriteVerb, Written};

/// One request's access to a workspace's rows.
pub struct Rows<'a> {
    state: &'a AppState,
    workspace: &'a Workspace,
    principal: &'a Principal,
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
}

/// The version a statement planned with `schema` must find.
fn stamp(schema: &SchemaCache) -> SchemaStamp {
    SchemaStamp {
        version: schema.version,
        source: schema.version_source,
    }
}
