//! The writes: insert (and upsert), update and delete, each answering the rows it
//! returns, their count and how many break the authorizer's checks ([`WriteRow`]).

use super::{relation_name, Builder, Checks};
use crate::plan::write::{DeletePlan, InsertPlan, UpdatePlan};
use crate::plan::Shape;
use crate::sql::quote_ident;
use crate::sql::statement::Param;
use crate::sql::statement::{FromRow, Statement};

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

/// The row of a write.
#[derive(Debug)]
pub struct WriteRow {
    /// The returned rows as a JSON array (text; `[]` when none are rendered).
    pub data: String,
    /// Rows written.
    pub count: i64,
    /// Rows that break the row authorizer's checks: any is a refusal.
    pub violations: i64,
}

impl FromRow for WriteRow {
    fn from_row(row: &tokio_postgres::Row) -> Result<Self, tokio_postgres::Error> {
        Ok(Self {
            data: row.try_get(0)?,
            count: row.try_get(1)?,
            violations: row.try_get(2)?,
        })
    }
}
