//! Every rule of seed 002 checked before anything reaches the database. A request
//! becomes a [`ValidTable`] or [`ValidAction`]s whose names and types are known good;
//! each refusal names the field (`columns[2].type`) and the rule it broke.

use std::collections::HashSet;

use super::spec::{ColumnSpec, CreateTable, DefaultSpec};

mod alter;
mod defaults;

pub use alter::alter;
pub use defaults::default_for;

/// Most columns in a table.
pub const MAX_COLUMNS: usize = 100;
/// Most columns in a unique group or an index.
pub const MAX_GROUP_COLUMNS: usize = 32;
/// Most unique groups, and most indexes, in one create request.
pub const MAX_GROUPS: usize = 32;
/// Most actions in one alter request.
pub const MAX_ACTIONS: usize = 50;
/// The pattern every table, column, constraint and index name must match.
pub const NAME_RULE: &str = "must match ^[a-z][a-z0-9_]{0,62}$";

/// A broken rule: the field's path and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the field, as in the request (`columns[0].name`).
    pub field: String,
    /// The rule, as a sentence fragment (`must match ...`).
    pub rule: String,
}

impl Violation {
    fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// The eleven column types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `text`.
    Text,
    /// `int` (32-bit `integer`).
    Int,
    /// `bigint`.
    Bigint,
    /// `numeric`.
    Numeric,
    /// `boolean`.
    Boolean,
    /// `uuid`.
    Uuid,
    /// `timestamptz`.
    Timestamptz,
    /// `date`.
    Date,
    /// `time`.
    Time,
    /// `jsonb`.
    Jsonb,
    /// `bytea`.
    Bytea,
}

/// The type names accepted, for messages.
pub const TYPE_NAMES: &str =
    "text, int, bigint, numeric, boolean, uuid, timestamptz, date, time, jsonb, bytea";

impl ColumnType {
    /// Parses a type name of the seed.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "text" => Self::Text,
            "int" => Self::Int,
            "bigint" => Self::Bigint,
            "numeric" => Self::Numeric,
            "boolean" => Self::Boolean,
            "uuid" => Self::Uuid,
            "timestamptz" => Self::Timestamptz,
            "date" => Self::Date,
            "time" => Self::Time,
            "jsonb" => Self::Jsonb,
            "bytea" => Self::Bytea,
            _ => return None,
        })
    }

    /// The PostgreSQL type it becomes (a fixed keyword, safe to write into DDL).
    pub fn sql(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Int => "integer",
            Self::Bigint => "bigint",
            Self::Numeric => "numeric",
            Self::Boolean => "boolean",
            Self::Uuid => "uuid",
            Self::Timestamptz => "timestamptz",
            Self::Date => "date",
            Self::Time => "time",
            Self::Jsonb => "jsonb",
            Self::Bytea => "bytea",
        }
    }
}

/// A checked default.
#[derive(Debug, Clone, PartialEq)]
pub enum ValidDefault {
    /// A literal as text, to be checked and canonicalised by PostgreSQL as a bound
    /// parameter cast to the column type; `None` is `NULL`.
    Literal(Option<String>),
    /// `gen_random_uuid()`.
    UuidV4,
    /// `now()`.
    Now,
    /// `CURRENT_DATE`.
    CurrentDate,
}

/// A checked column.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidColumn {
    /// Name.
    pub name: String,
    /// Type.
    pub column_type: ColumnType,
    /// Whether nulls are allowed.
    pub nullable: bool,
    /// The default.
    pub default: Option<ValidDefault>,
}

/// A checked create request.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTable {
    /// Workspace-facing name.
    pub table_name: String,
    /// Columns in order.
    pub columns: Vec<ValidColumn>,
    /// Primary key columns (may be empty).
    pub primary_key: Vec<String>,
    /// Unique groups.
    pub unique: Vec<Vec<String>>,
    /// Index column lists.
    pub indexes: Vec<Vec<String>>,
}

/// A checked alter action (same shape; names and types verified).
#[derive(Debug, Clone, PartialEq)]
pub enum ValidAction {
    /// `add_column`.
    AddColumn(ValidColumn),
    /// `drop_column`.
    DropColumn(String),
    /// `rename_column`.
    RenameColumn {
        /// Current name.
        from: String,
        /// New name.
        to: String,
    },
    /// `change_column_type`.
    ChangeColumnType(String, ColumnType),
    /// `set_column_nullable`.
    SetColumnNullable(String, bool),
    /// `set_column_default` (the column's type is looked up at run time).
    SetColumnDefault(String, DefaultSpec),
    /// `drop_column_default`.
    DropColumnDefault(String),
    /// `add_unique`.
    AddUnique(Vec<String>, Option<String>),
    /// `drop_constraint`.
    DropConstraint(String),
    /// `add_index`.
    AddIndex(String, Vec<String>),
    /// `drop_index`.
    DropIndex(String),
}

