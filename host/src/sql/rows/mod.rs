//! Data API statements: plan → SQL text and parameters. One statement per request;
//! PostgreSQL builds the JSON and counts in the same statement. Identifiers come from
//! the catalog and are quoted; every client value is a parameter. [`read`] builds
//! the reads, [`write`] the writes; the builder both share is here.

use std::fmt::Write as _;

use super::statement::Param;
use super::{operator, push_ident, quote_ident, quote_qualified};
use crate::plan::{ColumnRef, CompareOp, Embed, Expr, IsTest, Item, Nulls, Order, Shape};
use crate::schema_cache::Relation;

pub mod read;
pub mod write;

pub use read::{count, estimate, read, read_batch, reusable_count, PageRow, TotalCell};
pub use write::{delete, insert, update, WriteRow};

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

#[cfg(test)]
mod tests;
