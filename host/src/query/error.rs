//! Why a scoped query was not answered, stage by stage; `error/` maps each to its
//! code and status (a valid statement that fails in the database is the client's
//! 400, as seed 002 says).

use super::guard::Refusal;
use crate::api::row_authorizer::AuthorizerError;
use crate::control::ControlError;
use crate::error::Code;
use crate::tenant::work::{WorkError, WorkFailure};

/// A scoped query's failure.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// Refused before it ran: the guard, the type fence, or the checks of its plan.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The workspace's row authorizer denied it, or failed.
    #[error(transparent)]
    Authorizer(#[from] AuthorizerError),
    /// The workspace's table names could not be read.
    #[error(transparent)]
    Names(#[from] ControlError),
    /// It ran and failed in the database (or could not reach it).
    #[error(transparent)]
    Run(#[from] WorkError),
    /// A fault of Plinth's, logged where it happened.
    #[error("an internal error")]
    Internal,
}

impl QueryError {
    /// Whether it names a table that is not one of the workspace's, as far as the
    /// names the check used know: worth one more try with fresh names.
    pub fn names_an_unknown_table(&self) -> bool {
        matches!(self, Self::Refused(refusal) if refusal.code == Code::TableNotAllowed)
    }
}

impl From<tokio_postgres::Error> for QueryError {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Run(WorkError::Database(error))
    }
}

impl WorkFailure for QueryError {
    fn may_have_lost_the_connection(&self) -> bool {
        matches!(self, Self::Run(error) if error.may_have_lost_the_connection())
    }
}
