//! Planning: a pure function of the parsed request, the schema cache and the row
//! authorizer's grants. Every name the client wrote is checked against the catalog
//! here; what comes out refers only to relations and columns that exist, and carries
//! every client value as a value to bind, never as SQL.

mod error;
mod grants;
pub mod read;
mod relationship;
mod select;
mod types;
mod where_clause;
pub mod write;

pub use error::PlanError;
pub use grants::{conditions, Grant, GrantOp, GrantValue, Grants, WriteGrants};
pub use relationship::{relate, Link};
pub use types::*;

/// The row limit when a request gives none.
pub const DEFAULT_LIMIT: i64 = 20;
/// The largest row limit a request may ask for.
pub const MAX_LIMIT: i64 = 1000;
