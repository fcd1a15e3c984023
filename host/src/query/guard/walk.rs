//! The walk over a parsed statement: every table name rewritten through the registry
//! (or refused), every function, cast and construct checked against what the scoped
//! query allows.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    DataType, Expr, FunctionArguments, Ident, ObjectName, ObjectNamePart, Query, Statement,
    TableAlias, TableFactor, TableObject, Value, VisitorMut,
};

use super::super::{functions, types};
use super::{refuse, set_expr_is_read, Refusal};
use crate::error::Code;
use crate::names::TABLES_SCHEMA;

/// How PostgreSQL sees an identifier: unquoted names fold to lower case.
pub(super) fn normalise(ident: &Ident) -> String {
    match ident.quote_style {
        None => ident.value.to_lowercase(),
        Some(_) => ident.value.clone(),
    }
}

pub(super) fn single_ident(name: &ObjectName) -> Option<&Ident> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Some(ident),
        _ => None,
    }
}

pub(super) struct Guard<'a> {
    /// The registry: table name → physical name.
    pub(super) tables: &'a HashMap<String, String>,
    /// The statement's CTE names, which shadow tables.
    pub(super) ctes: HashSet<String>,
    /// The next relation visited is the name of a function in `FROM`.
    pub(super) function_relation: bool,
    /// The physical names the statement was rewritten to.
    pub(super) physical: Vec<String>,
    /// Physical name → table name.
    pub(super) table_names: HashMap<String, String>,
    /// The first refusal met; the walk stops there.
    pub(super) refusal: Option<Refusal>,
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
                Code::FunctionNotAllowed,
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
                Code::FunctionNotAllowed,
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
                Code::ConstructNotAllowed,
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
                Code::ConstructNotAllowed,
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
                Code::TableNotAllowed,
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
                Code::TableNotAllowed,
                format!("`{name}` is not a table of this workspace"),
            )),
        }
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(function) => {
                if let FunctionArguments::Subquery(_) = function.parameters {
                    return self.stop(refuse(
                        Code::ConstructNotAllowed,
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
                Code::ConstructNotAllowed,
                "CONVERT is not PostgreSQL and is refused",
            )),
            Expr::Value(value) if matches!(value.value, Value::Placeholder(_)) => {
                self.stop(refuse(
                    Code::ConstructNotAllowed,
                    "parameters ($1, ...) are not supported; write the values into the statement",
                ))
            }
            _ => ControlFlow::Continue(()),
        }
    }
}
