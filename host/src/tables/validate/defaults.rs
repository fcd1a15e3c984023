//! Column defaults: each of the four kinds checked against the column's type.

use serde_json::Value;

use super::{ColumnType, ValidDefault, Violation};
use crate::tables::spec::DefaultSpec;

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
