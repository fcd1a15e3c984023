//! User text in every place it enters — values, column names, aliases, order, table
//! names, JSON keys — is either a bound value or refused; nothing reaches SQL text.

use serde_json::json;

use super::{key, Fixture};

const CANARY: &str = "SELECT count(*) FROM tenant_custom.customers";

async fn canary(f: &Fixture) -> i64 {
    f.db.query_one(CANARY, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn hostile_values_are_only_ever_values() {
    let f = Fixture::new("injection values").await;
    for value in [
        "x'%3B%20DROP%20TABLE%20tenant_custom.customers%3B--",
        "1%20OR%201%3D1",
        "%27%29%20OR%20%28%271%27%3D%271",
        "%24%24%3B%20DELETE%20FROM%20tenant_custom.customers%3B%20%24%24",
    ] {
        let resp = f.get("customers", &format!("name=eq.{value}")).await;
        assert_eq!(resp.status, 200, "{value}: {}", resp.body);
        assert_eq!(resp.body["data"], json!([]), "{value}");
        let resp = f.get("customers", &format!("id=in.({value})")).await;
        assert!(
            resp.status == 400 || resp.body["data"] == json!([]),
            "{value}: {}",
            resp.body
        );
        let resp = f.get("customers", &format!("data->>city=eq.{value}")).await;
        assert_eq!(resp.body["data"], json!([]));
    }
    let resp = f
        .writer(&key())
        .post(
            &f.path("customers", ""),
            json!({ "id": 77, "name": "Robert'); DROP TABLE tenant_custom.customers;--" }),
        )
        .await;
    assert_eq!(resp.status, 201);
    assert_eq!(canary(&f).await, 5);
}

#[tokio::test]
async fn hostile_names_are_refused_before_the_database() {
    let f = Fixture::new("injection names").await;
    let attempts = [
        ("customers", "select=id,name%22%20FROM%20pg_shadow--"),
        ("customers", "select=id%3Bdrop%20table%20x"),
        ("customers", "select=x:id,\"na\"\"me\""),
        ("customers", "select=evil%22:id"),
        (
            "customers",
            "order=id%3B%20DELETE%20FROM%20tenant_custom.customers",
        ),
        ("customers", "order=name%20desc%2C%20(select%201)"),
        ("customers", "id%20OR%201=eq.1"),
        ("customers", "na%22me=eq.x"),
        ("customers%3Bdrop%20table%20x", ""),
        ("customers%22%20--", ""),
    ];
    for (table, query) in attempts {
        let resp = f.get(table, query).await;
        assert!(
            resp.status == 400 || resp.status == 404,
            "{table}?{query} gave {}: {}",
            resp.status,
            resp.body
        );
    }
    let resp = f
        .get("customers", "select=id,data->%22a%3Bb%22&id=eq.1")
        .await;
    assert_eq!(
        resp.status, 200,
        "an odd JSON key is a bound value: {}",
        resp.body
    );
    let resp = f.get("customers", "data-%3E%3E'x'%3B--=eq.1").await;
    assert_eq!(resp.status, 200, "so is one in a filter: {}", resp.body);
    assert_eq!(resp.body["data"], json!([]));
    assert_eq!(canary(&f).await, 4);
}
