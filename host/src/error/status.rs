//! The single table from each stage's errors to an HTTP status and a stable code.
//! Internal causes are logged here and replaced by a generic message.

use axum::http::StatusCode;
use tokio_postgres::error::SqlState;

use super::{ApiError, Code};
use crate::api::row_authorizer::AuthorizerError;
use crate::auth::AuthError;
use crate::cluster::is_connection_error;
use crate::control::ControlError;
use crate::plan::PlanError;
use crate::plugins::{PluginError, PluginFault};
use crate::query::{QueryError, Refusal};
use crate::tenant::provision::ProvisionError;
use crate::tenant::work::{WorkError, WorkFailure};
use crate::tenant::TenantError;

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let message = error.to_string();
        match error {
            AuthError::Missing => ApiError::new(Code::MissingCredential, message),
            AuthError::Invalid(_) => ApiError::new(Code::InvalidCredential, message),
            AuthError::Expired => ApiError::new(Code::TokenExpired, message),
            AuthError::WrongWorkspace => ApiError::new(Code::WorkspaceMismatch, message),
            AuthError::MissingScope(_) => ApiError::new(Code::InsufficientScope, message),
            AuthError::AdminOnly => ApiError::new(Code::AdminOnly, message),
            AuthError::NoWorkspace(_) => ApiError::new(Code::WorkspaceRequired, message),
            AuthError::Control(e) => e.into(),
        }
    }
}

impl From<ControlError> for ApiError {
    fn from(error: ControlError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(%error, "control database unavailable");
            ApiError::database_unavailable()
        } else {
            tracing::error!(%error, "control database error");
            ApiError::internal()
        }
    }
}

impl From<WorkError> for ApiError {
    fn from(error: WorkError) -> Self {
        match error {
            WorkError::Tenant(error) => error.into(),
            WorkError::Database(error) => ApiError::from_db(error),
            WorkError::Commit(error) => ApiError::from_commit(error),
        }
    }
}

impl WorkFailure for ApiError {
    fn may_have_lost_the_connection(&self) -> bool {
        ApiError::may_have_lost_the_connection(self)
    }
}

impl From<TenantError> for ApiError {
    fn from(error: TenantError) -> Self {
        match error {
            TenantError::WorkspaceNotFound(_) => ApiError::not_found(error.to_string()),
            TenantError::NotProvisioned(_) => {
                ApiError::new(Code::WorkspaceNotProvisioned, error.to_string())
                    .with_hint("POST /api/v2/ingestion/provision provisions it")
            }
            TenantError::Unavailable(detail) => {
                tracing::warn!(%detail, "workspace database unavailable");
                ApiError::database_unavailable()
            }
            TenantError::Control(e) => e.into(),
            TenantError::Secret(e) => {
                tracing::error!(error = %e, "stored secret unusable");
                ApiError::internal()
            }
        }
    }
}

impl From<ProvisionError> for ApiError {
    fn from(error: ProvisionError) -> Self {
        match error {
            ProvisionError::WorkspaceNotFound(_) => ApiError::not_found(error.to_string()),
            ProvisionError::Control(e) => e.into(),
            ProvisionError::Db(e) if is_connection_error(&e) => ApiError::database_unavailable(),
            other => {
                tracing::error!(error = %other, "provisioning failed");
                ApiError::new(
                    Code::ProvisioningFailed,
                    "provisioning failed; the cause has been logged and a retry resumes it",
                )
            }
        }
    }
}

/// The SQLSTATE `dl_meta.authorized_row` raises for a row written through the
/// scoped query that the workspace's row authorizer does not allow.
pub const AUTHORIZER_REFUSED_ROW: &str = "PA403";

impl ApiError {
    /// Maps a database error on a tenant statement: constraint violations to 409/400,
    /// privilege errors to 403, a timeout to 504, an unreachable server to 503, and any
    /// other failure of a valid statement to 400 with the database's message.
    pub fn from_db(error: tokio_postgres::Error) -> Self {
        if is_connection_error(&error) {
            tracing::warn!(%error, "database connection failure");
            return ApiError::database_unavailable();
        }
        let Some(db) = error.as_db_error() else {
            return ApiError::database_unavailable();
        };
        let code = db.code();
        let mut message = db.message().to_owned();
        if let Some(detail) = db.detail() {
            message = format!("{message} ({detail})");
        }
        let stable = if code.code() == AUTHORIZER_REFUSED_ROW {
            Code::DeniedByAuthorizer
        } else if *code == SqlState::UNIQUE_VIOLATION {
            Code::UniqueViolation
        } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
            Code::ForeignKeyViolation
        } else if *code == SqlState::NOT_NULL_VIOLATION {
            Code::NotNullViolation
        } else if *code == SqlState::CHECK_VIOLATION {
            Code::CheckViolation
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            Code::InsufficientPrivilege
        } else if *code == SqlState::QUERY_CANCELED {
            Code::StatementTimeout
        } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            Code::RetryTransaction
        } else if code.code().starts_with("22") {
            Code::InvalidValue
        } else {
            Code::DatabaseError
        };
        ApiError::new(stable, message)
    }
}

