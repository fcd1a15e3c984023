//! Every rule of seed 002 checked before anything reaches the database. A request
//! becomes a [`ValidTable`] or [`ValidAction`]s whose names and types are known good;
//! each refusal names the field (`columns[2].type`) and the rule it broke.

use std::collections::HashSet;

use serde_json::Value;

use super::spec::{AlterAction, ColumnSpec, CreateTable, DefaultSpec};

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

fn check_name(out: &mut Vec<Violation>, field: &str, name: &str) {
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

fn group_size(out: &mut Vec<Violation>, field: &str, len: usize) {
    if len == 0 || len > MAX_GROUP_COLUMNS {
        out.push(Violation::new(
            field,
            format!("must name 1 to {MAX_GROUP_COLUMNS} columns"),
        ));
    }
}

fn group_columns(
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

fn column(out: &mut Vec<Violation>, field: &str, spec: &ColumnSpec) -> Option<ValidColumn> {
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

/// Checks a default against the column's type; `None` after recording a violation.
pub fn default_for(
    out: &mut Vec<Violation>,
    field: &str,
    spec: &DefaultSpec,
    ty: ColumnType,
    nullable: bool,
) -> Option<ValidDefault> {
    let wrong_type = |out: &mut Vec<Violation>, kind: &str| {
        out.push(Violation::new(
            format!("{field}.kind"),
            format!("`{kind}` cannot be the default of a {} column", ty.sql()),
        ));
        None
    };
    match spec.kind.as_str() {
        "uuid_v4" if matches!(ty, ColumnType::Uuid | ColumnType::Text) => {
            Some(ValidDefault::UuidV4)
        }
        "uuid_v4" => wrong_type(out, "uuid_v4"),
        "now"
            if matches!(
                ty,
                ColumnType::Timestamptz | ColumnType::Date | ColumnType::Time | ColumnType::Text
            ) =>
        {
            Some(ValidDefault::Now)
        }
        "now" => wrong_type(out, "now"),
        "current_date"
            if matches!(
                ty,
                ColumnType::Date | ColumnType::Timestamptz | ColumnType::Text
            ) =>
        {
            Some(ValidDefault::CurrentDate)
        }
        "current_date" => wrong_type(out, "current_date"),
        "literal" => literal(
            out,
            &format!("{field}.value"),
            spec.value.as_ref(),
            ty,
            nullable,
        ),
        other => {
            out.push(Violation::new(
                format!("{field}.kind"),
                format!("must be one of literal, uuid_v4, now, current_date; `{other}` is not"),
            ));
            None
        }
    }
}

/// Shape-checks a literal against the type: the JSON kind must fit (a number for
/// `int`, a boolean for `boolean`, ...). PostgreSQL then checks the value itself.
fn literal(
    out: &mut Vec<Violation>,
    field: &str,
    value: Option<&Value>,
    ty: ColumnType,
    nullable: bool,
) -> Option<ValidDefault> {
    let mismatch = |out: &mut Vec<Violation>, expected: &str| {
        out.push(Violation::new(
            field,
            format!("must be {expected} for a {} column", ty.sql()),
        ));
        None
    };
    let value = match value {
        None | Some(Value::Null) => {
            if !nullable {
                out.push(Violation::new(
                    field,
                    "must not be null: the column is not nullable",
                ));
                return None;
            }
            return Some(ValidDefault::Literal(None));
        }
        Some(value) => value,
    };
    let text = match (ty, value) {
        (ColumnType::Int | ColumnType::Bigint, Value::Number(n)) if n.is_i64() || n.is_u64() => {
            n.to_string()
        }
        (ColumnType::Int | ColumnType::Bigint, Value::String(s))
            if s.trim().parse::<i128>().is_ok() =>
        {
            s.trim().to_owned()
        }
        (ColumnType::Int | ColumnType::Bigint, _) => return mismatch(out, "an integer"),
        (ColumnType::Numeric, Value::Number(n)) => n.to_string(),
        (ColumnType::Numeric, Value::String(s)) => s.clone(),
        (ColumnType::Numeric, _) => return mismatch(out, "a number or a numeric string"),
        (ColumnType::Boolean, Value::Bool(b)) => b.to_string(),
        (ColumnType::Boolean, _) => return mismatch(out, "true or false"),
        (ColumnType::Jsonb, value) => value.to_string(),
        (_, Value::String(s)) => s.clone(),
        (_, _) => return mismatch(out, "a string"),
    };
    Some(ValidDefault::Literal(Some(text)))
}

/// Checks an alter request's shape (names, types, group sizes); whether the columns
/// exist is the database's to say, action by action.
pub fn alter(actions: &[AlterAction]) -> Result<Vec<ValidAction>, Vec<Violation>> {
    let mut out = Vec::new();
    if actions.is_empty() || actions.len() > MAX_ACTIONS {
        out.push(Violation::new(
            "actions",
            format!("must hold 1 to {MAX_ACTIONS} actions"),
        ));
    }
    let mut valid = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        let field = format!("actions[{i}]");
        let before = out.len();
        let name = |out: &mut Vec<Violation>, key: &str, value: &str| {
            check_name(out, &format!("{field}.{key}"), value)
        };
        let action = match action {
            AlterAction::AddColumn { column: spec } => {
                column(&mut out, &format!("{field}.column"), spec).map(ValidAction::AddColumn)
            }
            AlterAction::DropColumn { name: n } => {
                name(&mut out, "name", n);
                Some(ValidAction::DropColumn(n.clone()))
            }
            AlterAction::RenameColumn { from, to } => {
                name(&mut out, "from", from);
                name(&mut out, "to", to);
                Some(ValidAction::RenameColumn {
                    from: from.clone(),
                    to: to.clone(),
                })
            }
            AlterAction::ChangeColumnType { name: n, new_type } => {
                name(&mut out, "name", n);
                match ColumnType::parse(new_type) {
                    Some(ty) => Some(ValidAction::ChangeColumnType(n.clone(), ty)),
                    None => {
                        out.push(Violation::new(
                            format!("{field}.new_type"),
                            format!("must be one of {TYPE_NAMES}; `{new_type}` is not supported"),
                        ));
                        None
                    }
                }
            }
            AlterAction::SetColumnNullable { name: n, nullable } => {
                name(&mut out, "name", n);
                Some(ValidAction::SetColumnNullable(n.clone(), *nullable))
            }
            AlterAction::SetColumnDefault { name: n, default } => {
                name(&mut out, "name", n);
                if !matches!(
                    default.kind.as_str(),
                    "literal" | "uuid_v4" | "now" | "current_date"
                ) {
                    out.push(Violation::new(
                        format!("{field}.default.kind"),
                        format!(
                            "must be one of literal, uuid_v4, now, current_date; `{}` is not",
                            default.kind
                        ),
                    ));
                }
                Some(ValidAction::SetColumnDefault(n.clone(), default.clone()))
            }
            AlterAction::DropColumnDefault { name: n } => {
                name(&mut out, "name", n);
                Some(ValidAction::DropColumnDefault(n.clone()))
            }
            AlterAction::AddUnique {
                columns,
                constraint_name,
            } => {
                group_size(&mut out, &format!("{field}.columns"), columns.len());
                for (j, c) in columns.iter().enumerate() {
                    name(&mut out, &format!("columns[{j}]"), c);
                }
                if let Some(c) = constraint_name {
                    name(&mut out, "constraint_name", c);
                }
                Some(ValidAction::AddUnique(
                    columns.clone(),
                    constraint_name.clone(),
                ))
            }
            AlterAction::DropConstraint { name: n } => {
                name(&mut out, "name", n);
                Some(ValidAction::DropConstraint(n.clone()))
            }
            AlterAction::AddIndex {
                index_name,
                columns,
            } => {
                name(&mut out, "index_name", index_name);
                group_size(&mut out, &format!("{field}.columns"), columns.len());
                for (j, c) in columns.iter().enumerate() {
                    name(&mut out, &format!("columns[{j}]"), c);
                }
                Some(ValidAction::AddIndex(index_name.clone(), columns.clone()))
            }
            AlterAction::DropIndex { index_name } => {
                name(&mut out, "index_name", index_name);
                Some(ValidAction::DropIndex(index_name.clone()))
            }
        };
        if out.len() == before {
            valid.extend(action);
        }
    }
    if out.is_empty() {
        Ok(valid)
    } else {
        Err(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_seed_pattern() {
        assert!(is_valid_name("a"));
        assert!(is_valid_name("orders_2024"));
        assert!(is_valid_name(&format!("a{}", "b".repeat(62))));
        assert!(!is_valid_name(&format!("a{}", "b".repeat(63))));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("1abc"));
        assert!(!is_valid_name("_abc"));
        assert!(!is_valid_name("Abc"));
        assert!(!is_valid_name("a-b"));
        assert!(!is_valid_name("a\"b"));
        assert!(!is_valid_name("é"));
    }

    #[test]
    fn literals_must_fit_the_column_type() {
        let spec = |value: Value| DefaultSpec {
            kind: "literal".into(),
            value: Some(value),
        };
        let mut out = Vec::new();
        assert_eq!(
            default_for(&mut out, "d", &spec(Value::from(5)), ColumnType::Int, true),
            Some(ValidDefault::Literal(Some("5".into())))
        );
        assert!(default_for(
            &mut out,
            "d",
            &spec(Value::from("x")),
            ColumnType::Int,
            true
        )
        .is_none());
        assert!(default_for(
            &mut out,
            "d",
            &spec(Value::from(1.5)),
            ColumnType::Int,
            true
        )
        .is_none());
        assert!(default_for(
            &mut out,
            "d",
            &spec(Value::from(1)),
            ColumnType::Boolean,
            true
        )
        .is_none());
        assert!(default_for(&mut out, "d", &spec(Value::Null), ColumnType::Text, false).is_none());
        assert_eq!(out.len(), 4);
        assert_eq!(out[0].field, "d.value");
    }
}
