//! The types a scoped query may name. PostgreSQL resolves a type by the identifier
//! the parser folds (unquoted names to lower case), so the fence works on tokens and
//! parsed types, never on the statement's spelling:
//!
//! - every identifier token, wherever it stands, that PostgreSQL would read as an
//!   OID-alias type (`regrole`, `_regclass`, ...) refuses the statement — these types
//!   print catalog names, the roles of the whole cluster among them;
//! - every type the statement names (casts of both syntaxes, typed literals,
//!   column-definition lists, arrays of any of them) must be on an allow-list of
//!   plain value types.
//!
//! The second line is what PostgreSQL resolves: the plan the statement gets is
//! inspected for casts to OID-alias types as PostgreSQL itself prints them
//! ([`plan_casts_to_catalog_types`]), and its result columns for such types
//! ([`is_catalog_type_oid`]).

use sqlparser::ast::{ArrayElemTypeDef, DataType, ObjectNamePart};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::guard::{refuse, Refusal};
use crate::error::Code;

/// PostgreSQL's OID-alias types; their array types carry a leading underscore.
const CATALOG_TYPES: &[&str] = &[
    "regclass",
    "regcollation",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regoper",
    "regoperator",
    "regproc",
    "regprocedure",
    "regrole",
    "regtype",
];

/// Plain value types a statement may name besides sqlparser's own variants (lower
/// case, as PostgreSQL folds them).
const NAMED_TYPES: &[&str] = &[
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "numeric",
    "decimal",
    "text",
    "varchar",
    "bpchar",
    "char",
    "bool",
    "boolean",
    "date",
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
    "interval",
    "uuid",
    "json",
    "jsonb",
    "bytea",
    "money",
    "inet",
    "cidr",
    "macaddr",
    "bit",
    "varbit",
    "tsvector",
    "tsquery",
    "int4range",
    "int8range",
    "numrange",
    "daterange",
    "tsrange",
    "tstzrange",
];

/// How PostgreSQL reads an identifier token: unquoted names fold to lower case.
fn folded(word: &sqlparser::tokenizer::Word) -> String {
    match word.quote_style {
        None => word.value.to_lowercase(),
        Some(_) => word.value.clone(),
    }
}

fn is_catalog_type(name: &str) -> bool {
    CATALOG_TYPES.contains(&name.trim_start_matches('_'))
}

/// Refuses a statement in which any identifier is an OID-alias type's name.
///
/// ```
/// use plinth::query::types::refuse_catalog_type_names;
/// assert!(refuse_catalog_type_names("SELECT CAST(10 AS \"regrole\")::text").is_err());
/// assert!(refuse_catalog_type_names("SELECT '{10}'::_RegRole").is_err());
/// assert!(refuse_catalog_type_names("SELECT 'regrole' AS word").is_ok());
/// ```
pub fn refuse_catalog_type_names(sql: &str) -> Result<(), Refusal> {
    // A statement the tokenizer refuses is refused by the parser right after.
    match Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location() {
        Ok(tokens) => refuse_catalog_type_tokens(&tokens),
        Err(_) => Ok(()),
    }
}

/// [`refuse_catalog_type_names`] over the statement's tokens, which the guard then
/// parses (the statement is tokenized once).
pub fn refuse_catalog_type_tokens(tokens: &[TokenWithSpan]) -> Result<(), Refusal> {
    for token in tokens {
        if let Token::Word(word) = &token.token {
            let name = folded(word);
            if is_catalog_type(&name) {
                return Err(refuse(
                    Code::TypeNotAllowed,
                    format!("`{name}` is refused: OID-alias types read the catalog"),
                ));
            }
        }
    }
    Ok(())
}

/// Checks one type the statement names against the allow-list.
pub fn check(data_type: &DataType) -> Result<(), Refusal> {
    if allowed(data_type) {
        Ok(())
    } else {
        Err(refuse(
            Code::TypeNotAllowed,
            format!(
                "the type `{}` is not on the allow-list of the scoped query",
                data_type.to_string().to_lowercase()
            ),
        ))
    }
}

fn allowed(data_type: &DataType) -> bool {
    use DataType as T;
    match data_type {
        T::Array(ArrayElemTypeDef::SquareBracket(inner, _))
        | T::Array(ArrayElemTypeDef::AngleBracket(inner))
        | T::Array(ArrayElemTypeDef::Parenthesis(inner)) => allowed(inner),
        T::Custom(name, _) => match name.0.as_slice() {
            [ObjectNamePart::Identifier(ident)] => {
                let name = match ident.quote_style {
                    None => ident.value.to_lowercase(),
                    Some(_) => ident.value.clone(),
                };
                NAMED_TYPES.contains(&name.as_str())
            }
            _ => false,
        },
        T::Character(..)
        | T::Char(..)
        | T::CharacterVarying(..)
        | T::CharVarying(..)
        | T::Varchar(..)
        | T::Uuid
        | T::Numeric(..)
        | T::Decimal(..)
        | T::Dec(..)
        | T::Float(..)
        | T::Int2(..)
        | T::SmallInt(..)
        | T::Int(..)
        | T::Int4(..)
        | T::Int8(..)
        | T::Integer(..)
        | T::BigInt(..)
        | T::Float4
        | T::Float8
        | T::Real
        | T::DoublePrecision
        | T::Bool
        | T::Boolean
        | T::Date
        | T::Time(..)
        | T::Timestamp(..)
        | T::Interval { .. }
        | T::JSON
        | T::JSONB
        | T::Text
        | T::Bytea
        | T::Bit(..)
        | T::BitVarying(..)
        | T::VarBit(..)
        | T::TsVector
        | T::TsQuery => true,
        _ => false,
    }
}

