//! The rules of seed 002, request by request.

use serde_json::Value;

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
