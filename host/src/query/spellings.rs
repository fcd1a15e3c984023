//! Known attacks on the scoped query, rewritten with random case, quoting,
//! qualification, whitespace and comments: the guard refuses every spelling with the
//! same code.

use std::collections::HashMap;

use proptest::prelude::*;

use super::guard::check;
use crate::error::Code;

fn tables() -> HashMap<String, String> {
    HashMap::from([("notes".to_owned(), "wt_1".to_owned())])
}

/// Space between two tokens: blanks, newlines, tabs or comments.
fn gap() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\t".to_owned()),
            Just("/* x */".to_owned()),
            Just("/* a /* nested */ b */".to_owned()),
            Just("-- c\n".to_owned()),
        ],
        0..3,
    )
    .prop_map(|parts| parts.concat())
}

/// An identifier as PostgreSQL folds it to `name`: unquoted in any case, or
/// quoted exactly.
fn spelt(name: &'static str) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(any::<bool>(), name.len()),
        any::<bool>(),
    )
        .prop_map(move |(upper, quoted)| {
            if quoted {
                format!("\"{name}\"")
            } else {
                name.chars()
                    .zip(upper)
                    .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c })
                    .collect()
            }
        })
}

fn catalog_type() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "regrole",
            "regclass",
            "regnamespace",
            "regtype",
            "regproc",
        ]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(name, qualified, array)| {
            (spelt(name), spelt("pg_catalog"), gap()).prop_map(move |(ty, schema, g)| {
                let ty = if qualified {
                    format!("{schema}{g}.{g}{ty}")
                } else {
                    ty
                };
                if array {
                    format!("{ty}[]")
                } else {
                    ty
                }
            })
        })
}

proptest! {
    #[test]
    fn casts_to_oid_alias_types_are_refused_in_every_spelling(
        ty in catalog_type(),
        (a, b, c, d) in (gap(), gap(), gap(), gap()),
        form in 0..4usize,
    ) {
        let sql = match form {
            0 => format!("SELECT{a} CAST({b}10{c} AS {ty}){d}::text"),
            1 => format!("SELECT{a} 10{b}::{c}{ty}{d}::text FROM notes"),
            2 => format!("SELECT r::text FROM json_to_record('{{}}') AS t({a}r {ty}{b})"),
            _ => format!("WITH x AS (SELECT{a} '{{10}}'::{b}{ty}) SELECT{c} * FROM x{d}"),
        };
        let refused = check(&sql, &tables()).unwrap_err();
        prop_assert_eq!(refused.code, Code::TypeNotAllowed, "{}", sql);
    }

    #[test]
    fn catalog_functions_are_refused_in_every_spelling(
        function in prop::sample::select(vec!["pg_sleep", "pg_read_file", "set_config", "current_setting", "to_regrole"])
            .prop_flat_map(spelt),
        (a, b) in (gap(), gap()),
        qualified in any::<bool>(),
    ) {
        let function = if qualified { format!("pg_catalog.{function}") } else { function };
        let sql = format!("SELECT{a} {function}{b}('x')");
        let refused = check(&sql, &tables()).unwrap_err();
        prop_assert_eq!(refused.code, Code::FunctionNotAllowed, "{}", sql);
    }

    #[test]
    fn catalog_relations_are_refused_in_every_spelling(
        relation in prop::sample::select(vec!["pg_authid", "pg_roles", "pg_database", "pg_class"]),
        quoted in any::<bool>(),
        qualified in any::<bool>(),
        (a, b) in (gap(), gap()),
    ) {
        let name = if quoted { format!("\"{relation}\"") } else { relation.to_uppercase() };
        let name = if qualified { format!("pg_catalog{a}.{b}{name}") } else { name };
        let sql = format!("SELECT{a} *{b} FROM {name}");
        let refused = check(&sql, &tables()).unwrap_err();
        prop_assert_eq!(refused.code, Code::TableNotAllowed, "{}", sql);
    }
}
