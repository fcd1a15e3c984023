//! One alter action at a time, inside the alter's transaction, and the answer to a
//! failed one: it names the action's index and operation.

use axum::http::StatusCode;
use deadpool_postgres::Transaction;
use serde_json::json;

use super::validate::ValidAction;
use super::{canonicalise, catalog, ddl, validate};
use crate::error::{ApiError, Code};

/// Why one alter action failed.
pub(super) struct ActionFailure {
    status: StatusCode,
    reason: String,
}

impl From<tokio_postgres::Error> for ActionFailure {
    fn from(error: tokio_postgres::Error) -> Self {
        let api = ApiError::from_db(error);
        let status = match api.status {
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => api.status,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            reason: api.message,
        }
    }
}

impl From<ApiError> for ActionFailure {
    fn from(api: ApiError) -> Self {
        Self {
            status: api.status,
            reason: api.message,
        }
    }
}

fn refuse(reason: String) -> ActionFailure {
    ActionFailure {
        status: StatusCode::BAD_REQUEST,
        reason,
    }
}

pub(super) fn action_failed(index: usize, op: &'static str, failure: ActionFailure) -> ApiError {
    let message = format!(
        "action {index} ({op}) failed, nothing was changed: {}",
        failure.reason
    );
    ApiError {
        status: failure.status,
        ..ApiError::new(Code::AlterFailed, message)
    }
    .with_details(json!({ "action": index, "op": op, "reason": failure.reason }))
}

pub(super) fn op_name(action: &ValidAction) -> &'static str {
    match action {
        ValidAction::AddColumn(_) => "add_column",
        ValidAction::DropColumn(_) => "drop_column",
        ValidAction::RenameColumn { .. } => "rename_column",
        ValidAction::ChangeColumnType(..) => "change_column_type",
        ValidAction::SetColumnNullable(..) => "set_column_nullable",
        ValidAction::SetColumnDefault(..) => "set_column_default",
        ValidAction::DropColumnDefault(_) => "drop_column_default",
        ValidAction::AddUnique(..) => "add_unique",
        ValidAction::DropConstraint(_) => "drop_constraint",
        ValidAction::AddIndex(..) => "add_index",
        ValidAction::DropIndex(_) => "drop_index",
    }
}

/// Runs one action.
pub(super) async fn apply(
    tx: &Transaction<'_>,
    physical: &str,
    action: ValidAction,
) -> Result<(), ActionFailure> {
    let statement = match action {
        ValidAction::AddColumn(mut column) => {
            canonicalise(
                tx,
                column.column_type,
                &mut column.default,
                "column.default.value",
            )
            .await?;
            ddl::add_column(physical, &column)
        }
        ValidAction::DropColumn(name) => ddl::drop_column(physical, &name),
        ValidAction::RenameColumn { from, to } => ddl::rename_column(physical, &from, &to),
        ValidAction::ChangeColumnType(name, ty) => ddl::change_column_type(physical, &name, ty),
        ValidAction::SetColumnNullable(name, nullable) => {
            ddl::set_nullable(physical, &name, nullable)
        }
        ValidAction::SetColumnDefault(name, spec) => {
            let ty = match catalog::column_type(tx, physical, &name).await? {
                None => return Err(refuse(format!("column `{name}` does not exist"))),
                Some(Err(storage)) => {
                    return Err(refuse(format!(
                        "column `{name}` has type {storage}, which Workspace Tables does not manage"
                    )))
                }
                Some(Ok(ty)) => ty,
            };
            let mut violations = Vec::new();
            let nullable = true; // NOT NULL is the database's to enforce on a NULL default
            let mut default =
                validate::default_for(&mut violations, "default", &spec, ty, nullable);
            if let Some(v) = violations.first() {
                return Err(refuse(format!("{} {}", v.field, v.rule)));
            }
            canonicalise(tx, ty, &mut default, "default.value").await?;
            match default {
                Some(default) => ddl::set_default(physical, &name, &default, ty),
                None => return Err(refuse("the default is not valid".to_owned())),
            }
        }
        ValidAction::DropColumnDefault(name) => ddl::drop_default(physical, &name),
        ValidAction::AddUnique(columns, name) => {
            ddl::add_unique(physical, &columns, name.as_deref())
        }
        ValidAction::DropConstraint(name) => ddl::drop_constraint(physical, &name),
        ValidAction::AddIndex(name, columns) => ddl::add_index(physical, &name, &columns),
        ValidAction::DropIndex(name) => {
            if !catalog::has_index(tx, physical, &name).await? {
                return Err(refuse(format!(
                    "index `{name}` does not exist on this table"
                )));
            }
            ddl::drop_index(&name)
        }
    };
    tx.batch_execute(&statement).await?;
    Ok(())
}
