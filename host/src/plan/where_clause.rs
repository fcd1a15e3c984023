//! Filters and order: the parsed boolean trees and order terms, checked against the
//! relation of the level they apply to.

use super::error::PlanError;
use super::select::column_ref;
use super::types::{CompareOp, Expr, IsTest, Nulls, Order};
use crate::request::{Condition, FilterTree, IsValue, NullsOrder, Operand, Operator, OrderTerm};
use crate::schema_cache::Relation;

fn condition(relation: &Relation, c: &Condition) -> Result<Expr, PlanError> {
    let left = column_ref(relation, &c.field)?;
    let single = |value: &Operand| match value {
        Operand::Value(v) => Ok(v.clone()),
        Operand::Values(vs) if vs.len() == 1 => Ok(vs[0].clone()),
        _ => Err(PlanError::InvalidBody(format!(
            "`{}` takes one value",
            c.field.name
        ))),
    };
    Ok(match c.op {
        Operator::Eq
        | Operator::Neq
        | Operator::Gt
        | Operator::Gte
        | Operator::Lt
        | Operator::Lte => {
            let op = match c.op {
                Operator::Eq => CompareOp::Eq,
                Operator::Neq => CompareOp::Neq,
                Operator::Gt => CompareOp::Gt,
                Operator::Gte => CompareOp::Gte,
                Operator::Lt => CompareOp::Lt,
                _ => CompareOp::Lte,
            };
            Expr::Compare {
                left,
                op,
                value: single(&c.operand)?,
            }
        }
        Operator::Like | Operator::Ilike => Expr::Like {
            left,
            case_insensitive: matches!(c.op, Operator::Ilike),
            pattern: single(&c.operand)?,
        },
        Operator::In => match &c.operand {
            Operand::Values(values) => Expr::In {
                left,
                values: values.clone(),
            },
            Operand::Value(v) => Expr::In {
                left,
                values: vec![v.clone()],
            },
            Operand::Is(_) => return Err(PlanError::InvalidBody("`in` takes a list".into())),
        },
        Operator::Is => match &c.operand {
            Operand::Is(is) => Expr::Is {
                left,
                test: match is {
                    IsValue::Null => IsTest::Null,
                    IsValue::NotNull => IsTest::NotNull,
                    IsValue::True => IsTest::True,
                    IsValue::False => IsTest::False,
                    IsValue::Unknown => IsTest::Unknown,
                },
            },
            _ => {
                return Err(PlanError::InvalidBody(
                    "`is` takes null, not_null, true, false or unknown".into(),
                ))
            }
        },
    })
}

/// The condition a filter tree states.
pub fn tree(relation: &Relation, tree: &FilterTree) -> Result<Expr, PlanError> {
    let all = |children: &[FilterTree]| -> Result<Vec<Expr>, PlanError> {
        children.iter().map(|c| self::tree(relation, c)).collect()
    };
    Ok(match tree {
        FilterTree::Condition(c) => condition(relation, c)?,
        FilterTree::All(children) => Expr::All(all(children)?),
        FilterTree::Any(children) => Expr::Any(all(children)?),
        FilterTree::Not(inner) => Expr::Not(Box::new(self::tree(relation, inner)?)),
    })
}

/// One order term.
pub fn order(relation: &Relation, term: &OrderTerm) -> Result<Order, PlanError> {
    Ok(Order {
        left: column_ref(relation, &term.field)?,
        descending: term.descending,
        nulls: term.nulls.map(|n| match n {
            NullsOrder::First => Nulls::First,
            NullsOrder::Last => Nulls::Last,
        }),
    })
}
