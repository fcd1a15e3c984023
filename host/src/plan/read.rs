//! Planning a read: select tree, filters and order at each level, limit and offset.

use std::sync::Arc;

use super::error::PlanError;
use super::grants::Grants;
use super::select::{each_embed, embed_at, shape};
use super::types::{ColumnRef, CompareOp, CountMode, Expr, Item, Order, Shape};
use super::where_clause::{order, tree};
use super::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::request::Query;
use crate::schema_cache::{Relation, SchemaCache};

/// A planned read.
#[derive(Debug, Clone)]
pub struct ReadPlan {
    /// The requested relation.
    pub relation: Arc<Relation>,
    /// What to return.
    pub shape: Shape,
    /// Its conditions, ANDed.
    pub filter: Vec<Expr>,
    /// Its order.
    pub order: Vec<Order>,
    /// `LIMIT`.
    pub limit: i64,
    /// `OFFSET`.
    pub offset: i64,
    /// How `total` is computed.
    pub count: CountMode,
}

/// Plans a read of `relation`; `single_key` addresses one row by primary key.
pub fn plan(
    schema: &SchemaCache,
    relation: &Arc<Relation>,
    query: &Query,
    count: CountMode,
    single_key: Option<&str>,
) -> Result<ReadPlan, PlanError> {
    let mut shape = shape(schema, relation, &query.select)?;
    let mut filter = Vec::new();
    for f in &query.filters {
        if f.path.is_empty() {
            filter.push(tree(relation, &f.tree)?);
        } else {
            let embed = embed_at(&mut shape, &f.path)?;
            let condition = tree(&embed.relation, &f.tree)?;
            embed.filter.push(condition);
        }
    }
    let mut top_order = Vec::new();
    for term in &query.order {
        if term.path.is_empty() {
            top_order.push(order(relation, term)?);
        } else {
            let embed = embed_at(&mut shape, &term.path)?;
            let o = order(&embed.relation, term)?;
            embed.order.push(o);
        }
    }
    let limit = match query.limit {
        Some(n) if n > MAX_LIMIT as u64 => return Err(PlanError::LimitTooLarge(n)),
        Some(n) => n as i64,
        None => DEFAULT_LIMIT,
    };
    let offset = query.offset.unwrap_or(0).min(i64::MAX as u64) as i64;
    let mut plan = ReadPlan {
        relation: relation.clone(),
        shape,
        filter,
        order: top_order,
        limit,
        offset,
        count,
    };
    if let Some(key) = single_key {
        plan.filter.push(key_condition(relation, key)?);
        plan.limit = 1;
        plan.offset = 0;
    }
    Ok(plan)
}

/// `pk = key` for a relation with a single-column primary key.
pub fn key_condition(relation: &Relation, key: &str) -> Result<Expr, PlanError> {
    let [pk] = relation.primary_key.as_slice() else {
        return Err(PlanError::NoSingleKey(relation.exposed.clone()));
    };
    let column = relation
        .column(pk)
        .ok_or_else(|| PlanError::NoSingleKey(relation.exposed.clone()))?;
    Ok(Expr::Compare {
        left: ColumnRef {
            column: column.name.clone(),
            cast_type: column.cast_type.clone(),
            json_path: Vec::new(),
        },
        op: CompareOp::Eq,
        value: key.to_owned(),
    })
}

impl ReadPlan {
    /// Every relation the read touches (for the row authorizer), top first.
    pub fn relations(&self) -> Vec<Arc<Relation>> {
        let mut out = vec![self.relation.clone()];
        embedded_relations(&self.shape, &mut out);
        out
    }

    /// Whether the exact count reads the requested relation alone: no `!inner` embed
    /// at the top level adds an `EXISTS` over another relation to its filter.
    pub fn counts_one_relation(&self) -> bool {
        !self
            .shape
            .items
            .iter()
            .any(|item| matches!(item, Item::Embed(e) if e.inner))
    }

    /// ANDs the authorizer's conditions into every level.
    pub fn apply_grants(&mut self, grants: &Grants) -> Result<(), String> {
        self.filter.extend(grants.conditions(&self.relation)?);
        each_embed(&mut self.shape, &mut |e| {
            let extra = grants.conditions(&e.relation)?;
            e.filter.extend(extra);
            Ok(())
        })
    }
}

/// Appends the relations embedded below `shape`, depth first.
pub(super) fn embedded_relations(shape: &Shape, out: &mut Vec<Arc<Relation>>) {
    for item in &shape.items {
        if let Item::Embed(e) = item {
            out.push(e.relation.clone());
            embedded_relations(&e.shape, out);
        }
    }
}
