//! Data API statements: plan → SQL text and parameters. One statement per request;
//! PostgreSQL builds the JSON and counts in the same statement. Identifiers come from
//! the catalog and are quoted; every client value is a parameter.

use tokio_postgres::types::{ToSql, Type};

use std::fmt::Write as _;

use super::{operator, push_ident, quote_ident, quote_qualified};
use crate::plan::read::ReadPlan;
use crate::plan::write::{DeletePlan, InsertPlan, UpdatePlan};
use crate::plan::{ColumnRef, CompareOp, Embed, Expr, IsTest, Item, Nulls, Order, Shape};
use crate::schema_cache::{Relation, VersionSource};

/// A bound parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Param {
    /// Text, cast in SQL to what it is compared with.
    Text(String),
    /// A text array, cast in SQL.
    TextArray(Vec<String>),
    /// An integer (limit, offset).
    Int(i64),
}

impl Param {
    fn sql_type(&self) -> Type {
        match self {
            Param::Text(_) => Type::TEXT,
            Param::TextArray(_) => Type::TEXT_ARRAY,
            Param::Int(_) => Type::INT8,
        }
    }

    /// The value, for binding.
    pub fn value(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Text(v) => v,
            Param::TextArray(v) => v,
            Param::Int(v) => v,
        }
    }
}

/// A statement ready to prepare (with `types`) and run (with `values`).
#[derive(Debug, Clone)]
pub struct Statement {
    /// The SQL text.
    pub text: String,
    /// Its parameters in order.
    pub params: Vec<Param>,
}

impl Statement {
    /// The parameter types, for `prepare_typed`.
    pub fn types(&self) -> Vec<Type> {
        self.params.iter().map(Param::sql_type).collect()
    }

    /// The parameter values.
    pub fn values(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(Param::value).collect()
    }
}

#[derive(Default)]
struct Builder {
    params: Vec<Param>,
    aliases: usize,
    /// Placeholders name the columns of [`read_batch`]'s `unnest` (`pgrst_batch.p1`)
    /// instead of the statement's parameters (`$1`).
    batch_columns: bool,
    /// Positions of the parameters bound with [`Builder::bind_shared_into`].
    shared: Vec<usize>,
}

fn relation_name(relation: &Relation) -> String {
    quote_qualified(&relation.schema, &relation.name)
}

impl Builder {
    fn bind(&mut self, param: Param) -> String {
        let mut out = String::with_capacity(4);
        self.bind_into(&mut out, param);
        out
    }

    /// Appends the placeholder (`$n`, or `pgrst_batch.pn` for a batch) of a new
    /// parameter.
    fn bind_into(&mut self, out: &mut String, param: Param) {
        self.params.push(param);
        let n = self.params.len();
        // Writing to a String cannot fail.
        let _ = if self.batch_columns {
            write!(out, "pgrst_batch.p{n}")
        } else {
            write!(out, "${n}")
        };
    }

    /// Appends the placeholder of a new parameter that stays a parameter of the
    /// statement in a batch too (`$n`), so that the planner knows its value: the
    /// page's `LIMIT` and `OFFSET`, which every read of a batch shares.
    fn bind_shared_into(&mut self, out: &mut String, param: Param) {
        self.params.push(param);
        let n = self.params.len();
        if self.batch_columns {
            self.shared.push(n - 1);
        }
        let _ = write!(out, "${n}");
    }

    fn alias(&mut self) -> String {
        let alias = format!("t{}", self.aliases);
        self.aliases += 1;
        alias
    }

    fn column(&mut self, alias: &str, c: &ColumnRef) -> String {
        let mut out = String::with_capacity(alias.len() + c.column.len() + 3);
        self.column_into(&mut out, alias, c);
        out
    }

