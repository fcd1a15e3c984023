//! The reads: a page with its length and total, the same read batched for many
//! requests, and the estimate and count beside them.

use std::fmt::Write as _;

use tokio_postgres::types::Type;

use super::{relation_name, Builder};
use crate::plan::read::ReadPlan;
use crate::schema_cache::VersionSource;
use crate::sql::statement::{BatchStatement, FromRow, Param, Statement};

/// The read: the page as a JSON array, its length, and the exact total (or NULL in
/// estimated mode, which asks [`estimate`] beside it, and when no count is wanted);
/// with `version`, a fourth column carries the workspace's schema version, read as
/// that source says.
///
/// With `known_changes` (an exact count of a relation whose writes are counted, see
/// [`crate::schema_cache::Relation::changes_tracked`]) the third column is instead
/// `NULL` when the relation's write counter still stands at `known_changes`, the
/// count is then not run, or else the array of the count and the counter, both
/// read in the statement's snapshot.
///
/// The page is aggregated once, from a subquery (`json_agg` and `count(*)` in the
/// same pass), not from a CTE that the array and the length each scan: a CTE named
/// twice is materialised first, which costs a read by key a noticeable share of its
/// throughput (measured in `bench/RESULTS.md`). An aggregate without `GROUP BY`
/// answers one row even for an empty page (`NULL` array, length 0).
pub fn read(
    plan: &ReadPlan,
    version: Option<VersionSource>,
    known_changes: Option<i64>,
) -> Statement {
    read_with(Builder::default(), plan, version, known_changes).0
}

/// [`read`] for many requests at once, sent by `tenant::batch` when concurrent
/// requests run the same read with different values: the parameters are arrays,
/// one element per request, and the answer is one row per request, [`read`]'s
/// columns followed by the request's 1-based position in the arrays. `None` when a
/// parameter is itself an array (`unnest` would flatten it).
///
/// Each request's read is a `LATERAL` subquery over one row of `unnest`, so it sees
/// its own values only and answers exactly one row (an aggregate without `GROUP BY`),
/// and all of them share one snapshot, taken after every request in the batch arrived.
pub fn read_batch(
    plan: &ReadPlan,
    version: Option<VersionSource>,
    known_changes: Option<i64>,
) -> Option<BatchStatement> {
    let builder = Builder {
        batch_columns: true,
        ..Builder::default()
    };
    let (each, shared) = read_with(builder, plan, version, known_changes);
    let unnested: Vec<usize> = (0..each.params.len())
        .filter(|position| !shared.contains(position))
        .collect();
    if unnested.is_empty() || each.params.iter().any(|p| matches!(p, Param::TextArray(_))) {
        return None;
    }
    let mut text = String::with_capacity(each.text.len() + 160 + 12 * unnested.len());
    text.push_str("SELECT pgrst_q.*, pgrst_batch.pgrst_n FROM unnest(");
    for (i, position) in unnested.iter().enumerate() {
        let _ = write!(text, "{}${}", if i > 0 { ", " } else { "" }, position + 1);
    }
    text.push_str(") WITH ORDINALITY AS pgrst_batch(");
    for position in &unnested {
        let _ = write!(text, "p{}, ", position + 1);
    }
    text.push_str("pgrst_n) CROSS JOIN LATERAL (");
    text.push_str(&each.text);
    text.push_str(") AS pgrst_q");
    let types = each
        .params
        .iter()
        .enumerate()
        .map(|(position, p)| match (p, shared.contains(&position)) {
            (Param::Int(_), true) => Type::INT8,
            (Param::Text(_) | Param::TextArray(_), true) => Type::TEXT,
            (Param::Int(_), false) => Type::INT8_ARRAY,
            (Param::Text(_) | Param::TextArray(_), false) => Type::TEXT_ARRAY,
        })
        .collect();
    Some(BatchStatement {
        text,
        types,
        shared,
    })
}

