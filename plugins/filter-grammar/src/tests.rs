//! Unit, round-trip and property tests of the grammar.

use proptest::prelude::*;

use crate::*;

fn condition(q: &Query, filter: usize) -> (&Condition, bool) {
    let node = &q.nodes[q.filters[filter].root as usize];
    match &node.kind {
        NodeKind::Condition(c) => (c, node.negated),
        other => panic!("not a condition: {other:?}"),
    }
}

#[test]
fn every_operator_of_the_seed_parses() {
    for (op, word) in Operator::ALL {
        let value = match op {
            Operator::In => "(a,b)",
            Operator::Is => "null",
            _ => "x",
        };
        let q = parse(&format!("col={word}.{value}")).unwrap();
        assert_eq!(condition(&q, 0).0.op, op);
    }
}

#[test]
fn like_wildcards_become_percent_signs() {
    let q = parse("name=ilike.*PHONE*").unwrap();
    assert_eq!(condition(&q, 0).0.operand, Operand::Value("%PHONE%".into()));
}

#[test]
fn top_level_values_are_verbatim_including_dots_and_commas() {
    let q = parse("name=eq.a.b,c").unwrap();
    assert_eq!(condition(&q, 0).0.operand, Operand::Value("a.b,c".into()));
    let q = parse("t=gt.2024-01-01T00%3A00%3A00%2B00%3A00").unwrap();
    assert_eq!(
        condition(&q, 0).0.operand,
        Operand::Value("2024-01-01T00:00:00+00:00".into())
    );
}

#[test]
fn is_accepts_its_five_keywords_only() {
    for word in ["null", "not_null", "true", "false", "unknown"] {
        assert!(parse(&format!("a=is.{word}")).is_ok(), "{word}");
    }
    let err = parse("a=is.maybe").unwrap_err();
    assert!(err.message.contains("is.maybe"));
}

#[test]
fn not_negates_conditions_and_groups() {
    let q = parse("a=not.eq.1&not.or=(b.eq.2,c.eq.3)").unwrap();
    assert!(condition(&q, 0).1);
    assert!(q.nodes[q.filters[1].root as usize].negated);
}

#[test]
fn filters_on_the_same_column_accumulate() {
    let q = parse("price=gte.50&price=lte.200").unwrap();
    assert_eq!(q.filters.len(), 2);
}

#[test]
fn embedded_filters_and_orders_carry_their_path() {
    let q = parse("customers.name=eq.x&customers.order=name.desc&items.or=(qty.gt.1)").unwrap();
    assert_eq!(q.filters[0].path, vec!["customers"]);
    assert_eq!(q.order[0].path, vec!["customers"]);
    assert_eq!(q.order[0].direction, Direction::Desc);
    assert_eq!(q.filters[1].path, vec!["items"]);
}

#[test]
fn json_paths_parse_in_select_filters_and_order() {
    let q = parse("select=data->a->>b&data->>city=eq.Paris&order=data->n.desc").unwrap();
    let SelectItem::Column(c) = &q.select[0] else {
        panic!()
    };
    assert_eq!(c.field.json_path.len(), 2);
    assert!(c.field.json_path[1].as_text);
    assert_eq!(condition(&q, 0).0.field.json_path[0].key, "city");
    assert_eq!(q.order[0].field.json_path[0].key, "n");
}

#[test]
fn order_takes_several_terms_with_nulls_placement() {
    let q = parse("order=a.desc.nullslast,b,c.asc.nullsfirst").unwrap();
    assert_eq!(q.order.len(), 3);
    assert_eq!(q.order[0].nulls, Some(NullsOrder::Last));
    assert_eq!(q.order[1].direction, Direction::Asc);
    assert_eq!(q.order[2].nulls, Some(NullsOrder::First));
    let err = parse("order=a.sideways").unwrap_err();
    assert!(err.message.contains("sideways"));
}

#[test]
fn errors_point_at_the_fault() {
    let err = parse("select=id,name(").unwrap_err();
    assert_eq!(err.parameter, "select");
    let err = parse("limit=ten").unwrap_err();
    assert_eq!(err.parameter, "limit");
    assert_eq!(err.position, 6);
    let err = parse("a=eq.1&or=(b.eq.2").unwrap_err();
    assert_eq!(err.parameter, "or");
    assert_eq!(err.position, 10, "the unclosed `(`");
    let err = parse("select=a&select=b").unwrap_err();
    assert!(err.message.contains("twice"));
    let err = parse("a%20b=eq.1").unwrap_err();
    assert!(err.message.contains("not a column"), "{}", err.message);
}

