//! The row authorizer inside the scoped query. Every workspace table the statement
//! reads gets the authorizer's decision on `select`, and becomes a subquery of the
//! rows it allows under the table's own name. The target of an `UPDATE` or `DELETE`
//! gets the decision on its action, with the conditions ANDed into its `WHERE`; the
//! rows an `INSERT` or `UPDATE` writes are checked inside the statement by
//! `dl_meta.authorized_row`, so that a row the authorizer does not allow aborts the
//! statement before anything commits. A denial is a 403 naming the table.

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FromTable, Ident, ObjectNamePart, OnConflictAction, OnInsert, Query, SelectItem,
    Statement, TableAlias, TableFactor, TableObject, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::guard::Checked;
use super::QueryError;
use crate::api::row_authorizer::AuthorizerError;
use crate::api::row_authorizer::RowAuthorizer;
use crate::names::TABLES_SCHEMA;
use crate::plan::Grant;
use crate::plugins::authorizer_types::Action;
use crate::sql::scoped;

/// The name of the hidden result column that checks written rows.
const CHECK_COLUMN: &str = "pgrst_authorized";

/// The table a data-modifying statement writes, as the guard rewrote it.
struct Target {
    /// Its physical name.
    physical: String,
    /// The name its rows go by in the statement (its alias, or its table name).
    alias: Ident,
    /// What the statement does to it.
    action: Action,
}

/// Asks the authorizer about every table `checked` touches and enforces the answer
/// inside the statement. Not called for the built-in allow-all authorizer.
pub async fn apply(
    mut checked: Checked,
    authorizer: &RowAuthorizer<'_>,
) -> Result<Checked, QueryError> {
    let target = target(&checked.statement);
    let reads = with_target_set_aside(&mut checked.statement, |part| {
        let mut collect = Reads::Collect(BTreeSet::new());
        let _ = part.visit(&mut collect);
        match collect {
            Reads::Collect(names) => names,
            Reads::Filter { .. } => BTreeSet::new(),
        }
    });
    let table_name = |physical: &str| {
        checked
            .table_names
            .get(physical)
            .cloned()
            .unwrap_or_else(|| physical.to_owned())
    };
    let mut read_grants = HashMap::new();
    for physical in reads {
        let grants = authorizer
            .grants(TABLES_SCHEMA, &table_name(&physical), Action::Select)
            .await?;
        if !grants.is_empty() {
            read_grants.insert(physical, grants);
        }
    }
    if !read_grants.is_empty() {
        let filtered = with_target_set_aside(&mut checked.statement, |part| {
            part.visit(&mut Reads::Filter {
                grants: &read_grants,
                inside_replacement: false,
            })
        });
        if filtered.is_break() {
            // A table would be read unfiltered: nothing runs.
            tracing::error!("the row authorizer's filtered subquery did not parse");
            return Err(QueryError::Internal);
        }
    }
    if let Some(target) = target {
        let name = table_name(&target.physical);
        let grants = authorizer
            .grants(TABLES_SCHEMA, &name, target.action)
            .await?;
        if updates_on_conflict(&checked.statement) {
            let update = authorizer
                .grants(TABLES_SCHEMA, &name, Action::Update)
                .await?;
            if !(grants.is_empty() && update.is_empty()) {
                return Err(AuthorizerError::Denied(format!(
                    "INSERT ... ON CONFLICT DO UPDATE on `{name}` is refused: the workspace's row authorizer limits which of its rows may be written; send the INSERT and the UPDATE separately"
                ))
                .into());
            }
        }
        if !grants.is_empty() {
            checked.hidden_check = guard_target(&mut checked.statement, &target, &grants, &name)?;
        }
    }
    checked.sql = checked.statement.to_string();
    Ok(checked)
}

/// The table an `INSERT`, `UPDATE` or `DELETE` writes.
fn target(statement: &Statement) -> Option<Target> {
    let (name, alias, action) = match statement {
        Statement::Insert(insert) => match &insert.table {
            TableObject::TableName(name) => (name, insert.table_alias.clone(), Action::Insert),
            TableObject::TableFunction(_) => return None,
        },
        Statement::Update { table, .. } => match &table.relation {
            TableFactor::Table { name, alias, .. } => {
                (name, alias.as_ref().map(|a| a.name.clone()), Action::Update)
            }
            _ => return None,
        },
        Statement::Delete(delete) => match &delete.from {
            FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from) => {
                match from.first().map(|t| &t.relation) {
                    Some(TableFactor::Table { name, alias, .. }) => {
                        (name, alias.as_ref().map(|a| a.name.clone()), Action::Delete)
                    }
                    _ => return None,
                }
            }
        },
        _ => return None,
    };
    let physical = physical_name(name.0.as_slice())?;
    let alias = alias.unwrap_or_else(|| Ident::with_quote('"', physical.clone()));
    Some(Target {
        physical,
        alias,
        action,
    })
}

/// The physical name of a workspace table as the guard wrote it.
fn physical_name(parts: &[ObjectNamePart]) -> Option<String> {
    match parts {
        [ObjectNamePart::Identifier(schema), ObjectNamePart::Identifier(table)]
            if schema.value == TABLES_SCHEMA =>
        {
            Some(table.value.clone())
        }
        _ => None,
    }
}

/// Whether an `INSERT` may update existing rows.
fn updates_on_conflict(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::Insert(insert) if matches!(
            &insert.on,
            Some(OnInsert::OnConflict(c)) if matches!(c.action, OnConflictAction::DoUpdate(_))
        )
    )
}