fn read_with(
    mut b: Builder,
    plan: &ReadPlan,
    version: Option<VersionSource>,
    known_changes: Option<i64>,
) -> (Statement, Vec<usize>) {
    let alias = b.alias();
    let list = b.shape(&alias, &plan.shape);
    let where_clause = b.where_clause(&alias, &plan.filter, &plan.shape);
    let order = b.order(&alias, &plan.order);
    let rel = relation_name(&plan.relation);
    // One buffer for the statement, which is assembled on every read.
    let mut text = String::with_capacity(
        320 + list.len() + 2 * (rel.len() + where_clause.len()) + order.len(),
    );
    text.push_str("SELECT coalesce(json_agg(pgrst_page)::text, '[]'), count(*), ");
    let push_count = |text: &mut String| {
        text.push_str("(SELECT count(*) FROM ");
        text.push_str(&rel);
        text.push_str(" AS ");
        text.push_str(&alias);
        text.push_str(&where_clause);
        text.push(')');
    };
    match (plan.count, known_changes) {
        (crate::plan::CountMode::Exact, Some(known)) => {
            // The count is an uncorrelated subquery in the `ELSE` branch: PostgreSQL
            // runs it only when that branch is taken.
            text.push_str("(SELECT CASE WHEN pgrst_changes.n = ");
            b.bind_into(&mut text, Param::Int(known));
            text.push_str(" THEN NULL ELSE ARRAY[");
            push_count(&mut text);
            text.push_str(", pgrst_changes.n] END FROM (SELECT coalesce(sum(changes), 0)::bigint AS n FROM dl_meta.table_changes WHERE relid = ");
            let _ = write!(text, "{}", plan.relation.oid);
            text.push_str(") AS pgrst_changes)");
        }
        (crate::plan::CountMode::Exact, None) => push_count(&mut text),
        (crate::plan::CountMode::Estimated | crate::plan::CountMode::None, _) => {
            text.push_str("NULL::bigint")
        }
    }
    if let Some(source) = version {
        text.push_str(", ");
        text.push_str(source.expression());
    }
    text.push_str(" FROM (SELECT ");
    text.push_str(&list);
    text.push_str(" FROM ");
    text.push_str(&rel);
    text.push_str(" AS ");
    text.push_str(&alias);
    text.push_str(&where_clause);
    text.push_str(&order);
    text.push_str(" LIMIT ");
    b.bind_shared_into(&mut text, Param::Int(plan.limit));
    // Left out at 0: with an `OFFSET` parameter the generic plan's estimate is about
    // twice a custom plan's, so PostgreSQL would plan a read by key again on every
    // execution instead of settling on the generic plan.
    if plan.offset != 0 {
        text.push_str(" OFFSET ");
        b.bind_shared_into(&mut text, Param::Int(plan.offset));
    }
    text.push_str(") AS pgrst_page");
    let statement = Statement {
        text,
        params: b.params,
    };
    (statement, b.shared)
}

/// `EXPLAIN` of the read's filter, for the planner's row estimate.
pub fn estimate(plan: &ReadPlan) -> Statement {
    let mut b = Builder::default();
    let alias = b.alias();
    let where_clause = b.where_clause(&alias, &plan.filter, &plan.shape);
    Statement {
        text: format!(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM {} AS {alias}{where_clause}",
            relation_name(&plan.relation)
        ),
        params: b.params,
    }
}

/// The exact count of the read's filter when it may be reused while its relation has
/// no committed write (see `api::rows::exact_counts`), else `None`: an exact count
/// of one relation whose writes are counted
/// ([`crate::schema_cache::Relation::changes_tracked`]), no `!inner` embed, and no
/// filter value PostgreSQL reads as the clock (`now`, `today`, `tomorrow`,
/// `yesterday`), since what such a filter matches changes without any write.
pub fn reusable_count(plan: &ReadPlan) -> Option<Statement> {
    if plan.count != crate::plan::CountMode::Exact
        || !plan.relation.changes_tracked
        || !plan.counts_one_relation()
    {
        return None;
    }
    let count = count(plan);
    (!reads_the_clock(&count.params)).then_some(count)
}

/// Whether a value is one of the date and time inputs PostgreSQL reads as the clock,
/// alone or within a longer input (`today 10:00`); any other text containing the
/// words counts too, which only costs a count.
fn reads_the_clock(params: &[Param]) -> bool {
    let clock = |v: &str| {
        let v = v.to_ascii_lowercase();
        ["now", "today", "tomorrow", "yesterday"]
            .iter()
            .any(|word| v.contains(word))
    };
    params.iter().any(|p| match p {
        Param::Text(v) => clock(v),
        Param::TextArray(values) => values.iter().any(|v| clock(v)),
        Param::Int(_) => false,
    })
}

/// The exact count of the read's filter.
pub fn count(plan: &ReadPlan) -> Statement {
    let mut b = Builder::default();
    let alias = b.alias();
    let where_clause = b.where_clause(&alias, &plan.filter, &plan.shape);
    Statement {
        text: format!(
            "SELECT count(*) FROM {} AS {alias}{where_clause}",
            relation_name(&plan.relation)
        ),
        params: b.params,
    }
}

/// The row of [`read`] (and of each request in [`read_batch`]).
#[derive(Debug)]
pub struct PageRow {
    /// The page as a JSON array (text).
    pub data: String,
    /// Rows in the page.
    pub len: i64,
    /// The third column: the total, as the read was asked to count.
    pub total: TotalCell,
    /// The workspace's schema version, when the read was built to carry it.
    pub version: Option<i64>,
}

/// What a read answers in its total column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalCell {
    /// The exact count, or `NULL` when none was asked (or it is estimated).
    Count(Option<i64>),
    /// A reusable count: `[count, write counter]`, or `NULL` when the counter still
    /// stands where the remembered count was taken.
    Reusable(Option<[i64; 2]>),
}

impl FromRow for PageRow {
    fn from_row(row: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
        let reusable = row
            .columns()
            .get(2)
            .is_some_and(|column| column.type_() == &Type::INT8_ARRAY);
        let total = if reusable {
            let cell: Option<Vec<i64>> = row.try_get(2)?;
            TotalCell::Reusable(cell.and_then(|pair| <[i64; 2]>::try_from(pair).ok()))
        } else {
            TotalCell::Count(row.try_get(2)?)
        };
        Ok(Self {
            data: row.try_get(0)?,
            len: row.try_get(1)?,
            total,
            version: match row.len() > 3 {
                true => Some(row.try_get(3)?),
                false => None,
            },
        })
    }

    fn schema_version(&self) -> Option<i64> {
        self.version
    }
}
