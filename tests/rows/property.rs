//! Property: a random filter tree gives, through the API, exactly the rows the
//! equivalent SQL gives when run directly.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::Fixture;

#[derive(Debug, Clone)]
enum Tree {
    Leaf { query: String, sql: String },
    And(Vec<Tree>),
    Or(Vec<Tree>),
    Not(Box<Tree>),
}

fn leaf() -> impl Strategy<Value = Tree> {
    let int_ops = prop_oneof![
        Just(("eq", "=")),
        Just(("neq", "<>")),
        Just(("gt", ">")),
        Just(("gte", ">=")),
        Just(("lt", "<")),
        Just(("lte", "<=")),
    ];
    prop_oneof![
        (int_ops, -2i32..8).prop_map(|((q, s), v)| Tree::Leaf {
            query: format!("a.{q}.{v}"),
            sql: format!("a {s} {v}"),
        }),
        prop::collection::vec(-2i32..8, 1..4).prop_map(|vs| Tree::Leaf {
            query: format!(
                "a.in.({})",
                vs.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            sql: format!(
                "a IN ({})",
                vs.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }),
        prop_oneof![Just(("null", "IS NULL")), Just(("not_null", "IS NOT NULL"))].prop_map(
            |(q, s)| Tree::Leaf {
                query: format!("a.is.{q}"),
                sql: format!("a {s}"),
            }
        ),
        prop_oneof![Just("x"), Just("y"), Just("z")].prop_map(|p| Tree::Leaf {
            query: format!("b.like.{p}*"),
            sql: format!("b LIKE '{p}%'"),
        }),
        prop_oneof![Just("X"), Just("Y")].prop_map(|p| Tree::Leaf {
            query: format!("b.ilike.*{p}*"),
            sql: format!("b ILIKE '%{p}%'"),
        }),
        prop_oneof![Just("true"), Just("false"), Just("null")].prop_map(|t| Tree::Leaf {
            query: format!("c.is.{t}"),
            sql: format!("c IS {}", t.to_uppercase()),
        }),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Tree::And),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Tree::Or),
            inner.prop_map(|t| Tree::Not(Box::new(t))),
        ]
    })
}

fn query(tree: &Tree) -> String {
    match tree {
        Tree::Leaf { query, .. } => query.clone(),
        Tree::And(items) => format!(
            "and({})",
            items.iter().map(query).collect::<Vec<_>>().join(",")
        ),
        Tree::Or(items) => format!(
            "or({})",
            items.iter().map(query).collect::<Vec<_>>().join(",")
        ),
        Tree::Not(inner) => format!("not.{}", query(inner)),
    }
}

fn sql(tree: &Tree) -> String {
    match tree {
        Tree::Leaf { sql, .. } => format!("({sql})"),
        Tree::And(items) => format!(
            "({})",
            items.iter().map(sql).collect::<Vec<_>>().join(" AND ")
        ),
        Tree::Or(items) => format!(
            "({})",
            items.iter().map(sql).collect::<Vec<_>>().join(" OR ")
        ),
        Tree::Not(inner) => format!("(NOT {})", sql(inner)),
    }
}

#[tokio::test]
async fn random_filter_trees_select_the_same_rows_as_sql() {
    let f = Fixture::new("property").await;
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.prop (id int PRIMARY KEY, a int, b text, c boolean);
         INSERT INTO tenant_custom.prop
         SELECT i,
                CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 5) % 9 - 2 END,
                CASE WHEN i % 5 = 0 THEN NULL ELSE (ARRAY['x1','y2','xy','zz','Yx'])[1 + i % 5] END,
                CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END
         FROM generate_series(1, 80) AS i;",
    )
    .await
    .unwrap();
    let mut runner = TestRunner::deterministic();
    let strategy = tree();
    for case in 0..80 {
        let t = strategy.new_tree(&mut runner).unwrap().current();
        let q = format!("select=id&order=id&limit=1000&and=({})", query(&t));
        let via_api = f.ids("prop", &q).await;
        let direct: Vec<i64> =
            f.db.query(
                &format!(
                    "SELECT id::int8 FROM tenant_custom.prop WHERE {} ORDER BY id",
                    sql(&t)
                ),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(via_api, direct, "case {case}: {q}\nSQL: {}", sql(&t));
    }
}
