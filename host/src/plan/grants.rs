//! The row authorizer's answer, resolved to values (the caller's subject, a claim,
//! ...) by the API layer, and turned here into conditions on checked columns.

use std::collections::HashMap;

use super::types::{ColumnRef, CompareOp, Expr, IsTest};
use crate::schema_cache::Relation;

/// A predicate's comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantOp {
    /// A comparison.
    Compare(CompareOp),
    /// `IN`.
    In,
    /// `IS NULL`.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
}

/// A predicate's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantValue {
    /// One value.
    One(String),
    /// A list (for `IN`).
    Many(Vec<String>),
    /// A claim the caller does not have: the predicate matches nothing.
    Missing,
}

/// One predicate of an `allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The column.
    pub column: String,
    /// The comparison.
    pub op: GrantOp,
    /// The value.
    pub value: GrantValue,
}

/// The predicates for each relation of a request (by oid); absent means none.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    by_relation: HashMap<u32, Vec<Grant>>,
}

impl Grants {
    /// Records the predicates for a relation.
    pub fn insert(&mut self, oid: u32, grants: Vec<Grant>) {
        self.by_relation.insert(oid, grants);
    }

    /// The conditions a relation's rows must meet. `Err` names a column the
    /// authorizer got wrong (its fault, not the client's).
    pub fn conditions(&self, relation: &Relation) -> Result<Vec<Expr>, String> {
        match self.by_relation.get(&relation.oid) {
            Some(grants) => conditions(grants, relation),
            None => Ok(Vec::new()),
        }
    }
}

/// The authorizer's answer for one write: its predicates on the written relation for
/// the write's action, for an upsert's update of an existing row (asked as `update`),
/// and for reads of the relations its returned rows embed.
#[derive(Debug, Clone, Default)]
pub struct WriteGrants {
    /// The predicates for the write's own action.
    pub target: Vec<Grant>,
    /// An upsert's predicates for updating a conflicting row; `None` for a write that
    /// updates no existing row through `ON CONFLICT`.
    pub conflict_update: Option<Vec<Grant>>,
    /// The read predicates of the embedded relations.
    pub embeds: Grants,
}

/// The conditions of `grants` on `relation`'s rows. `Err` names a column the
/// authorizer got wrong (its fault, not the client's).
pub fn conditions(grants: &[Grant], relation: &Relation) -> Result<Vec<Expr>, String> {
    grants
        .iter()
        .map(|g| {
            let column = relation.column(&g.column).ok_or_else(|| {
                format!(
                    "a predicate names column `{}`, which `{}` does not have",
                    g.column, relation.exposed
                )
            })?;
            let left = ColumnRef {
                column: column.name.clone(),
                cast_type: column.cast_type.clone(),
                json_path: Vec::new(),
            };
            Ok(match (&g.op, &g.value) {
                (_, GrantValue::Missing) => Expr::Const(false),
                (GrantOp::IsNull, _) => Expr::Is {
                    left,
                    test: IsTest::Null,
                },
                (GrantOp::IsNotNull, _) => Expr::Is {
                    left,
                    test: IsTest::NotNull,
                },
                (GrantOp::In, GrantValue::Many(values)) => Expr::In {
                    left,
                    values: values.clone(),
                },
                (GrantOp::In, GrantValue::One(value)) => Expr::In {
                    left,
                    values: vec![value.clone()],
                },
                (GrantOp::Compare(op), GrantValue::One(value)) => Expr::Compare {
                    left,
                    op: *op,
                    value: value.clone(),
                },
                (GrantOp::Compare(_), GrantValue::Many(_)) => {
                    return Err(format!("a `{}` predicate with a list of values", g.column))
                }
            })
        })
        .collect()
}