/// Runs `visit` over every part of the statement except the table an `UPDATE` or
/// `DELETE` writes, which is not a read (an `INSERT`'s target is no `FROM` item).
fn with_target_set_aside<T>(
    statement: &mut Statement,
    mut visit: impl FnMut(&mut dyn VisitPart) -> T,
) -> T {
    match statement {
        Statement::Update {
            assignments,
            from,
            selection,
            returning,
            table,
            ..
        } => {
            let joins = std::mem::take(&mut table.joins);
            let mut parts = (assignments, from, selection, returning, joins);
            let out = visit(&mut parts);
            table.joins = parts.4;
            out
        }
        Statement::Delete(delete) => {
            let mut parts = (
                &mut delete.using,
                &mut delete.selection,
                &mut delete.returning,
            );
            visit(&mut parts)
        }
        other => visit(other),
    }
}

/// Something [`Reads`] can walk.
trait VisitPart {
    /// Walks it.
    fn visit(&mut self, visitor: &mut Reads<'_>) -> ControlFlow<()>;
}

impl VisitPart for Statement {
    fn visit(&mut self, visitor: &mut Reads<'_>) -> ControlFlow<()> {
        VisitMut::visit(self, visitor)
    }
}

impl<A: VisitMut, B: VisitMut, C: VisitMut, D: VisitMut> VisitPart
    for (&mut A, &mut B, &mut C, &mut D, Vec<sqlparser::ast::Join>)
{
    fn visit(&mut self, visitor: &mut Reads<'_>) -> ControlFlow<()> {
        self.0.visit(visitor)?;
        self.1.visit(visitor)?;
        self.2.visit(visitor)?;
        self.3.visit(visitor)?;
        self.4.visit(visitor)
    }
}

impl<A: VisitMut, B: VisitMut, C: VisitMut> VisitPart for (&mut A, &mut B, &mut C) {
    fn visit(&mut self, visitor: &mut Reads<'_>) -> ControlFlow<()> {
        self.0.visit(visitor)?;
        self.1.visit(visitor)?;
        self.2.visit(visitor)
    }
}

/// The reads of workspace tables: collected, then filtered.
enum Reads<'g> {
    /// Gathers the physical names read.
    Collect(BTreeSet<String>),
    /// Turns each read of a table with conditions into a filtered subquery.
    Filter {
        /// The conditions of each physical table.
        grants: &'g HashMap<String, Vec<Grant>>,
        /// Set when a read was just replaced: the next table visited is the one
        /// inside the new subquery (the walk goes into it at once), which is left
        /// as it is. Nothing the caller wrote can mark a table to be skipped.
        inside_replacement: bool,
    },
}

impl VisitorMut for Reads<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let Some(physical) = physical_name(name.0.as_slice()) else {
            return ControlFlow::Continue(());
        };
        match self {
            Reads::Collect(names) => {
                names.insert(physical);
            }
            Reads::Filter {
                inside_replacement: inside @ true,
                ..
            } => *inside = false,
            Reads::Filter {
                grants,
                inside_replacement,
            } => {
                if let Some(grants) = grants.get(&physical) {
                    let alias = alias.clone().unwrap_or_else(|| TableAlias {
                        name: Ident::with_quote('"', physical.clone()),
                        columns: Vec::new(),
                    });
                    let sql = scoped::filtered_table(TABLES_SCHEMA, &physical, grants);
                    let Ok(subquery) = parse_query(&sql) else {
                        return ControlFlow::Break(());
                    };
                    *factor = TableFactor::Derived {
                        lateral: false,
                        subquery: Box::new(subquery),
                        alias: Some(alias),
                    };
                    *inside_replacement = true;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Adds the target's conditions: to the `WHERE` of an `UPDATE` or `DELETE` (the rows
/// it may touch), and as a hidden `RETURNING` check of the rows an `INSERT` or
/// `UPDATE` writes. Returns whether the check column was added.
fn guard_target(
    statement: &mut Statement,
    target: &Target,
    grants: &[Grant],
    table_name: &str,
) -> Result<bool, QueryError> {
    let alias = target.alias.to_string();
    let built = |sql: String| {
        parse_expr(&sql).map_err(|error| {
            tracing::error!(%error, %sql, "the row authorizer's conditions did not parse");
            QueryError::Internal
        })
    };
    let only_allowed = built(scoped::conditions(&alias, grants))?;
    let check = || -> Result<SelectItem, QueryError> {
        Ok(SelectItem::ExprWithAlias {
            expr: built(scoped::authorized_row(&alias, grants, table_name))?,
            alias: Ident::new(CHECK_COLUMN),
        })
    };
    let (selection, returning) = match statement {
        Statement::Insert(insert) => (None, &mut insert.returning),
        Statement::Update {
            selection,
            returning,
            ..
        } => (Some(selection), returning),
        Statement::Delete(delete) => {
            and_into(&mut delete.selection, only_allowed);
            return Ok(false);
        }
        _ => return Ok(false),
    };
    if let Some(selection) = selection {
        and_into(selection, only_allowed);
    }
    returning.get_or_insert_with(Vec::new).push(check()?);
    Ok(true)
}

/// `selection AND (extra)`.
fn and_into(selection: &mut Option<Expr>, extra: Expr) {
    *selection = Some(match selection.take() {
        Some(existing) => Expr::BinaryOp {
            left: Box::new(Expr::Nested(Box::new(existing))),
            op: sqlparser::ast::BinaryOperator::And,
            right: Box::new(extra),
        },
        None => extra,
    });
}

fn parse_query(sql: &str) -> Result<Query, sqlparser::parser::ParserError> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)?
        .parse_query()
        .map(|query| *query)
}

fn parse_expr(sql: &str) -> Result<Expr, sqlparser::parser::ParserError> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)?
        .parse_expr()
}
