//! The first line of defence of the scoped query: parse with sqlparser (PostgreSQL
//! dialect), accept exactly one statement of the allowed kinds, rewrite every table
//! name through the registry to its quoted physical name, and refuse every name,
//! function, cast or construct that could reach beyond the workspace's tables.
//! `run` adds a second line (the plan may scan nothing but those tables).

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{Query, SetExpr, Statement, VisitMut, VisitorMut};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Tokenizer;

use super::types;

#[cfg(test)]
mod tests;
mod walk;

use crate::error::Code;
use walk::{normalise, Guard};

/// Longest statement accepted, in characters.
pub const MAX_SQL_CHARS: usize = 16_384;

/// Why a statement is refused (answered with 422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// A stable code: `invalid_sql`, `statement_not_allowed`, `table_not_allowed`,
    /// `function_not_allowed`, `type_not_allowed`, `construct_not_allowed`.
    pub code: Code,
    /// A sentence saying what was refused and why.
    pub reason: String,
}

pub(super) fn refuse(code: Code, reason: impl Into<String>) -> Refusal {
    Refusal {
        code,
        reason: reason.into(),
    }
}

/// The kind of an accepted statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// `SELECT`, `WITH ... SELECT`, `VALUES`.
    Select,
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

/// A statement that passed the guard, with names rewritten to physical ones.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The SQL to run.
    pub sql: String,
    /// Its kind.
    pub kind: StatementKind,
    /// The physical names of the workspace's tables it uses.
    pub physical: Vec<String>,
    /// The table name of each physical name it uses.
    pub table_names: HashMap<String, String>,
    /// The statement as rewritten, for the row authorizer's conditions
    /// ([`super::enforce`]).
    pub statement: Statement,
    /// Whether the last result column is the row authorizer's check of written
    /// rows, which the client never sees.
    pub hidden_check: bool,
}

/// Checks `sql` against the workspace's tables (`table_name` → `physical_name`).
pub fn check(sql: &str, tables: &HashMap<String, String>) -> Result<Checked, Refusal> {
    let chars = sql.chars().count();
    if sql.trim().is_empty() || chars > MAX_SQL_CHARS {
        return Err(refuse(
            Code::InvalidSql,
            format!("sql must hold 1 to {MAX_SQL_CHARS} characters (it has {chars})"),
        ));
    }
    let unparsable = |e: &dyn std::fmt::Display| {
        refuse(
            Code::InvalidSql,
            format!("the SQL could not be parsed: {e}"),
        )
    };
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| unparsable(&e))?;
    types::refuse_catalog_type_tokens(&tokens)?;
    let mut statements = Parser::new(&dialect)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| unparsable(&e))?;
    if statements.len() != 1 {
        return Err(refuse(
            Code::StatementNotAllowed,
            format!(
                "exactly one statement is allowed; this request holds {} (multi-statement batches are refused)",
                statements.len()
            ),
        ));
    }
    let mut statement = statements.remove(0);
    let kind = statement_kind(&statement)?;
    let mut guard = Guard {
        tables,
        ctes: HashSet::new(),
        function_relation: false,
        physical: Vec::new(),
        table_names: HashMap::new(),
        refusal: None,
    };
    collect_ctes(&statement, &mut guard.ctes)?;
    let _ = statement.visit(&mut guard);
    if let Some(refusal) = guard.refusal {
        return Err(refusal);
    }
    Ok(Checked {
        sql: statement.to_string(),
        kind,
        physical: guard.physical,
        table_names: guard.table_names,
        statement,
        hidden_check: false,
    })
}

/// The statement's kind, or why it is refused.
fn statement_kind(statement: &Statement) -> Result<StatementKind, Refusal> {
    match statement {
        Statement::Query(query) => {
            set_expr_is_read(&query.body)?;
            Ok(StatementKind::Select)
        }
        Statement::Insert(_) => Ok(StatementKind::Insert),
        Statement::Update { .. } => Ok(StatementKind::Update),
        Statement::Delete(_) => Ok(StatementKind::Delete),
        other => {
            let text = other.to_string();
            let first = text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let category = match first.as_str() {
                "CREATE" | "ALTER" | "DROP" | "TRUNCATE" | "COMMENT" | "GRANT" | "REVOKE"
                | "RENAME" => "DDL is not allowed",
                "SET" | "RESET" | "SHOW" | "DISCARD" | "BEGIN" | "START" | "COMMIT"
                | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "LISTEN" | "NOTIFY" | "UNLISTEN"
                | "PREPARE" | "EXECUTE" | "DEALLOCATE" | "DECLARE" | "FETCH" | "CLOSE" | "LOCK" => {
                    "session-state and transaction commands are not allowed"
                }
                _ => "only SELECT, WITH ... SELECT, INSERT, UPDATE and DELETE are allowed",
            };
            Err(refuse(
                Code::StatementNotAllowed,
                format!("{first} statements are refused: {category}"),
            ))
        }
    }
}

/// A query body may only read: no data-modifying CTE or sub-statement, no `TABLE x`.
fn set_expr_is_read(body: &SetExpr) -> Result<(), Refusal> {
    match body {
        SetExpr::Select(select) => {
            if select.into.is_some() {
                return Err(refuse(
                    Code::StatementNotAllowed,
                    "SELECT ... INTO creates a table and is refused",
                ));
            }
            Ok(())
        }
        SetExpr::Query(_) | SetExpr::Values(_) => Ok(()),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr_is_read(left)?;
            set_expr_is_read(right)
        }
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
            Err(refuse(
                Code::StatementNotAllowed,
                "data-modifying statements inside WITH or a subquery are refused; send the INSERT, UPDATE or DELETE on its own",
            ))
        }
        SetExpr::Table(_) => Err(refuse(
            Code::ConstructNotAllowed,
            "the TABLE shorthand is refused; write SELECT * FROM name",
        )),
    }
}

/// Collects the names the statement's CTEs define, refusing names that could be
/// confused with catalog relations.
fn collect_ctes(statement: &Statement, out: &mut HashSet<String>) -> Result<(), Refusal> {
    let mut collector = CteCollector {
        names: HashSet::new(),
        refusal: None,
    };
    let mut copy = statement.clone();
    let _ = copy.visit(&mut collector);
    if let Some(refusal) = collector.refusal {
        return Err(refusal);
    }
    *out = collector.names;
    Ok(())
}

struct CteCollector {
    names: HashSet<String>,
    refusal: Option<Refusal>,
}

impl VisitorMut for CteCollector {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = normalise(&cte.alias.name);
                if name.starts_with("pg_") || name == "information_schema" {
                    self.refusal = Some(refuse(
                        Code::ConstructNotAllowed,
                        format!("the CTE name `{name}` is reserved"),
                    ));
                    return ControlFlow::Break(());
                }
                self.names.insert(name);
            }
        }
        ControlFlow::Continue(())
    }
}
