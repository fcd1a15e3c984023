//! The first line of defence of the scoped query: parse with sqlparser (PostgreSQL
//! dialect), accept exactly one statement of the allowed kinds, rewrite every table
//! name through the registry to its quoted physical name, and refuse every name,
//! function, cast or construct that could reach beyond the workspace's tables.
//! The executor adds a second line (the plan may scan nothing but those tables).

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    DataType, Expr, FunctionArguments, Ident, ObjectName, ObjectNamePart, Query, SetExpr,
    Statement, TableAlias, TableFactor, TableObject, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Tokenizer;

use super::{functions, types};
use crate::tenant::names::TABLES_SCHEMA;

/// Longest statement accepted, in characters.
pub const MAX_SQL_CHARS: usize = 16_384;

/// The refusal of a table that is not one of the workspace's (or is gone).
pub const TABLE_NOT_ALLOWED: &str = "table_not_allowed";

/// Why a statement is refused (answered with 422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// A stable code: `invalid_sql`, `statement_not_allowed`, `table_not_allowed`,
    /// `function_not_allowed`, `type_not_allowed`, `construct_not_allowed`.
    pub code: &'static str,
    /// A sentence saying what was refused and why.
    pub reason: String,
}

pub(super) fn refuse(code: &'static str, reason: impl Into<String>) -> Refusal {
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
            "invalid_sql",
            format!("sql must hold 1 to {MAX_SQL_CHARS} characters (it has {chars})"),
        ));
    }
    let unparsable = |e: &dyn std::fmt::Display| {
        refuse("invalid_sql", format!("the SQL could not be parsed: {e}"))
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
            "statement_not_allowed",
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
                "statement_not_allowed",
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
                    "statement_not_allowed",
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
                "statement_not_allowed",
                "data-modifying statements inside WITH or a subquery are refused; send the INSERT, UPDATE or DELETE on its own",
            ))
        }
        SetExpr::Table(_) => Err(refuse(
            "construct_not_allowed",
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
                        "construct_not_allowed",
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

/// How PostgreSQL sees an identifier: unquoted names fold to lower case.
fn normalise(ident: &Ident) -> String {
    match ident.quote_style {
        None => ident.value.to_lowercase(),
        Some(_) => ident.value.clone(),
    }
}

fn single_ident(name: &ObjectName) -> Option<&Ident> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Some(ident),
        _ => None,
    }
}

struct Guard<'a> {
    tables: &'a HashMap<String, String>,
    ctes: HashSet<String>,
    /// The next relation visited is the name of a function in `FROM`.
    function_relation: bool,
    /// The physical names the statement was rewritten to.
    physical: Vec<String>,
    /// Physical name → table name.
    table_names: HashMap<String, String>,
    refusal: Option<Refusal>,
}

impl Guard<'_> {
    /// The name as written, if it is one of the workspace's tables (not a CTE):
    /// what a rewritten relation is aliased to, so `orders.total` still resolves.
    fn table_alias(&self, name: &ObjectName) -> Option<Ident> {
        let ident = single_ident(name)?;
        let name = normalise(ident);
        (!self.ctes.contains(&name) && self.tables.contains_key(&name)).then(|| ident.clone())
    }

    fn stop(&mut self, refusal: Refusal) -> ControlFlow<()> {
        self.refusal = Some(refusal);
        ControlFlow::Break(())
    }

    fn check_function_name(&mut self, name: &ObjectName, in_from: bool) -> ControlFlow<()> {
        let Some(ident) = single_ident(name) else {
            return self.stop(refuse(
                "function_not_allowed",
                format!("schema-qualified function `{name}` is refused"),
            ));
        };
        let function = normalise(ident);
        let allowed = if in_from {
            functions::is_allowed_in_from(&function)
        } else {
            functions::is_allowed(&function)
        };
        if allowed {
            ControlFlow::Continue(())
        } else {
            self.stop(refuse(
                "function_not_allowed",
                format!("the function `{function}` is not on the allow-list of the scoped query"),
            ))
        }
    }

    fn check_type(&mut self, data_type: &DataType) -> ControlFlow<()> {
        match types::check(data_type) {
            Ok(()) => ControlFlow::Continue(()),
            Err(refusal) => self.stop(refusal),
        }
    }

    /// The types of a column-definition list (`AS t(a int, b text)`).
    fn check_alias_types(&mut self, alias: Option<&TableAlias>) -> ControlFlow<()> {
        for column in alias.map(|a| a.columns.as_slice()).unwrap_or_default() {
            if let Some(data_type) = &column.data_type {
                self.check_type(data_type)?;
            }
        }
        ControlFlow::Continue(())
    }
}

