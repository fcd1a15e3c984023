//! SQL text for the scoped query's row authorization: the authorizer's conditions as
//! a boolean expression, the filtered subquery a read table becomes, and the check of
//! a written row. The scoped query takes no bind parameters, so the authorizer's
//! values go in as literals through [`quote_literal`] (the transaction runs with
//! `standard_conforming_strings` on); an untyped literal takes the column's type.

use super::{operator, quote_ident, quote_literal, quote_qualified};
use crate::plan::{Grant, GrantOp, GrantValue};

/// The alias of a table inside the subquery that filters it.
const FILTERED_ALIAS: &str = "pgrst_authz";

/// The conditions of `grants` on the row `alias` names, ANDed; `TRUE` for none.
///
/// ```
/// use plinth::plan::{CompareOp, Grant, GrantOp, GrantValue};
/// use plinth::sql::scoped::conditions;
/// let owner = Grant {
///     column: "owner_id".into(),
///     op: GrantOp::Compare(CompareOp::Eq),
///     value: GrantValue::One("it's me".into()),
/// };
/// assert_eq!(conditions("n", &[owner]), "(n.\"owner_id\" = 'it''s me')");
/// assert_eq!(conditions("n", &[]), "TRUE");
/// ```
pub fn conditions(alias: &str, grants: &[Grant]) -> String {
    if grants.is_empty() {
        return "TRUE".into();
    }
    let parts: Vec<String> = grants
        .iter()
        .map(|grant| {
            let column = format!("{alias}.{}", quote_ident(&grant.column));
            match (&grant.op, &grant.value) {
                (_, GrantValue::Missing) => "FALSE".into(),
                (GrantOp::IsNull, _) => format!("{column} IS NULL"),
                (GrantOp::IsNotNull, _) => format!("{column} IS NOT NULL"),
                (GrantOp::In, GrantValue::One(value)) => {
                    format!("{column} IN ({})", quote_literal(value))
                }
                (GrantOp::In | GrantOp::Compare(_), GrantValue::Many(values))
                    if values.is_empty() =>
                {
                    "FALSE".into()
                }
                (GrantOp::In | GrantOp::Compare(_), GrantValue::Many(values)) => {
                    let list: Vec<String> = values.iter().map(|v| quote_literal(v)).collect();
                    format!("{column} IN ({})", list.join(", "))
                }
                (GrantOp::Compare(op), GrantValue::One(value)) => {
                    format!("{column} {} {}", operator(*op), quote_literal(value))
                }
            }
        })
        .collect();
    format!("({})", parts.join(" AND "))
}

/// The subquery a read of `schema.table` becomes: only the rows `grants` allow.
pub fn filtered_table(schema: &str, table: &str, grants: &[Grant]) -> String {
    format!(
        "SELECT * FROM {} AS {FILTERED_ALIAS} WHERE {}",
        quote_qualified(schema, table),
        conditions(FILTERED_ALIAS, grants)
    )
}

/// The check of a written row (`alias`) that aborts the statement when `grants` do
/// not hold on it; `table` names it in the error.
pub fn authorized_row(alias: &str, grants: &[Grant], table: &str) -> String {
    format!(
        "dl_meta.authorized_row({}, {})",
        conditions(alias, grants),
        quote_literal(table)
    )
}