#[test]
fn nesting_is_limited() {
    let deep = format!(
        "or=({}a.eq.1{})",
        "or(".repeat(MAX_DEPTH + 2),
        ")".repeat(MAX_DEPTH + 2)
    );
    let err = parse(&deep).unwrap_err();
    assert!(err.message.contains("deeper"));
    let deep = format!(
        "select={}a{}",
        "r(".repeat(MAX_DEPTH + 2),
        ")".repeat(MAX_DEPTH + 2)
    );
    let err = parse(&deep).unwrap_err();
    assert!(err.message.contains("deeper"));
}

#[test]
fn injection_attempts_stay_values_or_fail_to_parse() {
    let q = parse("name=eq.x'%3B%20DROP%20TABLE%20t%3B--").unwrap();
    assert_eq!(
        condition(&q, 0).0.operand,
        Operand::Value("x'; DROP TABLE t;--".into())
    );
    assert!(parse("select=id%3B%20DROP%20TABLE%20t").is_err());
    assert!(parse("order=id%3Bdelete").is_err());
    assert!(parse("na%22me=eq.1").is_err());
}

const CASES: &[&str] = &[
    "select=id,name,price&category=eq.electronics&price=gte.50&order=price.desc&limit=20",
    "select=*,customer:customers(name,email)&order=created_at.desc",
    "select=id,items!inner(qty,product:products!fk_p(name))&items.qty=gt.1",
    "select=a:b::text,data->x->>y&data->>k=like.*foo*&offset=5",
    "or=(a.eq.1,not.and(b.lt.2,c.in.(\"x,y\",z)),d.is.not_null)&e=not.in.(1,2)",
    "on_conflict=id,sku&columns=id,sku,name",
    "customers.order=name.desc.nullslast,id&order=total.asc.nullsfirst",
];

#[test]
fn rendering_round_trips() {
    for case in CASES {
        let q = parse(case).unwrap();
        let again = parse(&render(&q)).unwrap_or_else(|e| panic!("{case}: {e}: {}", render(&q)));
        assert_eq!(q, again, "{case} -> {}", render(&q));
    }
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,8}".prop_filter("reserved", |s| {
        !matches!(
            s.as_str(),
            "or" | "and"
                | "not"
                | "order"
                | "select"
                | "limit"
                | "offset"
                | "on_conflict"
                | "columns"
                | "inner"
        )
    })
}

fn value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,.()\"'%*;-]{0,12}"
}

fn arb_condition() -> impl Strategy<Value = Condition> {
    (
        ident(),
        0usize..10,
        value(),
        prop::collection::vec(value(), 0..4),
    )
        .prop_map(|(name, op, v, vs)| {
            let (op, _) = Operator::ALL[op];
            let operand = match op {
                Operator::In => Operand::Values(vs),
                Operator::Is => Operand::Is(IsValue::NotNull),
                Operator::Like | Operator::Ilike => Operand::Value(v.replace('*', "%")),
                _ => Operand::Value(v),
            };
            Condition {
                field: Field {
                    name,
                    json_path: vec![],
                },
                op,
                operand,
            }
        })
}

proptest! {
    #[test]
    fn random_conditions_round_trip(conditions in prop::collection::vec((arb_condition(), any::<bool>()), 1..5), grouped in any::<bool>()) {
        let mut q = Query::default();
        let mut roots = Vec::new();
        for (c, negated) in conditions {
            q.nodes.push(FilterNode { negated, kind: NodeKind::Condition(c) });
            roots.push((q.nodes.len() - 1) as u32);
        }
        if grouped {
            q.nodes.push(FilterNode { negated: false, kind: NodeKind::Any(roots) });
            q.filters.push(Filter { path: vec![], root: (q.nodes.len() - 1) as u32 });
        } else {
            for root in roots {
                q.filters.push(Filter { path: vec![], root });
            }
        }
        let text = render(&q);
        let again = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(q, again, "{}", text);
    }

    #[test]
    fn arbitrary_input_never_panics(raw in "\\PC{0,80}") {
        let _ = parse(&raw);
    }
}