impl ApiError {
    /// The error of a `COMMIT`. The server's own error means the transaction rolled
    /// back; a lost connection (or the backend ended by an operator) means nobody
    /// here knows: with synchronous replication, for one, a backend terminated while
    /// it waits for the standby has already committed locally.
    pub fn from_commit(error: tokio_postgres::Error) -> Self {
        // Class 53 (out of disk, memory, connections) is the server refusing the
        // commit, not losing it.
        let refused = error
            .code()
            .is_some_and(|code| code.code().starts_with("53"));
        if is_connection_error(&error) && !refused {
            tracing::warn!(%error, "connection failed during COMMIT; the write's outcome is unknown");
            return ApiError::write_outcome_unknown();
        }
        ApiError::from_db(error)
    }
}

impl From<PluginError> for ApiError {
    fn from(error: PluginError) -> Self {
        let message = error.to_string();
        let details = serde_json::json!({ "plugin": error.name, "kind": error.kind.as_str() });
        let api = match error.fault {
            PluginFault::Deadline => ApiError::new(Code::PluginTimeout, message),
            PluginFault::Busy => ApiError::new(Code::PluginBusy, message),
            PluginFault::Host(detail) => {
                tracing::error!(%detail, plugin = %error.name, "host failure around a plugin call");
                return ApiError::internal();
            }
            PluginFault::Memory
            | PluginFault::StackOverflow
            | PluginFault::Panic(_)
            | PluginFault::Trap(_)
            | PluginFault::BadOutput(_)
            | PluginFault::Invalid(_) => ApiError::new(Code::PluginFailed, message),
        };
        api.with_details(details)
    }
}

impl From<PlanError> for ApiError {
    fn from(error: PlanError) -> Self {
        let message = error.to_string();
        match &error {
            PlanError::UnknownRelation { suggestion, .. } => {
                let api = ApiError::new(Code::UnknownTable, message);
                match suggestion {
                    Some(s) => api.with_hint(format!("did you mean `{s}`?")),
                    None => api,
                }
            }
            PlanError::UnknownColumn { suggestion, .. } => {
                let api = ApiError::new(Code::UnknownColumn, message);
                match suggestion {
                    Some(s) => api.with_hint(format!("did you mean `{s}`?")),
                    None => api,
                }
            }
            PlanError::Ambiguous { candidates, .. } => {
                ApiError::new(Code::AmbiguousEmbedding, message)
                    .with_details(serde_json::json!({ "candidates": candidates }))
            }
            PlanError::NoRelationship { .. } | PlanError::NotEmbedded(_) => {
                ApiError::new(Code::InvalidEmbedding, message)
            }
            PlanError::ReadOnly(_) => ApiError::new(Code::ReadOnly, message),
            PlanError::FilterRequired(_) => ApiError::new(Code::FilterRequired, message),
            PlanError::InvalidBody(_) | PlanError::Generated(_) => {
                ApiError::new(Code::InvalidBody, message)
            }
            PlanError::InvalidCast(_)
            | PlanError::LimitTooLarge(_)
            | PlanError::DuplicateName(_)
            | PlanError::NoSingleKey(_) => ApiError::new(Code::InvalidQuery, message),
        }
    }
}

impl From<AuthorizerError> for ApiError {
    fn from(error: AuthorizerError) -> Self {
        match error {
            AuthorizerError::Denied(reason) => ApiError::new(Code::DeniedByAuthorizer, reason),
            AuthorizerError::Plugin(error) => error.into(),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        ApiError::new(refusal.code, refusal.reason)
    }
}

impl From<QueryError> for ApiError {
    /// Seed 002's rule for the scoped query: a database error while running a valid
    /// statement is a 400 with the database's message (the code still says which
    /// kind); a refusal of the row authorizer keeps its 403, an unreachable database
    /// its 503.
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::Refused(refusal) => refusal.into(),
            QueryError::Authorizer(error) => error.into(),
            QueryError::Names(error) => error.into(),
            QueryError::Internal => ApiError::internal(),
            QueryError::Run(error) => {
                let error = ApiError::from(error);
                match error.status {
                    StatusCode::FORBIDDEN if error.code == Code::DeniedByAuthorizer => error,
                    StatusCode::CONFLICT | StatusCode::FORBIDDEN | StatusCode::GATEWAY_TIMEOUT => {
                        ApiError {
                            status: StatusCode::BAD_REQUEST,
                            ..error
                        }
                    }
                    _ => error,
                }
            }
        }
    }
}
