//! The scoped query (seed 002): one SQL statement over the workspace's own tables.
//! [`guard`] parses, refuses and rewrites; [`run`] executes in the tenant
//! transaction and renders `{columns, rows, row_count}`.

pub mod approved;
pub mod enforce;
mod error;
pub mod functions;
pub mod guard;
pub mod run;
#[cfg(test)]
mod spellings;
pub mod types;

use std::sync::Arc;

use crate::api::row_authorizer::RowAuthorizer;
use crate::auth::Principal;
use crate::control::workspaces::Workspace;
use crate::plugins::PluginRuntime;
use crate::tenant::{Access, Names, Tenancy, TenantContext};

pub use approved::Approvals;
pub use error::QueryError;
pub use guard::{Checked, Refusal, StatementKind, MAX_SQL_CHARS};
pub use run::MAX_ROWS;

/// Checks and runs `sql` for `principal` in `workspace`; returns the JSON body. The
/// workspace's row authorizer decides on every table the statement touches, and its
/// conditions are enforced inside the statement ([`enforce`]).
///
/// The table names come from the process's cache. Before a name the cached ones
/// lack is refused, or when a table they name turns out to be gone, the names are
/// read again and the statement checked and run once more: a table created or
/// dropped a moment ago on another replica is seen as it now is.
pub async fn execute(
    tenancy: &Tenancy,
    plugins: &PluginRuntime,
    approvals: &Approvals,
    workspace: &Workspace,
    principal: &Principal,
    sql: &str,
    timeout_ms: u64,
) -> Result<String, QueryError> {
    let attempt_with = |names: Arc<Names>| async move {
        attempt(
            tenancy, plugins, approvals, workspace, principal, sql, timeout_ms, &names,
        )
        .await
    };
    let names = tenancy.table_names.get(workspace.id).await?;
    match attempt_with(names).await {
        Err(error) if error.names_an_unknown_table() => {
            attempt_with(tenancy.table_names.fresh(workspace.id).await?).await
        }
        answered => answered,
    }
}

/// One check and run of `sql` against the table names `tables`.
#[allow(clippy::too_many_arguments)]
async fn attempt(
    tenancy: &Tenancy,
    plugins: &PluginRuntime,
    approvals: &Approvals,
    workspace: &Workspace,
    principal: &Principal,
    sql: &str,
    timeout_ms: u64,
    tables: &Names,
) -> Result<String, QueryError> {
    let checked = guard::check(sql, tables)?;
    let authorizer = RowAuthorizer::resolve(plugins, workspace, principal).await?;
    let checked = if authorizer.allows_everything() {
        checked
    } else {
        enforce::apply(checked, &authorizer).await?
    };
    let ctx = TenantContext {
        workspace,
        principal,
    };
    let access = match checked.kind {
        StatementKind::Select => Access::ReadOnly,
        _ => Access::ReadWrite,
    };
    let approvals = approvals.clone();
    let workspace_id = workspace.id;
    let result = tenancy
        .run(ctx, access, move |tx| {
            Box::pin(
                async move { run::run(tx, &checked, timeout_ms, &approvals, workspace_id).await },
            )
        })
        .await?;
    Ok(result.body)
}