/// Whether `name` matches `^[a-z][a-z0-9_]{0,62}$`.
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

pub(super) fn check_name(out: &mut Vec<Violation>, field: &str, name: &str) {
    if !is_valid_name(name) {
        out.push(Violation::new(field, NAME_RULE));
    }
}

/// Checks a create request.
pub fn create(request: &CreateTable) -> Result<ValidTable, Vec<Violation>> {
    let mut out = Vec::new();
    check_name(&mut out, "table_name", &request.table_name);
    if request.columns.is_empty() || request.columns.len() > MAX_COLUMNS {
        out.push(Violation::new(
            "columns",
            format!("must hold 1 to {MAX_COLUMNS} columns"),
        ));
    }
    let mut names = HashSet::new();
    let mut columns = Vec::new();
    for (i, spec) in request.columns.iter().enumerate() {
        let field = format!("columns[{i}]");
        if let Some(column) = column(&mut out, &field, spec) {
            if !names.insert(column.name.clone()) {
                out.push(Violation::new(
                    format!("{field}.name"),
                    format!("must be unique; `{}` appears twice", column.name),
                ));
            }
            columns.push(column);
        }
    }
    let known = |name: &String| request.columns.iter().any(|c| &c.name == name);
    let primary_key = request.primary_key.clone().unwrap_or_default();
    if request.primary_key.as_ref().is_some_and(|k| k.is_empty()) {
        out.push(Violation::new(
            "primary_key",
            "must name at least one column when present",
        ));
    }
    if primary_key.len() > MAX_GROUP_COLUMNS {
        out.push(Violation::new(
            "primary_key",
            format!("must name at most {MAX_GROUP_COLUMNS} columns"),
        ));
    }
    group_columns(&mut out, "primary_key", &primary_key, &known);
    let unique = request.unique.clone().unwrap_or_default();
    if unique.len() > MAX_GROUPS {
        out.push(Violation::new(
            "unique",
            format!("must hold at most {MAX_GROUPS} groups"),
        ));
    }
    for (i, group) in unique.iter().enumerate() {
        let field = format!("unique[{i}]");
        group_size(&mut out, &field, group.len());
        group_columns(&mut out, &field, group, &known);
    }
    let indexes: Vec<Vec<String>> = request
        .indexes
        .iter()
        .flatten()
        .map(|i| i.columns.clone())
        .collect();
    if indexes.len() > MAX_GROUPS {
        out.push(Violation::new(
            "indexes",
            format!("must hold at most {MAX_GROUPS} indexes"),
        ));
    }
    for (i, group) in indexes.iter().enumerate() {
        let field = format!("indexes[{i}].columns");
        group_size(&mut out, &field, group.len());
        group_columns(&mut out, &field, group, &known);
    }
    if out.is_empty() {
        Ok(ValidTable {
            table_name: request.table_name.clone(),
            columns,
            primary_key,
            unique,
            indexes,
        })
    } else {
        Err(out)
    }
}

pub(super) fn group_size(out: &mut Vec<Violation>, field: &str, len: usize) {
    if len == 0 || len > MAX_GROUP_COLUMNS {
        out.push(Violation::new(
            field,
            format!("must name 1 to {MAX_GROUP_COLUMNS} columns"),
        ));
    }
}

pub(super) fn group_columns(
    out: &mut Vec<Violation>,
    field: &str,
    group: &[String],
    known: &dyn Fn(&String) -> bool,
) {
    let mut seen = HashSet::new();
    for (j, name) in group.iter().enumerate() {
        if !known(name) {
            out.push(Violation::new(
                format!("{field}[{j}]"),
                format!("must name a column of the table; `{name}` is not one"),
            ));
        } else if !seen.insert(name) {
            out.push(Violation::new(
                format!("{field}[{j}]"),
                format!("must not repeat a column; `{name}` appears twice"),
            ));
        }
    }
}

pub(super) fn column(
    out: &mut Vec<Violation>,
    field: &str,
    spec: &ColumnSpec,
) -> Option<ValidColumn> {
    let before = out.len();
    check_name(out, &format!("{field}.name"), &spec.name);
    let column_type = ColumnType::parse(&spec.column_type);
    if column_type.is_none() {
        out.push(Violation::new(
            format!("{field}.type"),
            format!(
                "must be one of {TYPE_NAMES}; `{}` is not supported",
                spec.column_type
            ),
        ));
    }
    let nullable = spec.nullable.unwrap_or(true);
    let default = match (&spec.default, column_type) {
        (Some(default), Some(ty)) => {
            default_for(out, &format!("{field}.default"), default, ty, nullable)
        }
        _ => None,
    };
    if out.len() > before {
        return None;
    }
    Some(ValidColumn {
        name: spec.name.clone(),
        column_type: column_type?,
        nullable,
        default,
    })
}

#[cfg(test)]
mod tests;
