//! The scoped query (seed 002): one SQL statement over the workspace's own tables.
//! [`guard`] parses, refuses and rewrites; [`run`] executes in the tenant
//! transaction and renders `{columns, rows, row_count}`.

pub mod functions;
pub mod guard;
pub mod run;

use std::collections::HashMap;

use axum::http::StatusCode;

use crate::auth::Principal;
use crate::control::workspaces::Workspace;
use crate::error::ApiError;
use crate::tenant::{Access, Tenancy, TenantContext};

pub use guard::{Checked, Refusal, StatementKind, MAX_SQL_CHARS};
pub use run::MAX_ROWS;

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            refusal.code,
            refusal.reason,
        )
    }
}

/// Checks and runs `sql` for `principal` in `workspace`; returns the JSON body.
pub async fn execute(
    tenancy: &Tenancy,
    workspace: &Workspace,
    principal: &Principal,
    sql: &str,
    timeout_ms: u64,
) -> Result<String, ApiError> {
    let tables: HashMap<String, String> = tenancy
        .control
        .tables(workspace.id)
        .await?
        .into_iter()
        .map(|t| (t.table_name, t.physical_name))
        .collect();
    let checked = guard::check(sql, &tables)?;
    let ctx = TenantContext {
        workspace,
        principal,
    };
    let access = match checked.kind {
        StatementKind::Select => Access::ReadOnly,
        _ => Access::ReadWrite,
    };
    let result = tenancy
        .run(ctx, access, move |tx| {
            Box::pin(async move { run::run(tx, &checked, timeout_ms).await })
        })
        .await
        .map_err(runtime_error)?;
    Ok(result.body)
}

/// The seed's rule: a database error while running a valid statement is a 400 with
/// the upstream message (the stable code still says which kind); only an
/// unreachable database keeps its 503.
fn runtime_error(error: ApiError) -> ApiError {
    match error.status {
        StatusCode::CONFLICT | StatusCode::FORBIDDEN | StatusCode::GATEWAY_TIMEOUT => ApiError {
            status: StatusCode::BAD_REQUEST,
            ..error
        },
        _ => error,
    }
}