    /// Appends `alias."column"` and its JSON path steps.
    fn column_into(&mut self, out: &mut String, alias: &str, c: &ColumnRef) {
        out.push_str(alias);
        out.push('.');
        push_ident(out, &c.column);
        for step in &c.json_path {
            out.push_str(if step.as_text { "->>" } else { "->" });
            if step.index {
                out.push('(');
                self.bind_into(out, Param::Text(step.key.clone()));
                out.push_str("::int)");
            } else {
                self.bind_into(out, Param::Text(step.key.clone()));
            }
        }
    }

    /// Appends `left op $n::type`, the comparison of a column with a bound value.
    fn compare_into(
        &mut self,
        out: &mut String,
        alias: &str,
        left: &ColumnRef,
        op: &CompareOp,
        value: &str,
    ) {
        let op = operator(*op);
        let ty = left.value_type();
        let wrapped = ty == "jsonb" && !left.json_path.is_empty();
        if wrapped {
            out.push('(');
        }
        self.column_into(out, alias, left);
        if wrapped {
            out.push_str(")::jsonb");
        }
        out.push(' ');
        out.push_str(op);
        out.push(' ');
        self.bind_into(out, Param::Text(value.to_owned()));
        out.push_str("::");
        out.push_str(ty);
    }

    /// Appends `expr`; a comparison is written in place, the rest as [`Self::expr`].
    fn expr_into(&mut self, out: &mut String, alias: &str, expr: &Expr) {
        match expr {
            Expr::Compare { left, op, value } => self.compare_into(out, alias, left, op, value),
            other => {
                let text = self.expr(alias, other);
                out.push_str(&text);
            }
        }
    }

    fn expr(&mut self, alias: &str, expr: &Expr) -> String {
        match expr {
            Expr::Compare { left, op, value } => {
                let mut out = String::with_capacity(64);
                self.compare_into(&mut out, alias, left, op, value);
                out
            }
            Expr::Like {
                left,
                case_insensitive,
                pattern,
            } => {
                let column = self.column(alias, left);
                let bound = self.bind(Param::Text(pattern.clone()));
                let op = if *case_insensitive { "ILIKE" } else { "LIKE" };
                format!("({column})::text {op} {bound}")
            }
            Expr::In { left, values } => {
                let ty = left.value_type().to_owned();
                let mut column = self.column(alias, left);
                if ty == "jsonb" && !left.json_path.is_empty() {
                    column = format!("({column})::jsonb");
                }
                let bound = self.bind(Param::TextArray(values.clone()));
                format!("{column} = ANY({bound}::{ty}[])")
            }
            Expr::Is { left, test } => {
                let column = self.column(alias, left);
                let test = match test {
                    IsTest::Null => "IS NULL",
                    IsTest::NotNull => "IS NOT NULL",
                    IsTest::True => "IS TRUE",
                    IsTest::False => "IS FALSE",
                    IsTest::Unknown => "IS UNKNOWN",
                };
                format!("{column} {test}")
            }
            Expr::Not(inner) => format!("NOT ({})", self.expr(alias, inner)),
            Expr::All(children) if children.is_empty() => "TRUE".into(),
            Expr::Any(children) if children.is_empty() => "FALSE".into(),
            Expr::All(children) => self.join(alias, children, " AND "),
            Expr::Any(children) => self.join(alias, children, " OR "),
            Expr::Const(true) => "TRUE".into(),
            Expr::Const(false) => "FALSE".into(),
        }
    }

    fn join(&mut self, alias: &str, children: &[Expr], with: &str) -> String {
        let parts: Vec<String> = children.iter().map(|c| self.expr(alias, c)).collect();
        format!("({})", parts.join(with))
    }

    /// `WHERE ...` for a level: its conditions and the EXISTS of its `!inner` embeds.
    fn where_clause(&mut self, alias: &str, filter: &[Expr], shape: &Shape) -> String {
        let mut out = String::new();
        let mut separator = " WHERE ";
        for e in filter {
            out.push_str(separator);
            separator = " AND ";
            self.expr_into(&mut out, alias, e);
        }
        for item in &shape.items {
            if let Item::Embed(e) = item {
                if e.inner {
                    out.push_str(separator);
                    separator = " AND ";
                    let exists = self.exists(alias, e);
                    out.push_str(&exists);
                }
            }
        }
        out
    }