impl VisitorMut for Guard<'_> {
    type Break = ();

    fn pre_visit_statement(&mut self, statement: &mut Statement) -> ControlFlow<()> {
        // The INSERT target is a name, not a FROM item: aliased here.
        if let Statement::Insert(insert) = statement {
            if let (TableObject::TableName(name), None) = (&insert.table, &insert.table_alias) {
                insert.table_alias = self.table_alias(name);
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Err(refusal) = set_expr_is_read(&query.body) {
            return self.stop(refusal);
        }
        if query.for_clause.is_some()
            || query.settings.is_some()
            || query.format_clause.is_some()
            || !query.pipe_operators.is_empty()
        {
            return self.stop(refuse(
                "construct_not_allowed",
                "this query clause is not PostgreSQL and is refused",
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let alias = match factor {
            TableFactor::Table { alias, .. }
            | TableFactor::Function { alias, .. }
            | TableFactor::Derived { alias, .. }
            | TableFactor::UNNEST { alias, .. }
            | TableFactor::TableFunction { alias, .. }
            | TableFactor::NestedJoin { alias, .. } => alias.clone(),
            _ => None,
        };
        self.check_alias_types(alias.as_ref())?;
        match factor {
            TableFactor::Table {
                name, args, alias, ..
            } => {
                if args.is_some() {
                    self.function_relation = true;
                    let name = name.clone();
                    return self.check_function_name(&name, true);
                }
                if alias.is_none() {
                    *alias = self.table_alias(name).map(|name| TableAlias {
                        name,
                        columns: Vec::new(),
                    });
                }
                ControlFlow::Continue(())
            }
            TableFactor::Function { name, .. } => {
                let name = name.clone();
                self.check_function_name(&name, true)
            }
            TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::UNNEST { .. }
            | TableFactor::TableFunction { .. } => ControlFlow::Continue(()),
            _ => self.stop(refuse(
                "construct_not_allowed",
                "this kind of FROM item is refused",
            )),
        }
    }

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        if std::mem::take(&mut self.function_relation) {
            return ControlFlow::Continue(());
        }
        let Some(ident) = single_ident(relation) else {
            return self.stop(refuse(
                TABLE_NOT_ALLOWED,
                format!(
                    "`{relation}` is refused: only the workspace's tables, by their unqualified table_name, may be used (no schemas, no catalogs)"
                ),
            ));
        };
        let name = normalise(ident);
        if self.ctes.contains(&name) {
            return ControlFlow::Continue(());
        }
        match self.tables.get(&name) {
            Some(physical) => {
                *relation = ObjectName(vec![
                    ObjectNamePart::Identifier(Ident::with_quote('"', TABLES_SCHEMA)),
                    ObjectNamePart::Identifier(Ident::with_quote('"', physical.as_str())),
                ]);
                self.physical.push(physical.clone());
                self.table_names.insert(physical.clone(), name);
                ControlFlow::Continue(())
            }
            None => self.stop(refuse(
                TABLE_NOT_ALLOWED,
                format!("`{name}` is not a table of this workspace"),
            )),
        }
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(function) => {
                if let FunctionArguments::Subquery(_) = function.parameters {
                    return self.stop(refuse(
                        "construct_not_allowed",
                        "function parameters are refused",
                    ));
                }
                let name = function.name.clone();
                self.check_function_name(&name, false)
            }
            Expr::Cast { data_type, .. } => {
                let data_type = data_type.clone();
                self.check_type(&data_type)
            }
            Expr::TypedString(typed) => {
                let data_type = typed.data_type.clone();
                self.check_type(&data_type)
            }
            Expr::Convert { .. } => self.stop(refuse(
                "construct_not_allowed",
                "CONVERT is not PostgreSQL and is refused",
            )),
            Expr::Value(value) if matches!(value.value, Value::Placeholder(_)) => {
                self.stop(refuse(
                    "construct_not_allowed",
                    "parameters ($1, ...) are not supported; write the values into the statement",
                ))
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> HashMap<String, String> {
        HashMap::from([("orders".to_owned(), "wt_1".to_owned())])
    }

    #[test]
    fn table_names_are_rewritten_to_physical_ones() {
        let checked = check("SELECT id FROM orders o WHERE o.total > 5", &tables()).unwrap();
        assert_eq!(
            checked.sql,
            "SELECT id FROM \"workspace_tables\".\"wt_1\" AS o WHERE o.total > 5"
        );
        assert_eq!(checked.kind, StatementKind::Select);
    }

    #[test]
    fn a_rewritten_table_keeps_its_name_as_an_alias() {
        let rewritten = |sql: &str| check(sql, &tables()).unwrap().sql;
        assert_eq!(
            rewritten("SELECT orders.id FROM orders"),
            "SELECT orders.id FROM \"workspace_tables\".\"wt_1\" AS orders"
        );
        assert_eq!(
            rewritten("INSERT INTO orders (id) VALUES (1) RETURNING orders.id"),
            "INSERT INTO \"workspace_tables\".\"wt_1\" AS orders (id) VALUES (1) RETURNING orders.id"
        );
        assert_eq!(
            rewritten("UPDATE orders SET id = 2 WHERE orders.id = 1"),
            "UPDATE \"workspace_tables\".\"wt_1\" AS orders SET id = 2 WHERE orders.id = 1"
        );
        assert_eq!(
            rewritten("DELETE FROM \"orders\" WHERE \"orders\".id = 1"),
            "DELETE FROM \"workspace_tables\".\"wt_1\" AS \"orders\" WHERE \"orders\".id = 1"
        );
        assert_eq!(
            check("SELECT id FROM orders", &tables()).unwrap().physical,
            ["wt_1"]
        );
    }

    #[test]
    fn quoted_names_keep_their_case() {
        assert!(check("SELECT * FROM \"orders\"", &tables()).is_ok());
        assert!(check("SELECT * FROM ORDERS", &tables()).is_ok());
        assert_eq!(
            check("SELECT * FROM \"ORDERS\"", &tables())
                .unwrap_err()
                .code,
            "table_not_allowed"
        );
    }

    #[test]
    fn ctes_are_names_too() {
        let checked = check(
            "WITH big AS (SELECT * FROM orders) SELECT * FROM big",
            &tables(),
        )
        .unwrap();
        assert!(checked.sql.contains("FROM big"));
        assert!(check(
            "WITH pg_class AS (SELECT 1) SELECT * FROM pg_class",
            &tables()
        )
        .is_err());
    }

    #[test]
    fn refusals_name_their_reason() {
        let code = |sql: &str| check(sql, &tables()).unwrap_err().code;
        assert_eq!(code("SELECT 1; SELECT 2"), "statement_not_allowed");
        assert_eq!(code("DROP TABLE orders"), "statement_not_allowed");
        assert_eq!(
            code("SELECT * FROM pg_catalog.pg_class"),
            "table_not_allowed"
        );
        assert_eq!(code("SELECT pg_sleep(1)"), "function_not_allowed");
        assert_eq!(code("SELECT 'x'::regclass"), "type_not_allowed");
        assert_eq!(code("SELEC 1"), "invalid_sql");
        assert_eq!(code(""), "invalid_sql");
    }
}
