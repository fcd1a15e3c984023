//! SQL text: the only place identifiers are quoted and statements are assembled.
//! Values always travel as bind parameters; the one exception is DDL that PostgreSQL
//! cannot parameterise (role passwords), which goes through [`quote_literal`].

use crate::plan::CompareOp;

pub mod records;
pub mod rows;
pub mod scoped;
pub mod statement;

/// Quotes an identifier: wraps it in double quotes and doubles any inside.
/// Accepts any string; the result is always a single identifier token.
///
/// ```
/// use plinth::sql::quote_ident;
/// assert_eq!(quote_ident("orders"), "\"orders\"");
/// assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
/// ```
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name);
    out
}

/// Appends `name` quoted as by [`quote_ident`] to `out`, without allocating.
///
/// ```
/// let mut sql = String::from("SELECT ");
/// plinth::sql::push_ident(&mut sql, "a\"b");
/// assert_eq!(sql, "SELECT \"a\"\"b\"");
/// ```
pub fn push_ident(out: &mut String, name: &str) {
    out.reserve(name.len() + 2);
    out.push('"');
    // Whole runs between quotes at a time: a character at a time showed in profiles.
    let mut runs = name.split('"');
    if let Some(first) = runs.next() {
        out.push_str(first);
    }
    for run in runs {
        out.push_str("\"\"");
        out.push_str(run);
    }
    out.push('"');
}

/// Quotes a schema-qualified name.
///
/// ```
/// use plinth::sql::quote_qualified;
/// assert_eq!(quote_qualified("tenant_custom", "t"), "\"tenant_custom\".\"t\"");
/// ```
pub fn quote_qualified(schema: &str, name: &str) -> String {
    let mut out = String::with_capacity(schema.len() + name.len() + 5);
    push_ident(&mut out, schema);
    out.push('.');
    push_ident(&mut out, name);
    out
}

/// Quotes a string literal for DDL that cannot take parameters. Uses the `E''` form
/// only when a backslash is present, doubling quotes and backslashes.
///
/// ```
/// use plinth::sql::quote_literal;
/// assert_eq!(quote_literal("it's"), "'it''s'");
/// assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
/// ```
pub fn quote_literal(value: &str) -> String {
    let escaped = value.replace('\'', "''");
    if value.contains('\\') {
        format!("E'{}'", escaped.replace('\\', "\\\\"))
    } else {
        format!("'{escaped}'")
    }
}

/// The SQL operator of a comparison.
pub(crate) fn operator(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Neq => "<>",
        CompareOp::Gt => ">",
        CompareOp::Gte => ">=",
        CompareOp::Lt => "<",
        CompareOp::Lte => "<=",
    }
}

#[cfg(test)]
mod tests {
    use super::quote_ident;

    #[test]
    fn every_double_quote_is_doubled_wherever_it_stands() {
        for (name, quoted) in [
            ("", r#""""#),
            ("plain", r#""plain""#),
            (r#"""#, r#""""""#),
            (r#""""#, r#""""""""#),
            (r#""lead"#, r#""""lead""#),
            (r#"trail""#, r#""trail""""#),
            (r#"in"the"middle"#, r#""in""the""middle""#),
            ("ünïcødé", "\"ünïcødé\""),
        ] {
            assert_eq!(quote_ident(name), quoted, "{name}");
        }
    }
}
