//! `limit`, `offset` and the pagination envelope.

use serde_json::json;

use super::Fixture;

#[tokio::test]
async fn the_envelope_reports_limit_offset_total_and_has_more() {
    let f = Fixture::new("pagination").await;
    let resp = f
        .get("products", "select=id&order=id&limit=2&offset=2")
        .await;
    assert_eq!(resp.body["data"], json!([{ "id": 3 }, { "id": 4 }]));
    assert_eq!(
        resp.body["pagination"],
        json!({ "limit": 2, "offset": 2, "total": 6, "hasMore": true })
    );
    let resp = f
        .get("products", "select=id&order=id&limit=2&offset=4")
        .await;
    assert_eq!(resp.body["pagination"]["hasMore"], false);
    let resp = f.get("products", "select=id&category=eq.accessories").await;
    assert_eq!(
        resp.body["pagination"],
        json!({ "limit": 20, "offset": 0, "total": 3, "hasMore": false })
    );
}

#[tokio::test]
async fn the_default_limit_is_20_and_more_than_1000_is_refused() {
    let f = Fixture::new("pagination limits").await;
    f.db.batch_execute(
        "INSERT INTO tenant_custom.events (kind) SELECT 'bulk' FROM generate_series(1, 1500)",
    )
    .await
    .unwrap();
    let resp = f.get("events", "select=id").await;
    assert_eq!(resp.body["data"].as_array().unwrap().len(), 20);
    assert_eq!(resp.body["pagination"]["total"], 1500);
    let resp = f.get("events", "select=id&limit=1000").await;
    assert_eq!(resp.body["data"].as_array().unwrap().len(), 1000);
    let resp = f.get("events", "limit=1001").await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("1000"));
    let resp = f.get("events", "limit=-1").await;
    assert_eq!(resp.status, 400);
}

#[tokio::test]
async fn an_estimated_count_is_exact_on_small_tables_and_an_estimate_on_big_ones() {
    let f = Fixture::new("pagination estimate").await;
    let estimated = f
        .api
        .with_header("Prefer", "count=estimated")
        .get(&f.path("products", "select=id&limit=1"))
        .await;
    assert_eq!(estimated.status, 200, "{}", estimated.body);
    assert_eq!(estimated.body["pagination"]["total"], 6, "small: exact");
    f.db.batch_execute(
        "INSERT INTO tenant_custom.events (kind) SELECT 'bulk' FROM generate_series(1, 50000);
         ANALYZE tenant_custom.events;",
    )
    .await
    .unwrap();
    let big = f
        .api
        .with_header("Prefer", "count=estimated")
        .get(&f.path("events", "select=id&limit=1"))
        .await;
    let total = big.body["pagination"]["total"].as_i64().unwrap();
    assert!(
        (40_000..=60_000).contains(&total),
        "the estimate {total} is near 50000"
    );
}
