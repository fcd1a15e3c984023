//! Why a request cannot be planned; every variant is the client's to fix.

/// A planning failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The table is not exposed (or does not exist).
    #[error("table `{name}` does not exist or is not exposed")]
    UnknownRelation {
        /// As the client wrote it.
        name: String,
        /// The nearest exposed name.
        suggestion: Option<String>,
    },
    /// A column does not exist.
    #[error("column `{column}` does not exist on `{relation}`")]
    UnknownColumn {
        /// The relation.
        relation: String,
        /// As the client wrote it.
        column: String,
        /// The nearest column.
        suggestion: Option<String>,
    },
    /// No foreign key joins the two relations.
    #[error("`{parent}` and `{child}` have no relationship through a foreign key")]
    NoRelationship {
        /// The embedding relation.
        parent: String,
        /// The embedded one.
        child: String,
    },
    /// Several foreign keys join them and no hint picks one.
    #[error("`{parent}` and `{child}` are related in more than one way; add a hint: `{child}!<name>(...)`")]
    Ambiguous {
        /// The embedding relation.
        parent: String,
        /// The embedded one.
        child: String,
        /// `constraint (description)` of each candidate.
        candidates: Vec<String>,
    },
    /// A filter or order names an embedding that the select does not have.
    #[error("`{0}` is not embedded in the select list")]
    NotEmbedded(String),
    /// A cast to a type that is not allowed.
    #[error("cannot cast to `{0}`; allowed: text, integer, bigint, smallint, numeric, real, double precision, boolean, date, time, timestamp, timestamptz, uuid, json, jsonb")]
    InvalidCast(String),
    /// `limit` beyond the maximum.
    #[error("limit {0} is above the maximum of {max}", max = super::MAX_LIMIT)]
    LimitTooLarge(u64),
    /// Two output keys of the same name.
    #[error("the select list produces `{0}` twice; give one of them an alias")]
    DuplicateName(String),
    /// Writing to a read-only relation.
    #[error("`{0}` is read-only")]
    ReadOnly(String),
    /// An UPDATE or DELETE without any filter.
    #[error("a {0} without filters would touch every row; add a filter, or send `Prefer: whole-table` to mean the whole table")]
    FilterRequired(&'static str),
    /// The request body is unusable.
    #[error("{0}")]
    InvalidBody(String),
    /// Single-row addressing needs a single-column primary key.
    #[error("`{0}` has no single-column primary key; address rows with filters instead")]
    NoSingleKey(String),
    /// A writeable column list names a generated column.
    #[error("column `{0}` is generated and cannot be written")]
    Generated(String),
}
