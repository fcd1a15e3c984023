//! What the guard accepts and refuses, statement by statement.

use super::*;
use crate::error::Code;

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
        Code::TableNotAllowed
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
    assert_eq!(code("SELECT 1; SELECT 2"), Code::StatementNotAllowed);
    assert_eq!(code("DROP TABLE orders"), Code::StatementNotAllowed);
    assert_eq!(
        code("SELECT * FROM pg_catalog.pg_class"),
        Code::TableNotAllowed
    );
    assert_eq!(code("SELECT pg_sleep(1)"), Code::FunctionNotAllowed);
    assert_eq!(code("SELECT 'x'::regclass"), Code::TypeNotAllowed);
    assert_eq!(code("SELEC 1"), Code::InvalidSql);
    assert_eq!(code(""), Code::InvalidSql);
}