    fn join_condition(&self, parent: &str, child: &str, e: &Embed) -> Vec<String> {
        e.join
            .iter()
            .map(|(p, c)| format!("{child}.{} = {parent}.{}", quote_ident(c), quote_ident(p)))
            .collect()
    }

    fn exists(&mut self, parent: &str, e: &Embed) -> String {
        let alias = self.alias();
        let mut parts = self.join_condition(parent, &alias, e);
        let rest = self.where_clause(&alias, &e.filter, &e.shape);
        if let Some(conditions) = rest.strip_prefix(" WHERE ") {
            parts.push(conditions.to_owned());
        }
        format!(
            "EXISTS (SELECT 1 FROM {} AS {alias} WHERE {})",
            relation_name(&e.relation),
            parts.join(" AND ")
        )
    }

    fn order(&mut self, alias: &str, order: &[Order]) -> String {
        if order.is_empty() {
            return String::new();
        }
        let terms: Vec<String> = order
            .iter()
            .map(|o| {
                let mut term = self.column(alias, &o.left);
                term.push_str(if o.descending { " DESC" } else { " ASC" });
                match o.nulls {
                    Some(Nulls::First) => term.push_str(" NULLS FIRST"),
                    Some(Nulls::Last) => term.push_str(" NULLS LAST"),
                    None => {}
                }
                term
            })
            .collect();
        format!(" ORDER BY {}", terms.join(", "))
    }

    fn shape(&mut self, alias: &str, shape: &Shape) -> String {
        if shape.items.is_empty() {
            return "NULL AS \"_\"".into();
        }
        let mut out = String::with_capacity(32 * shape.items.len());
        for (i, item) in shape.items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match item {
                Item::Column { left, name, cast } => {
                    match cast {
                        Some(ty) => {
                            out.push('(');
                            self.column_into(&mut out, alias, left);
                            out.push_str(")::");
                            out.push_str(ty);
                        }
                        None => self.column_into(&mut out, alias, left),
                    }
                    out.push_str(" AS ");
                    push_ident(&mut out, name);
                }
                Item::Embed(e) => {
                    let embedded = self.embed(alias, e);
                    out.push_str(&embedded);
                }
            }
        }
        out
    }

    fn embed(&mut self, parent: &str, e: &Embed) -> String {
        let alias = self.alias();
        let list = self.shape(&alias, &e.shape);
        let mut conditions = self.join_condition(parent, &alias, e);
        let rest = self.where_clause(&alias, &e.filter, &e.shape);
        if let Some(more) = rest.strip_prefix(" WHERE ") {
            conditions.push(more.to_owned());
        }
        let order = self.order(&alias, &e.order);
        let source = format!(
            "SELECT {list} FROM {} AS {alias} WHERE {}{order}",
            relation_name(&e.relation),
            conditions.join(" AND ")
        );
        if e.to_one {
            format!(
                "(SELECT row_to_json(pgrst_x) FROM ({source} LIMIT 1) AS pgrst_x) AS {}",
                quote_ident(&e.name)
            )
        } else {
            format!(
                "(SELECT coalesce(json_agg(pgrst_x), '[]'::json) FROM ({source}) AS pgrst_x) AS {}",
                quote_ident(&e.name)
            )
        }
    }

    /// The three result columns of a write: returned rows as JSON, their count, and
    /// how many rows break the authorizer's checks.
    fn write_result(&mut self, returning: Option<&Shape>, checks: &Checks) -> String {
        let rendered = match returning {
            Some(shape) => {
                let alias = self.alias();
                let list = self.shape(&alias, shape);
                format!("coalesce((SELECT json_agg(pgrst_x)::text FROM (SELECT {list} FROM pgrst_rows AS {alias}) AS pgrst_x), '[]')")
            }
            None => "'[]'::text".to_owned(),
        };
        let violations = match checks {
            Checks::Rows([]) => "0::bigint".to_owned(),
            Checks::Rows(checks) => {
                let alias = self.alias();
                let all = self.expr(&alias, &Expr::All(checks.to_vec()));
                format!(
                    "(SELECT count(*) FROM pgrst_rows AS {alias} WHERE NOT coalesce({all}, false))"
                )
            }
            Checks::Upsert {
                inserted,
                updated,
                sent,
            } => {
                let alias = self.alias();
                let mut all = |checks: &[Expr]| match checks {
                    [] => "TRUE".to_owned(),
                    checks => self.expr(&alias, &Expr::All(checks.to_vec())),
                };
                let (inserted, updated) = (all(inserted), all(updated));
                // A conflicting row the update's conditions refused is neither
                // inserted nor updated, so it is missing from the returned rows.
                format!(
                    "(SELECT count(*) FROM pgrst_rows AS {alias} WHERE NOT coalesce(CASE WHEN {alias}.pgrst_inserted THEN {inserted} ELSE {updated} END, false)) \
                     + ({sent} - (SELECT count(*) FROM pgrst_rows))"
                )
            }
        };
        format!("SELECT {rendered}, (SELECT count(*) FROM pgrst_rows), {violations}")
    }
}

