//! Boolean trees: `or`, `and`, nesting, `not.`.

use super::Fixture;

#[tokio::test]
async fn or_and_trees_nest_and_negate() {
    let f = Fixture::new("logic").await;
    let cases: &[(&str, &[i64])] = &[
        ("or=(stock.eq.0,discontinued.is.true)", &[2, 4]),
        ("and=(category.eq.accessories,price.lt.50)", &[2, 3]),
        (
            "or=(price.gt.300,and(category.eq.accessories,stock.gt.10))",
            &[3, 5],
        ),
        ("not.or=(category.eq.accessories,category.is.null)", &[1, 5]),
        ("or=(not.category.eq.accessories,id.eq.2)", &[1, 2, 5]),
        ("or=(id.in.(1,2),name.ilike.*cable*)&price=lt.50", &[2, 3]),
        ("and=(or(id.eq.1,id.eq.2),or(id.eq.2,id.eq.3))", &[2]),
    ];
    for (query, expected) in cases {
        assert_eq!(
            &f.ids("products", &format!("{query}&order=id")).await,
            expected,
            "{query}"
        );
    }
}

#[tokio::test]
async fn logic_trees_apply_on_embedded_levels() {
    let f = Fixture::new("logic embedded").await;
    let resp = f
        .get(
            "customers",
            "select=id,orders(id)&orders.or=(status.eq.pending,total.gt.300)&id=in.(1,2)&order=id",
        )
        .await;
    assert_eq!(
        resp.body["data"],
        serde_json::json!([{ "id": 1, "orders": [{ "id": 2 }] }, { "id": 2, "orders": [{ "id": 3 }] }])
    );
}