/// Whether a result column's type, as PostgreSQL describes the statement, is an
/// OID-alias type or an array of one (part of the second line).
pub fn is_catalog_type_oid(oid: u32) -> bool {
    use postgres_types::Type;
    [
        Type::REGCLASS,
        Type::REGCOLLATION,
        Type::REGCONFIG,
        Type::REGDICTIONARY,
        Type::REGNAMESPACE,
        Type::REGOPER,
        Type::REGOPERATOR,
        Type::REGPROC,
        Type::REGPROCEDURE,
        Type::REGROLE,
        Type::REGTYPE,
        Type::REGCLASS_ARRAY,
        Type::REGCOLLATION_ARRAY,
        Type::REGCONFIG_ARRAY,
        Type::REGDICTIONARY_ARRAY,
        Type::REGNAMESPACE_ARRAY,
        Type::REGOPER_ARRAY,
        Type::REGOPERATOR_ARRAY,
        Type::REGPROC_ARRAY,
        Type::REGPROCEDURE_ARRAY,
        Type::REGROLE_ARRAY,
        Type::REGTYPE_ARRAY,
    ]
    .iter()
    .any(|t| t.oid() == oid)
}

/// The second line: in a plan as PostgreSQL prints it (`EXPLAIN (VERBOSE)`, which
/// writes every cast with the type's own name), the casts to OID-alias types, if
/// any. A string literal that merely contains such text is refused too, which
/// errs on the safe side.
pub fn plan_casts_to_catalog_types(plan_text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in plan_text.match_indices("::") {
        let rest = plan_text[at + 2..].trim_start_matches(['"', '_']);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if is_catalog_type(&name.to_lowercase()) && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_alias_types_are_refused_however_they_are_spelt() {
        for sql in [
            "SELECT CAST(10 AS \"regrole\")::text",
            "SELECT '{10}'::\"regrole\"[]::text",
            "SELECT format('%s', 10::oid::\"regrole\")",
            "SELECT r::text FROM json_to_record('{\"r\":\"postgres\"}') AS t(r regrole)",
            "SELECT 10::REGROLE",
            "SELECT 10::pg_catalog.regrole",
            "SELECT 10::\"pg_catalog\".\"regrole\"",
            "SELECT '{10}'::_regrole",
            "SELECT 10::/* c */regrole",
            "SELECT regrole '10'",
            "SELECT 'pg_class'::RegClass",
        ] {
            assert_eq!(
                refuse_catalog_type_names(sql).unwrap_err().code,
                Code::TypeNotAllowed,
                "{sql}"
            );
        }
        // A quoted name of another case is another (unknown) type to PostgreSQL.
        assert!(refuse_catalog_type_names("SELECT 10::\"RegRole\"").is_ok());
    }

    #[test]
    fn plain_value_types_are_allowed_and_others_refused() {
        use sqlparser::parser::Parser;
        let parse = |t: &str| {
            Parser::new(&PostgreSqlDialect {})
                .try_with_sql(t)
                .unwrap()
                .parse_data_type()
                .unwrap()
        };
        for ok in [
            "int",
            "bigint",
            "text",
            "numeric(10,2)",
            "timestamptz",
            "timestamp with time zone",
            "jsonb",
            "text[]",
            "int4range",
            "varchar(3)",
            "double precision",
            "uuid",
        ] {
            assert!(check(&parse(ok)).is_ok(), "{ok}");
        }
        for refused in [
            "pg_lsn",
            "oid",
            "xid",
            "aclitem",
            "record",
            "pg_node_tree",
            "name",
        ] {
            assert_eq!(
                check(&parse(refused)).unwrap_err().code,
                Code::TypeNotAllowed,
                "{refused}"
            );
        }
    }

    #[test]
    fn result_columns_of_oid_alias_types_are_recognised() {
        use postgres_types::Type;
        assert!(is_catalog_type_oid(Type::REGROLE.oid()));
        assert!(is_catalog_type_oid(Type::REGCLASS_ARRAY.oid()));
        assert!(!is_catalog_type_oid(Type::TEXT.oid()));
        assert!(!is_catalog_type_oid(Type::OID.oid()));
    }

    #[test]
    fn the_plan_check_reads_postgresqls_own_casts() {
        assert_eq!(
            plan_casts_to_catalog_types("(('postgres'::regrole)::text)"),
            ["regrole"]
        );
        assert_eq!(
            plan_casts_to_catalog_types("'{10}'::regrole[]"),
            ["regrole"]
        );
        assert!(plan_casts_to_catalog_types("(n.id)::text, '1'::bigint").is_empty());
    }
}