/// What a write's rows are checked against.
enum Checks<'a> {
    /// Every returned row must meet these.
    Rows(&'a [Expr]),
    /// An upsert that may update existing rows: inserted rows must meet `inserted`,
    /// updated ones `updated`, and every one of the `sent` rows must be returned.
    Upsert {
        inserted: &'a [Expr],
        updated: &'a [Expr],
        sent: usize,
    },
}

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

/// A statement that runs one read for many requests (see [`read_batch`]).
#[derive(Debug)]
pub struct BatchStatement {
    /// The SQL text.
    pub text: String,
    /// Its parameter types: an array for each parameter of the single read, but for
    /// those in `shared`.
    pub types: Vec<Type>,
    /// Positions of the parameters every read of the batch has the same value for
    /// (the page's limit and offset): one value each, not an array, so that
    /// PostgreSQL plans for the page's size rather than guess it.
    pub shared: Vec<usize>,
}

impl BatchStatement {
    /// The parameter values for `reads`, statements [`read`] built from plans that
    /// gave this batch statement: each parameter as an array of every read's value,
    /// or for a [`shared`](Self::shared) one, the value all of them have. `None` when
    /// the reads' parameters do not line up with the batch's.
    pub fn values<'a>(
        &self,
        reads: &[&'a Statement],
    ) -> Option<Vec<Box<dyn ToSql + Sync + Send + 'a>>> {
        let mut values: Vec<Box<dyn ToSql + Sync + Send + 'a>> =
            Vec::with_capacity(self.types.len());
        for (position, ty) in self.types.iter().enumerate() {
            let mut column = reads.iter().copied().map(|read| read.params.get(position));
            if self.shared.contains(&position) {
                let first = column.next()??;
                if !column.all(|p| p == Some(first)) {
                    return None;
                }
                values.push(match first {
                    Param::Int(v) => Box::new(*v),
                    Param::Text(v) => Box::new(v.as_str()),
                    Param::TextArray(_) => return None,
                });
            } else if *ty == Type::INT8_ARRAY {
                let ints: Option<Vec<i64>> = column
                    .map(|p| match p {
                        Some(Param::Int(v)) => Some(*v),
                        _ => None,
                    })
                    .collect();
                values.push(Box::new(ints?));
            } else {
                let texts: Option<Vec<&'a str>> = column
                    .map(|p| match p {
                        Some(Param::Text(v)) => Some(v.as_str()),
                        _ => None,
                    })
                    .collect();
                values.push(Box::new(texts?));
            }
        }
        let aligned = reads
            .iter()
            .all(|read| read.params.len() == self.types.len());
        aligned.then_some(values)
    }
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

