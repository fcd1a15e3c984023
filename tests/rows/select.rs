//! `select`: columns, aliases, casts, JSON paths, `*`.

use serde_json::json;

use super::Fixture;

#[tokio::test]
async fn columns_aliases_casts_and_json_paths_come_back_as_asked() {
    let f = Fixture::new("select").await;
    let resp = f
        .get(
            "customers",
            "select=id,label:name,tier::text,city:data->>city,score:data->score&order=id&limit=2",
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body["data"],
        json!([
            { "id": 1, "label": "Jane Doe", "tier": "gold", "city": "Paris", "score": 10 },
            { "id": 2, "label": "John Roe", "tier": "silver", "city": "Berlin", "score": 5 }
        ])
    );
}

#[tokio::test]
async fn no_select_or_a_star_returns_every_column() {
    let f = Fixture::new("select star").await;
    let all = f.get("products", "id=eq.2").await;
    assert_eq!(
        all.body["data"],
        json!([{ "id": 2, "name": "Laptop Stand", "price": 45.00, "category": "accessories", "stock": 0, "discontinued": false }])
    );
    let star = f.get("products", "select=*&id=eq.2").await;
    assert_eq!(star.body["data"], all.body["data"]);
    let array_index = f
        .get("customers", "select=id,first:data->tags->0&id=eq.1")
        .await;
    assert_eq!(array_index.body["data"], json!([{ "id": 1, "first": "a" }]));
}

#[tokio::test]
async fn an_unknown_column_is_400_with_the_nearest_name() {
    let f = Fixture::new("select unknown").await;
    let resp = f.get("products", "select=id,prce").await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "unknown_column");
    assert!(resp.message().contains("prce"));
    assert_eq!(resp.body["error"]["hint"], "did you mean `price`?");
}

#[tokio::test]
async fn casts_are_allow_listed_and_duplicate_names_refused() {
    let f = Fixture::new("select casts").await;
    let resp = f.get("products", "select=id,price::regclass").await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("regclass"));
    let resp = f.get("products", "select=id,id").await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("twice"));
    let resp = f.get("products", "select=id,price::integer&id=eq.1").await;
    assert_eq!(resp.body["data"], json!([{ "id": 1, "price": 80 }]));
}
