//! Filters and order: the parsed boolean trees and order terms, checked against the
//! relation of the level they apply to.

use super::error::PlanError;
use super::select::column_ref;
use super::types::{CompareOp, Expr, IsTest, Nulls, Order};
use crate::plugins::filter_types::{
    Condition, Direction, IsValue, NodeKind, NullsOrder, Operand, Operator, OrderTerm, Query,
};
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

/// The condition of the tree rooted at `nodes[root]`.
pub fn tree(relation: &Relation, query: &Query, root: u32) -> Result<Expr, PlanError> {
    let node = &query.nodes[root as usize];
    let expr = match &node.kind {
        NodeKind::Condition(c) => condition(relation, c)?,
        NodeKind::All(children) => Expr::All(
            children
                .iter()
                .map(|c| tree(relation, query, *c))
                .collect::<Result<_, _>>()?,
        ),
        NodeKind::Any(children) => Expr::Any(
            children
                .iter()
                .map(|c| tree(relation, query, *c))
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(if node.negated {
        Expr::Not(Box::new(expr))
    } else {
        expr
    })
}

/// One order term.
pub fn order(relation: &Relation, term: &OrderTerm) -> Result<Order, PlanError> {
    Ok(Order {
        left: column_ref(relation, &term.field)?,
        descending: matches!(term.direction, Direction::Desc),
        nulls: term.nulls.map(|n| match n {
            NullsOrder::First => Nulls::First,
            NullsOrder::Last => Nulls::Last,
        }),
    })
}