/// The insert (or upsert) of the plan's JSON rows.
pub fn insert(plan: &InsertPlan) -> Statement {
    let mut b = Builder::default();
    let rows = b.bind(Param::Text(plan.rows_json.clone()));
    let rel = relation_name(&plan.relation);
    let columns: Vec<String> = plan.columns.iter().map(|c| quote_ident(c)).collect();
    let sources: Vec<String> = plan
        .columns
        .iter()
        .map(|c| format!("pgrst_r.{}", quote_ident(c)))
        .collect();
    let guarded_upsert =
        plan.updates_on_conflict() && !(plan.checks.is_empty() && plan.conflict_checks.is_empty());
    let conflict = match &plan.conflict {
        None => String::new(),
        Some(conflict) => {
            let target: Vec<String> = conflict.columns.iter().map(|c| quote_ident(c)).collect();
            let updates: Vec<String> = plan
                .columns
                .iter()
                .filter(|c| !conflict.columns.contains(c))
                .map(|c| format!("{0} = EXCLUDED.{0}", quote_ident(c)))
                .collect();
            if !plan.updates_on_conflict() {
                format!(" ON CONFLICT ({}) DO NOTHING", target.join(", "))
            } else {
                // The existing row is `t`: it is updated only where the authorizer's
                // update conditions hold on it.
                let only_allowed = b.where_clause("t", &plan.conflict_checks, &Shape::default());
                format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}{only_allowed}",
                    target.join(", "),
                    updates.join(", ")
                )
            }
        }
    };
    let (returned, checks) = if guarded_upsert {
        (
            "t.*, (t.xmax = 0) AS pgrst_inserted",
            Checks::Upsert {
                inserted: &plan.checks,
                updated: &plan.conflict_checks,
                sent: plan.row_count,
            },
        )
    } else {
        ("t.*", Checks::Rows(&plan.checks))
    };
    let result = b.write_result(plan.returning.as_ref(), &checks);
    // No columns: every row takes every default (a zero-column SELECT).
    let target = if columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", columns.join(", "))
    };
    Statement {
        text: format!(
            "WITH pgrst_rows AS (
               INSERT INTO {rel} AS t{target} SELECT {} FROM json_populate_recordset(NULL::{rel}, {rows}::json) AS pgrst_r{conflict}
               RETURNING {returned})
             {result}",
            sources.join(", ")
        ),
        params: b.params,
    }
}

/// The update of the plan's rows.
pub fn update(plan: &UpdatePlan) -> Statement {
    let mut b = Builder::default();
    let row = b.bind(Param::Text(plan.row_json.clone()));
    let rel = relation_name(&plan.relation);
    let alias = b.alias();
    let where_clause = b.where_clause(&alias, &plan.filter, &Shape::default());
    let columns: Vec<String> = plan.columns.iter().map(|c| quote_ident(c)).collect();
    let sources: Vec<String> = plan
        .columns
        .iter()
        .map(|c| format!("pgrst_r.{}", quote_ident(c)))
        .collect();
    let result = b.write_result(plan.returning.as_ref(), &Checks::Rows(&plan.checks));
    Statement {
        text: format!(
            "WITH pgrst_rows AS (
               UPDATE {rel} AS {alias} SET ({}) = (SELECT {} FROM json_populate_record(NULL::{rel}, {row}::json) AS pgrst_r){where_clause}
               RETURNING {alias}.*)
             {result}",
            columns.join(", "),
            sources.join(", ")
        ),
        params: b.params,
    }
}

/// The delete of the plan's rows.
pub fn delete(plan: &DeletePlan) -> Statement {
    let mut b = Builder::default();
    let rel = relation_name(&plan.relation);
    let alias = b.alias();
    let where_clause = b.where_clause(&alias, &plan.filter, &Shape::default());
    let result = b.write_result(plan.returning.as_ref(), &Checks::Rows(&[]));
    Statement {
        text: format!(
            "WITH pgrst_rows AS (DELETE FROM {rel} AS {alias}{where_clause} RETURNING {alias}.*)
             {result}"
        ),
        params: b.params,
    }
}

#[cfg(test)]
#[path = "rows_tests.rs"]
mod tests;
